//! `/api/v1/webhooks`: endpoints that receive signed events, their deliveries and replays.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use rand::RngCore;
use refline_domain::{format_timestamp, is_event, EVENTS};
use refline_store::{PageRequest, WebhookAttempt, WebhookDelivery, WebhookEndpoint};
use serde_json::{json, Value};

use crate::{
    api::list::{envelope, Params},
    error::{ApiError, ApiResult},
    http::{
        auth::Caller,
        body::{parse_object, Fields},
    },
    ids::new_id,
    state::AppState,
    webhooks::{dispatch::succeeded, sign::standard_secret, target::check_target},
};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list_endpoints).post(create_endpoint))
        .route("/webhooks/{id}", get(get_endpoint).patch(update_endpoint).delete(delete_endpoint))
        .route("/webhooks/{id}/test", post(test_endpoint))
        .route("/webhooks/{id}/deliveries", get(list_deliveries))
        .route("/webhooks/{id}/deliveries/{delivery_id}/retry", post(retry_delivery))
}

/// A new signing secret: 32 random bytes as 64 hex characters (LinkJolt's format).
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Checks `url` now (form and, unless allowed, that it resolves only to public addresses).
async fn checked_url(state: &AppState, f: &mut Fields<'_>, url: Option<String>) -> Option<String> {
    let url = url?;
    match check_target(&url, &state.targets).await {
        Ok(_) => Some(url),
        Err(err) => {
            f.issue("url", format!("url {err}"));
            None
        }
    }
}

fn checked_events(f: &mut Fields<'_>, required: bool) -> Option<Vec<String>> {
    let Some(value) = f.value("events") else {
        if required {
            f.issue("events", format!("events is required: a list of {}", EVENTS.join(", ")));
        }
        return None;
    };
    let names: Option<Vec<String>> =
        value.as_array().map(|items| items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect());
    match names {
        Some(names) if !names.is_empty() && value.as_array().is_some_and(|a| a.len() == names.len()) => {
            let unknown: Vec<&String> = names.iter().filter(|n| !is_event(n)).collect();
            if unknown.is_empty() {
                let mut names = names;
                names.sort_unstable();
                names.dedup();
                Some(names)
            } else {
                f.issue("events", format!("unknown events {unknown:?}; known: {}", EVENTS.join(", ")));
                None
            }
        }
        _ => {
            f.issue("events", "events must be a non-empty list of event names");
            None
        }
    }
}

async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let map = parse_object(&body)?;
    let mut f = Fields::new(&map);
    let url = f.required_string("url", 2048);
    let url = checked_url(&state, &mut f, url).await;
    let events = checked_events(&mut f, true);
    f.finish()?;
    let (Some(url), Some(events)) = (url, events) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let now = state.config.clock.now();
    let endpoint =
        WebhookEndpoint::new(&new_id("wh"), &caller.merchant_id, &url, &events, &new_secret(), now);
    state.store.insert_webhook_endpoint(&endpoint).await?;
    Ok((StatusCode::CREATED, Json(json!({ "data": render(&endpoint, true) }))))
}

async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let page = params.page(&[("createdAt", ())], ());
    params.finish()?;
    let found = state.store.list_webhook_endpoints(&caller.merchant_id, page).await?;
    Ok(Json(envelope(found.items.iter().map(|e| render(e, false)).collect(), &page, found.total)))
}

async fn get_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let endpoint = load(&state, &caller, &id).await?;
    Ok(Json(json!({ "data": render(&endpoint, false) })))
}

/// `url`, `events`, `status: "active"` (re-activate), `rotateSecret: true`.
async fn update_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let map = parse_object(&body)?;
    let mut endpoint = load(&state, &caller, &id).await?;
    let mut f = Fields::new(&map);
    let url = if f.has("url") { f.required_string("url", 2048) } else { None };
    let url = checked_url(&state, &mut f, url).await;
    let events = checked_events(&mut f, false);
    let reactivate = f.optional_enum("status", &["active"]).is_some();
    let rotate = f.optional_bool("rotateSecret").unwrap_or(false);
    f.finish()?;
    let now = state.config.clock.now();
    if let Some(url) = url {
        endpoint.url = url;
    }
    if let Some(events) = events {
        endpoint.events = WebhookEndpoint::events_column(&events);
    }
    if rotate {
        // The old secret keeps signing beside the new one for a day, so receivers can switch
        // without missing an event.
        endpoint.previous_secret = Some(std::mem::replace(&mut endpoint.secret, new_secret()));
        endpoint.previous_secret_until = Some(now + 24 * 60 * 60 * 1000);
    }
    endpoint.updated_at = now;
    if !state.store.update_webhook_endpoint(&endpoint).await? {
        return Err(ApiError::not_found("Webhook"));
    }
    if reactivate && endpoint.status != "active" {
        let since = now - state.config.webhooks.catch_up_window_ms;
        state.store.reactivate_webhook_endpoint(&caller.merchant_id, &id, now, since).await?;
        state.webhook_wake.notify_one();
    }
    let endpoint = load(&state, &caller, &id).await?;
    Ok(Json(json!({ "data": render(&endpoint, rotate) })))
}

async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if !state.store.delete_webhook_endpoint(&caller.merchant_id, &id).await? {
        return Err(ApiError::not_found("Webhook"));
    }
    Ok(Json(json!({ "data": { "id": id, "deleted": true } })))
}

/// Sends a `webhook.test` event now and reports what the receiver answered.
async fn test_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let endpoint = load(&state, &caller, &id).await?;
    let delivery_id = new_id("wh_del_test");
    let now = state.config.clock.now();
    let body = json!({
        "id": delivery_id,
        "event": "webhook.test",
        "timestamp": format_timestamp(now),
        "data": { "webhookId": endpoint.id, "message": "Test event from Refline" },
    })
    .to_string();
    let attempt = state.dispatcher.send(&endpoint, &delivery_id, "webhook.test", &body, 1).await;
    Ok(Json(json!({ "data": {
        "success": succeeded(&attempt),
        "statusCode": attempt.status_code,
        "durationMs": attempt.duration_ms,
        "responseBody": attempt.response_body,
        "error": attempt.error,
        "payload": serde_json::from_str::<Value>(&body).unwrap_or(Value::Null),
    }})))
}

async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    load(&state, &caller, &id).await?;
    let page: PageRequest<()> = params.page(&[("createdAt", ())], ());
    params.finish()?;
    let found = state.store.list_deliveries(&caller.merchant_id, &id, page).await?;
    let ids: Vec<String> = found.items.iter().map(|d| d.id.clone()).collect();
    let attempts = state.store.delivery_attempts(&ids).await?;
    let items = found.items.iter().map(|d| render_delivery(d, &attempts)).collect();
    Ok(Json(envelope(items, &page, found.total)))
}

/// Replays a delivery (beyond LinkJolt): due again now, whatever its state.
async fn retry_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let endpoint = load(&state, &caller, &id).await?;
    if endpoint.status != "active" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "webhook_disabled",
            "The endpoint is disabled; re-activate it (PATCH status: active) to replay deliveries",
        ));
    }
    let now = state.config.clock.now();
    if !state.store.replay_delivery(&caller.merchant_id, &id, &delivery_id, now).await? {
        return match state.store.get_delivery(&caller.merchant_id, &delivery_id).await? {
            Some(d) if d.endpoint_id == id => Err(ApiError::new(
                StatusCode::CONFLICT,
                "delivery_in_progress",
                "This delivery is being sent right now; retry after it finishes",
            )),
            _ => Err(ApiError::not_found("Delivery")),
        };
    }
    state.webhook_wake.notify_one();
    let delivery = state
        .store
        .get_delivery(&caller.merchant_id, &delivery_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Delivery"))?;
    let attempts = state.store.delivery_attempts(std::slice::from_ref(&delivery.id)).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "data": render_delivery(&delivery, &attempts) }))))
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<WebhookEndpoint> {
    state
        .store
        .get_webhook_endpoint(&caller.merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Webhook"))
}

/// The API form of an endpoint; the secret only right after creation or rotation.
fn render(e: &WebhookEndpoint, with_secret: bool) -> Value {
    let mut out = json!({
        "id": e.id,
        "url": e.url,
        "events": e.event_names(),
        "status": e.status,
        "disabledReason": e.disabled_reason,
        "consecutiveFailures": e.consecutive_failures,
        "createdAt": format_timestamp(e.created_at),
        "updatedAt": format_timestamp(e.updated_at),
    });
    if let (true, Some(obj)) = (with_secret, out.as_object_mut()) {
        obj.insert("secret".into(), json!(e.secret));
        obj.insert("standardWebhooksSecret".into(), json!(standard_secret(&e.secret)));
    }
    out
}

fn render_delivery(d: &WebhookDelivery, attempts: &[WebhookAttempt]) -> Value {
    let due = d.status == "pending";
    json!({
        "id": d.id,
        "event": d.event,
        "status": d.status,
        "attempts": d.attempts,
        "nextAttemptAt": due.then(|| format_timestamp(d.next_attempt_at)),
        "lastStatusCode": d.last_status_code,
        "lastError": d.last_error,
        "createdAt": format_timestamp(d.created_at),
        "deliveredAt": d.delivered_at.map(format_timestamp),
        "payload": serde_json::from_str::<Value>(&d.payload).unwrap_or(Value::Null),
        "attemptLog": attempts.iter().filter(|a| a.delivery_id == d.id).map(|a| json!({
            "attempt": a.attempt,
            "statusCode": a.status_code,
            "durationMs": a.duration_ms,
            "responseBody": a.response_body,
            "error": a.error,
            "at": format_timestamp(a.created_at),
        })).collect::<Vec<_>>(),
    })
}

//! `/api/v1/webhooks`: outbound endpoints that receive Refline's signed events, their
//! deliveries and replays. The rules live in the core (`refline_core::outbound`); this door
//! reads JSON, calls it and renders.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use refline_core::outbound::{DeliveryOut, EndpointInput, EndpointOut, OutboundRules};
use refline_domain::{format_timestamp, EVENTS};
use refline_store::PageRequest;
use serde_json::{json, Map, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::list::{envelope, Params},
    api::openapi as doc,
    error::ApiResult,
    http::{
        auth::Caller,
        body::{parse_object, Fields},
    },
    outbound::sign::standard_secret,
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(test_endpoint))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
}

/// This node's rules for the core: the SSRF policy and the catch-up window.
fn rules(state: &AppState) -> OutboundRules<'_> {
    OutboundRules { targets: &state.targets, catch_up_window_ms: state.config.webhooks.catch_up_window_ms }
}

/// Reads `events` as a list of strings; emptiness and unknown names are the core's.
fn read_events(f: &mut Fields<'_>, required: bool) -> Option<Vec<String>> {
    let Some(value) = f.value("events") else {
        if required {
            f.issue("events", format!("events is required: a list of {}", EVENTS.join(", ")));
        }
        return None;
    };
    let names: Option<Vec<String>> =
        value.as_array().and_then(|items| items.iter().map(|v| v.as_str().map(str::to_string)).collect());
    if names.is_none() {
        f.issue("events", "events must be a non-empty list of event names");
    }
    names
}

/// Reads a body into the core's input: on create `url` and `events` are required; on change
/// `url`, `events`, `status: "active"` (re-activate) and `rotateSecret: true`.
pub fn read_input(map: &Map<String, Value>, creating: bool) -> EndpointInput {
    let mut f = Fields::new(map);
    let url = if creating || f.has("url") { f.required_string("url", 2048) } else { None };
    let events = read_events(&mut f, creating);
    let (reactivate, rotate_secret) = if creating {
        (false, false)
    } else {
        let reactivate = f.optional_enum("status", &["active"]).is_some();
        (reactivate, f.optional_bool("rotateSecret").unwrap_or(false))
    };
    EndpointInput { url, events, reactivate, rotate_secret, unreadable: f.into_issues() }
}

#[utoipa::path(post, path = "/webhooks", tag = "webhooks", operation_id = "createWebhook", request_body(content = doc::integrations::WebhookInput, content_type = "application/json"), responses((status = 201, body = doc::common::Data<doc::integrations::WebhookEndpoint>)))]
async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let actor = caller.actor();
    // Rights before the body, so a read-only key learns that first.
    actor.require_write()?;
    let map = parse_object(&body)?;
    let out = state.core.create_endpoint(&actor, read_input(&map, true), rules(&state)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "data": render(&out) }))))
}

#[utoipa::path(get, path = "/webhooks", tag = "webhooks", operation_id = "listWebhooks", params(doc::common::PageParams, doc::common::CreatedAtSort), responses((status = 200, body = doc::common::Page<doc::integrations::WebhookEndpoint>)))]
async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let page = params.page(&[("createdAt", ())], ());
    params.finish()?;
    let found = state.core.list_endpoints(&caller.actor(), page).await?;
    Ok(Json(envelope(found.items.iter().map(render).collect(), &page, found.total)))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", operation_id = "getWebhook", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::integrations::WebhookEndpoint>)))]
async fn get_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let out = state.core.get_endpoint(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": render(&out) })))
}

/// `url`, `events`, `status: "active"` (re-activate), `rotateSecret: true`.
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", operation_id = "updateWebhook", params(("id" = String, Path)), request_body(content = doc::integrations::WebhookInput, content_type = "application/json"), responses((status = 200, body = doc::common::Data<doc::integrations::WebhookEndpoint>)))]
async fn update_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = caller.actor();
    actor.require_write()?;
    let map = parse_object(&body)?;
    let out = state.core.update_endpoint(&actor, &id, read_input(&map, false), rules(&state)).await?;
    Ok(Json(json!({ "data": render(&out) })))
}

#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", operation_id = "deleteWebhook", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::common::Deleted>)))]
async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.core.delete_endpoint(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": { "id": id, "deleted": true } })))
}

/// Sends a `webhook.test` event now and reports what the receiver answered.
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", operation_id = "testWebhook", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::integrations::WebhookTest>)))]
async fn test_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let sent = state.core.test_endpoint(&caller.actor(), &id, &state.dispatcher).await?;
    let attempt = &sent.attempt;
    Ok(Json(json!({ "data": {
        "success": sent.delivered,
        "statusCode": attempt.status_code,
        "durationMs": attempt.duration_ms,
        "responseBody": attempt.response_body,
        "error": attempt.error,
        "payload": sent.payload,
    }})))
}

#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "listWebhookDeliveries", params(("id" = String, Path), doc::common::PageParams, doc::common::CreatedAtSort), responses((status = 200, body = doc::common::Page<doc::integrations::WebhookDelivery>)))]
async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let page: PageRequest<()> = params.page(&[("createdAt", ())], ());
    // The core's answer first: another merchant's endpoint is 404 even with a bad query.
    let found = state.core.list_deliveries(&caller.actor(), &id, page).await?;
    params.finish()?;
    Ok(Json(envelope(found.items.iter().map(render_delivery).collect(), &page, found.total)))
}

/// Replays a delivery (beyond LinkJolt): due again now, whatever its state.
#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks", operation_id = "retryWebhookDelivery", params(("id" = String, Path), ("delivery_id" = String, Path)), responses((status = 202, body = doc::common::Data<doc::integrations::WebhookDelivery>)))]
async fn retry_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let out = state.core.retry_delivery(&caller.actor(), &id, &delivery_id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "data": render_delivery(&out) }))))
}

/// The API form of an endpoint; the secret only right after creation or rotation.
fn render(view: &EndpointOut) -> Value {
    let e = &view.endpoint;
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
    if let (true, Some(obj)) = (view.show_secret, out.as_object_mut()) {
        obj.insert("secret".into(), json!(e.secret));
        obj.insert("standardWebhooksSecret".into(), json!(standard_secret(&e.secret)));
    }
    out
}

fn render_delivery(out: &DeliveryOut) -> Value {
    let d = &out.delivery;
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
        "attemptLog": out.attempts.iter().map(|a| json!({
            "attempt": a.attempt,
            "statusCode": a.status_code,
            "durationMs": a.duration_ms,
            "responseBody": a.response_body,
            "error": a.error,
            "at": format_timestamp(a.created_at),
        })).collect::<Vec<_>>(),
    })
}

//! The receiver: verify, store in the inbox, answer.

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use refline_processors::{parse, verify, Action, Provider};
use refline_store::InboxEntry;
use serde_json::json;

use crate::{
    error::ApiError,
    http::audit::AuditActor,
    ids::{new_ordered_id, sha256_hex},
    state::AppState,
};

/// Request headers as text pairs, all of them (`secret: true`) for verification, or only those
/// safe to keep with the stored delivery: never credentials or cookies.
fn header_pairs(headers: &HeaderMap, secret: bool) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            secret || !matches!(name.as_str(), "authorization" | "cookie" | "proxy-authorization")
        })
        .filter_map(|(name, value)| Some((name.as_str().to_string(), value.to_str().ok()?.to_string())))
        .collect()
}

pub(super) async fn receive(
    State(state): State<AppState>,
    Path((provider, merchant_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut response =
        answer(&state, &provider, &merchant_id, query.unwrap_or_default(), &headers, &body).await;
    response.extensions_mut().insert(AuditActor { merchant_id: Some(merchant_id), api_key_id: None });
    response
}

async fn answer(
    state: &AppState,
    provider: &str,
    merchant_id: &str,
    query: String,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let Some(provider) = Provider::parse(provider) else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "Unknown payment provider").into_response();
    };
    let integrations = match state.store.active_integrations(merchant_id, provider.as_str()).await {
        Ok(found) => found,
        Err(err) => return ApiError::from(err).into_response(),
    };
    if integrations.is_empty() {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "integration_not_found",
            format!("No active {} integration for this merchant", provider.as_str()),
        )
        .into_response();
    }
    let (all, kept) = (header_pairs(headers, true), header_pairs(headers, false));
    // Query-string secrets (Gumroad) are checked by `verify` but kept out of the stored copy.
    let now = state.config.clock.now();
    let mut verified = None;
    let mut last_error = None;
    for integration in &integrations {
        let mut secrets = Vec::with_capacity(2);
        for sealed in
            std::iter::once(&integration.secret_sealed).chain(integration.previous_secret_sealed.iter())
        {
            match state.secrets.open(sealed) {
                Ok(secret) => secrets.push(secret),
                Err(err) => {
                    tracing::error!(%err, integration = %integration.id, "integration secret unreadable")
                }
            }
        }
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        match verify(provider, &refs, &all, &query, body, now.div_euclid(1000)) {
            Ok(how) => {
                verified = Some((integration, how));
                break;
            }
            Err(err) => last_error = Some(err),
        }
    }
    let Some((integration, how)) = verified else {
        let reason = last_error.map_or_else(|| "no usable secret".to_string(), |e| e.to_string());
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            format!("Webhook not verified: {reason}"),
        )
        .into_response();
    };
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", "Webhook body is not UTF-8")
            .into_response();
    };
    // The event id is the dedupe key; deliveries that cannot be parsed are kept (for the
    // merchant to see) under a key of their bytes.
    let (dedupe_key, event_type, status, outcome) = match parse(provider, &kept, &query, body) {
        // GoPay notifications are triggers to look the payment up: one row per payment and
        // minute (a flood of repeats stores nothing more); a repeat of a finished one asks for
        // a fresh lookup, since the payment's state may have moved on.
        Ok(parsed) if matches!(parsed.action, Action::NeedsLookup { .. }) => {
            let minute = now.div_euclid(60_000);
            (format!("{}@{minute}", parsed.event_id), Some(parsed.event_type), "pending", None)
        }
        Ok(parsed) => (parsed.event_id, Some(parsed.event_type), "pending", None),
        Err(err) => (
            format!("unparsed:{}", sha256_hex(body)),
            None,
            "failed",
            Some(format!("could not be read: {err}")),
        ),
    };
    let entry = InboxEntry {
        id: new_ordered_id("whin", now),
        merchant_id: merchant_id.to_string(),
        integration_id: integration.id.clone(),
        provider: provider.as_str().to_string(),
        dedupe_key,
        event_type,
        headers: serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into()),
        query: strip_secret(&query),
        body: text,
        verification: how.scheme.to_string(),
        status: status.to_string(),
        outcome,
        conversion_id: None,
        attempts: 0,
        next_attempt_at: now,
        received_at: now,
        processed_at: (status == "failed").then_some(now),
    };
    match state.store.insert_inbox(&entry).await {
        Ok(stored) => {
            let lookup_again = !stored
                && provider == Provider::GoPay
                && match state
                    .store
                    .requeue_inbox_by_key(merchant_id, provider.as_str(), &entry.dedupe_key, now)
                    .await
                {
                    Ok(requeued) => requeued,
                    Err(err) => return ApiError::from(err).into_response(),
                };
            if stored || lookup_again {
                state.inbox_wake.notify_one();
            }
            (StatusCode::OK, Json(json!({ "received": true, "duplicate": !stored, "deliveryId": stored.then_some(&entry.id) })))
                .into_response()
        }
        // A 5xx makes the processor retry: the delivery is not lost.
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// The query string without Gumroad's URL secret, whatever way its name is encoded.
fn strip_secret(query: &str) -> String {
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if name != refline_processors::gumroad::TOKEN_PARAM {
            kept.append_pair(&name, &value);
        }
    }
    kept.finish()
}

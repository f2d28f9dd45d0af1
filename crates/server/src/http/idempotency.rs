//! `Idempotency-Key` on POST and PATCH (beyond LinkJolt): a retried request gets the first
//! answer again instead of doing the work twice.
//!
//! The key is claimed in the database before the handler runs, so two concurrent requests with
//! one key cannot both run (the second gets 409 `idempotency_key_in_use`). Answers worth
//! replaying (everything but 5xx and 429) are stored with the key; others release it so the
//! client can retry. Keys are scoped per merchant and mode (live or test) and remembered for 24 h.

use axum::{
    body::{to_bytes, Body},
    extract::{OriginalUri, Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use refline_store::IdempotencyBegin;

use crate::{error::ApiError, http::auth::Caller, ids::sha256_hex, state::AppState};

const HEADER: &str = "idempotency-key";

/// Middleware: replays or records responses of requests carrying `Idempotency-Key`.
pub async fn idempotent_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::POST | Method::PATCH) {
        return next.run(req).await;
    }
    let Some(raw_key) = req.headers().get(HEADER).cloned() else {
        return next.run(req).await;
    };
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return next.run(req).await;
    };
    let key = match raw_key.to_str().map(str::trim) {
        Ok(k) if !k.is_empty() && k.len() <= 255 => k.to_string(),
        _ => {
            return ApiError::invalid_field(
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
            .into_response()
        }
    };
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return too_large(state.config.max_body_bytes),
    };
    let path = parts.extensions.get::<OriginalUri>().map_or_else(|| parts.uri.path(), |o| o.0.path());
    let mut fingerprint = format!("{} {path}\n", parts.method).into_bytes();
    fingerprint.extend_from_slice(&bytes);
    let hash = sha256_hex(&fingerprint);
    let now = state.config.clock.now();
    // Live and test traffic never replay each other's answers.
    let scope = &format!("{}:{}", caller.merchant_id, caller.kind.as_str());
    let begun =
        state.store.begin_idempotent(scope, &key, &hash, now, now - state.config.idempotency_ttl_ms).await;
    match begun {
        Err(err) => ApiError::from(err).into_response(),
        Ok(IdempotencyBegin::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Ok(IdempotencyBegin::InProgress) => ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_use",
            "A request with this Idempotency-Key is still being processed; retry shortly",
        )
        .into_response(),
        Ok(IdempotencyBegin::Mismatch) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request",
        )
        .into_response(),
        Ok(IdempotencyBegin::Started) => {
            let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            remember(&state, scope, &key, response).await
        }
    }
}

async fn remember(state: &AppState, scope: &str, key: &str, response: Response) -> Response {
    let status = response.status();
    let replayable = !status.is_server_error() && status != StatusCode::TOO_MANY_REQUESTS;
    if !replayable {
        if let Err(err) = state.store.abandon_idempotent(scope, key).await {
            tracing::warn!(%err, "could not release idempotency key");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(err) => return ApiError::internal(err).into_response(),
    };
    let text = String::from_utf8_lossy(&bytes);
    if let Err(err) = state.store.complete_idempotent(scope, key, status.as_u16(), &text).await {
        tracing::warn!(%err, "could not store idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// 413 in the API envelope.
pub fn too_large(limit: usize) -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("Request body is larger than {limit} bytes"),
    )
    .into_response()
}

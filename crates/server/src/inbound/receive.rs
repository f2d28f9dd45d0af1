//! The receiver door: hands a processor's delivery to the core (`Core::receive_delivery`:
//! verify, store in the inbox) and answers. 200 means stored (or a duplicate), so the processor
//! stops retrying; a 5xx makes it retry, so nothing is lost.

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use refline_core::inbound::receive::Delivery;
use serde_json::json;

use crate::{error::ApiError, http::audit::AuditActor, state::AppState};

pub(super) async fn receive(
    State(state): State<AppState>,
    Path((provider, merchant_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    let headers = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_string(), value.to_str().ok()?.to_string())))
        .collect();
    let delivery =
        Delivery { provider: &provider, merchant_id: &merchant_id, query: &query, headers, body: &body };
    let mut response = match state.core.receive_delivery(delivery, &state.secrets).await {
        Ok(received) => (
            StatusCode::OK,
            Json(json!({ "received": true, "duplicate": !received.stored, "deliveryId": received.delivery_id })),
        )
            .into_response(),
        Err(err) => ApiError::from(err).into_response(),
    };
    response.extensions_mut().insert(AuditActor {
        merchant_id: Some(merchant_id),
        api_key_id: None,
        user_id: None,
    });
    response
}

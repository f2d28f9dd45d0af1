//! `GET /api/v1/integrations/:id/deliveries`: what a processor sent through a connection and
//! what each delivery became — the answer to "webhook 200 but no conversion" — and
//! `POST …/deliveries/:deliveryId/replay` to process one again once the cause is fixed (an
//! affiliate added, a coupon registered). Replays are safe: a sale is credited once per order.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use refline_domain::format_timestamp;
use refline_store::InboxEntry;
use serde_json::{json, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::list::{envelope, Params},
    api::openapi as doc,
    error::ApiResult,
    http::auth::Caller,
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_deliveries)).routes(routes!(replay_delivery))
}

/// The API form of a delivery. The body is included (it is the merchant's own data and what
/// they need to debug); credentials were never stored.
fn render(e: &InboxEntry) -> Value {
    json!({
        "id": e.id,
        "provider": e.provider,
        "eventId": e.dedupe_key,
        "eventType": e.event_type,
        "verifiedBy": e.verification,
        "status": e.status,
        "outcome": e.outcome,
        "conversionId": e.conversion_id,
        "attempts": e.attempts,
        "nextAttemptAt": (e.status == "waiting").then(|| format_timestamp(e.next_attempt_at)),
        "receivedAt": format_timestamp(e.received_at),
        "processedAt": e.processed_at.map(format_timestamp),
        "body": e.body,
    })
}

#[utoipa::path(get, path = "/integrations/{id}/deliveries", tag = "integrations", operation_id = "listIntegrationDeliveries", params(("id" = String, Path), doc::common::PageParams, doc::integrations::ReceivedAtSort), responses((status = 200, body = doc::common::Page<doc::integrations::ProcessorDelivery>)))]
async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let page = params.page(&[("receivedAt", ())], ());
    params.finish()?;
    let found = state.core.list_processor_deliveries(&caller.actor(), &id, page).await?;
    Ok(Json(envelope(found.items.iter().map(render).collect(), &page, found.total)))
}

#[utoipa::path(post, path = "/integrations/{id}/deliveries/{delivery_id}/replay", tag = "integrations", operation_id = "replayIntegrationDelivery", params(("id" = String, Path), ("delivery_id" = String, Path)), responses((status = 202, body = doc::common::Data<doc::integrations::ProcessorDelivery>)))]
async fn replay_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let entry = state.core.replay_processor_delivery(&caller.actor(), &id, &delivery_id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "data": render(&entry) }))))
}

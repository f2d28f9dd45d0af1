//! `GET /api/v1/me`: who this key is, what it may do, and its rate-limit state.

use axum::{extract::State, Json};
use refline_domain::{format_timestamp, ApiAccess};
use serde_json::{json, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{api::openapi as doc, error::ApiResult, http::auth::Caller, state::AppState};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

#[utoipa::path(get, path = "/me", tag = "account", operation_id = "getMe", responses((status = 200, body = doc::common::Data<doc::tracking::Me>)))]
async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let seen_at = state.core.tracking_seen_at(&caller.actor()).await?;
    let permissions: &[&str] = match caller.plan.api_access() {
        ApiAccess::ReadWrite => &["read", "write"],
        ApiAccess::ReadOnly => &["read"],
        ApiAccess::None => &[],
    };
    Ok(Json(json!({ "data": {
        "merchant": { "id": caller.merchant_id, "name": caller.merchant_name, "currency": caller.currency },
        "keyId": caller.key_id,
        "keyType": caller.kind.as_str(),
        "permissions": permissions,
        "plan": caller.plan.as_str(),
        "rateLimit": { "limit": caller.rate.limit, "remaining": caller.rate.remaining, "reset": caller.rate.reset },
        "tracking": { "scriptSeen": seen_at.is_some(), "firstSeenAt": seen_at.map(format_timestamp) },
    }})))
}

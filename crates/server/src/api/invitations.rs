//! `/api/v1/affiliates/invite`: invite a person to a campaign by email (LinkJolt's endpoint),
//! read one invitation and revoke it (Refline's additions). At most 10 invitations a minute
//! per key, on top of the key's plan limit: past it, `429 rate_limit_exceeded` with this
//! limit's `X-RateLimit-*` headers and `Retry-After`.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use refline_core::portal::invite::{InvitationOut, InviteInput};
use refline_domain::format_timestamp;
use serde_json::{json, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::openapi as doc,
    error::{ApiError, ApiResult},
    http::{
        auth::{set_rate_headers, too_many, Caller},
        body::{parse_object, Fields},
        rate_limit::RateDecision,
    },
    state::AppState,
};

/// Invitations per key and minute.
pub const INVITES_PER_MINUTE: u32 = 10;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(invite)).routes(routes!(get_invitation, revoke_invitation))
}

#[utoipa::path(post, path = "/affiliates/invite", tag = "affiliates", operation_id = "inviteAffiliate", request_body(content = doc::program::InviteInput, content_type = "application/json"), responses((status = 201, body = doc::common::Data<doc::program::Invitation>)))]
async fn invite(State(state): State<AppState>, caller: Caller, body: Bytes) -> Response {
    if let Err((err, rate)) = invite_rate(&state, &caller).await {
        let mut response = err.into_response();
        set_rate_headers(response.headers_mut(), &rate);
        return response;
    }
    match invite_work(&state, &caller, &body).await {
        Ok(out) => (StatusCode::CREATED, Json(json!({ "data": render(&out) }))).into_response(),
        Err(err) => err.into_response(),
    }
}

/// Counts an invitation against the key's 10 a minute (the API and the MCP tool share it); the
/// refusal and the limit's state when past it.
pub(crate) async fn invite_rate(state: &AppState, caller: &Caller) -> Result<(), (ApiError, RateDecision)> {
    let now = state.config.clock.now();
    let rate = state.limiter.hit(&format!("invite:{}", caller.key_id), INVITES_PER_MINUTE, now).await;
    if rate.allowed {
        Ok(())
    } else {
        Err((too_many(&rate, now), rate))
    }
}

async fn invite_work(state: &AppState, caller: &Caller, body: &[u8]) -> ApiResult<InvitationOut> {
    let map = parse_object(body)?;
    Ok(state.core.invite_affiliate(&caller.actor(), read_invite(&map)).await?)
}

/// The invitation's fields from a JSON object.
pub fn read_invite(map: &serde_json::Map<String, Value>) -> InviteInput {
    let mut f = Fields::new(map);
    let input = InviteInput {
        email: f.required_string("email", 254),
        campaign_id: f.required_string("campaignId", 100),
        name: f.optional_string("name", 200),
        unreadable: Vec::new(),
    };
    InviteInput { unreadable: f.into_issues(), ..input }
}

#[utoipa::path(get, path = "/affiliates/invite/{id}", tag = "affiliates", operation_id = "getInvitation", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::program::Invitation>)))]
async fn get_invitation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let out = state.core.get_affiliate_invitation(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": render(&out) })))
}

#[utoipa::path(delete, path = "/affiliates/invite/{id}", tag = "affiliates", operation_id = "revokeInvitation", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::program::Invitation>)))]
async fn revoke_invitation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let out = state.core.revoke_affiliate_invitation(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": render(&out) })))
}

/// The invitation object (never its token: only the mailed link carries it).
pub(crate) fn render(out: &InvitationOut) -> Value {
    let i = &out.invitation;
    json!({
        "id": i.id,
        "email": i.email,
        "name": i.name,
        "campaignId": i.campaign_id,
        "status": out.status,
        "emailSent": out.mailed,
        "expiresAt": format_timestamp(i.expires_at),
        "createdAt": format_timestamp(i.created_at),
        "acceptedAt": i.accepted_at.map(format_timestamp),
    })
}

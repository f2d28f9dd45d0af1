//! `/api/v1/integrations`: a merchant's connections to payment processors, whose webhooks
//! (`/api/webhooks/{provider}/merchant/{merchantId}`) are verified with the secrets kept here.
//! Secrets are write-only: sealed at rest and never returned, only a hint of the current one.
//! The rules live in the core (`refline_core::connections`); this door reads, calls, renders.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use refline_core::connections::ConnectionOut;
use refline_domain::format_timestamp;
use serde_json::{json, Map, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::openapi as doc,
    api::{
        integration_input::{read_change, read_new},
        list::{envelope, Params},
    },
    error::ApiResult,
    http::{auth::Caller, body::parse_object},
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_integrations, create_integration)).routes(routes!(
        get_integration,
        update_integration,
        delete_integration
    ))
}

/// The URL the merchant gives the processor for `provider`'s webhooks (the core's).
pub use refline_core::connections::webhook_url;

/// The API form of a connection: no secret, only its hint and whether a previous one is live.
pub fn render(out: &ConnectionOut) -> Value {
    let i = &out.integration;
    let settings: Value = serde_json::from_str(&i.settings).unwrap_or_else(|_| Value::Object(Map::new()));
    json!({
        "id": i.id,
        "provider": i.provider,
        "status": i.status,
        "label": i.label,
        "secretHint": format!("…{}", i.secret_hint),
        "hasPreviousSecret": i.previous_secret_sealed.is_some(),
        "hasCredentials": i.credentials_sealed.is_some(),
        "settings": settings,
        "webhookUrl": out.webhook_url,
        "createdAt": format_timestamp(i.created_at),
        "updatedAt": format_timestamp(i.updated_at),
    })
}

/// `{"provider", "webhookSecret", "label"?, …provider-specific}` (see `integration_input`).
#[utoipa::path(post, path = "/integrations", tag = "integrations", operation_id = "createIntegration", request_body(content = doc::integrations::IntegrationInput, content_type = "application/json"), responses((status = 201, body = doc::common::Data<doc::integrations::Integration>)))]
async fn create_integration(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let actor = caller.actor();
    // Rights before the body, so a read-only or test key learns that first.
    actor.require_write()?;
    actor.require_live("Integrations")?;
    let map = parse_object(&body)?;
    let out = state.core.create_connection(&actor, read_new(&map), &state.secrets).await?;
    Ok((StatusCode::CREATED, Json(json!({ "data": render(&out) }))))
}

#[utoipa::path(get, path = "/integrations", tag = "integrations", operation_id = "listIntegrations", params(doc::common::PageParams, doc::common::CreatedAtSort), responses((status = 200, body = doc::common::Page<doc::integrations::Integration>)))]
async fn list_integrations(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let page = params.page(&[("createdAt", ())], ());
    params.finish()?;
    let found = state.core.list_connections(&caller.actor(), page).await?;
    Ok(Json(envelope(found.items.iter().map(render).collect(), &page, found.total)))
}

#[utoipa::path(get, path = "/integrations/{id}", tag = "integrations", operation_id = "getIntegration", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::integrations::Integration>)))]
async fn get_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let out = state.core.get_connection(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": render(&out) })))
}

/// `webhookSecret` (rotates), `dropPreviousSecret`, `status`, `label`, provider settings.
#[utoipa::path(patch, path = "/integrations/{id}", tag = "integrations", operation_id = "updateIntegration", params(("id" = String, Path)), request_body(content = doc::integrations::IntegrationInput, content_type = "application/json"), responses((status = 200, body = doc::common::Data<doc::integrations::Integration>)))]
async fn update_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = caller.actor();
    actor.require_write()?;
    actor.require_live("Integrations")?;
    let map = parse_object(&body)?;
    let out = state.core.update_connection(&actor, &id, read_change(&map), &state.secrets).await?;
    Ok(Json(json!({ "data": render(&out) })))
}

#[utoipa::path(delete, path = "/integrations/{id}", tag = "integrations", operation_id = "deleteIntegration", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::common::Deleted>)))]
async fn delete_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.core.delete_connection(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": { "id": id, "deleted": true } })))
}

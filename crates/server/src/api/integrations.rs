//! `/api/v1/integrations`: a merchant's connections to payment processors, whose webhooks
//! (`/api/webhooks/{provider}/merchant/{merchantId}`) are verified with the secrets kept here.
//! Secrets are write-only: sealed at rest and never returned, only a hint of the current one.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
    Json, Router,
};
use refline_domain::format_timestamp;
use refline_store::Integration;
use serde_json::{json, Map, Value};

use crate::{
    api::{
        integration_input::{apply_update, new_integration},
        list::{envelope, Params},
    },
    error::{ApiError, ApiResult},
    http::{auth::Caller, body::parse_object},
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/integrations", get(list_integrations).post(create_integration)).route(
        "/integrations/{id}",
        get(get_integration).patch(update_integration).delete(delete_integration),
    )
}

/// The URL the merchant gives the processor for `provider`'s webhooks.
pub fn webhook_url(public_url: &str, provider: &str, merchant_id: &str) -> String {
    format!("{public_url}/api/webhooks/{provider}/merchant/{merchant_id}")
}

/// The API form of a connection: no secret, only its hint and whether a previous one is live.
pub fn render(i: &Integration, public_url: &str) -> Value {
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
        "webhookUrl": webhook_url(public_url, &i.provider, &i.merchant_id),
        "createdAt": format_timestamp(i.created_at),
        "updatedAt": format_timestamp(i.updated_at),
    })
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Integration> {
    state
        .store
        .get_integration(&caller.merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Integration"))
}

/// `{"provider", "webhookSecret", "label"?, …provider-specific}` (see `integration_input`).
async fn create_integration(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_live("Integrations")?;
    let map = parse_object(&body)?;
    let now = state.config.clock.now();
    let integration = new_integration(&map, &caller.merchant_id, &state.secrets, now)?;
    state.store.insert_integration(&integration).await?;
    Ok((StatusCode::CREATED, Json(json!({ "data": render(&integration, &state.config.public_url) }))))
}

async fn list_integrations(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let page = params.page(&[("createdAt", ())], ());
    params.finish()?;
    let found = state.store.list_integrations(&caller.merchant_id, page).await?;
    let base = &state.config.public_url;
    Ok(Json(envelope(found.items.iter().map(|i| render(i, base)).collect(), &page, found.total)))
}

async fn get_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let integration = load(&state, &caller, &id).await?;
    Ok(Json(json!({ "data": render(&integration, &state.config.public_url) })))
}

/// `webhookSecret` (rotates), `dropPreviousSecret`, `status`, `label`, provider settings.
async fn update_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_live("Integrations")?;
    let map = parse_object(&body)?;
    let mut integration = load(&state, &caller, &id).await?;
    apply_update(&map, &mut integration, &state.secrets, state.config.clock.now())?;
    if !state.store.update_integration(&integration).await? {
        return Err(ApiError::not_found("Integration"));
    }
    Ok(Json(json!({ "data": render(&integration, &state.config.public_url) })))
}

async fn delete_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require_live("Integrations")?;
    if !state.store.delete_integration(&caller.merchant_id, &id).await? {
        return Err(ApiError::not_found("Integration"));
    }
    Ok(Json(json!({ "data": { "id": id, "deleted": true } })))
}

//! `/api/v1/clicks`: recorded clicks with their classification, and the click counts shown on
//! campaigns, affiliates and links.

use axum::{
    extract::{Path, State},
    Json,
};
use refline_domain::{format_timestamp, ClickKind};
use refline_store::{Click, ClickFilter, ClickTotals};
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
    OpenApiRouter::new().routes(routes!(list_clicks)).routes(routes!(get_click))
}

/// Click counts as API objects show them.
pub fn render_click_totals(t: &ClickTotals) -> Value {
    json!({
        "clicks": t.clicks,
        "uniqueClicks": t.unique_clicks,
        "botClicks": t.bot_clicks,
        "headRequests": t.head_requests,
    })
}

/// The API form of a click. Raw IPs and visitor hashes are never shown: they exist only for
/// fraud checks and unique counting.
fn render(c: &Click) -> Value {
    json!({
        "id": c.id,
        "campaignId": c.campaign_id,
        "affiliateId": c.affiliate_id,
        "linkId": c.link_id,
        "source": c.source,
        "kind": c.kind,
        "unique": c.is_unique,
        "landingUrl": c.landing_url,
        "referrer": c.referrer,
        "createdAt": format_timestamp(c.created_at),
    })
}

#[utoipa::path(get, path = "/clicks", tag = "clicks", operation_id = "listClicks", params(doc::common::PageParams, doc::common::CreatedAtSort, doc::tracking::ClickQuery, doc::tracking::TimeRange), responses((status = 200, body = doc::common::Page<doc::tracking::Click>)))]
async fn list_clicks(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let page = params.page(&[("createdAt", ())], ());
    let filter = ClickFilter {
        campaign_id: params.get("campaignId").map(str::to_string),
        affiliate_id: params.get("affiliateId").map(str::to_string),
        link_id: params.get("linkId").map(str::to_string),
        kind: params.one_of("kind", &[ClickKind::Human.as_str(), ClickKind::Bot.as_str()]),
        unique: params.flag("unique"),
        from: params.time("from", false),
        to: params.time("to", true),
    };
    params.finish()?;
    let found = state.core.list_clicks(&caller.actor(), &filter, page).await?;
    Ok(Json(envelope(found.items.iter().map(render).collect(), &page, found.total)))
}

#[utoipa::path(get, path = "/clicks/{id}", tag = "clicks", operation_id = "getClick", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::tracking::Click>)))]
async fn get_click(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let click = state.core.get_click(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": render(&click) })))
}

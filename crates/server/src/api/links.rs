//! `/api/v1/links`: short links (`/l/<code>`) for an affiliate on a campaign. LinkJolt offers
//! these only in its portal; Refline also exposes them here. The rules live in the core
//! (`refline_core::links`); this door reads JSON, calls it and renders.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use refline_core::links::{LinkInput, LinkOut};
use refline_domain::format_timestamp;
use refline_store::LinkFilter;
use serde_json::{json, Map, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::openapi as doc,
    api::{
        clicks::render_click_totals,
        list::{envelope, Params},
    },
    error::ApiResult,
    http::{
        auth::Caller,
        body::{parse_object, Fields},
    },
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_links, create_link)).routes(routes!(get_link, delete_link))
}

fn render(out: &LinkOut) -> Value {
    let (view, l) = (&out.view, &out.view.link);
    json!({
        "id": l.id,
        "code": l.code,
        "url": out.url,
        "campaignId": l.campaign_id,
        "affiliateId": l.affiliate_id,
        "trackingCode": view.tracking_code,
        "clicks": view.totals.clicks,
        "clickStats": render_click_totals(&view.totals),
        "createdAt": format_timestamp(l.created_at),
    })
}

/// Reads `{"campaignId", "affiliateId", "code"?}`: types and lengths here, the code rule and
/// the membership check in the core.
pub fn read_input(map: &Map<String, Value>) -> LinkInput {
    let mut f = Fields::new(map);
    let campaign_id = f.required_string("campaignId", 255);
    let affiliate_id = f.required_string("affiliateId", 255);
    let code = f.optional_string("code", 64);
    LinkInput { campaign_id, affiliate_id, code, unreadable: f.into_issues() }
}

#[utoipa::path(post, path = "/links", tag = "links", operation_id = "createLink", request_body(content = doc::tracking::NewLink, content_type = "application/json"), responses((status = 201, body = doc::common::Data<doc::tracking::Link>)))]
async fn create_link(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let actor = caller.actor();
    // Rights before the body, so a read-only key learns that first.
    actor.require_write()?;
    let map = parse_object(&body)?;
    let out = state.core.create_link(&actor, read_input(&map)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "data": render(&out) }))))
}

#[utoipa::path(get, path = "/links", tag = "links", operation_id = "listLinks", params(doc::common::PageParams, doc::common::CreatedAtSort, doc::tracking::LinkQuery), responses((status = 200, body = doc::common::Page<doc::tracking::Link>)))]
async fn list_links(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let page = params.page(&[("createdAt", ())], ());
    let filter = LinkFilter {
        campaign_id: params.get("campaignId").map(str::to_string),
        affiliate_id: params.get("affiliateId").map(str::to_string),
    };
    params.finish()?;
    let found = state.core.list_links(&caller.actor(), &filter, page).await?;
    Ok(Json(envelope(found.items.iter().map(render).collect(), &page, found.total)))
}

#[utoipa::path(get, path = "/links/{id}", tag = "links", operation_id = "getLink", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::tracking::Link>)))]
async fn get_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let out = state.core.get_link(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": render(&out) })))
}

#[utoipa::path(delete, path = "/links/{id}", tag = "links", operation_id = "deleteLink", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::common::Deleted>)))]
async fn delete_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.core.delete_link(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": { "id": id, "deleted": true } })))
}

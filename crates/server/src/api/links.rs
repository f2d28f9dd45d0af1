//! `/api/v1/links`: short links (`/l/<code>`) for an affiliate on a campaign. LinkJolt offers
//! these only in its portal; Refline also exposes them here.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
    Json, Router,
};
use rand::Rng;
use refline_domain::{format_timestamp, is_valid_short_code};
use refline_store::{Link, LinkFilter, LinkView};
use serde_json::{json, Value};

use crate::{
    api::{
        clicks::render_click_totals,
        list::{envelope, Params},
    },
    error::{ApiError, ApiResult},
    http::{
        auth::Caller,
        body::{parse_object, Fields},
    },
    ids::new_id,
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/links", get(list_links).post(create_link))
        .route("/links/{id}", get(get_link).delete(delete_link))
}

/// A generated code: 8 lower-case letters and digits (41 bits), short enough to type.
fn new_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..8).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect()
}

fn render(view: &LinkView, public_url: &str) -> Value {
    let l = &view.link;
    json!({
        "id": l.id,
        "code": l.code,
        "url": format!("{public_url}/l/{}", l.code),
        "campaignId": l.campaign_id,
        "affiliateId": l.affiliate_id,
        "trackingCode": view.tracking_code,
        "clicks": view.totals.clicks,
        "clickStats": render_click_totals(&view.totals),
        "createdAt": format_timestamp(l.created_at),
    })
}

/// `{"campaignId", "affiliateId", "code"?}`: the affiliate must be on the campaign.
async fn create_link(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let map = parse_object(&body)?;
    let mut f = Fields::new(&map);
    let campaign_id = f.required_string("campaignId", 255);
    let affiliate_id = f.required_string("affiliateId", 255);
    let code = f.optional_string("code", 64);
    if let Some(code) = &code {
        if !is_valid_short_code(code) {
            f.issue("code", "code must be 3 to 32 letters, digits, '-' or '_'");
        }
    }
    f.finish()?;
    let (Some(campaign_id), Some(affiliate_id)) = (campaign_id, affiliate_id) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    state
        .store
        .get_membership(&caller.merchant_id, &campaign_id, &affiliate_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Affiliate membership on this campaign"))?;
    let custom = code.is_some();
    for _ in 0..5 {
        let link = Link {
            id: new_id("link"),
            code: code.clone().unwrap_or_else(new_code),
            merchant_id: caller.merchant_id.clone(),
            campaign_id: campaign_id.clone(),
            affiliate_id: affiliate_id.clone(),
            created_at: state.config.clock.now(),
        };
        match state.store.insert_link(&link).await {
            Ok(()) => {
                let view = load(&state, &caller, &link.id).await?;
                return Ok((
                    StatusCode::CREATED,
                    Json(json!({ "data": render(&view, &state.config.public_url) })),
                ));
            }
            Err(err) if err.is_conflict_on("code") && custom => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "code_taken",
                    "That short-link code is taken",
                )
                .with_details(json!({ "code": link.code })));
            }
            Err(err) if err.is_conflict_on("code") => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::internal("could not find a free short-link code"))
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<LinkView> {
    state.store.get_link(&caller.merchant_id, id).await?.ok_or_else(|| ApiError::not_found("Link"))
}

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
    let found = state.store.list_links(&caller.merchant_id, &filter, page).await?;
    let base = &state.config.public_url;
    Ok(Json(envelope(found.items.iter().map(|v| render(v, base)).collect(), &page, found.total)))
}

async fn get_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let view = load(&state, &caller, &id).await?;
    Ok(Json(json!({ "data": render(&view, &state.config.public_url) })))
}

async fn delete_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if !state.store.delete_link(&caller.merchant_id, &id).await? {
        return Err(ApiError::not_found("Link"));
    }
    Ok(Json(json!({ "data": { "id": id, "deleted": true } })))
}

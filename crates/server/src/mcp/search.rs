//! `search` and `fetch`: find records across the program by what an assistant knows (a name, an
//! email, a code, an order id, a customer, an id) and read one in full with the REST API's
//! rendering. Every lookup is a core operation (`campaign_names`, `list_affiliates`,
//! `list_coupons`, `get_conversion`, `search_conversions`), so a key sees only its brand and
//! its mode.

use axum::http::StatusCode;
use refline_core::{payouts::render::PayoutView, Actor};
use refline_store::{render::conversion_read, AffiliateFilter, AffiliateSort, CouponFilter, PageRequest};
use serde_json::{json, Map, Value};

use crate::{
    api::{affiliates, campaigns, coupons},
    error::ApiError,
    http::body::Fields,
    mcp::answer::ToolOutcome,
    state::AppState,
};

const MAX_EACH: usize = 10;

fn page<S>(sort: S) -> PageRequest<S> {
    PageRequest { limit: MAX_EACH as i64, offset: 0, sort, descending: true }
}

/// Missing is not an error for a search: only "not found" is swallowed.
fn found<T>(result: Result<T, refline_core::CoreError>) -> Result<Option<T>, ApiError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if err.code == "not_found" => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// `search`.
pub async fn search(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut f = Fields::new(map);
    let query = f.required_string("query", 200).map(|q| q.trim().to_string());
    if query.as_ref().is_some_and(|q| q.chars().count() < 2) {
        f.issue("query", "query must be at least 2 characters");
    }
    f.finish()?;
    let Some(query) = query else { return Err(ApiError::internal("validated field missing")) };
    let needle = query.to_lowercase();
    let mut results = Vec::new();
    for (id, name) in state.core.campaign_names(actor, 1000).await? {
        if results.len() < MAX_EACH && name.to_lowercase().contains(&needle) {
            results.push(json!({ "id": id, "type": "campaign", "title": name }));
        }
    }
    let filter = AffiliateFilter { search: Some(query.clone()), ..AffiliateFilter::default() };
    let members = state.core.list_affiliates(actor, &filter, page(AffiliateSort::JoinedAt)).await?;
    let mut seen = std::collections::HashSet::new();
    for m in &members.items {
        if seen.insert(m.affiliate_id.clone()) {
            let title = m.name.clone().unwrap_or_else(|| m.email.clone());
            results
                .push(json!({ "id": m.affiliate_id, "type": "affiliate", "title": title, "email": m.email }));
        }
    }
    let coupon_filter = CouponFilter { code: Some(query.clone()), ..CouponFilter::default() };
    for c in state.core.list_coupons(actor, &coupon_filter, page(())).await?.items {
        results.push(json!({ "id": c.id, "type": "coupon", "title": c.code }));
    }
    let mut conversions = Vec::new();
    if let Some(detail) = found(state.core.get_conversion(actor, &query).await)? {
        conversions.push(detail.conversion);
    }
    for c in state.core.search_conversions(actor, &query, MAX_EACH as i64).await? {
        if conversions.len() < MAX_EACH && !conversions.iter().any(|seen| seen.id == c.id) {
            conversions.push(c);
        }
    }
    for c in &conversions {
        results.push(json!({
            "id": c.id,
            "type": "conversion",
            "title": c.order_id.clone().unwrap_or_else(|| c.id.clone()),
            "customerName": c.customer_name,
            "customerEmail": c.customer_email,
        }));
    }
    Ok(json!({ "query": query, "results": results }))
}

/// `fetch`: the first kind of record the id names.
pub async fn fetch(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut f = Fields::new(map);
    let id = f.required_string("id", 200);
    f.finish()?;
    let Some(id) = id else { return Err(ApiError::internal("validated field missing")) };
    let public = &state.config.public_url;
    if let Some(view) = found(state.core.get_campaign(actor, &id).await)? {
        return Ok(json!({ "type": "campaign", "data": campaigns::render(&view) }));
    }
    if let Some(detail) = found(state.core.get_affiliate(actor, &id).await)? {
        return Ok(json!({ "type": "affiliate", "data": affiliates::render_detail(&detail, public) }));
    }
    if let Some(detail) = found(state.core.get_conversion(actor, &id).await)? {
        return Ok(json!({ "type": "conversion", "data": conversion_read(&detail.conversion) }));
    }
    if let Some(coupon) = found(state.core.get_coupon(actor, &id).await)? {
        return Ok(json!({ "type": "coupon", "data": coupons::render(&coupon) }));
    }
    if let Some(payout) = found(state.core.get_payout(actor, &id).await)? {
        return Ok(json!({ "type": "payout", "data": PayoutView::to_json(&payout) }));
    }
    Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("Nothing of this brand has the id {id}")))
}

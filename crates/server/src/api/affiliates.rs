//! `/api/v1/affiliates`: list memberships, read an affiliate, create API-managed affiliates and
//! approve or reject a membership.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
pub use refline_core::affiliates::tracking_link;
use refline_core::{
    affiliates::{AffiliateDetail, NewAffiliate, SORTS, STATUSES},
    payouts::PayoutMethod,
};
use refline_domain::{format_amount_in, format_timestamp, MembershipStatus};
use refline_store::{render::membership_row, AffiliateFilter, AffiliateSort, MembershipView};
use serde_json::{json, Map, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::openapi as doc,
    api::{
        clicks::render_click_totals,
        list::{envelope, Params},
    },
    error::{ApiError, ApiResult},
    http::{
        auth::Caller,
        body::{parse_object, Fields},
    },
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_affiliates, create_affiliate))
        .routes(routes!(get_affiliate, update_affiliate))
        .routes(routes!(remove_from_campaign))
}

#[utoipa::path(get, path = "/affiliates", tag = "affiliates", operation_id = "listAffiliates", params(doc::common::PageParams, doc::program::AffiliateQuery), responses((status = 200, body = doc::common::Page<doc::program::AffiliateRow>)))]
async fn list_affiliates(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let filter = AffiliateFilter {
        campaign_id: params.get("campaignId").map(str::to_string),
        status: params.one_of("status", STATUSES).and_then(|s| MembershipStatus::parse(&s)),
        search: None,
    };
    let page = params.page(SORTS, AffiliateSort::JoinedAt);
    params.finish()?;
    let found = state.core.list_affiliates(&caller.actor(), &filter, page).await?;
    let items = found.items.iter().map(|m| render_membership_row(m, &state.config.public_url)).collect();
    Ok(Json(envelope(items, &page, found.total)))
}

#[utoipa::path(get, path = "/affiliates/{id}", tag = "affiliates", operation_id = "getAffiliate", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::program::Affiliate>)))]
async fn get_affiliate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let detail = state.core.get_affiliate(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": render_detail(&detail, &state.config.public_url) })))
}

#[utoipa::path(post, path = "/affiliates", tag = "affiliates", operation_id = "createAffiliate", request_body(content = doc::program::NewAffiliate, content_type = "application/json"), responses((status = 201, body = doc::common::Data<doc::program::AffiliateCreated>)))]
async fn create_affiliate(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let actor = caller.actor();
    actor.require_write()?;
    let map = parse_object(&body)?;
    let created = state.core.create_affiliate(&actor, read_new_affiliate(&map)).await?;
    let data = json!({
        "id": created.affiliate.id,
        "name": created.affiliate.name,
        "email": created.affiliate.email,
        "status": created.membership.status.as_str(),
        "campaignId": created.campaign.id,
        "campaignName": created.campaign.name,
        "trackingLink": created.tracking_link,
        "createdVia": created.affiliate.created_via,
        "joinedAt": format_timestamp(created.membership.joined_at),
    });
    Ok((StatusCode::CREATED, Json(json!({ "data": data }))))
}

/// Reads a JSON body (or a dashboard form made into one) into the create operation's input.
pub fn read_new_affiliate(map: &serde_json::Map<String, Value>) -> NewAffiliate {
    let mut f = Fields::new(map);
    let input = NewAffiliate {
        email: f.required_string("email", 254),
        name: f.optional_string("name", 200),
        campaign_id: f.required_string("campaignId", 100),
        ip_address: f.optional_string("ipAddress", 64),
        user_agent: f.optional_string("userAgent", 512),
        unreadable: Vec::new(),
    };
    NewAffiliate { unreadable: f.into_issues(), ..input }
}

#[utoipa::path(patch, path = "/affiliates/{id}", tag = "affiliates", operation_id = "updateAffiliate", params(("id" = String, Path)), request_body(content = doc::program::AffiliateChange, content_type = "application/json"), responses((status = 200, body = doc::common::Data<doc::program::Affiliate>)))]
async fn update_affiliate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = caller.actor();
    actor.require_write()?;
    let map = parse_object(&body)?;
    let change = read_change(&map)?;
    let mut detail = None;
    if let Some(method) = change.payout_method {
        detail = Some(state.core.set_payout_method(&actor, &id, method).await?);
    }
    if let Some((campaign_id, target)) = change.membership {
        detail = Some(state.core.set_membership_status(&actor, &id, &campaign_id, target).await?);
    }
    let Some(detail) = detail else {
        return Err(ApiError::internal("no change made"));
    };
    Ok(Json(json!({ "data": render_detail(&detail, &state.config.public_url) })))
}

/// What `PATCH /affiliates/{id}` asks for: new payout details (`Some(None)` clears them), a
/// membership status change, or both.
#[derive(Debug)]
pub struct AffiliateChange {
    pub payout_method: Option<Option<PayoutMethod>>,
    pub membership: Option<(String, MembershipStatus)>,
}

/// Reads the body of `PATCH /affiliates/{id}`. `payoutMethod` alone changes the payout details;
/// with `campaignId` and `status` (or without `payoutMethod`) the membership changes as
/// LinkJolt documents.
pub fn read_change(map: &Map<String, Value>) -> ApiResult<AffiliateChange> {
    let mut f = Fields::new(map);
    let payout_method = if f.has("payoutMethod") {
        match f.value("payoutMethod") {
            None | Some(Value::Null) => Some(None),
            Some(value) => match PayoutMethod::from_json(value, "payoutMethod") {
                Ok(method) => Some(Some(method)),
                Err(issues) => {
                    for issue in issues {
                        f.issue_at(issue.path, issue.message);
                    }
                    None
                }
            },
        }
    } else {
        None
    };
    let membership_change = !f.has("payoutMethod") || f.has("status") || f.has("campaignId");
    let (campaign_id, status) = if membership_change {
        let campaign_id = f.required_string("campaignId", 100);
        let status = f.required_enum("status", &["approved", "rejected"]).and_then(MembershipStatus::parse);
        (campaign_id, status)
    } else {
        (None, None)
    };
    f.finish()?;
    let membership = match (membership_change, campaign_id, status) {
        (false, _, _) => None,
        (true, Some(campaign_id), Some(status)) => Some((campaign_id, status)),
        (true, _, _) => return Err(ApiError::internal("validated fields missing")),
    };
    if payout_method.is_none() && membership.is_none() {
        return Err(ApiError::internal("no change read"));
    }
    Ok(AffiliateChange { payout_method, membership })
}

/// Removes the affiliate from one campaign (beyond LinkJolt's REST API, which only has this in
/// the dashboard). Its conversions stay; new ones are refused until it joins again.
#[utoipa::path(delete, path = "/affiliates/{id}/campaigns/{campaign_id}", tag = "affiliates", operation_id = "removeAffiliateFromCampaign", params(("id" = String, Path), ("campaign_id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::program::MembershipRemoved>)))]
async fn remove_from_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, campaign_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    state.core.remove_membership(&caller.actor(), &id, &campaign_id).await?;
    Ok(Json(json!({ "data": { "id": id, "campaignId": campaign_id, "removed": true } })))
}

/// The full affiliate object: identity, memberships, earnings and link.
pub(crate) fn render_detail(d: &AffiliateDetail, base: &str) -> Value {
    let affiliate = &d.affiliate;
    let first = d.memberships.first();
    json!({
        "id": affiliate.id,
        "name": affiliate.name,
        "email": affiliate.email,
        "status": first.map(|m| m.status.as_str()),
        "createdVia": affiliate.created_via,
        "createdAt": format_timestamp(affiliate.created_at),
        "payoutMethod": affiliate.payout_method.as_deref().and_then(PayoutMethod::from_stored).map(|m| m.to_json()),
        "trackingLink": first.map(|m| tracking_link(base, &m.tracking_code, &affiliate.id)),
        "totalEarnings": format_amount_in(d.total_earnings, &d.total_currency),
        "currency": d.total_currency,
        "earningsByCurrency": d.earnings_by_currency.iter().map(|(c, v)| (c.clone(), json!(format_amount_in(*v, c)))).collect::<serde_json::Map<_, _>>(),
        "clicks": d.clicks.clicks,
        "clickStats": render_click_totals(&d.clicks),
        "memberships": d.memberships.iter().map(|m| json!({
            "campaignId": m.campaign_id,
            "campaignName": m.campaign_name,
            "status": m.status.as_str(),
            "joinedAt": format_timestamp(m.joined_at),
            "trackingLink": tracking_link(base, &m.tracking_code, &affiliate.id),
            "earnings": format_amount_in(m.earnings_minor, &m.currency),
            "currency": m.currency,
            "clicks": m.clicks.clicks,
            "clickStats": render_click_totals(&m.clicks),
        })).collect::<Vec<_>>(),
    })
}

pub(crate) fn render_membership_row(m: &MembershipView, base: &str) -> Value {
    let link = tracking_link(base, &m.tracking_code, &m.affiliate_id);
    membership_row(m, link, render_click_totals(&m.clicks))
}

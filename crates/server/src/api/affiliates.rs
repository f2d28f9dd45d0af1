//! `/api/v1/affiliates`: list memberships, read an affiliate, create API-managed affiliates and
//! approve or reject a membership.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get},
    Json, Router,
};
use refline_domain::{
    canonical_email, check_membership_transition, format_amount, format_timestamp, is_valid_email, Currency,
    MembershipStatus, Transition,
};
use refline_store::{
    Affiliate, AffiliateFilter, AffiliateSort, ClickTotals, CreateAffiliateOutcome, Membership,
    MembershipView,
};
use serde_json::{json, Value};

use crate::{
    api::{
        clicks::render_click_totals,
        list::{envelope, Params},
    },
    clock::now_ms,
    error::{ApiError, ApiResult},
    http::{
        auth::Caller,
        body::{parse_object, Fields},
    },
    ids::new_id,
    state::AppState,
    tracking::visitor::device_hash,
};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/affiliates", get(list_affiliates).post(create_affiliate))
        .route("/affiliates/{id}", get(get_affiliate).patch(update_affiliate))
        .route("/affiliates/{id}/campaigns/{campaign_id}", delete(remove_from_campaign))
}

const SORTS: &[(&str, AffiliateSort)] = &[
    ("joinedAt", AffiliateSort::JoinedAt),
    ("createdAt", AffiliateSort::JoinedAt),
    ("name", AffiliateSort::Name),
    ("email", AffiliateSort::Email),
];
const STATUSES: &[&str] = &["pending", "approved", "rejected"];

/// `https://…/redirect?tc=<code>&aff=<id>`: the hosted link that records a click.
pub fn tracking_link(public_url: &str, tracking_code: &str, affiliate_id: &str) -> String {
    format!("{public_url}/redirect?tc={tracking_code}&aff={affiliate_id}")
}

async fn list_affiliates(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let filter = AffiliateFilter {
        campaign_id: params.get("campaignId").map(str::to_string),
        status: params.one_of("status", STATUSES),
    };
    let page = params.page(SORTS, AffiliateSort::JoinedAt);
    params.finish()?;
    let found = state.store.list_memberships(&caller.merchant_id, &filter, caller.is_test(), page).await?;
    let items = found.items.iter().map(|m| render_membership_row(m, &state.config.public_url)).collect();
    Ok(Json(envelope(items, &page, found.total)))
}

async fn get_affiliate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let data = detail(&state, &caller, &id).await?;
    Ok(Json(json!({ "data": data })))
}

async fn create_affiliate(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let map = parse_object(&body)?;
    let mut f = Fields::new(&map);
    let email = f.required_string("email", 254).map(|e| canonical_email(&e));
    if email.as_deref().is_some_and(|e| !is_valid_email(e)) {
        f.issue("email", "email must be a valid email address");
    }
    let name = f.optional_string("name", 200);
    let campaign_id = f.required_string("campaignId", 100);
    // Where the affiliate signed up from (the merchant's own signup form knows): compared with
    // customers' clicks to spot self-referrals.
    let ip = f.optional_string("ipAddress", 64);
    let signup_ip = ip.as_deref().map(str::parse::<std::net::IpAddr>);
    if matches!(signup_ip, Some(Err(_))) {
        f.issue("ipAddress", "ipAddress must be an IPv4 or IPv6 address");
    }
    let user_agent = f.optional_string("userAgent", 512);
    f.finish()?;
    let (Some(email), Some(campaign_id)) = (email, campaign_id) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let campaign = state.core.load_campaign(&caller.actor(), &campaign_id).await?;
    let now = now_ms();
    let affiliate = Affiliate {
        id: new_id("aff"),
        merchant_id: caller.merchant_id.clone(),
        email,
        name,
        created_via: "api".into(),
        created_at: now,
    };
    let membership = Membership {
        campaign_id: campaign.id.clone(),
        affiliate_id: affiliate.id.clone(),
        merchant_id: caller.merchant_id.clone(),
        status: MembershipStatus::Approved.as_str().into(),
        joined_at: now,
        updated_at: now,
    };
    match state.store.create_affiliate(&affiliate, &membership, !caller.is_test()).await? {
        CreateAffiliateOutcome::EmailTaken { existing_id } => Err(ApiError::duplicate(
            "An affiliate with this email already exists",
            json!({ "affiliateId": existing_id }),
        )),
        CreateAffiliateOutcome::Created => {
            if let Some(Ok(ip)) = signup_ip {
                state.store.record_fingerprint(&affiliate.id, "ip", &ip.to_string(), now).await?;
            }
            if let Some(agent) = &user_agent {
                state.store.record_fingerprint(&affiliate.id, "device", &device_hash(agent), now).await?;
            }
            let data = json!({
                "id": affiliate.id,
                "name": affiliate.name,
                "email": affiliate.email,
                "status": membership.status,
                "campaignId": campaign.id,
                "campaignName": campaign.name,
                "trackingLink": tracking_link(&state.config.public_url, &campaign.tracking_code, &affiliate.id),
                "createdVia": affiliate.created_via,
                "joinedAt": format_timestamp(now),
            });
            Ok((StatusCode::CREATED, Json(json!({ "data": data }))))
        }
    }
}

async fn update_affiliate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let map = parse_object(&body)?;
    let mut f = Fields::new(&map);
    let campaign_id = f.required_string("campaignId", 100);
    let status = f.required_enum("status", &["approved", "rejected"]).and_then(MembershipStatus::parse);
    f.finish()?;
    let (Some(campaign_id), Some(target)) = (campaign_id, status) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    if state.store.get_affiliate(&caller.merchant_id, &id).await?.is_none() {
        return Err(ApiError::not_found("Affiliate"));
    }
    let membership = state
        .store
        .get_membership(&caller.merchant_id, &campaign_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Affiliate membership on this campaign"))?;
    let current = MembershipStatus::parse(&membership.status)
        .ok_or_else(|| ApiError::internal("unknown membership status"))?;
    match check_membership_transition(current, target) {
        Err(_) if current == MembershipStatus::Rejected => {
            return Err(ApiError::invalid_transition(
                "This affiliate was rejected on this campaign; rejection is final through the API",
            ))
        }
        Err(e) => return Err(ApiError::invalid_transition(e.to_string())),
        Ok(Transition::NoOp) => {}
        Ok(Transition::Change) => {
            let moved = state
                .store
                .update_membership_status(
                    &membership,
                    current.as_str(),
                    target.as_str(),
                    now_ms(),
                    !caller.is_test(),
                )
                .await?;
            if !moved {
                return Err(ApiError::changed_concurrently("membership"));
            }
        }
    }
    let data = detail(&state, &caller, &id).await?;
    Ok(Json(json!({ "data": data })))
}

/// Removes the affiliate from one campaign (beyond LinkJolt's REST API, which only has this in
/// the dashboard). Its conversions stay; new ones are refused until it joins again.
async fn remove_from_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, campaign_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let membership = state
        .store
        .get_membership(&caller.merchant_id, &campaign_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Affiliate membership on this campaign"))?;
    if !state.store.remove_membership(&membership, now_ms(), !caller.is_test()).await? {
        return Err(ApiError::not_found("Affiliate membership on this campaign"));
    }
    Ok(Json(json!({ "data": { "id": id, "campaignId": campaign_id, "removed": true } })))
}

/// The full affiliate object: identity, memberships, earnings and link.
async fn detail(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Value> {
    let affiliate = state
        .store
        .get_affiliate(&caller.merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Affiliate"))?;
    let memberships = state.store.affiliate_memberships(&caller.merchant_id, id, caller.is_test()).await?;
    let base = &state.config.public_url;
    // Earnings are kept per campaign currency; the total adds only like with like.
    let mut by_currency: Vec<(String, i64)> = Vec::new();
    for m in &memberships {
        match by_currency.iter_mut().find(|(c, _)| *c == m.currency) {
            Some(entry) => entry.1 += m.earnings_minor,
            None => by_currency.push((m.currency.clone(), m.earnings_minor)),
        }
    }
    let total_currency = match by_currency.as_slice() {
        [(only, _)] => only.clone(),
        _ => caller.currency.clone(),
    };
    let total = by_currency.iter().find(|(c, _)| *c == total_currency).map_or(0, |(_, v)| *v);
    let mut clicks = ClickTotals::default();
    for m in &memberships {
        clicks.add(m.clicks);
    }
    let first = memberships.first();
    Ok(json!({
        "id": affiliate.id,
        "name": affiliate.name,
        "email": affiliate.email,
        "status": first.map(|m| m.status.clone()),
        "createdVia": affiliate.created_via,
        "createdAt": format_timestamp(affiliate.created_at),
        "trackingLink": first.map(|m| tracking_link(base, &m.tracking_code, &affiliate.id)),
        "totalEarnings": money(total, &total_currency),
        "currency": total_currency,
        "earningsByCurrency": by_currency.iter().map(|(c, v)| (c.clone(), json!(money(*v, c)))).collect::<serde_json::Map<_, _>>(),
        "clicks": clicks.clicks,
        "clickStats": render_click_totals(&clicks),
        "memberships": memberships.iter().map(|m| json!({
            "campaignId": m.campaign_id,
            "campaignName": m.campaign_name,
            "status": m.status,
            "joinedAt": format_timestamp(m.joined_at),
            "trackingLink": tracking_link(base, &m.tracking_code, &affiliate.id),
            "earnings": money(m.earnings_minor, &m.currency),
            "currency": m.currency,
            "clicks": m.clicks.clicks,
            "clickStats": render_click_totals(&m.clicks),
        })).collect::<Vec<_>>(),
    }))
}

/// An amount in a currency's decimals.
fn money(minor: i64, currency: &str) -> String {
    format_amount(minor, Currency::parse(currency).unwrap_or(Currency::USD).exponent())
}

fn render_membership_row(m: &MembershipView, base: &str) -> Value {
    json!({
        "id": m.affiliate_id,
        "name": m.name,
        "email": m.email,
        "status": m.status,
        "campaignId": m.campaign_id,
        "campaignName": m.campaign_name,
        "trackingLink": tracking_link(base, &m.tracking_code, &m.affiliate_id),
        "createdVia": m.created_via,
        "joinedAt": format_timestamp(m.joined_at),
        "earnings": money(m.earnings_minor, &m.currency),
        "currency": m.currency,
        "clicks": m.clicks.clicks,
        "clickStats": render_click_totals(&m.clicks),
    })
}

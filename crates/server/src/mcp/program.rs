//! Tools over the program's records: each reads its arguments with the `/api/v1` handler's
//! readers, calls the same core operation with the key's MCP actor and renders with the same
//! renderer, so a tool answers exactly what the REST API answers.

use std::collections::HashMap;

use refline_core::{
    affiliates::STATUSES,
    campaigns::SORTS as CAMPAIGN_SORTS,
    connection_input::provider_names,
    payouts::{method::METHOD_TYPES, render::PayoutView},
    sales::conversions::SORTS as CONVERSION_SORTS,
    Actor,
};
use refline_domain::{
    format_amount_in, format_timestamp, ledger::PayoutStatus, ApiAccess, ConversionStatus, MembershipStatus,
};
use refline_store::{
    render::{conversion_created, conversion_read},
    AffiliateFilter, AffiliateSort, CampaignSort, ConversionFilter, ConversionSort, CouponFilter,
    PayoutFilter,
};
use serde_json::{json, Map, Value};

use crate::{
    api::{affiliates, campaigns, conversions, coupons, invitations, list::envelope, list::Params, stats},
    error::ApiError,
    http::{
        auth::Caller,
        body::{parse_optional_object, Fields},
    },
    mcp::answer::ToolOutcome,
    state::AppState,
};

/// A tool's arguments, checked by the API's body rules (a JSON object, no control characters).
pub fn arguments(args: Option<&Map<String, Value>>) -> Result<Map<String, Value>, ApiError> {
    let bytes = serde_json::to_vec(&args.cloned().unwrap_or_default()).map_err(ApiError::internal)?;
    parse_optional_object(&bytes)
}

/// Arguments as the query parameters of a list endpoint.
pub fn params(map: &Map<String, Value>) -> Params {
    let values: HashMap<String, String> = map
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect();
    Params::from_values(values)
}

/// The one required id argument `name`.
pub fn required_id(map: &Map<String, Value>, name: &str) -> Result<String, ApiError> {
    let mut f = Fields::new(map);
    let id = f.required_string(name, 200);
    f.finish()?;
    id.ok_or_else(|| ApiError::internal("validated field missing"))
}

/// `get_account`: `GET /api/v1/me`.
pub async fn account(state: &AppState, caller: &Caller, actor: &Actor) -> ToolOutcome {
    let seen_at = state.core.tracking_seen_at(actor).await?;
    let permissions: &[&str] = match caller.plan.api_access() {
        ApiAccess::ReadWrite => &["read", "write"],
        ApiAccess::ReadOnly => &["read"],
        ApiAccess::None => &[],
    };
    Ok(json!({ "data": {
        "merchant": { "id": caller.merchant_id, "name": caller.merchant_name, "currency": caller.currency },
        "keyId": caller.key_id,
        "keyType": caller.kind.as_str(),
        "permissions": permissions,
        "plan": caller.plan.as_str(),
        "rateLimit": { "limit": caller.rate.limit, "remaining": caller.rate.remaining, "reset": caller.rate.reset },
        "tracking": { "scriptSeen": seen_at.is_some(), "firstSeenAt": seen_at.map(format_timestamp) },
    }}))
}

/// `list_campaigns`.
pub async fn list_campaigns(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut params = params(map);
    let page = params.page(CAMPAIGN_SORTS, CampaignSort::CreatedAt);
    params.finish()?;
    let found = state.core.list_campaigns(actor, page).await?;
    Ok(envelope(found.items.iter().map(campaigns::render).collect(), &page, found.total))
}

/// `get_campaign`.
pub async fn get_campaign(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let id = required_id(map, "campaignId")?;
    let view = state.core.get_campaign(actor, &id).await?;
    Ok(json!({ "data": campaigns::render(&view) }))
}

/// `create_campaign`.
pub async fn create_campaign(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    actor.require_write()?;
    actor.require_live("Campaigns")?;
    let view = state.core.create_campaign(actor, campaigns::read_input(map, true)).await?;
    Ok(json!({ "data": campaigns::render(&view) }))
}

/// `update_campaign`: `campaignId` names it; the rest is the PATCH body.
pub async fn update_campaign(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    actor.require_write()?;
    actor.require_live("Campaigns")?;
    let id = required_id(map, "campaignId")?;
    let mut body = map.clone();
    body.remove("campaignId");
    let view = state.core.update_campaign(actor, &id, campaigns::read_input(&body, false)).await?;
    let mut data = campaigns::render(&view);
    if let Some(obj) = data.as_object_mut() {
        obj.insert("changed".into(), json!(view.changed));
    }
    Ok(json!({ "data": data }))
}

/// `list_affiliates`.
pub async fn list_affiliates(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut params = params(map);
    let filter = AffiliateFilter {
        campaign_id: params.get("campaignId").map(str::to_string),
        status: params.one_of("status", STATUSES).and_then(|s| MembershipStatus::parse(&s)),
        search: None,
    };
    let page = params.page(refline_core::affiliates::SORTS, AffiliateSort::JoinedAt);
    params.finish()?;
    let found = state.core.list_affiliates(actor, &filter, page).await?;
    let base = &state.config.public_url;
    let items = found.items.iter().map(|m| affiliates::render_membership_row(m, base)).collect();
    Ok(envelope(items, &page, found.total))
}

/// `update_affiliate_status`: `action` approve/reject is the API's `status` approved/rejected.
pub async fn update_affiliate_status(
    state: &AppState,
    actor: &Actor,
    map: &Map<String, Value>,
) -> ToolOutcome {
    actor.require_write()?;
    let mut f = Fields::new(map);
    let affiliate_id = f.required_string("affiliateId", 100);
    let campaign_id = f.required_string("campaignId", 100);
    let action = f.required_enum("action", &["approve", "reject"]);
    f.finish()?;
    let (Some(affiliate_id), Some(campaign_id), Some(action)) = (affiliate_id, campaign_id, action) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let target = if action == "approve" { MembershipStatus::Approved } else { MembershipStatus::Rejected };
    let detail = state.core.set_membership_status(actor, &affiliate_id, &campaign_id, target).await?;
    Ok(json!({ "data": affiliates::render_detail(&detail, &state.config.public_url) }))
}

/// `list_conversions`: the key's mode, like the API without `isTest`.
pub async fn list_conversions(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut params = params(map);
    let statuses: Vec<&str> = ConversionStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filter = ConversionFilter {
        mode: actor.mode,
        status: params.one_of("status", &statuses).and_then(|s| ConversionStatus::parse(&s)),
        campaign_id: params.get("campaignId").map(str::to_string),
        affiliate_id: params.get("affiliateId").map(str::to_string),
        from: params.time("from", false),
        to: params.time("to", true),
    };
    let page = params.page(CONVERSION_SORTS, ConversionSort::CreatedAt);
    params.finish()?;
    let found = state.core.list_conversions(actor, &filter, page).await?;
    Ok(envelope(found.items.iter().map(conversion_read).collect(), &page, found.total))
}

/// `create_conversion`: the seed's body.
pub async fn create_conversion(
    state: &AppState,
    caller: &Caller,
    actor: &Actor,
    map: &Map<String, Value>,
) -> ToolOutcome {
    actor.require_write()?;
    let conversion =
        state.core.record_conversion(actor, caller.plan, conversions::read_new_conversion(map)).await?;
    Ok(json!({ "data": conversion_created(&conversion) }))
}

/// `update_conversion`.
pub async fn update_conversion(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    actor.require_write()?;
    let mut f = Fields::new(map);
    let id = f.required_string("conversionId", 100);
    let target = f.required_enum("status", &["approved", "rejected"]).and_then(ConversionStatus::parse);
    let confirm = f.optional_bool("confirmAboveSale").unwrap_or(false);
    f.finish()?;
    let (Some(id), Some(target)) = (id, target) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let updated = state.core.set_conversion_status(actor, &id, target, confirm).await?;
    Ok(json!({ "data": conversion_read(&updated) }))
}

/// `list_coupons`.
pub async fn list_coupons(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut params = params(map);
    let page = params.page(&[("createdAt", ())], ());
    let names = provider_names();
    let filter = CouponFilter {
        code: params.get("code").map(str::to_string),
        provider: params.one_of("provider", &names),
        campaign_id: params.get("campaignId").map(str::to_string),
        affiliate_id: params.get("affiliateId").map(str::to_string),
    };
    params.finish()?;
    let found = state.core.list_coupons(actor, &filter, page).await?;
    Ok(envelope(found.items.iter().map(coupons::render).collect(), &page, found.total))
}

/// `create_coupon`: registering the same code again answers the same coupon.
pub async fn create_coupon(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    actor.require_write()?;
    let done = state.core.register_coupon(actor, coupons::read_input(map)).await?;
    Ok(json!({ "data": coupons::render(&done.coupon), "created": done.created }))
}

/// `invite_affiliate`: `POST /api/v1/affiliates/invite`, with its 10 a minute per key.
pub async fn invite_affiliate(
    state: &AppState,
    caller: &Caller,
    actor: &Actor,
    map: &Map<String, Value>,
) -> ToolOutcome {
    actor.require_write()?;
    invitations::invite_rate(state, caller).await.map_err(|(err, _)| err)?;
    let out = state.core.invite_affiliate(actor, invitations::read_invite(map)).await?;
    Ok(json!({ "data": invitations::render(&out) }))
}

/// `list_payouts`.
pub async fn list_payouts(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut params = params(map);
    let statuses: Vec<&str> = PayoutStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filter = PayoutFilter {
        from: params.time("from", false),
        to: params.time("to", true),
        status: params.one_of("status", &statuses).as_deref().and_then(PayoutStatus::parse),
        affiliate_id: params.get("affiliateId").map(str::to_string),
        conversion_id: params.get("conversionId").map(str::to_string),
        currency: params.get("currency").map(str::to_lowercase),
        method: params.one_of("method", &METHOD_TYPES),
        export_id: params.get("exportId").map(str::to_string),
        ..PayoutFilter::default()
    };
    let page = params.page(&[("createdAt", ())], ());
    params.finish()?;
    let found = state.core.list_payouts(actor, filter, page).await?;
    Ok(envelope(found.items.iter().map(PayoutView::to_json).collect(), &page, found.total))
}

/// `get_stats`.
pub async fn get_stats(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut params = params(map);
    let from = params.time("from", false);
    let to = params.time("to", true);
    params.finish()?;
    Ok(stats::render(&state.core.stats(actor, from, to).await?))
}

/// `get_program_overview`: the dashboard overview's month, as JSON.
pub async fn program_overview(state: &AppState, actor: &Actor) -> ToolOutcome {
    let o = state.core.overview(actor).await?;
    let totals: Vec<Value> = o
        .totals
        .iter()
        .map(|(currency, t)| {
            json!({
                "currency": currency,
                "revenue": format_amount_in(t.revenue_minor, currency),
                "commissions": format_amount_in(t.commissions_minor, currency),
                "conversionsCount": t.conversions,
            })
        })
        .collect();
    let main = totals.first().cloned().unwrap_or(Value::Null);
    let top: Vec<Value> = o
        .top
        .iter()
        .map(|a| {
            json!({
                "affiliateId": a.affiliate_id,
                "name": a.name,
                "currency": a.currency,
                "revenue": format_amount_in(a.revenue_minor, &a.currency),
                "commissions": format_amount_in(a.commissions_minor, &a.currency),
                "conversions": a.conversions,
            })
        })
        .collect();
    Ok(json!({ "data": {
        "period": format_timestamp(o.month_start).get(..7),
        "periodStart": format_timestamp(o.month_start),
        "currency": o.currency,
        "revenue": main["revenue"],
        "commissions": main["commissions"],
        "conversionsCount": main["conversionsCount"],
        "byCurrency": totals,
        "clicks": o.clicks,
        "uniqueClicks": o.unique_clicks,
        "topAffiliates": top,
        "recentConversions": o.recent.iter().map(conversion_read).collect::<Vec<_>>(),
    }}))
}

//! `/api/v1/campaigns`: list, read, create and update campaigns.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use refline_core::campaigns::{CampaignInput, CampaignView, Change, TierInput, SORTS};
use refline_domain::{
    format_amount, format_timestamp, CampaignStatus, RecurringMode, RecurringType, TrialMode,
};
use refline_store::CampaignSort;
use serde_json::{json, Map, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::clicks::render_click_totals,
    api::list::{envelope, Params},
    api::openapi as doc,
    error::ApiResult,
    http::{
        auth::Caller,
        body::{decimal_text, optional_change, parse_object, Fields},
    },
    state::AppState,
    terms::{self, CommissionType},
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(get_campaign, update_campaign))
}

#[utoipa::path(get, path = "/campaigns", tag = "campaigns", operation_id = "listCampaigns", params(doc::common::PageParams, doc::program::CampaignQuery), responses((status = 200, body = doc::common::Page<doc::program::Campaign>)))]
async fn list_campaigns(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let page = params.page(SORTS, CampaignSort::CreatedAt);
    params.finish()?;
    let found = state.core.list_campaigns(&caller.actor(), page).await?;
    let items = found.items.iter().map(render).collect();
    Ok(Json(envelope(items, &page, found.total)))
}

#[utoipa::path(get, path = "/campaigns/{id}", tag = "campaigns", operation_id = "getCampaign", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::program::Campaign>)))]
async fn get_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let view = state.core.get_campaign(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": render(&view) })))
}

#[utoipa::path(post, path = "/campaigns", tag = "campaigns", operation_id = "createCampaign", request_body(content = doc::program::CampaignInput, content_type = "application/json"), responses((status = 201, body = doc::common::Data<doc::program::Campaign>)))]
async fn create_campaign(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let actor = caller.actor();
    // Rights before the body, so a read-only or test key learns that first.
    actor.require_write()?;
    actor.require_live("Campaigns")?;
    let map = parse_object(&body)?;
    let view = state.core.create_campaign(&actor, read_input(&map, true)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "data": render(&view) }))))
}

#[utoipa::path(patch, path = "/campaigns/{id}", tag = "campaigns", operation_id = "updateCampaign", params(("id" = String, Path)), request_body(content = doc::program::CampaignInput, content_type = "application/json"), responses((status = 200, body = doc::common::Data<doc::program::Campaign>)))]
async fn update_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = caller.actor();
    actor.require_write()?;
    actor.require_live("Campaigns")?;
    let map = parse_object(&body)?;
    let view = state.core.update_campaign(&actor, &id, read_input(&map, false)).await?;
    let mut data = render(&view);
    if let Some(obj) = data.as_object_mut() {
        obj.insert("changed".into(), json!(view.changed));
    }
    Ok(Json(json!({ "data": data })))
}

/// Reads a JSON body into the operation's input: types, choices and lengths here, every rule of
/// the terms in the core. On create, `name` and `commissionType` are required.
pub fn read_input(map: &Map<String, Value>, creating: bool) -> CampaignInput {
    let mut f = Fields::new(map);
    let currency = if creating {
        f.optional_string("currency", 3)
    } else {
        f.value("currency").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
    };
    let name = if creating || f.has("name") {
        f.required_string("name", 200).map_or(Change::Clear, Change::Set)
    } else {
        Change::Keep
    };
    let status = f.optional_enum("status", &["active", "inactive"]).and_then(CampaignStatus::parse);
    let commission_type = if creating || f.has("commissionType") {
        f.required_enum("commissionType", &["percentage", "fixed"])
            .and_then(CommissionType::parse)
            .map_or(Change::Clear, Change::Set)
    } else {
        Change::Keep
    };
    let commission_value = f.optional_decimal_text("commissionValue");
    let target_url = optional_change(&mut f, "targetUrl", |f, n| f.optional_string(n, 2048));
    let description = optional_change(&mut f, "description", |f, n| f.optional_string(n, 5000));
    let is_public = f.optional_bool("isPublic");
    let auto_approve_affiliates = f.optional_bool("autoApproveAffiliates");
    let cookie_window_days = f.optional_int("cookieWindowDays", 1, 365);
    let hold_days = optional_change(&mut f, "holdDays", |f, n| f.optional_int(n, 0, 365));
    let recurring_enabled = f.optional_bool("recurringCommissionEnabled");
    let recurring_mode =
        f.optional_enum("recurringCommissionMode", &["duration", "payments"]).and_then(RecurringMode::parse);
    let recurring_type =
        f.optional_enum("recurringCommissionType", &["same", "custom"]).and_then(RecurringType::parse);
    let recurring_value =
        optional_change(&mut f, "recurringCommissionValue", |f, n| f.optional_decimal_text(n));
    let recurring_count =
        optional_change(&mut f, "recurringCommissionCount", |f, n| f.optional_int(n, 1, 1200));
    let recurring_months =
        optional_change(&mut f, "recurringCommissionDuration", |f, n| f.optional_int(n, 1, 1200));
    let tiers = read_tiers(&mut f);
    let trial_mode =
        f.optional_enum("trialMode", &TrialMode::ALL.map(TrialMode::as_str)).and_then(TrialMode::parse);
    CampaignInput {
        currency,
        name,
        status,
        commission_type,
        commission_value,
        target_url,
        description,
        is_public,
        auto_approve_affiliates,
        cookie_window_days,
        hold_days,
        recurring_enabled,
        recurring_mode,
        recurring_type,
        recurring_value,
        recurring_count,
        recurring_months,
        tiers,
        trial_mode,
        unreadable: f.into_issues(),
    }
}

fn read_tiers(f: &mut Fields<'_>) -> Change<Vec<TierInput>> {
    let Some(value) = f.value("tiers") else {
        return if f.has("tiers") { Change::Clear } else { Change::Keep };
    };
    let Some(items) = value.as_array() else {
        f.issue("tiers", "tiers must be an array of {minSales|minRevenue, commissionValue}");
        return Change::Keep;
    };
    Change::Set(
        items
            .iter()
            .map(|item| TierInput {
                min_sales: item.get("minSales").and_then(Value::as_i64),
                min_sales_sent: item.get("minSales").is_some(),
                min_revenue: item.get("minRevenue").and_then(decimal_text),
                min_revenue_sent: item.get("minRevenue").is_some(),
                commission_value: item.get("commissionValue").and_then(decimal_text).unwrap_or_default(),
            })
            .collect(),
    )
}

/// The API form of a campaign.
pub fn render(view: &CampaignView) -> Value {
    let (c, stats) = (&view.campaign, &view.stats);
    let currency = terms::currency_of(c);
    let kind = terms::type_of(c);
    json!({
        "id": c.id,
        "name": c.name,
        "trackingCode": c.tracking_code,
        "status": c.status.as_str(),
        "commissionType": c.commission_type.as_str(),
        "commissionValue": kind.format_value(c.commission_value, currency),
        "currency": c.currency,
        "targetUrl": c.target_url,
        "description": c.description,
        "isPublic": c.is_public,
        "autoApproveAffiliates": c.auto_approve_affiliates,
        "cookieWindowDays": c.cookie_window_days,
        "holdDays": c.hold_days,
        "recurringCommissionEnabled": c.recurring_enabled,
        "recurringCommissionMode": c.recurring_mode.as_str(),
        "recurringCommissionType": c.recurring_type.as_str(),
        "recurringCommissionValue": c.recurring_value.map(|v| kind.format_value(v, currency)),
        "recurringCommissionCount": c.recurring_count,
        "recurringCommissionDuration": c.recurring_months,
        "tiers": terms::render_tiers(c),
        "trialMode": c.trial_mode.as_str(),
        "joinUrl": view.join_url,
        "conversions": stats.conversions,
        "revenue": format_amount(stats.revenue_minor, currency.exponent()),
        "affiliateCount": stats.affiliates,
        "clicks": stats.clicks.clicks,
        "clickStats": render_click_totals(&stats.clicks),
        "createdAt": format_timestamp(c.created_at),
        "updatedAt": format_timestamp(c.updated_at),
    })
}

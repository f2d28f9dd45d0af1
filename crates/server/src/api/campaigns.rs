//! `/api/v1/campaigns`: list, read, create and update campaigns.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
    Json, Router,
};
use refline_domain::{
    format_amount, format_timestamp, parse_amount, validate_tiers, Currency, Tier, TierBasis,
};
use refline_store::{Campaign, CampaignSort, CampaignStats};
use serde_json::{json, Value};

use crate::{
    api::clicks::render_click_totals,
    api::list::{envelope, Params},
    clock::now_ms,
    error::{ApiError, ApiResult},
    http::{
        auth::Caller,
        body::{decimal_text, parse_object, Fields},
    },
    ids::{new_id, new_tracking_code},
    state::AppState,
    terms::{self, CommissionType},
};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list_campaigns).post(create_campaign))
        .route("/campaigns/{id}", get(get_campaign).patch(update_campaign))
}

const SORTS: &[(&str, CampaignSort)] =
    &[("createdAt", CampaignSort::CreatedAt), ("name", CampaignSort::Name)];

async fn list_campaigns(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let page = params.page(SORTS, CampaignSort::CreatedAt);
    params.finish()?;
    let found = state.store.list_campaigns(&caller.merchant_id, caller.is_test(), page).await?;
    let items =
        found.items.iter().map(|row| render(&row.campaign, row.stats, &state.config.public_url)).collect();
    Ok(Json(envelope(items, &page, found.total)))
}

async fn get_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let campaign = load(&state, &caller, &id).await?;
    let stats = state.store.campaign_stats(&campaign.id, caller.is_test()).await?;
    Ok(Json(json!({ "data": render(&campaign, stats, &state.config.public_url) })))
}

async fn create_campaign(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_live("Campaigns")?;
    let map = parse_object(&body)?;
    let mut fields = Fields::new(&map);
    let currency = match fields.optional_string("currency", 3) {
        None => Currency::parse(&caller.currency).unwrap_or(Currency::USD),
        Some(code) => Currency::parse(&code).unwrap_or_else(|_| {
            fields.issue("currency", "currency must be a supported ISO 4217 code such as usd or eur");
            Currency::USD
        }),
    };
    let now = now_ms();
    // The tracking code is drawn when inserting, below.
    let mut campaign =
        Campaign::with_defaults(&new_id("camp"), &caller.merchant_id, "", currency.code(), now);
    apply_fields(&mut fields, &mut campaign, true);
    fields.finish()?;
    // Tracking codes are global (links carry no merchant id): retry on the rare collision.
    for _ in 0..5 {
        campaign.tracking_code = new_tracking_code();
        match state.store.insert_campaign(&campaign).await {
            Ok(()) => {
                let data = render(&campaign, CampaignStats::default(), &state.config.public_url);
                return Ok((StatusCode::CREATED, Json(json!({ "data": data }))));
            }
            Err(err) if err.is_conflict_on("tracking_code") => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::internal("could not find a free tracking code"))
}

async fn update_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_live("Campaigns")?;
    let map = parse_object(&body)?;
    let mut campaign = load(&state, &caller, &id).await?;
    let mut fields = Fields::new(&map);
    let same_currency = fields
        .value("currency")
        .and_then(|v| v.as_str())
        .is_some_and(|c| c.eq_ignore_ascii_case(&campaign.currency));
    if fields.value("currency").is_some() && !same_currency {
        fields.issue("currency", "currency is fixed when the campaign is created");
    }
    let changed = apply_fields(&mut fields, &mut campaign, false);
    fields.finish()?;
    if !changed.is_empty() {
        campaign.updated_at = now_ms();
        if !state.store.update_campaign(&campaign).await? {
            return Err(ApiError::not_found("Campaign"));
        }
    }
    let stats = state.store.campaign_stats(&campaign.id, caller.is_test()).await?;
    let mut data = render(&campaign, stats, &state.config.public_url);
    if let Some(obj) = data.as_object_mut() {
        obj.insert("changed".into(), json!(changed));
    }
    Ok(Json(json!({ "data": data })))
}

/// A campaign of the caller's merchant, or 404.
pub async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Campaign> {
    state.store.get_campaign(&caller.merchant_id, id).await?.ok_or_else(|| ApiError::not_found("Campaign"))
}

/// Applies the writable fields present in the body to `c`, returning the API names of the
/// fields whose value changed. On create, `name`, `commissionType` and `commissionValue` are
/// required.
fn apply_fields(f: &mut Fields<'_>, c: &mut Campaign, creating: bool) -> Vec<&'static str> {
    let before = c.clone();
    let currency = terms::currency_of(c);
    if creating || f.has("name") {
        match f.required_string("name", 200) {
            Some(name) if name.chars().count() >= 2 => c.name = name,
            Some(_) => f.issue("name", "name must be at least 2 characters"),
            None => {}
        }
    }
    if let Some(status) = f.optional_enum("status", &["active", "inactive"]) {
        c.status = status.into();
    }
    const TYPES: &[&str] = &["percentage", "fixed"];
    let new_type = if creating || f.has("commissionType") {
        f.required_enum("commissionType", TYPES).and_then(CommissionType::parse)
    } else {
        None
    };
    let kind = new_type.unwrap_or_else(|| terms::type_of(c));
    let type_changed = new_type.is_some_and(|t| t.as_str() != c.commission_type);
    if let Some(t) = new_type {
        c.commission_type = t.as_str().into();
    }
    match f.optional_decimal_text("commissionValue") {
        Some(text) => match kind.parse_value(&text, currency) {
            Ok(v) => c.commission_value = v,
            Err(e) => f.issue("commissionValue", format!("commissionValue {e}")),
        },
        None if creating || type_changed => {
            f.issue("commissionValue", "commissionValue is required with commissionType");
        }
        None => {}
    }
    if f.has("targetUrl") {
        c.target_url = f.optional_string("targetUrl", 2048);
        if let Some(url) = &c.target_url {
            if !is_http_url(url) {
                f.issue("targetUrl", "targetUrl must be an absolute http:// or https:// URL");
            }
        }
    }
    if f.has("description") {
        c.description = f.optional_string("description", 5000);
    }
    if let Some(v) = f.optional_bool("isPublic") {
        c.is_public = v;
    }
    if let Some(v) = f.optional_bool("autoApproveAffiliates") {
        c.auto_approve_affiliates = v;
    }
    if let Some(v) = f.optional_int("cookieWindowDays", 1, 365) {
        c.cookie_window_days = v;
    }
    apply_recurring(f, c, kind, type_changed);
    apply_tiers(f, c, kind, type_changed);
    changed_fields(&before, c)
}

fn apply_recurring(f: &mut Fields<'_>, c: &mut Campaign, kind: CommissionType, type_changed: bool) {
    let currency = terms::currency_of(c);
    if let Some(v) = f.optional_bool("recurringCommissionEnabled") {
        c.recurring_enabled = v;
    }
    if let Some(mode) = f.optional_enum("recurringCommissionMode", &["duration", "payments"]) {
        c.recurring_mode = mode.into();
    }
    if let Some(t) = f.optional_enum("recurringCommissionType", &["same", "custom"]) {
        c.recurring_type = t.into();
    }
    if f.has("recurringCommissionValue") {
        c.recurring_value = match f.optional_decimal_text("recurringCommissionValue") {
            None => None,
            Some(text) => match kind.parse_value(&text, currency) {
                Ok(v) => Some(v),
                Err(e) => {
                    f.issue("recurringCommissionValue", format!("recurringCommissionValue {e}"));
                    None
                }
            },
        };
    } else if type_changed && c.recurring_value.is_some() {
        if c.recurring_type == "custom" {
            f.issue(
                "recurringCommissionValue",
                "recurringCommissionValue must be re-sent when commissionType changes",
            );
        } else {
            // Unused while the type is `same`, and in the old unit: it must not come back later.
            c.recurring_value = None;
        }
    }
    if f.has("recurringCommissionCount") {
        c.recurring_count = f.optional_int("recurringCommissionCount", 1, 1200);
    }
    if f.has("recurringCommissionDuration") {
        c.recurring_months = f.optional_int("recurringCommissionDuration", 1, 1200);
    }
    if c.recurring_type == "custom" && c.recurring_value.is_none() {
        f.issue(
            "recurringCommissionValue",
            "recurringCommissionValue is required when recurringCommissionType is custom",
        );
    }
}

fn apply_tiers(f: &mut Fields<'_>, c: &mut Campaign, kind: CommissionType, type_changed: bool) {
    let currency = terms::currency_of(c);
    let Some(value) = f.value("tiers") else {
        if f.has("tiers") {
            c.tiers = "[]".into();
        } else if type_changed && c.tiers != "[]" {
            f.issue("tiers", "tiers must be re-sent when commissionType changes");
        }
        return;
    };
    let Some(items) = value.as_array() else {
        f.issue("tiers", "tiers must be an array of {minSales|minRevenue, commissionValue}");
        return;
    };
    let mut basis = None;
    let mut stored = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |key: &str| vec![json!("tiers"), json!(i), json!(key)];
        let (this_basis, min) = match (item.get("minSales"), item.get("minRevenue")) {
            (Some(n), None) => (
                TierBasis::SalesCount,
                n.as_i64().filter(|n| *n >= 1).ok_or("minSales must be a whole number of at least 1"),
            ),
            (None, Some(m)) => {
                let text = decimal_text(m).unwrap_or_default();
                let parsed = parse_amount(&text, currency.exponent()).ok().filter(|v| *v > 0);
                (TierBasis::Revenue, parsed.ok_or("minRevenue must be an amount above 0"))
            }
            _ => {
                f.issue_at(
                    vec![json!("tiers"), json!(i)],
                    "each tier needs exactly one of minSales or minRevenue",
                );
                continue;
            }
        };
        if basis.is_some_and(|b| b != this_basis) {
            f.issue_at(
                vec![json!("tiers"), json!(i)],
                "all tiers must use the same measure (minSales or minRevenue)",
            );
        }
        basis = Some(this_basis);
        let key = if this_basis == TierBasis::SalesCount { "minSales" } else { "minRevenue" };
        let min = match min {
            Ok(v) => v,
            Err(message) => {
                f.issue_at(at(key), message);
                continue;
            }
        };
        let text = item.get("commissionValue").and_then(decimal_text).unwrap_or_default();
        match kind.parse_value(&text, currency) {
            Ok(v) => stored.push((min, v)),
            Err(e) => f.issue_at(at("commissionValue"), format!("commissionValue {e}")),
        }
    }
    let domain_tiers: Vec<Tier> = stored
        .iter()
        .filter_map(|(min, v)| kind.rule(*v).map(|rule| Tier { min_volume: *min, rule }))
        .collect();
    if let Err(e) = validate_tiers(&domain_tiers) {
        f.issue("tiers", format!("tiers: {e}"));
    }
    stored.sort_unstable();
    c.tiers = terms::store_tiers(&stored);
    c.tier_basis = basis.unwrap_or(TierBasis::SalesCount).as_str().into();
}

fn changed_fields(a: &Campaign, b: &Campaign) -> Vec<&'static str> {
    let checks: [(&'static str, bool); 16] = [
        ("name", a.name != b.name),
        ("status", a.status != b.status),
        ("commissionType", a.commission_type != b.commission_type),
        ("commissionValue", a.commission_value != b.commission_value),
        ("targetUrl", a.target_url != b.target_url),
        ("description", a.description != b.description),
        ("isPublic", a.is_public != b.is_public),
        ("autoApproveAffiliates", a.auto_approve_affiliates != b.auto_approve_affiliates),
        ("cookieWindowDays", a.cookie_window_days != b.cookie_window_days),
        ("recurringCommissionEnabled", a.recurring_enabled != b.recurring_enabled),
        ("recurringCommissionMode", a.recurring_mode != b.recurring_mode),
        ("recurringCommissionType", a.recurring_type != b.recurring_type),
        ("recurringCommissionValue", a.recurring_value != b.recurring_value),
        ("recurringCommissionCount", a.recurring_count != b.recurring_count),
        ("recurringCommissionDuration", a.recurring_months != b.recurring_months),
        ("tiers", a.tiers != b.tiers || a.tier_basis != b.tier_basis),
    ];
    checks.into_iter().filter(|(_, changed)| *changed).map(|(name, _)| name).collect()
}

fn is_http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !url.chars().any(char::is_whitespace)
    })
}

/// The API form of a campaign.
pub fn render(c: &Campaign, stats: CampaignStats, public_url: &str) -> Value {
    let currency = terms::currency_of(c);
    let kind = terms::type_of(c);
    json!({
        "id": c.id,
        "name": c.name,
        "trackingCode": c.tracking_code,
        "status": c.status,
        "commissionType": c.commission_type,
        "commissionValue": kind.format_value(c.commission_value, currency),
        "currency": c.currency,
        "targetUrl": c.target_url,
        "description": c.description,
        "isPublic": c.is_public,
        "autoApproveAffiliates": c.auto_approve_affiliates,
        "cookieWindowDays": c.cookie_window_days,
        "recurringCommissionEnabled": c.recurring_enabled,
        "recurringCommissionMode": c.recurring_mode,
        "recurringCommissionType": c.recurring_type,
        "recurringCommissionValue": c.recurring_value.map(|v| kind.format_value(v, currency)),
        "recurringCommissionCount": c.recurring_count,
        "recurringCommissionDuration": c.recurring_months,
        "tiers": terms::render_tiers(c),
        "joinUrl": format!("{public_url}/join/{}", c.tracking_code),
        "conversions": stats.conversions,
        "revenue": format_amount(stats.revenue_minor, currency.exponent()),
        "affiliateCount": stats.affiliates,
        "clicks": stats.clicks.clicks,
        "clickStats": render_click_totals(&stats.clicks),
        "createdAt": format_timestamp(c.created_at),
        "updatedAt": format_timestamp(c.updated_at),
    })
}

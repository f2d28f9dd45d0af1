//! Schemas of `/me`, `/stats`, clicks and short links.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::common::ClickStats;

/// The key's merchant.
#[derive(Serialize, ToSchema)]
pub struct MeMerchant {
    pub id: String,
    pub name: String,
    pub currency: String,
}

/// The key's rate-limit window, as the `X-RateLimit-*` headers say.
#[derive(Serialize, ToSchema)]
pub struct MeRateLimit {
    pub limit: i64,
    pub remaining: i64,
    /// Unix seconds when the window resets.
    pub reset: i64,
}

/// Whether the tracking script was seen on the merchant's site.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeTracking {
    pub script_seen: bool,
    pub first_seen_at: Option<String>,
}

/// `GET /me`: who this key is, what it may do, and its rate-limit state.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub merchant: MeMerchant,
    pub key_id: String,
    /// `live` or `test`.
    #[schema(pattern = "^(live|test)$")]
    pub key_type: String,
    /// `[]`, `["read"]` or `["read", "write"]`.
    pub permissions: Vec<String>,
    pub plan: String,
    pub rate_limit: MeRateLimit,
    pub tracking: MeTracking,
}

/// One currency's totals in `/stats`: decimal strings.
#[derive(Serialize, ToSchema)]
pub struct CurrencyTotals {
    pub revenue: String,
    pub commissions: String,
    pub conversions: i64,
}

/// `GET /stats`: headline money as JSON numbers in the merchant's currency.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub total_revenue: f64,
    pub total_commissions: f64,
    pub total_conversions: i64,
    pub total_affiliates: i64,
    pub currency: String,
    pub by_currency: BTreeMap<String, CurrencyTotals>,
}

/// `from`/`to`: an ISO-8601 date (`2026-04-15`; in `to`, the end of that day) or date-time.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimeRange {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A recorded click. Raw IPs and visitor hashes are never shown.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Click {
    pub id: String,
    pub campaign_id: String,
    pub affiliate_id: String,
    pub link_id: Option<String>,
    /// `redirect`, `short_link` or `beacon`.
    pub source: String,
    /// `human`, `bot` or `head`.
    pub kind: String,
    pub unique: bool,
    pub landing_url: Option<String>,
    pub referrer: Option<String>,
    pub created_at: String,
}

/// `GET /clicks` filters (with `from`/`to`).
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ClickQuery {
    pub campaign_id: Option<String>,
    pub affiliate_id: Option<String>,
    pub link_id: Option<String>,
    #[param(pattern = "^(human|bot)$")]
    pub kind: Option<String>,
    /// `true`/`false` (or `1`/`0`).
    pub unique: Option<bool>,
}

/// A short link (`<public-url>/l/<code>`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub id: String,
    pub code: String,
    pub url: String,
    pub campaign_id: String,
    pub affiliate_id: String,
    pub tracking_code: String,
    pub clicks: i64,
    pub click_stats: ClickStats,
    pub created_at: String,
}

/// `POST /links`: a code is generated when none is chosen.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewLink {
    #[schema(max_length = 255)]
    pub campaign_id: String,
    #[schema(max_length = 255)]
    pub affiliate_id: String,
    /// 3–32 of `A–Z a–z 0–9 - _`.
    #[schema(max_length = 64)]
    pub code: Option<String>,
}

/// `GET /links` filters.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct LinkQuery {
    pub campaign_id: Option<String>,
    pub affiliate_id: Option<String>,
}

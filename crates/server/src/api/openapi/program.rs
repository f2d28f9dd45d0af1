//! Schemas of the program resources: campaigns, affiliates, invitations and conversions
//! (request bodies, query parameters and the objects answered). Money in answers is a decimal
//! string with the currency's decimals, except `POST /conversions`' 201, which keeps
//! LinkJolt's JSON numbers.

use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::common::{ClickStats, PayoutMethod};

/// A number, or a decimal string such as `"12.50"` (kept digit for digit).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Decimal {
    Number(f64),
    Text(String),
}

/// A tier of a campaign: from `minSales` sales or `minRevenue` revenue on, `commissionValue`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    pub min_sales: Option<i64>,
    pub min_revenue: Option<Decimal>,
    pub commission_value: Decimal,
}

/// The campaign object.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub tracking_code: String,
    /// `active` or `inactive`.
    #[schema(pattern = "^(active|inactive)$")]
    pub status: String,
    /// `percentage` or `fixed`.
    #[schema(pattern = "^(percentage|fixed)$")]
    pub commission_type: String,
    /// A percentage, or an amount in the campaign's currency, as a decimal string.
    pub commission_value: String,
    pub currency: Option<String>,
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub is_public: bool,
    pub auto_approve_affiliates: bool,
    pub cookie_window_days: i64,
    pub hold_days: Option<i64>,
    pub recurring_commission_enabled: bool,
    pub recurring_commission_mode: String,
    pub recurring_commission_type: String,
    pub recurring_commission_value: Option<String>,
    pub recurring_commission_count: Option<i64>,
    pub recurring_commission_duration: Option<i64>,
    pub tiers: Vec<Value>,
    pub trial_mode: String,
    pub join_url: String,
    pub conversions: i64,
    /// Decimal string.
    pub revenue: String,
    pub affiliate_count: i64,
    pub clicks: i64,
    pub click_stats: ClickStats,
    pub created_at: String,
    pub updated_at: String,
    /// `PATCH` only: the names of the fields that changed.
    pub changed: Option<Vec<String>>,
}

/// `POST /campaigns` and `PATCH /campaigns/{id}`. On create `name` and `commissionType` are
/// required; on change only the fields sent change and `null` clears a clearable one.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignInput {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// ISO 4217 code; fixed once the campaign has conversions.
    #[schema(max_length = 3)]
    pub currency: Option<String>,
    #[schema(pattern = "^(active|inactive)$")]
    pub status: Option<String>,
    #[schema(pattern = "^(percentage|fixed)$")]
    pub commission_type: Option<String>,
    pub commission_value: Option<Decimal>,
    #[schema(max_length = 2048)]
    pub target_url: Option<String>,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub is_public: Option<bool>,
    pub auto_approve_affiliates: Option<bool>,
    #[schema(minimum = 1, maximum = 365)]
    pub cookie_window_days: Option<i64>,
    #[schema(minimum = 0, maximum = 365)]
    pub hold_days: Option<i64>,
    pub recurring_commission_enabled: Option<bool>,
    #[schema(pattern = "^(duration|payments)$")]
    pub recurring_commission_mode: Option<String>,
    #[schema(pattern = "^(same|custom)$")]
    pub recurring_commission_type: Option<String>,
    pub recurring_commission_value: Option<Decimal>,
    #[schema(minimum = 1, maximum = 1200)]
    pub recurring_commission_count: Option<i64>,
    #[schema(minimum = 1, maximum = 1200)]
    pub recurring_commission_duration: Option<i64>,
    pub tiers: Option<Vec<Tier>>,
    #[schema(pattern = "^(automatic|after_trial|immediate)$")]
    pub trial_mode: Option<String>,
}

/// `GET /campaigns`: `sort=createdAt|name[:asc|desc]`.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    #[param(pattern = r"^(createdAt|name)(:(asc|desc))?$")]
    pub sort: Option<String>,
}

/// An affiliate on one campaign, as lists show it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AffiliateRow {
    pub id: String,
    pub name: Option<String>,
    pub email: String,
    /// `pending`, `approved` or `rejected`.
    #[schema(pattern = "^(pending|approved|rejected)$")]
    pub status: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub tracking_link: String,
    pub created_via: String,
    pub joined_at: String,
    pub earnings: String,
    pub currency: String,
    pub clicks: i64,
    pub click_stats: ClickStats,
}

/// The 201 of `POST /affiliates`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AffiliateCreated {
    pub id: String,
    pub name: Option<String>,
    pub email: String,
    #[schema(pattern = "^(pending|approved|rejected)$")]
    pub status: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub tracking_link: String,
    pub created_via: String,
    pub joined_at: String,
}

/// One membership of an affiliate.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub campaign_id: String,
    pub campaign_name: String,
    #[schema(pattern = "^(pending|approved|rejected)$")]
    pub status: String,
    pub joined_at: String,
    pub tracking_link: String,
    pub earnings: String,
    pub currency: String,
    pub clicks: i64,
    pub click_stats: ClickStats,
}

/// The full affiliate object: identity, memberships, earnings and link.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Affiliate {
    pub id: String,
    pub name: Option<String>,
    pub email: String,
    pub status: Option<String>,
    pub created_via: String,
    pub created_at: String,
    pub payout_method: Option<PayoutMethod>,
    pub tracking_link: Option<String>,
    pub total_earnings: String,
    pub currency: String,
    /// Decimal strings keyed by lower-case currency code.
    pub earnings_by_currency: std::collections::BTreeMap<String, String>,
    pub clicks: i64,
    pub click_stats: ClickStats,
    pub memberships: Vec<Membership>,
}

/// `POST /affiliates`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewAffiliate {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 100)]
    pub campaign_id: String,
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 64)]
    pub ip_address: Option<String>,
    #[schema(max_length = 512)]
    pub user_agent: Option<String>,
}

/// `PATCH /affiliates/{id}`: `campaignId` + `status` approve or reject a membership;
/// `payoutMethod` alone (an object, or `null` to clear) changes the payout details.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AffiliateChange {
    #[schema(max_length = 100)]
    pub campaign_id: Option<String>,
    #[schema(pattern = "^(approved|rejected)$")]
    pub status: Option<String>,
    pub payout_method: Option<PayoutMethod>,
}

/// `DELETE /affiliates/{id}/campaigns/{campaignId}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipRemoved {
    pub id: String,
    pub campaign_id: String,
    pub removed: bool,
}

/// `GET /affiliates` filters and `sort=joinedAt|createdAt|name|email[:asc|desc]`.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AffiliateQuery {
    pub campaign_id: Option<String>,
    #[param(pattern = "^(pending|approved|rejected)$")]
    pub status: Option<String>,
    #[param(pattern = r"^(joinedAt|createdAt|name|email)(:(asc|desc))?$")]
    pub sort: Option<String>,
}

/// `POST /affiliates/invite`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteInput {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 100)]
    pub campaign_id: String,
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

/// An invitation (never its token: only the mailed link carries it).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub campaign_id: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    #[schema(pattern = "^(pending|accepted|revoked|expired)$")]
    pub status: String,
    pub email_sent: bool,
    pub expires_at: String,
    pub created_at: String,
    pub accepted_at: Option<String>,
}

/// Self-referral scoring of a live conversion.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fraud {
    pub score: i64,
    pub level: String,
    pub signals: Vec<String>,
    pub flagged_for_review: bool,
}

/// The 201 of `POST /conversions`: money as JSON numbers with the currency's decimals.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversionCreated {
    pub id: String,
    pub campaign_id: String,
    pub affiliate_id: String,
    pub amount: f64,
    pub commission: f64,
    pub currency: String,
    #[schema(pattern = "^(trial|pending|approved|paid|rejected|refunded)$")]
    pub status: String,
    pub order_id: Option<String>,
    #[schema(pattern = "^(one_time|recurring)$")]
    pub conversion_type: String,
    pub created_at: String,
    pub source: String,
    pub parent_conversion_id: Option<String>,
    pub payment_number: Option<i64>,
    pub is_test: Option<bool>,
    pub fraud: Option<Fraud>,
}

/// A clawback after a refund of a paid commission.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Adjustment {
    pub id: String,
    pub amount: String,
    pub currency: String,
    pub reason: Option<String>,
    pub created_at: String,
}

/// The conversion object in reads: money as decimal strings.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Conversion {
    pub id: String,
    pub campaign_id: String,
    pub affiliate_id: String,
    pub amount: String,
    pub commission: String,
    pub currency: String,
    /// `trial`, `pending`, `approved`, `paid`, `rejected` or `refunded`.
    #[schema(pattern = "^(trial|pending|approved|paid|rejected|refunded)$")]
    pub status: String,
    pub order_id: Option<String>,
    pub click_id: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    #[schema(pattern = "^(one_time|recurring)$")]
    pub conversion_type: String,
    pub parent_conversion_id: Option<String>,
    pub payment_number: Option<i64>,
    pub source: String,
    pub is_test: bool,
    pub fraud: Option<Fraud>,
    pub created_at: String,
    pub updated_at: String,
    /// `GET /conversions/{id}` only.
    pub adjustments: Option<Vec<Adjustment>>,
}

/// `POST /conversions`: a sale. `amount` is in major units (`99.00`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewConversion {
    #[schema(max_length = 100)]
    pub campaign_id: String,
    #[schema(max_length = 100)]
    pub affiliate_id: String,
    pub amount: f64,
    #[schema(max_length = 255)]
    pub order_id: Option<String>,
    #[schema(max_length = 255)]
    pub click_id: Option<String>,
    #[schema(max_length = 254)]
    pub customer_email: Option<String>,
    #[schema(max_length = 200)]
    pub customer_name: Option<String>,
    #[schema(max_length = 3)]
    pub currency: Option<String>,
    #[schema(pattern = "^(one_time|recurring)$")]
    pub conversion_type: Option<String>,
    #[schema(max_length = 100)]
    pub parent_conversion_id: Option<String>,
}

/// `PATCH /conversions/{id}`: approve or reject.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversionChange {
    #[schema(pattern = "^(approved|rejected)$")]
    pub status: String,
    /// Approve even when the commission is more than 5 × the sale.
    pub confirm_above_sale: Option<bool>,
}

/// `GET /conversions` filters and `sort=createdAt|amount[:asc|desc]`.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ConversionQuery {
    /// `true`/`false` (or `1`/`0`): test or live data; the key's own mode by default.
    pub is_test: Option<bool>,
    #[param(pattern = "^(trial|pending|approved|paid|rejected|refunded)$")]
    pub status: Option<String>,
    pub campaign_id: Option<String>,
    pub affiliate_id: Option<String>,
    /// ISO-8601 date or date-time.
    pub from: Option<String>,
    /// ISO-8601 date (the end of that day) or date-time.
    pub to: Option<String>,
    #[param(pattern = r"^(createdAt|amount)(:(asc|desc))?$")]
    pub sort: Option<String>,
}

//! Row types shared by both engines. Column types are portable (TEXT, BIGINT, BOOLEAN), so
//! `sqlx::FromRow` decodes the same struct from SQLite and PostgreSQL.

use refline_domain::{
    CampaignStatus, CommissionType, ConversionStatus, ConversionType, KeyKind, MembershipStatus, Mode, Plan,
    RecurringMode, RecurringType, TierBasis,
};
use sqlx::FromRow;

/// A merchant account: the tenant every other row belongs to.
#[derive(Debug, Clone, FromRow)]
pub struct Merchant {
    /// `mer_…`
    pub id: String,
    /// Business name.
    pub name: String,
    /// `starter`, `pro`, `ultimate` or `scale`.
    pub plan: Plan,
    /// Default currency for new campaigns (lower-case ISO 4217).
    pub currency: String,
    /// Unix ms.
    pub created_at: i64,
    /// When the tracking script first ran for this merchant (unix ms), if it has.
    #[sqlx(default)]
    pub tracking_seen_at: Option<i64>,
}

/// A stored API key. Only the SHA-256 of the key is kept; `hint` is safe to show.
#[derive(Debug, Clone, FromRow)]
pub struct ApiKey {
    /// `key_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// `live` or `test`.
    pub kind: KeyKind,
    /// Hex SHA-256 of the full key.
    pub key_hash: String,
    /// Prefix and last four characters, e.g. `lj_pk_test_…a1B2`.
    pub hint: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms, when revoked.
    pub revoked_at: Option<i64>,
}

/// An API key joined with its merchant: what authentication needs in one read.
#[derive(Debug, Clone, FromRow)]
pub struct KeyOwner {
    /// Key id.
    pub key_id: String,
    /// `live` or `test`.
    pub kind: KeyKind,
    /// Hex SHA-256 of the key.
    pub key_hash: String,
    /// Unix ms, when revoked.
    pub revoked_at: Option<i64>,
    /// The merchant's id.
    pub merchant_id: String,
    /// The merchant's name.
    pub merchant_name: String,
    /// The merchant's plan.
    pub plan: Plan,
    /// The merchant's default currency.
    pub currency: String,
}

/// A campaign (an affiliate offer with its commission rules).
#[derive(Debug, Clone, FromRow)]
pub struct Campaign {
    /// `camp_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Display name.
    pub name: String,
    /// Globally unique code used as `tc=` in links.
    pub tracking_code: String,
    /// `active` or `inactive`.
    pub status: CampaignStatus,
    /// `percentage` or `fixed`.
    pub commission_type: CommissionType,
    /// Ten-thousandths of a percent for `percentage`, minor units for `fixed`.
    pub commission_value: i64,
    /// Lower-case ISO 4217.
    pub currency: String,
    /// Where links send visitors.
    pub target_url: Option<String>,
    /// Shown to affiliates.
    pub description: Option<String>,
    /// Listed publicly.
    pub is_public: bool,
    /// Join requests are approved without review.
    pub auto_approve_affiliates: bool,
    /// Renewals pay commission.
    pub recurring_enabled: bool,
    /// `duration` (months since first sale) or `payments` (count, first included).
    pub recurring_mode: RecurringMode,
    /// `same` as the first sale or `custom`.
    pub recurring_type: RecurringType,
    /// Custom recurring value, same units as `commission_value`.
    pub recurring_value: Option<i64>,
    /// Payment-count limit, first payment included.
    pub recurring_count: Option<i64>,
    /// Month limit since the first sale.
    pub recurring_months: Option<i64>,
    /// `sales_count` or `revenue`.
    pub tier_basis: TierBasis,
    /// JSON array of tiers as written by the API layer.
    pub tiers: String,
    /// Attribution window of the tracking cookie.
    pub cookie_window_days: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// Days after approval before a commission is payable; `None`: the merchant's setting.
    #[sqlx(default)]
    pub hold_days: Option<i64>,
}

impl Campaign {
    /// A campaign with the API's defaults: active, public, 20 % commission, no recurring
    /// commission, no tiers, a 30-day cookie. Callers set the rest with struct update syntax.
    pub fn with_defaults(
        id: &str,
        merchant_id: &str,
        tracking_code: &str,
        currency: &str,
        now: i64,
    ) -> Campaign {
        Campaign {
            id: id.into(),
            merchant_id: merchant_id.into(),
            name: String::new(),
            tracking_code: tracking_code.into(),
            status: CampaignStatus::Active,
            commission_type: CommissionType::Percentage,
            commission_value: 200_000,
            currency: currency.into(),
            target_url: None,
            description: None,
            is_public: true,
            auto_approve_affiliates: false,
            recurring_enabled: false,
            recurring_mode: RecurringMode::Duration,
            recurring_type: RecurringType::Same,
            recurring_value: None,
            recurring_count: None,
            recurring_months: None,
            tier_basis: TierBasis::SalesCount,
            tiers: "[]".into(),
            cookie_window_days: 30,
            created_at: now,
            updated_at: now,
            hold_days: None,
        }
    }
}

/// Live-or-test aggregates shown beside a campaign.
#[derive(Debug, Clone, Copy, Default, FromRow)]
pub struct CampaignStats {
    /// Conversions that are not rejected or refunded.
    pub conversions: i64,
    /// Sum of their sale amounts, minor units.
    pub revenue_minor: i64,
    /// Affiliates on the campaign (any membership status).
    pub affiliates: i64,
    /// Clicks on the campaign's links.
    #[sqlx(flatten)]
    pub clicks: crate::ClickTotals,
}

/// A campaign with its aggregates.
#[derive(Debug, Clone, FromRow)]
pub struct CampaignWithStats {
    /// The campaign.
    #[sqlx(flatten)]
    pub campaign: Campaign,
    /// Its aggregates.
    #[sqlx(flatten)]
    pub stats: CampaignStats,
}

/// Sort columns for campaign lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignSort {
    /// `created_at`
    CreatedAt,
    /// `name`
    Name,
}

/// An affiliate of one merchant. Email is unique per merchant.
#[derive(Debug, Clone, FromRow)]
pub struct Affiliate {
    /// `aff_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Lower-cased email.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// `api`, `portal`, `invite`…
    pub created_via: String,
    /// Unix ms.
    pub created_at: i64,
    /// How the affiliate is paid (JSON, `refline_core::payouts::PayoutMethod`), if set.
    #[sqlx(default)]
    pub payout_method: Option<String>,
}

/// An affiliate's place on a campaign.
#[derive(Debug, Clone, FromRow)]
pub struct Membership {
    /// Campaign.
    pub campaign_id: String,
    /// Affiliate.
    pub affiliate_id: String,
    /// Owner.
    pub merchant_id: String,
    /// `pending`, `approved` or `rejected`.
    pub status: MembershipStatus,
    /// Unix ms.
    pub joined_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A membership row with what lists and detail views show beside it.
#[derive(Debug, Clone, FromRow)]
pub struct MembershipView {
    /// Affiliate.
    pub affiliate_id: String,
    /// Affiliate email.
    pub email: String,
    /// Affiliate name.
    pub name: Option<String>,
    /// How the affiliate was created.
    pub created_via: String,
    /// Campaign.
    pub campaign_id: String,
    /// Campaign name.
    pub campaign_name: String,
    /// Campaign tracking code (for links).
    pub tracking_code: String,
    /// Campaign currency (earnings are in it).
    pub currency: String,
    /// Membership status.
    pub status: MembershipStatus,
    /// Unix ms.
    pub joined_at: i64,
    /// Commission on this campaign that is not rejected or refunded, minor units.
    pub earnings_minor: i64,
    /// Clicks of this affiliate on this campaign.
    #[sqlx(flatten)]
    pub clicks: crate::ClickTotals,
}

/// Filters for affiliate (membership) lists.
#[derive(Debug, Clone, Default)]
pub struct AffiliateFilter {
    /// Only this campaign.
    pub campaign_id: Option<String>,
    /// Only this membership status.
    pub status: Option<MembershipStatus>,
}

/// Sort columns for affiliate lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AffiliateSort {
    /// Membership `joined_at`.
    JoinedAt,
    /// Affiliate name.
    Name,
    /// Affiliate email.
    Email,
}

/// A tracked sale and its commission.
#[derive(Debug, Clone, FromRow)]
pub struct Conversion {
    /// `conv_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Campaign credited.
    pub campaign_id: String,
    /// Affiliate credited.
    pub affiliate_id: String,
    /// Sale, minor units.
    pub amount_minor: i64,
    /// Commission, minor units.
    pub commission_minor: i64,
    /// Lower-case ISO 4217.
    pub currency: String,
    /// Lifecycle status.
    pub status: ConversionStatus,
    /// Merchant's order reference, unique per merchant and mode.
    pub order_id: Option<String>,
    /// Originating click.
    pub click_id: Option<String>,
    /// Customer email.
    pub customer_email: Option<String>,
    /// Customer name.
    pub customer_name: Option<String>,
    /// `one_time` or `recurring`.
    pub conversion_type: ConversionType,
    /// The first sale of a recurring chain.
    pub parent_conversion_id: Option<String>,
    /// 1 for a first sale, 2.. for renewals.
    pub payment_number: i64,
    /// `api`, `stripe`, …
    pub source: String,
    /// Test when written with a test key or a processor's test mode (column `is_test`).
    #[sqlx(rename = "is_test")]
    pub mode: Mode,
    /// Self-referral score when signals matched.
    pub fraud_score: Option<i64>,
    /// Comma-separated signal names.
    pub fraud_signals: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// When approved (unix ms): its payout hold counts from then.
    #[sqlx(default)]
    pub approved_at: Option<i64>,
    /// How much of its commission completed payouts paid (its paid and returned ledger entries).
    #[sqlx(default)]
    pub paid_minor: i64,
}

impl Conversion {
    /// The unique key of this conversion's order id: merchant, mode and order id.
    pub fn order_key(&self) -> Option<String> {
        self.order_id.as_deref().map(|order| order_key(&self.merchant_id, self.mode, order))
    }
}

/// The unique key of an order id within a merchant and mode (live and test are separate).
pub fn order_key(merchant_id: &str, mode: Mode, order_id: &str) -> String {
    format!("{merchant_id}:{mode}:{order_id}")
}

/// Filters for conversion lists. Times are unix ms, both bounds inclusive.
#[derive(Debug, Clone, Default)]
pub struct ConversionFilter {
    /// Live or test conversions.
    pub mode: Mode,
    /// Only this status.
    pub status: Option<ConversionStatus>,
    /// Only this campaign.
    pub campaign_id: Option<String>,
    /// Only this affiliate.
    pub affiliate_id: Option<String>,
    /// Created at or after.
    pub from: Option<i64>,
    /// Created at or before.
    pub to: Option<i64>,
}

/// Sort columns for conversion lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversionSort {
    /// `created_at`
    CreatedAt,
    /// `amount_minor`
    Amount,
}

/// What self-referral checks compare of the customer's click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickEvidence {
    /// `click_…`
    pub id: String,
    /// Visitor IP, while it is kept.
    pub ip: Option<String>,
    /// Hash of the visitor's device signature.
    pub device_hash: Option<String>,
}

/// IPs and device hashes seen from the affiliate's own activity.
#[derive(Debug, Clone, Default)]
pub struct AffiliateFingerprints {
    /// IP addresses.
    pub ips: Vec<String>,
    /// Device hashes.
    pub devices: Vec<String>,
}

/// One line of the audit log: an HTTP request that wrote or failed to authenticate (with the
/// operation it ran, when it reached one), or an operation run through a door without requests
/// (the command line, workers, importers).
#[derive(Debug, Clone, FromRow)]
pub struct AuditEntry {
    /// Merchant, when known.
    pub merchant_id: Option<String>,
    /// Key, when one authenticated.
    pub api_key_id: Option<String>,
    /// Which way it came in: `api`, `processor`, `dashboard`, `mcp`, `cli`, `import`.
    pub door: String,
    /// The operation run, `<object>.<verb>` (`campaign.create`…), when one ran.
    pub operation: Option<String>,
    /// The object acted on, when known.
    pub target_id: Option<String>,
    /// HTTP method, for requests.
    pub method: Option<String>,
    /// Request path (no query), for requests.
    pub path: Option<String>,
    /// Response status, for requests.
    pub status_code: Option<i64>,
    /// The error code of the answer, if it was refused.
    pub error_code: Option<String>,
    /// Client IP.
    pub ip_address: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// Totals for the stats endpoint, of the conversions in one currency (sums never mix
/// currencies).
#[derive(Debug, Clone, Default, FromRow)]
pub struct Totals {
    /// The currency of every amount added here.
    pub currency: String,
    /// Sum of sale amounts, minor units.
    pub revenue_minor: i64,
    /// Sum of commissions, minor units.
    pub commissions_minor: i64,
    /// Number of conversions.
    pub conversions: i64,
}

/// A campaign joined with one affiliate of the same merchant and the affiliate's membership on
/// the campaign: everything attributing a sale needs, read at once.
#[derive(Debug, Clone, FromRow)]
pub struct Attribution {
    /// The campaign.
    #[sqlx(flatten)]
    pub campaign: Campaign,
    /// Affiliate id, when the affiliate exists for this merchant.
    pub affiliate_id: Option<String>,
    /// Affiliate email.
    pub affiliate_email: Option<String>,
    /// Affiliate name.
    pub affiliate_name: Option<String>,
    /// How the affiliate was created.
    pub affiliate_created_via: Option<String>,
    /// When the affiliate was created.
    pub affiliate_created_at: Option<i64>,
    /// The membership status, when the affiliate is on the campaign.
    pub membership_status: Option<MembershipStatus>,
    /// The named click's id, when it exists for this merchant.
    pub click_id: Option<String>,
    /// The named click's visitor IP.
    pub click_ip: Option<String>,
    /// The named click's device hash.
    pub click_device_hash: Option<String>,
    /// The conversion that already holds the requested order id, if any.
    pub duplicate_id: Option<String>,
}

impl Attribution {
    /// The affiliate, when it exists for this merchant.
    pub fn affiliate(&self) -> Option<Affiliate> {
        Some(Affiliate {
            id: self.affiliate_id.clone()?,
            merchant_id: self.campaign.merchant_id.clone(),
            email: self.affiliate_email.clone()?,
            name: self.affiliate_name.clone(),
            created_via: self.affiliate_created_via.clone()?,
            created_at: self.affiliate_created_at?,
            payout_method: None,
        })
    }

    /// The named click, when it exists for this merchant (with what fraud checks compare).
    pub fn click(&self) -> Option<ClickEvidence> {
        Some(ClickEvidence {
            id: self.click_id.clone()?,
            ip: self.click_ip.clone(),
            device_hash: self.click_device_hash.clone(),
        })
    }
}

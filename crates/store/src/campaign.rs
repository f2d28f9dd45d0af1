//! Campaigns.

use refline_domain::{
    CampaignStatus, CommissionType, Mode, RecurringMode, RecurringType, TierBasis, TrialMode,
};
use sqlx::FromRow;

use crate::{Page, PageRequest, StoreResult};

/// Campaigns of a merchant.
#[async_trait::async_trait]
pub trait CampaignStore {
    /// Inserts a campaign; a taken tracking code is a `Conflict` on `tracking_code`.
    async fn insert_campaign(&self, campaign: &Campaign) -> StoreResult<()>;
    /// Replaces the mutable fields of a campaign; false when it does not exist.
    async fn update_campaign(&self, campaign: &Campaign) -> StoreResult<bool>;
    /// A merchant's campaign by id.
    async fn get_campaign(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Campaign>>;
    /// Aggregates of one campaign, live or test.
    async fn campaign_stats(&self, campaign_id: &str, mode: Mode) -> StoreResult<CampaignStats>;
    /// A page of a merchant's campaigns with aggregates.
    async fn list_campaigns(
        &self,
        merchant_id: &str,
        mode: Mode,
        page: PageRequest<CampaignSort>,
    ) -> StoreResult<Page<CampaignWithStats>>;
    /// A merchant's newest campaigns, without aggregates (the overview's join links).
    async fn newest_campaigns(&self, merchant_id: &str, limit: i64) -> StoreResult<Vec<Campaign>>;
    /// Id and name of a merchant's first `limit` campaigns by name (then id), without
    /// aggregates: what a filter's list of campaigns shows.
    async fn campaign_names(&self, merchant_id: &str, limit: i64) -> StoreResult<Vec<(String, String)>>;
}

// ---- Rows of this aggregate (read by both engines through `sqlx::FromRow`). ----

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
    /// How trials are recorded (`automatic`, `after_trial`, `immediate`).
    pub trial_mode: TrialMode,
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
            trial_mode: TrialMode::Automatic,
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

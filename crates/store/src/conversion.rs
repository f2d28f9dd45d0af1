//! Conversions: recording a sale atomically with its cap and volume checks, reading, listing and
//! moving them through their lifecycle.

use refline_domain::{
    AffiliateVolume, ConversionStatus, ConversionType, MembershipStatus, Mode, RecurringLimit,
};
use sqlx::FromRow;

use crate::{Affiliate, Campaign, Page, PageRequest, StoreError, StoreResult};

/// Everything `record_conversion` needs besides the pricing function.
#[derive(Debug, Clone)]
pub struct RecordRequest {
    /// The conversion to insert; `commission_minor` is replaced by the pricing function's answer,
    /// and for a renewal `payment_number` by the chain's next number.
    pub conversion: Conversion,
    /// Calendar month of the sale, e.g. 202604 (cap tally key).
    pub month: i64,
    /// First ms of that month (volume window for tiers).
    pub month_start: i64,
    /// Refuse when the merchant's tracked sales this month already reached this (live only),
    /// minor units of the merchant's currency.
    pub monthly_cap_minor: Option<i64>,
    /// What this sale adds to the merchant's tracked sales (live only): its amount counted in
    /// the merchant's currency, so the tally never adds minor units of different currencies.
    pub tracked_minor: i64,
    /// Read the affiliate's volume this month on the campaign to price this sale (tiered
    /// campaigns, except renewals at a custom recurring rate).
    pub needs_volume: bool,
    /// The campaign has tiers, so this sale adds to a volume other sales are priced with (even
    /// when it is not priced with it itself).
    pub tiered: bool,
    /// For a renewal: the chain it extends, whose next payment number and limit the batch
    /// decides inside its transaction.
    pub renewal: Option<Renewal>,
    /// Which tally row to add to; spreads concurrent writers over rows on PostgreSQL.
    pub tally_shard: i64,
    /// The customer's click was not read before the sale was queued: the batch reads it (one
    /// read for every such sale of the batch) and, when it exists, scores self-referral again
    /// with its IP and device against the affiliate's ([`ClickCheck`]).
    pub click_check: Option<ClickCheck>,
}

/// What the batch needs to score a sale's self-referral once it has read the sale's click (the
/// conversion carries the click id and the customer's email).
#[derive(Debug, Clone)]
pub struct ClickCheck {
    /// The credited affiliate's account email.
    pub affiliate_email: String,
}

/// The recurring chain a renewal belongs to.
#[derive(Debug, Clone)]
pub struct Renewal {
    /// The chain's first sale.
    pub parent_id: String,
    /// When the first sale was recorded (the start of a duration limit).
    pub parent_created_at: i64,
    /// The campaign's recurring limit.
    pub limit: RecurringLimit,
}

/// Decides the commission (minor units) given the affiliate's volume before this sale. Pure
/// domain code handed to the store, which only supplies the volume.
pub type Pricer = std::sync::Arc<dyn Fn(AffiliateVolume) -> i64 + Send + Sync>;

/// One sale waiting in a batch.
#[derive(Clone)]
pub struct PendingConversion {
    /// What to insert and check.
    pub request: RecordRequest,
    /// How to price it.
    pub price: Pricer,
}

/// The outcome of one sale of a batch.
pub type RecordOutcome = Result<Conversion, RecordError>;

/// What to look up for attributing a sale.
#[derive(Debug, Clone, Copy)]
pub struct AttributionQuery<'a> {
    /// The merchant.
    pub merchant_id: &'a str,
    /// The campaign to credit.
    pub campaign_id: &'a str,
    /// The affiliate to credit.
    pub affiliate_id: &'a str,
    /// The customer's click, if named.
    pub click_id: Option<&'a str>,
    /// The order id, if given, and the mode it lives in.
    pub order_id: Option<&'a str>,
    /// Test or live order ids.
    pub mode: Mode,
}

/// Why a conversion was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The order id is already used by this merchant (in the same mode).
    #[error("order id already used by {existing_id}")]
    Duplicate {
        /// The conversion that holds the order id.
        existing_id: String,
    },
    /// The merchant's tracked sales this month reached the plan's cap.
    #[error("monthly earnings cap reached")]
    CapReached,
    /// A renewal whose payment number is past the campaign's recurring limit.
    #[error("recurring limit reached")]
    RecurringLimitReached,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RecordError {
    fn from(err: sqlx::Error) -> Self {
        RecordError::Store(err.into())
    }
}

/// Conversions of a merchant.
#[async_trait::async_trait]
pub trait ConversionStore {
    /// Records a batch of sales in one write transaction, with the same outcome as recording
    /// them one by one in order: a used order id (in the database or earlier in the batch) is a
    /// duplicate; a renewal gets the next payment number of its chain (counting earlier renewals
    /// of the batch) and is refused past the recurring limit; a merchant whose tracked sales this
    /// month already reached its cap is refused; each sale is priced with the affiliate's volume
    /// including earlier sales of the batch. Exact under concurrent writers: volumes and chains
    /// are read under locks the engine holds until commit (see `refline_store::batch`).
    /// `Err` means the transaction failed as a whole and nothing was written.
    async fn record_conversions(&self, batch: Vec<PendingConversion>) -> StoreResult<Vec<RecordOutcome>>;

    /// Records one sale (a batch of one).
    async fn record_conversion(&self, request: RecordRequest, price: Pricer) -> RecordOutcome {
        let mut outcomes = self.record_conversions(vec![PendingConversion { request, price }]).await?;
        outcomes.pop().unwrap_or_else(|| Err(StoreError::Other("empty batch result".into()).into()))
    }

    /// A merchant's conversion by id.
    async fn get_conversion(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Conversion>>;
    /// A page of conversions.
    async fn list_conversions(
        &self,
        merchant_id: &str,
        filter: &ConversionFilter,
        page: PageRequest<ConversionSort>,
    ) -> StoreResult<Page<Conversion>>;
    /// Up to `limit` of a merchant's conversions of `mode`, newest first, whose order id,
    /// customer name or customer email contains `pattern` (a `LIKE` pattern escaped by `\`,
    /// see [`crate::contains_pattern`]).
    async fn search_conversions(
        &self,
        merchant_id: &str,
        mode: Mode,
        pattern: &str,
        limit: i64,
    ) -> StoreResult<Vec<Conversion>>;
    /// A merchant's newest conversions of `mode`, newest first, without counting them all.
    async fn recent_conversions(
        &self,
        merchant_id: &str,
        mode: Mode,
        limit: i64,
    ) -> StoreResult<Vec<Conversion>>;
    /// Moves a conversion from `from` to `to` (compare-and-set), announcing it to webhooks when
    /// `mode` (the actor's) and the conversion are live; false when it was not `from`.
    async fn update_conversion_status(
        &self,
        merchant_id: &str,
        id: &str,
        from: ConversionStatus,
        to: ConversionStatus,
        now: i64,
        mode: Mode,
    ) -> StoreResult<bool>;
    /// A campaign of the merchant with the named affiliate, its membership on it, the named
    /// click (for fraud checks) and the conversion already holding the order id, in one read.
    async fn find_attribution(&self, query: &AttributionQuery<'_>) -> StoreResult<Option<Attribution>>;
    /// [`ConversionStore::find_attribution`] for many sales in one read; one answer per query,
    /// in order.
    async fn find_attributions(
        &self,
        queries: &[AttributionQuery<'_>],
    ) -> StoreResult<Vec<Option<Attribution>>>;
    /// A page of the review queue: conversions matching `filter` with their affiliate's and
    /// campaign's names, pending ones first (fraud-flagged before the rest), then the other
    /// fraud-flagged ones, then everything else; newest first within each group.
    async fn list_review_queue(
        &self,
        merchant_id: &str,
        filter: &ConversionFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<ReviewRow>>;
}

// ---- Rows of this aggregate (read by both engines through `sqlx::FromRow`). ----

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
    /// What it earns now: the sum of its accrued, adjusted, reversed and clawback ledger entries.
    #[sqlx(default)]
    pub earned_minor: i64,
    /// How much of its commission completed payouts paid (its paid and returned ledger entries).
    #[sqlx(default)]
    pub paid_minor: i64,
}

#[cfg(test)]
impl Conversion {
    /// A live, pending, one-time sale of nothing by affiliate `a` on campaign `c` of merchant
    /// `m`, for unit tests to adjust.
    pub(crate) fn sample(id: &str) -> Conversion {
        Conversion {
            id: id.into(),
            merchant_id: "m".into(),
            campaign_id: "c".into(),
            affiliate_id: "a".into(),
            amount_minor: 0,
            commission_minor: 0,
            currency: "usd".into(),
            status: refline_domain::ConversionStatus::Pending,
            order_id: None,
            click_id: None,
            customer_email: None,
            customer_name: None,
            conversion_type: refline_domain::ConversionType::OneTime,
            parent_conversion_id: None,
            payment_number: 1,
            source: "api".into(),
            mode: Mode::Live,
            fraud_score: None,
            fraud_signals: None,
            created_at: 0,
            updated_at: 0,
            approved_at: None,
            earned_minor: 0,
            paid_minor: 0,
        }
    }
}

/// A conversion as the review queue lists it: with who earned it and on which campaign.
#[derive(Debug, Clone, FromRow)]
pub struct ReviewRow {
    /// The conversion.
    #[sqlx(flatten)]
    pub conversion: Conversion,
    /// The affiliate's email.
    pub affiliate_email: String,
    /// The affiliate's name.
    pub affiliate_name: Option<String>,
    /// The campaign's name.
    pub campaign_name: String,
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

//! Conversions: recording a sale atomically with its cap and volume checks, reading, listing and
//! moving them through their lifecycle.

use refline_domain::AffiliateVolume;

use crate::{Conversion, ConversionFilter, ConversionSort, Page, PageRequest, StoreError, StoreResult};

/// Everything `record_conversion` needs besides the pricing function.
#[derive(Debug, Clone)]
pub struct RecordRequest {
    /// The conversion to insert; `commission_minor` is replaced by the pricing function's answer.
    pub conversion: Conversion,
    /// Calendar month of the sale, e.g. 202604 (cap tally key).
    pub month: i64,
    /// First ms of that month (volume window for tiers).
    pub month_start: i64,
    /// Refuse when the merchant's tracked sales this month already reached this (live only).
    pub monthly_cap_minor: Option<i64>,
    /// Read the affiliate's volume this month on the campaign (only campaigns with tiers need it).
    pub needs_volume: bool,
    /// Which tally row to add to; spreads concurrent writers over rows on PostgreSQL.
    pub tally_shard: i64,
}

/// The commission the pricing function decided, given the affiliate's volume before this sale.
pub type PricedConversion = i64;

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
    /// In one write transaction: refuse a used order id, refuse past the monthly cap, read the
    /// affiliate's volume, let `price` decide the commission, insert, and add to the tally.
    /// `price` is pure domain code; the store only supplies the volume it needs.
    async fn record_conversion(
        &self,
        request: RecordRequest,
        price: &(dyn Fn(AffiliateVolume) -> PricedConversion + Send + Sync),
    ) -> Result<Conversion, RecordError>;
    /// A merchant's conversion by id.
    async fn get_conversion(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Conversion>>;
    /// A page of conversions.
    async fn list_conversions(
        &self,
        merchant_id: &str,
        filter: &ConversionFilter,
        page: PageRequest<ConversionSort>,
    ) -> StoreResult<Page<Conversion>>;
    /// Moves a conversion from `from` to `to` (compare-and-set); false when it was not `from`.
    async fn update_conversion_status(
        &self,
        merchant_id: &str,
        id: &str,
        from: &str,
        to: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Payments in a recurring chain so far: the parent plus its renewals.
    async fn count_chain_payments(&self, merchant_id: &str, parent_id: &str) -> StoreResult<i64>;
}

//! Aggregates for reports and the stats endpoint.

use refline_domain::Mode;
use sqlx::FromRow;

use crate::StoreResult;

/// Reports.
#[async_trait::async_trait]
pub trait ReportStore {
    /// Totals of conversions that are not rejected or refunded, created within the bounds
    /// (unix ms, inclusive): one entry per currency that has any, ordered by currency code.
    async fn conversion_totals(
        &self,
        merchant_id: &str,
        mode: Mode,
        from: Option<i64>,
        to: Option<i64>,
    ) -> StoreResult<Vec<Totals>>;
    /// Affiliates approved on at least one of the merchant's campaigns.
    async fn count_active_affiliates(&self, merchant_id: &str) -> StoreResult<i64>;
    /// Tracked (live) sales of the merchant in a calendar month, the plan cap's measure: minor
    /// units of the merchant's currency, each sale counted in it when it was recorded.
    async fn tracked_sales(&self, merchant_id: &str, month: i64) -> StoreResult<i64>;
}

// ---- Rows of this aggregate (read by both engines through `sqlx::FromRow`). ----

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

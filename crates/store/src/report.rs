//! Aggregates for reports and the stats endpoint.

use refline_domain::Mode;

use crate::{StoreResult, Totals};

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

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
    /// Conversions per UTC day (`day` = unix days) and currency, for the whole days from the
    /// one containing `from` to the one containing `to - 1` (unix ms), rejected and refunded
    /// ones left out: the overview's charts and month totals, read from the day rollup (a few
    /// rows a day, however many conversions).
    async fn daily_conversions(
        &self,
        merchant_id: &str,
        mode: Mode,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<DayTotals>>;
    /// Human clicks per UTC day, whole days as in `daily_conversions`.
    async fn daily_clicks(&self, merchant_id: &str, from: i64, to: i64) -> StoreResult<Vec<DayClicks>>;
    /// The affiliates with the most commission in the calendar month starting at `month` (unix
    /// ms, as `refline_domain::month_start`), by currency, from the affiliate-month rollup.
    async fn top_affiliates(
        &self,
        merchant_id: &str,
        mode: Mode,
        month: i64,
        limit: i64,
    ) -> StoreResult<Vec<AffiliateTotals>>;
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

/// One day's conversions in one currency.
#[derive(Debug, Clone, FromRow)]
pub struct DayTotals {
    /// Unix day (ms / 86,400,000).
    pub day: i64,
    /// Lower-case ISO 4217.
    pub currency: String,
    /// Sales, minor units.
    pub revenue_minor: i64,
    /// Commissions, minor units.
    pub commissions_minor: i64,
    /// How many.
    pub conversions: i64,
}

/// One day's human clicks.
#[derive(Debug, Clone, FromRow)]
pub struct DayClicks {
    /// Unix day.
    pub day: i64,
    /// Human clicks.
    pub clicks: i64,
    /// Of which unique.
    pub unique_clicks: i64,
}

/// An affiliate's totals in one currency.
#[derive(Debug, Clone, FromRow)]
pub struct AffiliateTotals {
    /// `aff_…`
    pub affiliate_id: String,
    /// Their name, or their email when they gave none.
    pub name: String,
    /// Lower-case ISO 4217.
    pub currency: String,
    /// Sales, minor units.
    pub revenue_minor: i64,
    /// Commissions, minor units.
    pub commissions_minor: i64,
    /// How many conversions.
    pub conversions: i64,
}

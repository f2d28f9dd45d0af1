//! The portal's performance figures as bounded aggregates: one affiliate row on one campaign
//! over a time range, grouped by UTC day in the database (served by the indexes on
//! `clicks (affiliate_id, created_at)` and `conversions (campaign_id, affiliate_id,
//! created_at)`), so a busy month is a few dozen rows rather than every click and sale.

/// Per-day figures of one affiliate on one campaign.
#[async_trait::async_trait]
pub trait PortalReportStore {
    /// Human clicks per UTC day (`created_at / 86 400 000`) in `from..=to`: (day, clicks,
    /// unique clicks).
    async fn affiliate_click_days(
        &self,
        merchant_id: &str,
        campaign_id: &str,
        affiliate_id: &str,
        from: i64,
        to: i64,
    ) -> crate::StoreResult<Vec<(i64, i64, i64)>>;
    /// Live conversions that earn (pending, approved, paid) per UTC day and currency in
    /// `from..=to`: (day, currency, conversions, commission in minor units).
    async fn affiliate_earning_days(
        &self,
        merchant_id: &str,
        campaign_id: &str,
        affiliate_id: &str,
        from: i64,
        to: i64,
    ) -> crate::StoreResult<Vec<(i64, String, i64, i64)>>;
}

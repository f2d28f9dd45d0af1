//! [`refline_store::PortalReportStore`]: one affiliate's days, grouped in the database.

use async_trait::async_trait;
use refline_store::{PortalReportStore, StoreResult};

use crate::Engine;

#[async_trait]
impl PortalReportStore for Engine {
    async fn affiliate_click_days(
        &self,
        merchant_id: &str,
        campaign_id: &str,
        affiliate_id: &str,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<(i64, i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT created_at / 86400000 AS day, COUNT(*), \
                SUM(CASE WHEN is_unique THEN 1 ELSE 0 END) \
             FROM clicks WHERE affiliate_id = $3 AND created_at >= $4 AND created_at <= $5 \
               AND merchant_id = $1 AND campaign_id = $2 AND kind = 'human' \
             GROUP BY created_at / 86400000 ORDER BY day",
        )
        .bind(merchant_id)
        .bind(campaign_id)
        .bind(affiliate_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.reader())
        .await?)
    }

    async fn affiliate_earning_days(
        &self,
        merchant_id: &str,
        campaign_id: &str,
        affiliate_id: &str,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<(i64, String, i64, i64)>> {
        Ok(sqlx::query_as(concat!(
            "SELECT created_at / 86400000 AS day, currency, COUNT(*), ",
            sum_minor!("commission_minor"),
            " FROM conversions WHERE campaign_id = $2 AND affiliate_id = $3 \
               AND created_at >= $4 AND created_at <= $5 AND merchant_id = $1 \
               AND is_test = FALSE AND status IN ('pending', 'approved', 'paid') \
             GROUP BY created_at / 86400000, currency ORDER BY day, currency"
        ))
        .bind(merchant_id)
        .bind(campaign_id)
        .bind(affiliate_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.reader())
        .await?)
    }
}

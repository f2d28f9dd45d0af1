//! [`refline_store::IntegrationStore`]: processor connections and coupons.

use async_trait::async_trait;
use refline_store::{Coupon, CouponFilter, Integration, IntegrationStore, Page, PageRequest, StoreResult};

use crate::Engine;

#[async_trait]
impl IntegrationStore for Engine {
    async fn insert_integration(&self, i: &Integration) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO integrations (id, merchant_id, provider, status, label, secret_sealed, \
                secret_hint, previous_secret_sealed, settings, credentials_sealed, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&i.id)
        .bind(&i.merchant_id)
        .bind(&i.provider)
        .bind(&i.status)
        .bind(&i.label)
        .bind(&i.secret_sealed)
        .bind(&i.secret_hint)
        .bind(&i.previous_secret_sealed)
        .bind(&i.settings)
        .bind(&i.credentials_sealed)
        .bind(i.created_at)
        .bind(i.updated_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn get_integration(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Integration>> {
        Ok(sqlx::query_as("SELECT * FROM integrations WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn list_integrations(
        &self,
        merchant_id: &str,
        page: PageRequest<()>,
    ) -> StoreResult<Page<Integration>> {
        let sql = format!(
            "SELECT * FROM integrations WHERE merchant_id = $1 \
             ORDER BY created_at {dir}, id {dir} LIMIT $2 OFFSET $3",
            dir = page.direction()
        );
        let items = sqlx::query_as(&sql)
            .bind(merchant_id)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(self.reader())
            .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM integrations WHERE merchant_id = $1")
            .bind(merchant_id)
            .fetch_one(self.reader())
            .await?;
        Ok(Page { items, total })
    }

    async fn update_integration(&self, i: &Integration) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE integrations SET status = $3, label = $4, secret_sealed = $5, secret_hint = $6, \
                previous_secret_sealed = $7, settings = $8, credentials_sealed = $9, updated_at = $10 \
             WHERE merchant_id = $1 AND id = $2",
        )
        .bind(&i.merchant_id)
        .bind(&i.id)
        .bind(&i.status)
        .bind(&i.label)
        .bind(&i.secret_sealed)
        .bind(&i.secret_hint)
        .bind(&i.previous_secret_sealed)
        .bind(&i.settings)
        .bind(&i.credentials_sealed)
        .bind(i.updated_at)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_integration(&self, merchant_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM integrations WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn active_integrations(&self, merchant_id: &str, provider: &str) -> StoreResult<Vec<Integration>> {
        Ok(sqlx::query_as(
            "SELECT * FROM integrations WHERE merchant_id = $1 AND provider = $2 AND status = 'active' \
             ORDER BY created_at, id",
        )
        .bind(merchant_id)
        .bind(provider)
        .fetch_all(self.reader())
        .await?)
    }

    async fn insert_coupon(&self, c: &Coupon) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO coupons (id, merchant_id, campaign_id, affiliate_id, code, code_key, provider, \
                provider_coupon_id, provider_promotion_code_id, percent_off, amount_off_minor, currency, \
                duration, duration_in_months, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&c.id)
        .bind(&c.merchant_id)
        .bind(&c.campaign_id)
        .bind(&c.affiliate_id)
        .bind(&c.code)
        .bind(&c.code_key)
        .bind(&c.provider)
        .bind(&c.provider_coupon_id)
        .bind(&c.provider_promotion_code_id)
        .bind(c.percent_off)
        .bind(c.amount_off_minor)
        .bind(&c.currency)
        .bind(&c.duration)
        .bind(c.duration_in_months)
        .bind(c.created_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn get_coupon(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Coupon>> {
        Ok(sqlx::query_as("SELECT * FROM coupons WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn get_coupon_by_code(&self, merchant_id: &str, code_key: &str) -> StoreResult<Option<Coupon>> {
        Ok(sqlx::query_as("SELECT * FROM coupons WHERE merchant_id = $1 AND code_key = $2")
            .bind(merchant_id)
            .bind(code_key)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn list_coupons(
        &self,
        merchant_id: &str,
        f: &CouponFilter,
        page: PageRequest<()>,
    ) -> StoreResult<Page<Coupon>> {
        const FILTER: &str = "WHERE merchant_id = $1 AND ($2 IS NULL OR code_key = $2) \
            AND ($3 IS NULL OR provider = $3) AND ($4 IS NULL OR campaign_id = $4) \
            AND ($5 IS NULL OR affiliate_id = $5)";
        let code_key = f.code.as_deref().map(Coupon::key_of);
        let items = sqlx::query_as(&format!(
            "SELECT * FROM coupons {FILTER} ORDER BY created_at {dir}, id {dir} LIMIT $6 OFFSET $7",
            dir = page.direction()
        ))
        .bind(merchant_id)
        .bind(code_key.as_deref())
        .bind(f.provider.as_deref())
        .bind(f.campaign_id.as_deref())
        .bind(f.affiliate_id.as_deref())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(self.reader())
        .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM coupons {FILTER}"))
            .bind(merchant_id)
            .bind(code_key.as_deref())
            .bind(f.provider.as_deref())
            .bind(f.campaign_id.as_deref())
            .bind(f.affiliate_id.as_deref())
            .fetch_one(self.reader())
            .await?;
        Ok(Page { items, total })
    }

    async fn delete_coupon(&self, merchant_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM coupons WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn find_coupon(
        &self,
        merchant_id: &str,
        provider: Option<&str>,
        coupon_id: Option<&str>,
        promotion_code_id: Option<&str>,
        code: Option<&str>,
    ) -> StoreResult<Option<Coupon>> {
        let code_key = code.map(Coupon::key_of).filter(|k| !k.is_empty());
        // One lookup per identifier, in LinkJolt's order, so a processor id always beats
        // a code text that happens to equal another coupon's code. Each is one index probe.
        let lookups = [
            ("provider_coupon_id", coupon_id.filter(|v| !v.is_empty())),
            ("provider_promotion_code_id", promotion_code_id.filter(|v| !v.is_empty())),
            ("code_key", code_key.as_deref()),
        ];
        for (column, value) in lookups {
            let Some(value) = value else { continue };
            let sql = format!(
                "SELECT * FROM coupons WHERE merchant_id = $1 AND {column} = $2 \
                 AND ($3 IS NULL OR provider IS NULL OR provider = $3) ORDER BY created_at, id LIMIT 1"
            );
            let found: Option<Coupon> = sqlx::query_as(&sql)
                .bind(merchant_id)
                .bind(value)
                .bind(provider)
                .fetch_optional(self.reader())
                .await?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }
}

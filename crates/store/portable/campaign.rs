//! [`refline_store::CampaignStore`].

use async_trait::async_trait;
use refline_domain::Mode;
use refline_store::{
    Campaign, CampaignSort, CampaignStats, CampaignStore, CampaignWithStats, Page, PageRequest, StoreResult,
};

use crate::Engine;

/// Aggregate columns of a campaign aliased `c` whose conversion figures were joined as `s`
/// (see `conversion_figures!`). A macro so it can sit inside `concat!`.
macro_rules! campaign_stats_columns {
    () => {
        "COALESCE(s.conversions, 0) AS conversions, COALESCE(s.revenue_minor, 0) AS revenue_minor, \
         (SELECT COUNT(*) FROM memberships m WHERE m.campaign_id = c.id) AS affiliates, \
         (SELECT COALESCE(CAST(SUM(t.clicks) AS BIGINT), 0) FROM click_totals t WHERE t.campaign_id = c.id) AS clicks, \
         (SELECT COALESCE(CAST(SUM(t.unique_clicks) AS BIGINT), 0) FROM click_totals t \
            WHERE t.campaign_id = c.id) AS unique_clicks, \
         (SELECT COALESCE(CAST(SUM(t.bot_clicks) AS BIGINT), 0) FROM click_totals t \
            WHERE t.campaign_id = c.id) AS bot_clicks, \
         (SELECT COALESCE(CAST(SUM(t.head_requests) AS BIGINT), 0) FROM click_totals t \
            WHERE t.campaign_id = c.id) AS head_requests"
    };
}

/// Conversions (not rejected or refunded) and their revenue per campaign of `campaigns` (a
/// subquery of ids), with `$2` = is_test: one pass over `conversions_campaign_stats_idx` for
/// both figures, never visiting the rows. A macro so it can sit inside `concat!`.
macro_rules! conversion_figures {
    ($campaigns:literal) => {
        concat!(
            "(SELECT v.campaign_id, COUNT(*) AS conversions, ",
            sum_minor!("v.amount_minor"),
            " AS revenue_minor FROM conversions v WHERE v.campaign_id IN (",
            $campaigns,
            ") AND v.is_test = $2 AND v.status NOT IN ('rejected', 'refunded') GROUP BY v.campaign_id) s"
        )
    };
}

#[async_trait]
impl CampaignStore for Engine {
    async fn insert_campaign(&self, c: &Campaign) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO campaigns (id, merchant_id, name, tracking_code, status, \
                commission_type, commission_value, currency, target_url, description, \
                is_public, auto_approve_affiliates, recurring_enabled, recurring_mode, \
                recurring_type, recurring_value, recurring_count, recurring_months, \
                tier_basis, tiers, cookie_window_days, created_at, updated_at, hold_days, trial_mode) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)",
        )
        .bind(&c.id)
        .bind(&c.merchant_id)
        .bind(&c.name)
        .bind(&c.tracking_code)
        .bind(c.status)
        .bind(c.commission_type)
        .bind(c.commission_value)
        .bind(&c.currency)
        .bind(&c.target_url)
        .bind(&c.description)
        .bind(c.is_public)
        .bind(c.auto_approve_affiliates)
        .bind(c.recurring_enabled)
        .bind(c.recurring_mode)
        .bind(c.recurring_type)
        .bind(c.recurring_value)
        .bind(c.recurring_count)
        .bind(c.recurring_months)
        .bind(c.tier_basis)
        .bind(&c.tiers)
        .bind(c.cookie_window_days)
        .bind(c.created_at)
        .bind(c.updated_at)
        .bind(c.hold_days)
        .bind(c.trial_mode)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn update_campaign(&self, c: &Campaign) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE campaigns SET name = $3, status = $4, commission_type = $5, \
                commission_value = $6, target_url = $7, description = $8, \
                is_public = $9, auto_approve_affiliates = $10, recurring_enabled = $11, \
                recurring_mode = $12, recurring_type = $13, recurring_value = $14, \
                recurring_count = $15, recurring_months = $16, tier_basis = $17, \
                tiers = $18, cookie_window_days = $19, updated_at = $20, hold_days = $21, \
                trial_mode = $22 \
             WHERE merchant_id = $1 AND id = $2",
        )
        .bind(&c.merchant_id)
        .bind(&c.id)
        .bind(&c.name)
        .bind(c.status)
        .bind(c.commission_type)
        .bind(c.commission_value)
        .bind(&c.target_url)
        .bind(&c.description)
        .bind(c.is_public)
        .bind(c.auto_approve_affiliates)
        .bind(c.recurring_enabled)
        .bind(c.recurring_mode)
        .bind(c.recurring_type)
        .bind(c.recurring_value)
        .bind(c.recurring_count)
        .bind(c.recurring_months)
        .bind(c.tier_basis)
        .bind(&c.tiers)
        .bind(c.cookie_window_days)
        .bind(c.updated_at)
        .bind(c.hold_days)
        .bind(c.trial_mode)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_campaign(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Campaign>> {
        Ok(sqlx::query_as("SELECT * FROM campaigns WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn campaign_stats(&self, campaign_id: &str, mode: Mode) -> StoreResult<CampaignStats> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            campaign_stats_columns!(),
            " FROM campaigns c LEFT JOIN ",
            conversion_figures!("$1"),
            " ON s.campaign_id = c.id WHERE c.id = $1"
        ))
        .bind(campaign_id)
        .bind(mode)
        .fetch_optional(self.reader())
        .await?
        .unwrap_or_default())
    }

    async fn list_campaigns(
        &self,
        merchant_id: &str,
        mode: Mode,
        page: PageRequest<CampaignSort>,
    ) -> StoreResult<Page<CampaignWithStats>> {
        let column = match page.sort {
            CampaignSort::CreatedAt => "created_at",
            CampaignSort::Name => "name",
        };
        // The page's campaigns, then the figures of those campaigns only, in one grouped pass.
        let dir = page.direction();
        let page_ids = format!(
            "SELECT p.id FROM campaigns p WHERE p.merchant_id = $1 \
             ORDER BY p.{column} {dir}, p.id {dir} LIMIT $3 OFFSET $4"
        );
        let sql = format!(
            "SELECT c.*, {} FROM (SELECT * FROM campaigns p WHERE p.merchant_id = $1 \
                ORDER BY p.{column} {dir}, p.id {dir} LIMIT $3 OFFSET $4) c \
             LEFT JOIN (SELECT v.campaign_id, COUNT(*) AS conversions, {} AS revenue_minor \
                FROM conversions v WHERE v.campaign_id IN ({page_ids}) AND v.is_test = $2 \
                AND v.status NOT IN ('rejected', 'refunded') GROUP BY v.campaign_id) s \
                ON s.campaign_id = c.id \
             ORDER BY c.{column} {dir}, c.id {dir}",
            campaign_stats_columns!(),
            sum_minor!("v.amount_minor"),
        );
        let items = sqlx::query_as(&sql)
            .bind(merchant_id)
            .bind(mode)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(self.reader())
            .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM campaigns WHERE merchant_id = $1")
            .bind(merchant_id)
            .fetch_one(self.reader())
            .await?;
        Ok(Page { items, total })
    }

    async fn newest_campaigns(&self, merchant_id: &str, limit: i64) -> StoreResult<Vec<Campaign>> {
        Ok(sqlx::query_as(
            "SELECT * FROM campaigns WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(merchant_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    async fn campaign_names(&self, merchant_id: &str, limit: i64) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.name FROM campaigns c WHERE c.merchant_id = $1 ORDER BY c.name, c.id LIMIT $2",
        )
        .bind(merchant_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }
}

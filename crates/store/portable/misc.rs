//! [`refline_store::AuditStore`], [`refline_store::IdempotencyStore`] and
//! [`refline_store::ReportStore`].

use async_trait::async_trait;
use refline_domain::Mode;
use refline_store::{
    idempotency::StoredClaim,
    report::{AffiliateTotals, DayClicks, DayTotals},
    rollup::day_of,
    AuditEntry, AuditFilter, AuditStore, IdempotencyBegin, IdempotencyStore, ReportStore, StoreResult,
    Totals,
};

use crate::Engine;

#[async_trait]
impl AuditStore for Engine {
    async fn insert_audit_entries(&self, entries: &[AuditEntry]) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO audit_log (merchant_id, api_key_id, user_id, door, operation, target_id, method, \
                path, status_code, error_code, ip_address, user_agent, created_at) ",
        );
        query.push_values(entries, |mut row, e| {
            row.push_bind(&e.merchant_id)
                .push_bind(&e.api_key_id)
                .push_bind(&e.user_id)
                .push_bind(&e.door)
                .push_bind(&e.operation)
                .push_bind(&e.target_id)
                .push_bind(&e.method)
                .push_bind(&e.path)
                .push_bind(e.status_code)
                .push_bind(&e.error_code)
                .push_bind(&e.ip_address)
                .push_bind(&e.user_agent)
                .push_bind(e.created_at);
        });
        query.build().persistent(keep_batch_statements!()).execute(self.writer()).await?;
        Ok(())
    }

    async fn recent_audit_entries(
        &self,
        merchant_id: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        Ok(sqlx::query_as(
            "SELECT merchant_id, api_key_id, user_id, door, operation, target_id, method, path, \
                status_code, error_code, ip_address, user_agent, created_at FROM audit_log \
             WHERE ($1 IS NULL AND merchant_id IS NULL) OR merchant_id = $1 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(merchant_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    async fn filtered_audit_entries(
        &self,
        merchant_id: &str,
        filter: &AuditFilter,
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        let operation = filter.operation.as_ref().map(|o| format!("{}%", like_escaped(o)));
        Ok(sqlx::query_as(
            "SELECT merchant_id, api_key_id, user_id, door, operation, target_id, method, path, \
                status_code, error_code, ip_address, user_agent, created_at FROM audit_log \
             WHERE merchant_id = $1 \
               AND ($2 IS NULL OR door = $2) \
               AND ($3 IS NULL OR operation LIKE $3 ESCAPE '\\') \
               AND ($4 = FALSE OR error_code IS NOT NULL OR status_code >= 400) \
               AND ($5 IS NULL OR created_at < $5) \
             ORDER BY created_at DESC, id DESC LIMIT $6",
        )
        .bind(merchant_id)
        .bind(&filter.door)
        .bind(operation)
        .bind(filter.failed_only)
        .bind(filter.before)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }
}

/// `text` with LIKE's wildcards (and the escape character) escaped by `\`.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl IdempotencyStore for Engine {
    async fn begin_idempotent(
        &self,
        merchant_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        expires_before: i64,
    ) -> StoreResult<IdempotencyBegin> {
        sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE merchant_id = $1 AND key = $2 AND created_at < $3",
        )
        .bind(merchant_id)
        .bind(key)
        .bind(expires_before)
        .execute(self.writer())
        .await?;
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (merchant_id, key, request_hash, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (merchant_id, key) DO NOTHING",
        )
        .bind(merchant_id)
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .execute(self.writer())
        .await?;
        if claimed.rows_affected() > 0 {
            return Ok(IdempotencyBegin::Started);
        }
        let row: Option<StoredClaim> = sqlx::query_as(
            "SELECT request_hash, status_code, response_body FROM idempotency_keys \
             WHERE merchant_id = $1 AND key = $2",
        )
        .bind(merchant_id)
        .bind(key)
        .fetch_optional(self.writer())
        .await?;
        Ok(IdempotencyBegin::of_existing(request_hash, row))
    }

    async fn complete_idempotent(
        &self,
        merchant_id: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET status_code = $3, response_body = $4 \
             WHERE merchant_id = $1 AND key = $2",
        )
        .bind(merchant_id)
        .bind(key)
        .bind(i64::from(status))
        .bind(body)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn abandon_idempotent(&self, merchant_id: &str, key: &str) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE merchant_id = $1 AND key = $2 AND status_code IS NULL",
        )
        .bind(merchant_id)
        .bind(key)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}

#[async_trait]
impl ReportStore for Engine {
    async fn conversion_totals(
        &self,
        merchant_id: &str,
        mode: Mode,
        from: Option<i64>,
        to: Option<i64>,
    ) -> StoreResult<Vec<Totals>> {
        // Grouped by currency: minor units of different currencies are never added together.
        Ok(sqlx::query_as(concat!(
            "SELECT currency, ",
            sum_minor!("amount_minor"),
            " AS revenue_minor, ",
            sum_minor!("commission_minor"),
            " AS commissions_minor, \
                COUNT(*) AS conversions \
             FROM conversions WHERE merchant_id = $1 AND is_test = $2 \
             AND status NOT IN ('rejected', 'refunded') \
             AND ($3 IS NULL OR created_at >= $3) AND ($4 IS NULL OR created_at <= $4) \
             GROUP BY currency ORDER BY currency"
        ))
        .bind(merchant_id)
        .bind(mode)
        .bind(from)
        .bind(to)
        .fetch_all(self.reader())
        .await?)
    }

    async fn daily_conversions(
        &self,
        merchant_id: &str,
        mode: Mode,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<DayTotals>> {
        Ok(sqlx::query_as(concat!(
            "SELECT day, currency, ",
            sum_parts!("revenue"),
            " AS revenue_minor, ",
            sum_parts!("commission"),
            " AS commissions_minor, CAST(COALESCE(SUM(conversions), 0) AS BIGINT) AS conversions \
             FROM conversion_days WHERE merchant_id = $1 AND is_test = $2 AND day >= $3 AND day <= $4 \
             GROUP BY day, currency HAVING SUM(conversions) <> 0 ORDER BY day, currency"
        ))
        .bind(merchant_id)
        .bind(mode)
        .bind(day_of(from))
        .bind(day_of(to.saturating_sub(1)))
        .fetch_all(self.reader())
        .await?)
    }

    async fn daily_clicks(&self, merchant_id: &str, from: i64, to: i64) -> StoreResult<Vec<DayClicks>> {
        Ok(sqlx::query_as(
            "SELECT day, clicks, unique_clicks FROM click_days \
             WHERE merchant_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
        )
        .bind(merchant_id)
        .bind(day_of(from))
        .bind(day_of(to.saturating_sub(1)))
        .fetch_all(self.reader())
        .await?)
    }

    async fn top_affiliates(
        &self,
        merchant_id: &str,
        mode: Mode,
        month: i64,
        limit: i64,
    ) -> StoreResult<Vec<AffiliateTotals>> {
        Ok(sqlx::query_as(concat!(
            "SELECT t.affiliate_id, COALESCE(a.name, a.email) AS name, t.currency, t.revenue_minor, t.commissions_minor, t.conversions \
             FROM (SELECT affiliate_id, currency, ",
            sum_parts!("revenue"),
            " AS revenue_minor, ",
            sum_parts!("commission"),
            " AS commissions_minor, CAST(COALESCE(SUM(conversions), 0) AS BIGINT) AS conversions \
               FROM affiliate_months WHERE merchant_id = $1 AND is_test = $2 AND month = $3 \
               GROUP BY affiliate_id, currency HAVING SUM(conversions) <> 0) t \
             JOIN affiliates a ON a.id = t.affiliate_id \
             ORDER BY t.commissions_minor DESC, t.conversions DESC, t.affiliate_id LIMIT $4"
        ))
        .bind(merchant_id)
        .bind(mode)
        .bind(month)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    async fn count_active_affiliates(&self, merchant_id: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(DISTINCT affiliate_id) FROM memberships \
             WHERE merchant_id = $1 AND status = 'approved'",
        )
        .bind(merchant_id)
        .fetch_one(self.reader())
        .await?)
    }

    async fn tracked_sales(&self, merchant_id: &str, month: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(concat!(
            "SELECT ",
            sum_minor!("amount_minor"),
            " FROM monthly_sales \
             WHERE merchant_id = $1 AND month = $2"
        ))
        .bind(merchant_id)
        .bind(month)
        .fetch_one(self.reader())
        .await?)
    }
}

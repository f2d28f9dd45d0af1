//! [`refline_store::ProcessorStore`]: the inbox of processor deliveries and what processing
//! them remembers (credited payments, subscriptions, refund progress, amounts owed back).

use async_trait::async_trait;
use refline_store::{
    processor, CommissionAdjustment, Conversion, InboxEntry, InboxResult, Page, PageRequest, ProcessorStore,
    ProcessorSubscription, RefundApplication, RefundApplied, RefundState, StoreResult, TrialConversion,
};

use super::{refund::apply_refund, trial::convert_trial};
use crate::Engine;

#[async_trait]
impl ProcessorStore for Engine {
    async fn insert_inbox_batch(&self, entries: &[InboxEntry]) -> StoreResult<Vec<bool>> {
        // One statement per row inside one transaction: the commit is what a delivery costs,
        // and a repeat within the batch meets its twin's row like any redelivery.
        let mut tx = self.begin_write().await?;
        let mut stored = Vec::with_capacity(entries.len());
        for e in entries {
            let done = sqlx::query(
                "INSERT INTO processor_inbox (id, merchant_id, integration_id, provider, dedupe_key, \
                    event_type, headers, query, body, verification, status, outcome, conversion_id, \
                    attempts, next_attempt_at, received_at, processed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                 ON CONFLICT (merchant_id, provider, dedupe_key) DO NOTHING",
            )
            .bind(&e.id)
            .bind(&e.merchant_id)
            .bind(&e.integration_id)
            .bind(&e.provider)
            .bind(&e.dedupe_key)
            .bind(&e.event_type)
            .bind(&e.headers)
            .bind(&e.query)
            .bind(&e.body)
            .bind(&e.verification)
            .bind(&e.status)
            .bind(&e.outcome)
            .bind(&e.conversion_id)
            .bind(e.attempts)
            .bind(e.next_attempt_at)
            .bind(e.received_at)
            .bind(e.processed_at)
            .execute(&mut *tx)
            .await?;
            stored.push(done.rows_affected() > 0);
        }
        tx.commit().await?;
        Ok(stored)
    }

    async fn claim_inbox(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<InboxEntry>> {
        let mut rows: Vec<InboxEntry> = sqlx::query_as(concat!(
            "UPDATE processor_inbox SET attempts = attempts + 1, next_attempt_at = $2 \
             WHERE id IN (SELECT id FROM processor_inbox \
                WHERE status IN ('pending', 'waiting') AND next_attempt_at <= $1 \
                ORDER BY next_attempt_at LIMIT $3 ",
            skip_locked!(),
            ") \
             RETURNING *"
        ))
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(self.writer())
        .await?;
        processor::oldest_first(&mut rows);
        Ok(rows)
    }

    async fn finish_inbox(&self, id: &str, attempt: i64, r: &InboxResult) -> StoreResult<()> {
        // Only the attempt that claimed it writes its result: a replay or a lease taken
        // over meanwhile is a newer attempt.
        sqlx::query(
            "UPDATE processor_inbox SET status = $2, outcome = $3, conversion_id = $4, \
                next_attempt_at = $5, processed_at = $6 WHERE id = $1 AND attempts = $7",
        )
        .bind(id)
        .bind(r.status)
        .bind(&r.outcome)
        .bind(&r.conversion_id)
        .bind(r.next_attempt_at)
        .bind(r.processed_at)
        .bind(attempt)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn requeue_inbox(
        &self,
        merchant_id: &str,
        integration_id: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<Option<InboxEntry>> {
        Ok(sqlx::query_as(
            "UPDATE processor_inbox SET status = 'pending', outcome = 'replay requested', \
                next_attempt_at = $4, processed_at = NULL \
             WHERE merchant_id = $1 AND integration_id = $2 AND id = $3 \
                AND status IN ('processed', 'ignored', 'failed') RETURNING *",
        )
        .bind(merchant_id)
        .bind(integration_id)
        .bind(id)
        .bind(now)
        .fetch_optional(self.writer())
        .await?)
    }

    async fn requeue_inbox_by_key(
        &self,
        merchant_id: &str,
        provider: &str,
        dedupe_key: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE processor_inbox SET status = 'pending', outcome = 'notified again', \
                next_attempt_at = $4, processed_at = NULL \
             WHERE merchant_id = $1 AND provider = $2 AND dedupe_key = $3 \
                AND status IN ('processed', 'ignored', 'failed')",
        )
        .bind(merchant_id)
        .bind(provider)
        .bind(dedupe_key)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_inbox(
        &self,
        merchant_id: &str,
        integration_id: &str,
        page: PageRequest<()>,
    ) -> StoreResult<Page<InboxEntry>> {
        let items = sqlx::query_as(&format!(
            "SELECT * FROM processor_inbox WHERE merchant_id = $1 AND integration_id = $2 \
             ORDER BY received_at {dir}, id {dir} LIMIT $3 OFFSET $4",
            dir = page.direction()
        ))
        .bind(merchant_id)
        .bind(integration_id)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(self.reader())
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM processor_inbox WHERE merchant_id = $1 AND integration_id = $2",
        )
        .bind(merchant_id)
        .bind(integration_id)
        .fetch_one(self.reader())
        .await?;
        Ok(Page { items, total })
    }

    async fn find_processor_payment(
        &self,
        merchant_id: &str,
        provider: &str,
        keys: &[String],
    ) -> StoreResult<Option<String>> {
        if keys.is_empty() {
            return Ok(None);
        }
        let mut query =
            sqlx::QueryBuilder::new("SELECT conversion_id FROM processor_payments WHERE merchant_id = ");
        query
            .push_bind(merchant_id)
            .push(" AND provider = ")
            .push_bind(provider)
            .push(" AND object_key IN (");
        let mut list = query.separated(", ");
        for key in keys {
            list.push_bind(key.as_str());
        }
        query.push(") LIMIT 1");
        Ok(query.build_query_scalar().fetch_optional(self.reader()).await?)
    }

    async fn remember_processor_payment(
        &self,
        merchant_id: &str,
        provider: &str,
        keys: &[String],
        conversion_id: &str,
    ) -> StoreResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO processor_payments (merchant_id, provider, object_key, conversion_id) ",
        );
        query.push_values(keys, |mut row, key| {
            row.push_bind(merchant_id).push_bind(provider).push_bind(key.as_str()).push_bind(conversion_id);
        });
        query.push(" ON CONFLICT (merchant_id, provider, object_key) DO NOTHING");
        query.build().execute(self.writer()).await?;
        Ok(())
    }

    async fn find_subscription(
        &self,
        merchant_id: &str,
        provider: &str,
        subscription_key: &str,
    ) -> StoreResult<Option<ProcessorSubscription>> {
        Ok(sqlx::query_as(
            "SELECT * FROM processor_subscriptions \
             WHERE merchant_id = $1 AND provider = $2 AND subscription_key = $3",
        )
        .bind(merchant_id)
        .bind(provider)
        .bind(subscription_key)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn remember_subscription(&self, s: &ProcessorSubscription) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO processor_subscriptions (merchant_id, provider, subscription_key, \
                campaign_id, affiliate_id, click_id, first_conversion_id, trial_conversion_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (merchant_id, provider, subscription_key) DO UPDATE SET \
                first_conversion_id = COALESCE(processor_subscriptions.first_conversion_id, excluded.first_conversion_id), \
                trial_conversion_id = COALESCE(processor_subscriptions.trial_conversion_id, excluded.trial_conversion_id)",
        )
        .bind(&s.merchant_id)
        .bind(&s.provider)
        .bind(&s.subscription_key)
        .bind(&s.campaign_id)
        .bind(&s.affiliate_id)
        .bind(&s.click_id)
        .bind(&s.first_conversion_id)
        .bind(&s.trial_conversion_id)
        .bind(s.created_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn refund_state(&self, merchant_id: &str, conversion_id: &str) -> StoreResult<Option<RefundState>> {
        Ok(sqlx::query_as(
            "SELECT refunded_minor, original_commission_minor FROM processor_refunds \
             WHERE merchant_id = $1 AND conversion_id = $2",
        )
        .bind(merchant_id)
        .bind(conversion_id)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn apply_refund(&self, r: &RefundApplication<'_>) -> StoreResult<RefundApplied> {
        apply_refund(self, r).await
    }

    async fn convert_trial(&self, t: &TrialConversion<'_>) -> StoreResult<Option<Conversion>> {
        convert_trial(self, t).await
    }

    async fn adjustments_for(
        &self,
        merchant_id: &str,
        conversion_id: &str,
    ) -> StoreResult<Vec<CommissionAdjustment>> {
        Ok(sqlx::query_as(
            "SELECT * FROM commission_adjustments WHERE merchant_id = $1 AND conversion_id = $2 \
             ORDER BY created_at, id",
        )
        .bind(merchant_id)
        .bind(conversion_id)
        .fetch_all(self.reader())
        .await?)
    }
}

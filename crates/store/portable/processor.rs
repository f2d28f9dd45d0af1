//! [`refline_store::ProcessorStore`]: the inbox of processor deliveries and what processing
//! them remembers (credited payments, subscriptions, refund progress, amounts owed back).

use async_trait::async_trait;
use refline_store::{
    processor, CommissionAdjustment, Conversion, InboxEntry, InboxFinish, InboxResult, Page, PageRequest,
    ProcessorKey, ProcessorPayment, ProcessorStore, ProcessorSubscription, RefundApplication, RefundApplied,
    RefundState, StoreResult, TrialConversion,
};

use super::{refund::apply_refund, trial::convert_trial};
use crate::Engine;

#[async_trait]
impl ProcessorStore for Engine {
    async fn insert_inbox_batch(&self, entries: &[InboxEntry]) -> StoreResult<Vec<bool>> {
        // One multi-row statement per chunk inside one transaction: the commit is what a
        // delivery costs. A repeat (in the database, or earlier in the batch) is skipped by
        // `DO NOTHING`; the ids returned are the rows stored.
        let mut tx = self.begin_write().await?;
        let mut stored = std::collections::HashSet::new();
        for chunk in entries.chunks(INBOX_ROWS_PER_STATEMENT) {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO processor_inbox (id, merchant_id, integration_id, provider, dedupe_key, \
                    event_type, headers, query, body, verification, status, outcome, conversion_id, \
                    attempts, next_attempt_at, received_at, processed_at) ",
            );
            query.push_values(chunk, |mut row, e| {
                row.push_bind(e.id.as_str())
                    .push_bind(e.merchant_id.as_str())
                    .push_bind(e.integration_id.as_str())
                    .push_bind(e.provider.as_str())
                    .push_bind(e.dedupe_key.as_str())
                    .push_bind(e.event_type.as_deref())
                    .push_bind(e.headers.as_str())
                    .push_bind(e.query.as_str())
                    .push_bind(e.body.as_str())
                    .push_bind(e.verification.as_str())
                    .push_bind(e.status.as_str())
                    .push_bind(e.outcome.as_deref())
                    .push_bind(e.conversion_id.as_deref())
                    .push_bind(e.attempts)
                    .push_bind(e.next_attempt_at)
                    .push_bind(e.received_at)
                    .push_bind(e.processed_at);
            });
            query.push(" ON CONFLICT (merchant_id, provider, dedupe_key) DO NOTHING RETURNING id");
            let ids: Vec<String> =
                query.build_query_scalar().persistent(keep_batch_statements!()).fetch_all(&mut *tx).await?;
            stored.extend(ids);
        }
        tx.commit().await?;
        Ok(entries.iter().map(|e| stored.contains(&e.id)).collect())
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

    async fn finish_inbox_batch(&self, finished: &[InboxFinish]) -> StoreResult<Vec<()>> {
        let payments = first_payments(finished);
        let subscriptions = merged_subscriptions(finished);
        let mut tx = self.begin_write().await?;
        for chunk in payments.chunks(ROWS_PER_STATEMENT) {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO processor_payments (merchant_id, provider, object_key, conversion_id) ",
            );
            query.push_values(chunk, |mut row, p| {
                row.push_bind(p.merchant_id.as_str())
                    .push_bind(p.provider.as_str())
                    .push_bind(p.object_key.as_str())
                    .push_bind(p.conversion_id.as_str());
            });
            query.push(" ON CONFLICT (merchant_id, provider, object_key) DO NOTHING");
            query.build().persistent(keep_batch_statements!()).execute(&mut *tx).await?;
        }
        for chunk in subscriptions.chunks(ROWS_PER_STATEMENT / 4) {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO processor_subscriptions (merchant_id, provider, subscription_key, \
                    campaign_id, affiliate_id, click_id, first_conversion_id, trial_conversion_id, created_at) ",
            );
            query.push_values(chunk, |mut row, s| {
                row.push_bind(s.merchant_id.as_str())
                    .push_bind(s.provider.as_str())
                    .push_bind(s.subscription_key.as_str())
                    .push_bind(s.campaign_id.as_str())
                    .push_bind(s.affiliate_id.as_str())
                    .push_bind(s.click_id.as_deref())
                    .push_bind(s.first_conversion_id.as_deref())
                    .push_bind(s.trial_conversion_id.as_deref())
                    .push_bind(s.created_at);
            });
            query.push(
                " ON CONFLICT (merchant_id, provider, subscription_key) DO UPDATE SET \
                    first_conversion_id = COALESCE(processor_subscriptions.first_conversion_id, excluded.first_conversion_id), \
                    trial_conversion_id = COALESCE(processor_subscriptions.trial_conversion_id, excluded.trial_conversion_id)",
            );
            query.build().persistent(keep_batch_statements!()).execute(&mut *tx).await?;
        }
        // Only the attempt that claimed a delivery writes its result (as `finish_inbox`).
        for chunk in finished.chunks(ROWS_PER_STATEMENT) {
            let mut query = sqlx::QueryBuilder::new(
                "WITH v (id, attempt, status, outcome, conversion_id, next_attempt_at, processed_at) AS (",
            );
            query.push_values(chunk, |mut row, f| {
                row.push_bind(f.id.as_str())
                    .push_bind(f.attempt)
                    .push_bind(f.result.status)
                    .push_bind(f.result.outcome.as_str())
                    .push_bind(f.result.conversion_id.as_deref())
                    .push_bind(f.result.next_attempt_at)
                    .push_bind(f.result.processed_at);
            });
            query.push(
                ") UPDATE processor_inbox SET status = v.status, outcome = v.outcome, \
                    conversion_id = v.conversion_id, next_attempt_at = v.next_attempt_at, \
                    processed_at = v.processed_at \
                 FROM v WHERE processor_inbox.id = v.id AND processor_inbox.attempts = v.attempt",
            );
            query.build().persistent(keep_batch_statements!()).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(vec![(); finished.len()])
    }

    async fn find_processor_payments(&self, keys: &[ProcessorKey]) -> StoreResult<Vec<ProcessorPayment>> {
        read_keyed(
            self,
            keys,
            "object_key",
            "SELECT p.merchant_id, p.provider, p.object_key, p.conversion_id FROM k \
             JOIN processor_payments p ON p.merchant_id = k.merchant_id AND p.provider = k.provider \
                AND p.object_key = k.object_key",
        )
        .await
    }

    async fn find_subscriptions(&self, keys: &[ProcessorKey]) -> StoreResult<Vec<ProcessorSubscription>> {
        read_keyed(
            self,
            keys,
            "subscription_key",
            "SELECT s.* FROM k JOIN processor_subscriptions s ON s.merchant_id = k.merchant_id \
                AND s.provider = k.provider AND s.subscription_key = k.subscription_key",
        )
        .await
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
        Ok(query
            .build_query_scalar()
            .persistent(keep_batch_statements!())
            .fetch_optional(self.reader())
            .await?)
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
        query.build().persistent(keep_batch_statements!()).execute(self.writer()).await?;
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

/// Rows per multi-row statement of a batch (well under either engine's bind limit).
const ROWS_PER_STATEMENT: usize = 500;

/// Inbox rows per insert: 17 values each, under either engine's bind limit.
const INBOX_ROWS_PER_STATEMENT: usize = 128;

fn distinct(keys: &[ProcessorKey]) -> Vec<&ProcessorKey> {
    let mut keys: Vec<&ProcessorKey> = keys.iter().collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The rows `select` finds for the distinct `keys`, which it reads as a table `k` of
/// (merchant_id, provider, `key_column`), in statements of [`ROWS_PER_STATEMENT`] keys: the one
/// shape of every "what is remembered about these processor objects" read of a batch.
async fn read_keyed<T>(
    store: &Engine,
    keys: &[ProcessorKey],
    key_column: &str,
    select: &str,
) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, <crate::Db as sqlx::Database>::Row> + Send + Unpin,
{
    let keys = distinct(keys);
    let mut found = Vec::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let mut query = sqlx::QueryBuilder::new(format!("WITH k (merchant_id, provider, {key_column}) AS ("));
        push_keys(&mut query, chunk);
        query.push(") ").push(select);
        found.extend(
            query
                .build_query_as::<T>()
                .persistent(keep_batch_statements!())
                .fetch_all(store.reader())
                .await?,
        );
    }
    Ok(found)
}

fn push_keys<'a>(query: &mut sqlx::QueryBuilder<'a, crate::Db>, keys: &[&'a ProcessorKey]) {
    query.push_values(keys, |mut row, k| {
        row.push_bind(k.merchant_id.as_str()).push_bind(k.provider.as_str()).push_bind(k.key.as_str());
    });
}

/// The payment rows of a batch, the first of each key only: one statement may not name a row
/// twice, and one by one the first insert would win anyway (`DO NOTHING`).
fn first_payments(finished: &[InboxFinish]) -> Vec<&ProcessorPayment> {
    let mut seen = std::collections::HashSet::new();
    finished
        .iter()
        .flat_map(|f| &f.payments)
        .filter(|p| seen.insert((&p.merchant_id, &p.provider, &p.object_key)))
        .collect()
}

/// The subscription rows of a batch, one per key, as remembering them one by one would leave
/// them: the first row's attribution, and each conversion id from the first row that has one.
fn merged_subscriptions(finished: &[InboxFinish]) -> Vec<ProcessorSubscription> {
    let mut merged: Vec<ProcessorSubscription> = Vec::new();
    let mut at = std::collections::HashMap::new();
    for s in finished.iter().flat_map(|f| &f.subscriptions) {
        let key = (s.merchant_id.clone(), s.provider.clone(), s.subscription_key.clone());
        match at.get(&key) {
            Some(&i) => {
                let row: &mut ProcessorSubscription = &mut merged[i];
                row.first_conversion_id =
                    row.first_conversion_id.take().or_else(|| s.first_conversion_id.clone());
                row.trial_conversion_id =
                    row.trial_conversion_id.take().or_else(|| s.trial_conversion_id.clone());
            }
            None => {
                at.insert(key, merged.len());
                merged.push(s.clone());
            }
        }
    }
    merged
}

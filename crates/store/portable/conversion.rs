//! [`refline_store::ConversionStore`].

use async_trait::async_trait;
use refline_store::{
    batch, order_key, outbox, Attribution, AttributionQuery, Conversion, ConversionFilter, ConversionSort,
    ConversionStore, OutboxEvent, Page, PageRequest, PendingConversion, RecordError, RecordOutcome,
    StoreError, StoreResult,
};

use super::webhook::emit_events;
use crate::Engine;

/// The id of the committed conversion holding `c`'s order id, if any (read outside the batch's
/// transaction, through the `order_key` unique index).
async fn conversion_holding_order(store: &Engine, c: &Conversion) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM conversions WHERE order_key = $1")
        .bind(c.order_key())
        .fetch_optional(store.writer())
        .await
}

#[async_trait]
impl ConversionStore for Engine {
    async fn record_conversions(&self, batch: Vec<PendingConversion>) -> StoreResult<Vec<RecordOutcome>> {
        use std::collections::{HashMap, HashSet};
        let reads = batch::reads_for(&batch);
        // Order ids found taken by an earlier attempt of this batch.
        let mut taken: HashMap<(String, bool, String), String> = HashMap::new();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut state = batch::BatchState { existing_orders: taken.clone(), ..Default::default() };
            let mut tx = self.begin_write().await?;
            for (merchant_id, month) in &reads.capped_months {
                let tracked: i64 = sqlx::query_scalar(concat!(
                    "SELECT ",
                    sum_minor!("amount_minor"),
                    " \
                     FROM monthly_sales WHERE merchant_id = $1 AND month = $2"
                ))
                .bind(merchant_id)
                .bind(month)
                .fetch_one(&mut *tx)
                .await?;
                state.tracked.insert((merchant_id.clone(), *month), tracked);
            }
            for key in &reads.volumes {
                let (sales_count, revenue_minor): (i64, i64) = sqlx::query_as(concat!(
                    "SELECT COUNT(*), ",
                    sum_minor!("amount_minor"),
                    " \
                     FROM conversions WHERE campaign_id = $1 AND affiliate_id = $2 \
                     AND is_test = $3 AND created_at >= $4 \
                     AND status NOT IN ('rejected', 'refunded')"
                ))
                .bind(&key.campaign_id)
                .bind(&key.affiliate_id)
                .bind(key.is_test)
                .bind(key.month_start)
                .fetch_one(&mut *tx)
                .await?;
                state
                    .volumes
                    .insert(key.clone(), refline_domain::AffiliateVolume { sales_count, revenue_minor });
            }
            let plan = batch::plan(&batch, state);
            let mut inserted: HashSet<String> = HashSet::new();
            // 21 binds a row; 200 rows stay far below both engines' parameter limits.
            for chunk in plan.inserts.chunks(200) {
                let mut query = sqlx::QueryBuilder::new(
                    "INSERT INTO conversions (id, merchant_id, campaign_id, affiliate_id, \
                        amount_minor, commission_minor, currency, status, order_id, order_key, click_id, \
                        customer_email, customer_name, conversion_type, parent_conversion_id, \
                        payment_number, source, is_test, fraud_score, fraud_signals, created_at, \
                        updated_at) ",
                );
                query.push_values(chunk, |mut row, p| {
                    let c = &p.conversion;
                    row.push_bind(&c.id)
                        .push_bind(&c.merchant_id)
                        .push_bind(&c.campaign_id)
                        .push_bind(&c.affiliate_id)
                        .push_bind(c.amount_minor)
                        .push_bind(c.commission_minor)
                        .push_bind(&c.currency)
                        .push_bind(&c.status)
                        .push_bind(&c.order_id)
                        .push_bind(c.order_key())
                        .push_bind(&c.click_id)
                        .push_bind(&c.customer_email)
                        .push_bind(&c.customer_name)
                        .push_bind(&c.conversion_type)
                        .push_bind(&c.parent_conversion_id)
                        .push_bind(c.payment_number)
                        .push_bind(&c.source)
                        .push_bind(c.is_test)
                        .push_bind(c.fraud_score)
                        .push_bind(&c.fraud_signals)
                        .push_bind(c.created_at)
                        .push_bind(c.updated_at);
                });
                // The unique index arbitrates used order ids; no read-then-write race.
                query.push(" ON CONFLICT (order_key) DO NOTHING RETURNING id");
                let ids: Vec<String> = query.build_query_scalar().fetch_all(&mut *tx).await?;
                inserted.extend(ids);
            }
            let conflicted: Vec<&batch::PlannedInsert> =
                plan.inserts.iter().filter(|p| !inserted.contains(&p.conversion.id)).collect();
            if !conflicted.is_empty() && attempt == 1 {
                // Some order ids were already used. Learn which (by their full key, so
                // the unique index serves the read) and plan again: caps and tier
                // volumes must not count sales that turn out to be duplicates.
                tx.rollback().await?;
                for p in conflicted {
                    let c = &p.conversion;
                    let existing = conversion_holding_order(self, c).await?;
                    if let (Some(id), Some(order)) = (existing, &c.order_id) {
                        taken.insert((c.merchant_id.clone(), c.is_test, order.clone()), id);
                    }
                }
                continue;
            }
            let done = plan.inserts.iter().filter(|p| inserted.contains(&p.conversion.id));
            for (merchant_id, month, shard, amount) in batch::tallies(done) {
                sqlx::query(
                    "INSERT INTO monthly_sales (merchant_id, month, shard, amount_minor) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (merchant_id, month, shard) \
                     DO UPDATE SET amount_minor = monthly_sales.amount_minor + excluded.amount_minor",
                )
                .bind(merchant_id)
                .bind(month)
                .bind(shard)
                .bind(amount)
                .execute(&mut *tx)
                .await?;
            }
            let created: Vec<OutboxEvent> = plan
                .inserts
                .iter()
                .filter(|p| !p.conversion.is_test && inserted.contains(&p.conversion.id))
                .map(|p| OutboxEvent {
                    merchant_id: p.conversion.merchant_id.clone(),
                    event: "conversion.created",
                    data: outbox::conversion_data(&p.conversion),
                    at: p.conversion.created_at,
                })
                .collect();
            if !created.is_empty() {
                emit_events(&mut tx, &created).await?;
            }
            tx.commit().await?;
            let mut outcomes = plan.decided;
            for p in plan.inserts {
                let outcome = if inserted.contains(&p.conversion.id) {
                    Ok(p.conversion)
                } else {
                    // Taken by another writer between the two attempts. The batch is
                    // committed: a failed look-up is this sale's answer alone, never the
                    // batch's (which would make committed sales look unwritten).
                    let c = &p.conversion;
                    match conversion_holding_order(self, c).await {
                        Ok(Some(existing_id)) => Err(RecordError::Duplicate { existing_id }),
                        Ok(None) => Err(RecordError::Store(StoreError::Retryable(
                            "order id conflict on a row that is gone".into(),
                        ))),
                        Err(err) => Err(RecordError::Store(err.into())),
                    }
                };
                if let Some(slot) = outcomes.get_mut(p.index) {
                    *slot = Some(outcome);
                }
            }
            return Ok(outcomes
                .into_iter()
                .map(|o| o.unwrap_or_else(|| Err(StoreError::Other("undecided sale".into()).into())))
                .collect());
        }
    }

    async fn find_attribution(&self, q: &AttributionQuery<'_>) -> StoreResult<Option<Attribution>> {
        Ok(sqlx::query_as(
            "SELECT c.*, a.id AS affiliate_id, a.email AS affiliate_email, \
                a.name AS affiliate_name, a.created_via AS affiliate_created_via, \
                a.created_at AS affiliate_created_at, m.status AS membership_status, \
                k.id AS click_id, k.ip AS click_ip, k.device_hash AS click_device_hash, \
                d.id AS duplicate_id \
             FROM campaigns c \
             LEFT JOIN affiliates a ON a.merchant_id = c.merchant_id AND a.id = $3 \
             LEFT JOIN memberships m ON m.campaign_id = c.id AND m.affiliate_id = a.id \
             LEFT JOIN clicks k ON k.merchant_id = c.merchant_id AND k.id = $4 \
             LEFT JOIN conversions d ON d.order_key = $5 \
             WHERE c.merchant_id = $1 AND c.id = $2",
        )
        .bind(q.merchant_id)
        .bind(q.campaign_id)
        .bind(q.affiliate_id)
        .bind(q.click_id)
        .bind(q.order_id.map(|o| order_key(q.merchant_id, q.is_test, o)))
        .fetch_optional(self.reader())
        .await?)
    }

    async fn get_conversion(&self, merchant_id: &str, id: &str) -> StoreResult<Option<Conversion>> {
        Ok(sqlx::query_as("SELECT * FROM conversions WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn list_conversions(
        &self,
        merchant_id: &str,
        f: &ConversionFilter,
        page: PageRequest<ConversionSort>,
    ) -> StoreResult<Page<Conversion>> {
        const FILTER: &str = "WHERE merchant_id = $1 AND is_test = $2 \
            AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR campaign_id = $4) \
            AND ($5 IS NULL OR affiliate_id = $5) AND ($6 IS NULL OR created_at >= $6) \
            AND ($7 IS NULL OR created_at <= $7)";
        let column = match page.sort {
            ConversionSort::CreatedAt => "created_at",
            ConversionSort::Amount => "amount_minor",
        };
        let sql = format!(
            "SELECT * FROM conversions {FILTER} ORDER BY {column} {dir}, id {dir} \
             LIMIT $8 OFFSET $9",
            dir = page.direction()
        );
        let items = sqlx::query_as(&sql)
            .bind(merchant_id)
            .bind(f.is_test)
            .bind(f.status.as_deref())
            .bind(f.campaign_id.as_deref())
            .bind(f.affiliate_id.as_deref())
            .bind(f.from)
            .bind(f.to)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(self.reader())
            .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM conversions {FILTER}"))
            .bind(merchant_id)
            .bind(f.is_test)
            .bind(f.status.as_deref())
            .bind(f.campaign_id.as_deref())
            .bind(f.affiliate_id.as_deref())
            .bind(f.from)
            .bind(f.to)
            .fetch_one(self.reader())
            .await?;
        Ok(Page { items, total })
    }

    async fn update_conversion_status(
        &self,
        merchant_id: &str,
        id: &str,
        from: &str,
        to: &str,
        now: i64,
        announce: bool,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let updated: Option<Conversion> = sqlx::query_as(
            "UPDATE conversions SET status = $4, updated_at = $5 \
             WHERE merchant_id = $1 AND id = $2 AND status = $3 RETURNING *",
        )
        .bind(merchant_id)
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(c) = updated else {
            tx.rollback().await?;
            return Ok(false);
        };
        if announce && !c.is_test {
            let event = OutboxEvent {
                merchant_id: c.merchant_id.clone(),
                event: refline_domain::conversion_status_event(&c.status),
                data: outbox::conversion_data(&c),
                at: now,
            };
            emit_events(&mut tx, std::slice::from_ref(&event)).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn count_chain_payments(&self, merchant_id: &str, parent_id: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversions WHERE merchant_id = $1 \
             AND (id = $2 OR parent_conversion_id = $2)",
        )
        .bind(merchant_id)
        .bind(parent_id)
        .fetch_one(self.reader())
        .await?)
    }
}

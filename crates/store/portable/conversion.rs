//! [`refline_store::ConversionStore`].

use async_trait::async_trait;
use refline_domain::{ConversionStatus, Mode};
use refline_store::{
    order_key, outbox, rollup::RollupDelta, Attribution, AttributionQuery, Conversion, ConversionFilter,
    ConversionSort, ConversionStore, Page, PageRequest, PendingConversion, RecordOutcome, ReviewRow,
    StoreResult,
};

use super::{batch::record_batch, webhook::emit_events};
use crate::Engine;

/// An attribution with the index of the query it answers (batched lookups).
#[derive(sqlx::FromRow)]
struct IndexedAttribution {
    i: i64,
    #[sqlx(flatten)]
    attribution: Attribution,
}

#[async_trait]
impl ConversionStore for Engine {
    async fn record_conversions(&self, batch: Vec<PendingConversion>) -> StoreResult<Vec<RecordOutcome>> {
        record_batch(self, &batch).await
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
        .bind(q.order_id.map(|o| order_key(q.merchant_id, q.mode, o)))
        .fetch_optional(self.reader())
        .await?)
    }

    async fn find_attributions(
        &self,
        queries: &[AttributionQuery<'_>],
    ) -> StoreResult<Vec<Option<Attribution>>> {
        let mut found: Vec<Option<Attribution>> = vec![None; queries.len()];
        for (chunk_no, chunk) in queries.chunks(500).enumerate() {
            let mut query = sqlx::QueryBuilder::<crate::Db>::new(
                "WITH q (i, merchant_id, campaign_id, affiliate_id, click_id, order_key) AS (",
            );
            query.push_values(chunk.iter().enumerate(), |mut row, (i, q)| {
                row.push_bind(i64::try_from(chunk_no * 500 + i).unwrap_or(i64::MAX))
                    .push_bind(q.merchant_id)
                    .push_bind(q.campaign_id)
                    .push_bind(q.affiliate_id)
                    .push_bind(q.click_id)
                    .push_bind(q.order_id.map(|o| order_key(q.merchant_id, q.mode, o)));
            });
            // The same joins as `find_attribution`, once per query row.
            query.push(
                ") SELECT q.i AS i, c.*, a.id AS affiliate_id, a.email AS affiliate_email, \
                    a.name AS affiliate_name, a.created_via AS affiliate_created_via, \
                    a.created_at AS affiliate_created_at, m.status AS membership_status, \
                    k.id AS click_id, k.ip AS click_ip, k.device_hash AS click_device_hash, \
                    d.id AS duplicate_id \
                 FROM q JOIN campaigns c ON c.merchant_id = q.merchant_id AND c.id = q.campaign_id \
                 LEFT JOIN affiliates a ON a.merchant_id = c.merchant_id AND a.id = q.affiliate_id \
                 LEFT JOIN memberships m ON m.campaign_id = c.id AND m.affiliate_id = a.id \
                 LEFT JOIN clicks k ON k.merchant_id = c.merchant_id AND k.id = q.click_id \
                 LEFT JOIN conversions d ON d.order_key = q.order_key",
            );
            let rows: Vec<IndexedAttribution> =
                query.build_query_as().persistent(keep_batch_statements!()).fetch_all(self.reader()).await?;
            for row in rows {
                if let Some(slot) = usize::try_from(row.i).ok().and_then(|i| found.get_mut(i)) {
                    *slot = Some(row.attribution);
                }
            }
        }
        Ok(found)
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
            .bind(f.mode)
            .bind(f.status)
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
            .bind(f.mode)
            .bind(f.status)
            .bind(f.campaign_id.as_deref())
            .bind(f.affiliate_id.as_deref())
            .bind(f.from)
            .bind(f.to)
            .fetch_one(self.reader())
            .await?;
        Ok(Page { items, total })
    }

    async fn search_conversions(
        &self,
        merchant_id: &str,
        mode: Mode,
        pattern: &str,
        limit: i64,
    ) -> StoreResult<Vec<Conversion>> {
        Ok(sqlx::query_as(
            "SELECT * FROM conversions WHERE merchant_id = $1 AND is_test = $2 \
             AND (LOWER(COALESCE(order_id, '')) LIKE $3 ESCAPE '\\' \
                  OR LOWER(COALESCE(customer_name, '')) LIKE $3 ESCAPE '\\' \
                  OR LOWER(COALESCE(customer_email, '')) LIKE $3 ESCAPE '\\') \
             ORDER BY created_at DESC, id DESC LIMIT $4",
        )
        .bind(merchant_id)
        .bind(mode)
        .bind(pattern)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    async fn recent_conversions(
        &self,
        merchant_id: &str,
        mode: Mode,
        limit: i64,
    ) -> StoreResult<Vec<Conversion>> {
        Ok(sqlx::query_as(
            "SELECT * FROM conversions WHERE merchant_id = $1 AND is_test = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(merchant_id)
        .bind(mode)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    async fn update_conversion_status(
        &self,
        merchant_id: &str,
        id: &str,
        from: ConversionStatus,
        to: ConversionStatus,
        now: i64,
        mode: Mode,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let updated: Option<Conversion> = sqlx::query_as(
            "UPDATE conversions SET status = $4, updated_at = $5, \
                approved_at = CASE WHEN $4 = 'approved' THEN $5 ELSE approved_at END \
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
        // A rejection reverses the commission and takes it out of any open payout.
        super::ledger::sync_commission(&mut tx, &c, now).await?;
        if mode.is_live() {
            if let Some(event) = outbox::conversion_changed(&c, now) {
                emit_events(&mut tx, std::slice::from_ref(&event)).await?;
            }
        }
        let delta = RollupDelta::status_changed(&c, from);
        if !delta.is_empty() {
            super::rollup::apply(&mut tx, &delta, super::rollup::shard_of(&c.id)).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn list_review_queue(
        &self,
        merchant_id: &str,
        f: &ConversionFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<ReviewRow>> {
        // The queue's order (pending before the rest, fraud-flagged first within each, then
        // newest first) is a merge of parts each read in index order: one per status and flag
        // (`conversions_queue_status_idx` for unflagged ones, the partial
        // `conversions_queue_flagged_idx` for flagged ones), each cut at the page's end, so a
        // page reads about (offset + limit) rows per part instead of sorting every conversion.
        let statuses: Vec<ConversionStatus> = match f.status {
            Some(status) => vec![status],
            None => ConversionStatus::ALL.to_vec(),
        };
        let end = offset.saturating_add(limit);
        let mut q = sqlx::QueryBuilder::new(
            "SELECT c.*, COALESCE(a.email, '') AS affiliate_email, a.name AS affiliate_name, \
                COALESCE(k.name, '') AS campaign_name FROM (",
        );
        let mut first = true;
        for status in statuses {
            for flagged in [true, false] {
                if !first {
                    q.push(" UNION ALL ");
                }
                first = false;
                let rank = match (status == ConversionStatus::Pending, flagged) {
                    (true, true) => 0,
                    (true, false) => 1,
                    (false, true) => 2,
                    (false, false) => 3,
                };
                q.push(format!(
                    "SELECT * FROM (SELECT {rank} AS queue_rank, c.created_at AS queue_at, c.id AS queue_id \
                     FROM conversions c"
                ));
                review_filters(&mut q, merchant_id, f);
                q.push(" AND c.status = ").push_bind(status);
                q.push(if flagged { " AND c.fraud_score IS NOT NULL" } else { " AND c.fraud_score IS NULL" });
                q.push(" ORDER BY c.created_at DESC, c.id DESC LIMIT ").push_bind(end).push(") p");
            }
        }
        q.push(
            ") r JOIN conversions c ON c.id = r.queue_id \
             LEFT JOIN affiliates a ON a.merchant_id = c.merchant_id AND a.id = c.affiliate_id \
             LEFT JOIN campaigns k ON k.merchant_id = c.merchant_id AND k.id = c.campaign_id \
             ORDER BY r.queue_rank, r.queue_at DESC, r.queue_id DESC LIMIT ",
        );
        q.push_bind(limit).push(" OFFSET ").push_bind(offset);
        let items = q.build_query_as().persistent(keep_batch_statements!()).fetch_all(self.reader()).await?;
        let mut count = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM conversions c");
        review_filters(&mut count, merchant_id, f);
        if let Some(status) = f.status {
            count.push(" AND c.status = ").push_bind(status);
        }
        let total: i64 =
            count.build_query_scalar().persistent(keep_batch_statements!()).fetch_one(self.reader()).await?;
        Ok(Page { items, total })
    }
}

/// Appends the WHERE clause of `f` but its status for merchant `merchant_id` (conversions
/// aliased `c`): only the filters given, so each is a plain comparison a planner can serve
/// with an index.
fn review_filters(q: &mut sqlx::QueryBuilder<'_, crate::Db>, merchant_id: &str, f: &ConversionFilter) {
    q.push(" WHERE c.merchant_id = ").push_bind(merchant_id.to_string());
    q.push(" AND c.is_test = ").push_bind(f.mode);
    if let Some(campaign) = &f.campaign_id {
        q.push(" AND c.campaign_id = ").push_bind(campaign.clone());
    }
    if let Some(affiliate) = &f.affiliate_id {
        q.push(" AND c.affiliate_id = ").push_bind(affiliate.clone());
    }
    if let Some(from) = f.from {
        q.push(" AND c.created_at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        q.push(" AND c.created_at <= ").push_bind(to);
    }
}

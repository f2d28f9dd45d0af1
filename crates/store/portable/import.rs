//! [`refline_store::ImportStore`]: what imported source objects became, import runs, and the
//! quiet writes of imported history (no outbox events: imported history is not news).

use async_trait::async_trait;
use refline_domain::{
    ledger::{EntryKind, PayoutStatus},
    ConversionStatus, MembershipStatus,
};
use refline_store::{
    rollup::RollupDelta, Affiliate, Conversion, ImportRun, ImportStore, ImportedAffiliateWrite,
    ImportedAffiliateWritten, ImportedConversion, ImportedConversionWrite, ImportedObject, ImportedPayout,
    StoreResult,
};

use refline_store::import_page::{accrued_status, fixed_chunks, PAGE_CHUNKS};

use super::{import_affiliates, import_page, ledger, rollup, Conn};
use crate::Engine;

#[async_trait]
impl ImportStore for Engine {
    async fn find_imported(
        &self,
        merchant_id: &str,
        source: &str,
        kind: &str,
        source_id: &str,
    ) -> StoreResult<Option<ImportedObject>> {
        Ok(sqlx::query_as(
            "SELECT * FROM import_objects \
             WHERE merchant_id = $1 AND source = $2 AND kind = $3 AND source_id = $4",
        )
        .bind(merchant_id)
        .bind(source)
        .bind(kind)
        .bind(source_id)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn find_imported_many(
        &self,
        merchant_id: &str,
        source: &str,
        kind: &str,
        source_ids: &[String],
    ) -> StoreResult<Vec<ImportedObject>> {
        let mut found = Vec::with_capacity(source_ids.len());
        for chunk in fixed_chunks(source_ids, &PAGE_CHUNKS) {
            let mut q = sqlx::QueryBuilder::new("SELECT * FROM import_objects WHERE merchant_id = ");
            q.push_bind(merchant_id).push(" AND source = ").push_bind(source);
            q.push(" AND kind = ").push_bind(kind).push(" AND ");
            // In the form each engine plans as one key lookup per id (`push_id_list!`).
            push_id_list!(q, "source_id", chunk);
            found.extend(
                q.build_query_as::<ImportedObject>()
                    .persistent(keep_batch_statements!())
                    .fetch_all(self.reader())
                    .await?,
            );
        }
        Ok(found)
    }

    async fn save_imported(&self, o: &ImportedObject) -> StoreResult<()> {
        let mut conn = self.writer().acquire().await?;
        save_object(&mut conn, o, &o.refline_id).await
    }

    async fn unfinished_import_run(&self, merchant_id: &str, source: &str) -> StoreResult<Option<ImportRun>> {
        Ok(sqlx::query_as(
            "SELECT * FROM import_runs WHERE merchant_id = $1 AND source = $2 AND status <> 'finished' \
             ORDER BY started_at DESC, id DESC LIMIT 1",
        )
        .bind(merchant_id)
        .bind(source)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn insert_import_run(&self, r: &ImportRun) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO import_runs (id, merchant_id, source, status, step, cursor, report, error, \
                started_at, updated_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&r.id)
        .bind(&r.merchant_id)
        .bind(&r.source)
        .bind(&r.status)
        .bind(&r.step)
        .bind(&r.cursor)
        .bind(&r.report)
        .bind(&r.error)
        .bind(r.started_at)
        .bind(r.updated_at)
        .bind(r.finished_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn refresh_import_statistics(&self) -> StoreResult<()> {
        if let Some(statement) = import_analyze_statement!() {
            sqlx::query(statement).execute(self.writer()).await?;
        }
        Ok(())
    }

    async fn save_import_run(&self, r: &ImportRun) -> StoreResult<()> {
        sqlx::query(
            "UPDATE import_runs SET status = $3, step = $4, cursor = $5, report = $6, error = $7, \
                updated_at = $8, finished_at = $9 WHERE merchant_id = $1 AND id = $2",
        )
        .bind(&r.merchant_id)
        .bind(&r.id)
        .bind(&r.status)
        .bind(&r.step)
        .bind(&r.cursor)
        .bind(&r.report)
        .bind(&r.error)
        .bind(r.updated_at)
        .bind(r.finished_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn first_campaign_of(&self, merchant_id: &str, affiliate_id: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT campaign_id FROM memberships WHERE merchant_id = $1 AND affiliate_id = $2 \
             ORDER BY joined_at, campaign_id LIMIT 1",
        )
        .bind(merchant_id)
        .bind(affiliate_id)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn first_campaigns_of(
        &self,
        merchant_id: &str,
        affiliate_ids: &[String],
    ) -> StoreResult<Vec<(String, String)>> {
        let mut firsts: Vec<(String, String)> = Vec::with_capacity(affiliate_ids.len());
        for chunk in fixed_chunks(affiliate_ids, &PAGE_CHUNKS) {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT affiliate_id, campaign_id FROM memberships WHERE merchant_id = ",
            );
            q.push_bind(merchant_id).push(" AND affiliate_id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id);
            }
            q.push(") ORDER BY affiliate_id, joined_at, campaign_id");
            // Ordered: each affiliate's first row is its first campaign.
            for (affiliate, campaign) in q
                .build_query_as::<(String, String)>()
                .persistent(keep_batch_statements!())
                .fetch_all(self.reader())
                .await?
            {
                if firsts.last().is_none_or(|(last, _)| *last != affiliate) {
                    firsts.push((affiliate, campaign));
                }
            }
        }
        Ok(firsts)
    }

    async fn import_run(&self, merchant_id: &str, id: &str) -> StoreResult<Option<ImportRun>> {
        Ok(sqlx::query_as("SELECT * FROM import_runs WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn list_import_runs(&self, merchant_id: &str, limit: i64) -> StoreResult<Vec<ImportRun>> {
        Ok(sqlx::query_as(
            "SELECT * FROM import_runs WHERE merchant_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
        )
        .bind(merchant_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    async fn import_affiliate(&self, a: &Affiliate) -> StoreResult<(String, bool)> {
        let mut tx = self.begin_write().await?;
        let found = super::affiliate::insert_or_find_affiliate(&mut tx, a).await?;
        tx.commit().await?;
        Ok(found)
    }

    async fn import_membership(
        &self,
        merchant_id: &str,
        campaign_id: &str,
        affiliate_id: &str,
        status: MembershipStatus,
        now: i64,
    ) -> StoreResult<bool> {
        let mut conn = self.writer().acquire().await?;
        upsert_membership(&mut conn, merchant_id, campaign_id, affiliate_id, status, now).await
    }

    async fn import_affiliates(
        &self,
        writes: &[ImportedAffiliateWrite],
        now: i64,
    ) -> StoreResult<Vec<StoreResult<ImportedAffiliateWritten>>> {
        import_affiliates::import_affiliates(self, writes, now).await
    }

    async fn import_conversion(
        &self,
        c: &Conversion,
        paid: Option<&ImportedPayout>,
    ) -> StoreResult<ImportedConversion> {
        let mut tx = self.begin_write().await?;
        let Some(row) = insert_imported(&mut tx, c, paid).await? else {
            let existing = existing_id(&mut tx, c).await?;
            tx.rollback().await?;
            return Ok(ImportedConversion::Existing(existing));
        };
        rollup::apply(&mut tx, &RollupDelta::inserted([&row]), rollup::shard_of(&row.id)).await?;
        tx.commit().await?;
        Ok(ImportedConversion::Created(Box::new(row)))
    }

    async fn import_conversions(
        &self,
        writes: &[ImportedConversionWrite],
    ) -> StoreResult<Vec<StoreResult<String>>> {
        // Most pages have no row the database refuses: written with a few multi-row
        // statements. A refusal rolls that back and the page is written again row by row with a
        // savepoint each, so only the refused row fails.
        let mut tx = self.begin_write().await?;
        match import_page::write_page(&mut tx, writes).await {
            Ok((ids, rows)) => {
                finish_page(tx, &rows).await?;
                Ok(ids.into_iter().map(Ok).collect())
            }
            Err(_) => {
                tx.rollback().await?;
                import_isolating(self, writes).await
            }
        }
    }

    async fn update_imported_conversion(
        &self,
        merchant_id: &str,
        conversion_id: &str,
        from: ConversionStatus,
        to: ConversionStatus,
        paid: Option<&ImportedPayout>,
        now: i64,
    ) -> StoreResult<bool> {
        if from == ConversionStatus::Paid || from == to {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let current: Option<Conversion> = sqlx::query_as(concat!(
            "SELECT * FROM conversions WHERE merchant_id = $1 AND id = $2 AND status = $3 ",
            for_update!()
        ))
        .bind(merchant_id)
        .bind(conversion_id)
        .bind(from)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current) = current else {
            tx.rollback().await?;
            return Ok(false);
        };
        // Held by an open payout of Refline's own: paying it as imported too would pay it twice.
        let held: Option<String> =
            sqlx::query_scalar("SELECT payout_id FROM payout_items WHERE conversion_id = $1 AND is_open")
                .bind(&current.id)
                .fetch_optional(&mut *tx)
                .await?;
        if held.is_some() && to == ConversionStatus::Paid {
            tx.rollback().await?;
            return Ok(false);
        }
        let row = settle(&mut tx, &current, to, paid, now).await?;
        let delta = RollupDelta::status_changed(&row, from);
        if !delta.is_empty() {
            rollup::apply(&mut tx, &delta, rollup::shard_of(&row.id)).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// Inserts imported conversion `c` with its ledger and, for a paid one, its payout; `None`
/// (nothing written) when its order id is taken. The rollups are the caller's.
async fn insert_imported(
    conn: &mut Conn,
    c: &Conversion,
    paid: Option<&ImportedPayout>,
) -> StoreResult<Option<Conversion>> {
    let inserted: Option<String> = sqlx::query_scalar(
        "INSERT INTO conversions (id, merchant_id, campaign_id, affiliate_id, amount_minor, \
            commission_minor, currency, status, order_id, order_key, click_id, customer_email, \
            customer_name, conversion_type, parent_conversion_id, payment_number, source, is_test, \
            fraud_score, fraud_signals, created_at, updated_at, approved_at, earned_minor) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
            $19, $20, $21, $22, $23, $24) \
         ON CONFLICT (order_key) DO NOTHING RETURNING id",
    )
    .bind(&c.id)
    .bind(&c.merchant_id)
    .bind(&c.campaign_id)
    .bind(&c.affiliate_id)
    .bind(c.amount_minor)
    .bind(c.commission_minor)
    .bind(&c.currency)
    // Written as accrued first; `settle` below takes it to its status with the ledger.
    .bind(accrued_status(c.status))
    .bind(&c.order_id)
    .bind(c.order_key())
    .bind(&c.click_id)
    .bind(&c.customer_email)
    .bind(&c.customer_name)
    .bind(c.conversion_type)
    .bind(&c.parent_conversion_id)
    .bind(c.payment_number)
    .bind(&c.source)
    .bind(c.mode)
    .bind(c.fraud_score)
    .bind(&c.fraud_signals)
    .bind(c.created_at)
    .bind(c.updated_at)
    .bind(c.approved_at)
    .bind(c.commission_minor)
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_none() {
        return Ok(None);
    }
    let written =
        Conversion { status: accrued_status(c.status), earned_minor: c.commission_minor, ..c.clone() };
    ledger::accrue(conn, &[&written]).await?;
    Ok(Some(settle(conn, &written, c.status, paid, c.updated_at).await?))
}

/// The conversion holding `c`'s order id.
async fn existing_id(conn: &mut Conn, c: &Conversion) -> StoreResult<String> {
    Ok(sqlx::query_scalar("SELECT id FROM conversions WHERE order_key = $1")
        .bind(c.order_key())
        .fetch_one(&mut *conn)
        .await?)
}

/// One write of a batch: the conversion (or the one already holding its order id), the
/// customer's memory and the source object's row. Answers the id and the row written, if any.
async fn write_one(
    conn: &mut Conn,
    w: &ImportedConversionWrite,
) -> StoreResult<(String, Option<Conversion>)> {
    let row = insert_imported(conn, &w.conversion, w.paid.as_ref()).await?;
    let id = match &row {
        Some(row) => row.id.clone(),
        None => existing_id(conn, &w.conversion).await?,
    };
    if let Some(m) = &w.memory {
        sqlx::query(
            "INSERT INTO processor_subscriptions (merchant_id, provider, subscription_key, \
                campaign_id, affiliate_id, click_id, first_conversion_id, trial_conversion_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (merchant_id, provider, subscription_key) DO UPDATE SET \
                first_conversion_id = COALESCE(processor_subscriptions.first_conversion_id, excluded.first_conversion_id)",
        )
        .bind(&m.merchant_id)
        .bind(&m.provider)
        .bind(&m.subscription_key)
        .bind(&m.campaign_id)
        .bind(&m.affiliate_id)
        .bind(&m.click_id)
        .bind(&id)
        .bind(&m.trial_conversion_id)
        .bind(m.created_at)
        .execute(&mut *conn)
        .await?;
    }
    save_object(conn, &w.object, &id).await?;
    Ok((id, row))
}

/// [`ImportStore::import_conversions`] with a savepoint per row: a refused row is rolled back
/// alone and answered with its error.
async fn import_isolating(
    store: &Engine,
    writes: &[ImportedConversionWrite],
) -> StoreResult<Vec<StoreResult<String>>> {
    let mut tx = store.begin_write().await?;
    let mut answers = Vec::with_capacity(writes.len());
    let mut rows = Vec::new();
    for write in writes {
        let mut one = sqlx::Connection::begin(&mut *tx).await?;
        match write_one(&mut one, write).await {
            Ok((id, row)) => {
                one.commit().await?;
                rows.extend(row);
                answers.push(Ok(id));
            }
            Err(err) => {
                one.rollback().await?;
                answers.push(Err(err));
            }
        }
    }
    finish_page(tx, &rows).await?;
    Ok(answers)
}

/// The rollups of a page's new rows, last, then the commit.
async fn finish_page(mut tx: sqlx::Transaction<'static, crate::Db>, rows: &[Conversion]) -> StoreResult<()> {
    if let Some(first) = rows.first() {
        let shard = rollup::shard_of(&first.id);
        rollup::apply(&mut tx, &RollupDelta::inserted(rows.iter()), shard).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Takes conversion `c` (as it is in this transaction) to `to`: the status, then the ledger
/// entry that makes the ledger agree (a reversal for rejected or refunded), and for `paid` a
/// completed `imported` payout holding it with its `paid` entry. Answers the row as written.
async fn settle(
    conn: &mut Conn,
    c: &Conversion,
    to: ConversionStatus,
    paid: Option<&ImportedPayout>,
    now: i64,
) -> StoreResult<Conversion> {
    let target = accrued_status(to);
    let mut row: Conversion = if target != c.status {
        sqlx::query_as(
            "UPDATE conversions SET status = $2, updated_at = $3, \
                approved_at = CASE WHEN $2 = 'approved' THEN COALESCE(approved_at, $3) ELSE approved_at END \
             WHERE id = $1 RETURNING *",
        )
        .bind(&c.id)
        .bind(target)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
    } else {
        c.clone()
    };
    ledger::sync_commission(conn, &row, now).await?;
    if to != ConversionStatus::Paid {
        return Ok(row);
    }
    let Some(payout) = paid else {
        return Ok(row);
    };
    let amount: i64 = sqlx::query_scalar("SELECT earned_minor - paid_minor FROM conversions WHERE id = $1")
        .bind(&c.id)
        .fetch_one(&mut *conn)
        .await?;
    if amount <= 0 {
        // Nothing left to pay (a zero commission): paid, without a payout of nothing.
        return Ok(sqlx::query_as(
            "UPDATE conversions SET status = $2, updated_at = $3 WHERE id = $1 RETURNING *",
        )
        .bind(&row.id)
        .bind(ConversionStatus::Paid)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?);
    }
    sqlx::query(
        "INSERT INTO payouts (id, merchant_id, affiliate_id, currency, status, method, destination, \
            amount_minor, is_test, reference, export_id, transfer_id, failure_reason, created_at, \
            updated_at, completed_at) \
         VALUES ($1, $2, $3, $4, $5, 'imported', NULL, $6, $7, $8, NULL, NULL, NULL, $9, $9, $9)",
    )
    .bind(&payout.id)
    .bind(&row.merchant_id)
    .bind(&row.affiliate_id)
    .bind(&row.currency)
    .bind(PayoutStatus::Completed)
    .bind(amount)
    .bind(row.mode)
    .bind(&payout.reference)
    .bind(payout.paid_at)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO payout_items (payout_id, conversion_id, amount_minor, is_open) VALUES ($1, $2, $3, FALSE)",
    )
    .bind(&payout.id)
    .bind(&row.id)
    .bind(amount)
    .execute(&mut *conn)
    .await?;
    ledger::append(conn, &row, EntryKind::Paid, amount, Some(&payout.id), payout.paid_at).await?;
    row = sqlx::query_as(
        "UPDATE conversions SET status = $2, paid_minor = paid_minor + $3, updated_at = $4 \
         WHERE id = $1 RETURNING *",
    )
    .bind(&row.id)
    .bind(ConversionStatus::Paid)
    .bind(amount)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row)
}

/// Puts the affiliate on the campaign with `status`, or moves its membership there; answers
/// whether anything changed.
pub(super) async fn upsert_membership(
    conn: &mut Conn,
    merchant_id: &str,
    campaign_id: &str,
    affiliate_id: &str,
    status: MembershipStatus,
    now: i64,
) -> StoreResult<bool> {
    // Inserted, or moved when its status differs; an unchanged row is not touched.
    let changed: Option<String> = sqlx::query_scalar(
        "INSERT INTO memberships (campaign_id, affiliate_id, merchant_id, status, joined_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (campaign_id, affiliate_id) DO UPDATE SET status = excluded.status, \
                updated_at = excluded.updated_at \
             WHERE memberships.status <> excluded.status AND memberships.merchant_id = excluded.merchant_id \
             RETURNING affiliate_id",
    )
    .bind(campaign_id)
    .bind(affiliate_id)
    .bind(merchant_id)
    .bind(status)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(changed.is_some())
}

/// Remembers what a source object became (`refline_id`), with the fingerprint of what was read:
/// the one statement both a single import and a page's write use.
pub(super) async fn save_object(conn: &mut Conn, o: &ImportedObject, refline_id: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO import_objects (merchant_id, source, kind, source_id, refline_id, fingerprint, \
            created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (merchant_id, source, kind, source_id) DO UPDATE SET \
            refline_id = excluded.refline_id, fingerprint = excluded.fingerprint, \
            updated_at = excluded.updated_at",
    )
    .bind(&o.merchant_id)
    .bind(&o.source)
    .bind(&o.kind)
    .bind(&o.source_id)
    .bind(refline_id)
    .bind(&o.fingerprint)
    .bind(o.created_at)
    .bind(o.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

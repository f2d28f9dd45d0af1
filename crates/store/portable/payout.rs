//! Payouts, payout settings and the ledger's reads.

use std::collections::HashMap;

use async_trait::async_trait;
use refline_domain::{
    ledger::{EntryKind, PayoutStatus},
    Mode,
};
use refline_store::{
    outbox, CommissionPosition, Conversion, ConversionMoney, LedgerEntry, LedgerSnapshot, NewPayout, Page,
    PageRequest, Payout, PayoutFilter, PayoutItem, PayoutSettings, PayoutStore, PayoutTransition,
    PositionFilter, StoreError, StoreResult,
};

use super::{ledger, webhook::emit_events, Conn};
use crate::Engine;

/// Payout ids per statement when reading or checking many payouts at once.
const IDS_PER_STATEMENT: usize = 500;

#[async_trait]
impl PayoutStore for Engine {
    async fn payout_settings(&self, merchant_id: &str) -> StoreResult<Option<PayoutSettings>> {
        Ok(sqlx::query_as(
            "SELECT payout_hold_days, minimum_payout_hundredths, automatic_payouts, default_payout_method, \
                stripe_secret_key FROM merchants WHERE id = $1",
        )
        .bind(merchant_id)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn update_payout_settings(&self, merchant_id: &str, s: &PayoutSettings) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE merchants SET payout_hold_days = $2, minimum_payout_hundredths = $3, automatic_payouts = $4, \
                default_payout_method = $5, stripe_secret_key = $6 WHERE id = $1",
        )
        .bind(merchant_id)
        .bind(s.payout_hold_days)
        .bind(s.minimum_payout_hundredths)
        .bind(s.automatic_payouts)
        .bind(&s.default_payout_method)
        .bind(&s.stripe_secret_key)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_payout_method(
        &self,
        merchant_id: &str,
        affiliate_id: &str,
        method: Option<&str>,
    ) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE affiliates SET payout_method = $3 WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(affiliate_id)
            .bind(method)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn commission_positions(
        &self,
        merchant_id: &str,
        f: &PositionFilter,
    ) -> StoreResult<Vec<CommissionPosition>> {
        let mut q = sqlx::QueryBuilder::new(
            "SELECT c.id AS conversion_id, c.affiliate_id, c.currency, c.status, c.approved_at, \
                COALESCE(k.hold_days, m.payout_hold_days) AS hold_days, \
                c.earned_minor, \
                c.paid_minor, \
                (SELECT i.amount_minor FROM payout_items i WHERE i.conversion_id = c.id AND i.is_open) \
                  AS open_item_minor, \
                a.payout_method \
             FROM conversions c \
             JOIN campaigns k ON k.id = c.campaign_id \
             JOIN merchants m ON m.id = c.merchant_id \
             JOIN affiliates a ON a.id = c.affiliate_id \
             WHERE c.merchant_id = ",
        );
        q.push_bind(merchant_id).push(" AND c.is_test = ").push_bind(f.mode);
        if let Some(affiliate) = &f.affiliate_id {
            q.push(" AND c.affiliate_id = ").push_bind(affiliate);
        }
        if !f.affiliate_ids.is_empty() {
            q.push(" AND c.affiliate_id IN (");
            let mut list = q.separated(", ");
            for id in &f.affiliate_ids {
                list.push_bind(id);
            }
            q.push(")");
        }
        if let Some(currency) = &f.currency {
            q.push(" AND c.currency = ").push_bind(currency);
        }
        if f.payable_only {
            // Only approved money of affiliates not rejected on the campaign, in no open payout.
            q.push(
                " AND c.status IN ('approved', 'paid') \
                  AND NOT EXISTS (SELECT 1 FROM payout_items i WHERE i.conversion_id = c.id AND i.is_open) \
                  AND NOT EXISTS (SELECT 1 FROM memberships ms WHERE ms.campaign_id = c.campaign_id \
                      AND ms.affiliate_id = c.affiliate_id AND ms.status = 'rejected')",
            );
        } else {
            // Rejected and refunded conversions hold nothing unless something of them was paid.
            q.push(" AND (c.status NOT IN ('rejected', 'refunded') OR c.paid_minor <> 0)");
        }
        q.push(" ORDER BY c.created_at, c.id");
        Ok(q.build_query_as().persistent(keep_batch_statements!()).fetch_all(self.reader()).await?)
    }

    async fn balance_affiliates(
        &self,
        merchant_id: &str,
        mode: Mode,
        currency: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<String>> {
        // The condition of `commission_positions` without `payable_only`: each affiliate is
        // probed through `conversions_affiliate_idx` until one of its commissions qualifies.
        // `$3` is the currency, or NULL for any.
        const HAS_BALANCE: &str = "FROM affiliates a WHERE a.merchant_id = $1 AND EXISTS (\
            SELECT 1 FROM conversions c WHERE c.affiliate_id = a.id AND c.merchant_id = $1 \
            AND c.is_test = $2 AND ($3 IS NULL OR c.currency = $3) \
            AND (c.status NOT IN ('rejected', 'refunded') OR c.paid_minor <> 0))";
        let items =
            sqlx::query_scalar(&format!("SELECT a.id {HAS_BALANCE} ORDER BY a.id LIMIT $4 OFFSET $5"))
                .bind(merchant_id)
                .bind(mode)
                .bind(currency)
                .bind(limit)
                .bind(offset)
                .fetch_all(self.reader())
                .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {HAS_BALANCE}"))
            .bind(merchant_id)
            .bind(mode)
            .bind(currency)
            .fetch_one(self.reader())
            .await?;
        Ok(Page { items, total })
    }

    async fn paid_totals(
        &self,
        merchant_id: &str,
        f: &PositionFilter,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        // From the conversions' paid totals (kept with every paid and returned entry, and checked
        // against the entries by `ledger verify`), so the ledger needs no index of its own here.
        let mut q = sqlx::QueryBuilder::new(concat!(
            "SELECT affiliate_id, currency, ",
            sum_minor!("paid_minor"),
            " FROM conversions WHERE paid_minor <> 0 AND merchant_id = "
        ));
        q.push_bind(merchant_id).push(" AND is_test = ").push_bind(f.mode);
        if let Some(affiliate) = &f.affiliate_id {
            q.push(" AND affiliate_id = ").push_bind(affiliate);
        }
        if !f.affiliate_ids.is_empty() {
            q.push(" AND affiliate_id IN (");
            let mut list = q.separated(", ");
            for id in &f.affiliate_ids {
                list.push_bind(id);
            }
            q.push(")");
        }
        if let Some(currency) = &f.currency {
            q.push(" AND currency = ").push_bind(currency);
        }
        q.push(" GROUP BY affiliate_id, currency");
        Ok(q.build_query_as().persistent(keep_batch_statements!()).fetch_all(self.reader()).await?)
    }

    async fn create_payouts(&self, payouts: &[NewPayout]) -> StoreResult<()> {
        if payouts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        // 16 binds a payout, 4 an item.
        for chunk in payouts.chunks(200) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO payouts (id, merchant_id, affiliate_id, currency, status, method, destination, \
                    amount_minor, is_test, reference, export_id, transfer_id, failure_reason, created_at, \
                    updated_at, completed_at) ",
            );
            q.push_values(chunk, |mut row, n| {
                let p = &n.payout;
                row.push_bind(&p.id)
                    .push_bind(&p.merchant_id)
                    .push_bind(&p.affiliate_id)
                    .push_bind(&p.currency)
                    .push_bind(p.status)
                    .push_bind(&p.method)
                    .push_bind(&p.destination)
                    .push_bind(p.amount_minor)
                    .push_bind(p.mode)
                    .push_bind(&p.reference)
                    .push_bind(&p.export_id)
                    .push_bind(&p.transfer_id)
                    .push_bind(&p.failure_reason)
                    .push_bind(p.created_at)
                    .push_bind(p.updated_at)
                    .push_bind(p.completed_at);
            });
            q.build().persistent(keep_batch_statements!()).execute(&mut *tx).await?;
        }
        let items: Vec<&PayoutItem> = payouts.iter().flat_map(|p| &p.items).collect();
        // The open-item unique index refuses a conversion another run reserved first.
        for chunk in items.chunks(1000) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO payout_items (payout_id, conversion_id, amount_minor, is_open) ",
            );
            q.push_values(chunk, |mut row, i| {
                row.push_bind(&i.payout_id)
                    .push_bind(&i.conversion_id)
                    .push_bind(i.amount_minor)
                    .push_bind(i.is_open);
            });
            q.build().persistent(keep_batch_statements!()).execute(&mut *tx).await?;
        }
        // Every reserved commission must still be what the run read: approved or paid, with the
        // amount planned outstanding. A refund or rejection since then makes the run read again.
        // One statement per 5,000 conversions locks them (PostgreSQL) and reads them by primary key
        // (both engines allow far more binds than that).
        let wanted: HashMap<&str, i64> =
            items.iter().map(|i| (i.conversion_id.as_str(), i.amount_minor)).collect();
        let conversion_ids: Vec<&str> = wanted.keys().copied().collect();
        let mut seen = 0;
        for chunk in conversion_ids.chunks(5_000) {
            for (conversion_id, status, outstanding) in lock_and_read(&mut tx, chunk).await? {
                let planned = wanted.get(conversion_id.as_str()).copied();
                if !matches!(status.as_str(), "approved" | "paid") || planned != Some(outstanding) {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict(format!(
                        "conversion {conversion_id} changed during the run"
                    )));
                }
                seen += 1;
            }
        }
        if seen != items.len() {
            tx.rollback().await?;
            return Err(StoreError::Conflict("a reserved conversion is gone".into()));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_payout(
        &self,
        merchant_id: &str,
        id: &str,
    ) -> StoreResult<Option<(Payout, Vec<PayoutItem>)>> {
        let payout: Option<Payout> =
            sqlx::query_as("SELECT * FROM payouts WHERE merchant_id = $1 AND id = $2")
                .bind(merchant_id)
                .bind(id)
                .fetch_optional(self.reader())
                .await?;
        let Some(payout) = payout else { return Ok(None) };
        let items = sqlx::query_as("SELECT * FROM payout_items WHERE payout_id = $1 ORDER BY conversion_id")
            .bind(id)
            .fetch_all(self.reader())
            .await?;
        Ok(Some((payout, items)))
    }

    async fn list_payouts(
        &self,
        merchant_id: &str,
        f: &PayoutFilter,
        page: PageRequest<()>,
    ) -> StoreResult<Page<Payout>> {
        let mut count = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM payouts p");
        payout_filters(&mut count, merchant_id, f);
        let total: i64 =
            count.build_query_scalar().persistent(keep_batch_statements!()).fetch_one(self.reader()).await?;
        let mut q = sqlx::QueryBuilder::new("SELECT p.* FROM payouts p");
        payout_filters(&mut q, merchant_id, f);
        q.push(" ORDER BY p.created_at ").push(page.direction()).push(", p.id ").push(page.direction());
        q.push(" LIMIT ").push_bind(page.limit).push(" OFFSET ").push_bind(page.offset);
        let items = q.build_query_as().persistent(keep_batch_statements!()).fetch_all(self.reader()).await?;
        Ok(Page { items, total })
    }

    async fn all_payouts(&self, merchant_id: &str, f: &PayoutFilter) -> StoreResult<Vec<Payout>> {
        let mut q = sqlx::QueryBuilder::new("SELECT p.* FROM payouts p");
        payout_filters(&mut q, merchant_id, f);
        q.push(" ORDER BY p.created_at, p.id");
        Ok(q.build_query_as().persistent(keep_batch_statements!()).fetch_all(self.reader()).await?)
    }

    async fn payout_items(&self, payout_ids: &[String]) -> StoreResult<Vec<PayoutItem>> {
        let mut out = Vec::new();
        for chunk in payout_ids.chunks(IDS_PER_STATEMENT) {
            let mut q = sqlx::QueryBuilder::new("SELECT * FROM payout_items WHERE payout_id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id);
            }
            q.push(") ORDER BY payout_id, conversion_id");
            out.extend(
                q.build_query_as::<PayoutItem>()
                    .persistent(keep_batch_statements!())
                    .fetch_all(self.reader())
                    .await?,
            );
        }
        Ok(out)
    }

    async fn transition_payout(&self, t: &PayoutTransition) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let moved: Option<Payout> = sqlx::query_as(
            "UPDATE payouts SET status = $4, updated_at = $5, \
                reference = COALESCE($6, reference), transfer_id = COALESCE($7, transfer_id), \
                failure_reason = COALESCE($8, failure_reason), \
                completed_at = CASE WHEN $4 = 'completed' THEN $5 ELSE completed_at END \
             WHERE merchant_id = $1 AND id = $2 AND status = $3 RETURNING *",
        )
        .bind(&t.merchant_id)
        .bind(&t.payout_id)
        .bind(t.from)
        .bind(t.to)
        .bind(t.now)
        .bind(&t.reference)
        .bind(&t.transfer_id)
        .bind(&t.reason)
        .fetch_optional(&mut *tx)
        .await?;
        if moved.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        let items: Vec<PayoutItem> = sqlx::query_as("SELECT * FROM payout_items WHERE payout_id = $1")
            .bind(&t.payout_id)
            .fetch_all(&mut *tx)
            .await?;
        let mut events = t.events.clone();
        match (t.from, t.to) {
            (_, PayoutStatus::Completed) => {
                for item in &items {
                    if let Some(c) = settle(&mut tx, item, EntryKind::Paid, t.now).await? {
                        if t.announce && item.amount_minor > 0 {
                            events.extend(outbox::conversion_changed(&c, t.now));
                        }
                    }
                }
                close_items(&mut tx, &t.payout_id).await?;
            }
            (PayoutStatus::Completed, PayoutStatus::Failed) => {
                for item in &items {
                    if let Some(c) = settle(&mut tx, item, EntryKind::Returned, t.now).await? {
                        // What the commission has outstanding changed: an open payout netting a
                        // clawback of it no longer nets the right amount and lets it go.
                        ledger::sync_commission(&mut tx, &c, t.now).await?;
                        // Back to `approved` because its money came back: an update, not a
                        // merchant's approval.
                        if t.announce && item.amount_minor > 0 {
                            events.extend(outbox::conversion_updated(&c, t.now));
                        }
                    }
                }
            }
            (_, PayoutStatus::Failed | PayoutStatus::Cancelled) => close_items(&mut tx, &t.payout_id).await?,
            _ => {}
        }
        if !events.is_empty() {
            emit_events(&mut tx, &events).await?;
        }
        if let Some(mail) = &t.mail {
            super::mail::insert_mail(&mut *tx, mail).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn mark_exported(
        &self,
        merchant_id: &str,
        ids: &[String],
        export_id: &str,
        now: i64,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let mut moved = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let mut q = sqlx::QueryBuilder::new("UPDATE payouts SET status = 'processing', export_id = ");
            q.push_bind(export_id).push(", updated_at = ").push_bind(now);
            q.push(" WHERE status = 'pending' AND merchant_id = ")
                .push_bind(merchant_id)
                .push(" AND id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id);
            }
            q.push(") RETURNING id");
            moved.extend(
                q.build_query_scalar::<String>()
                    .persistent(keep_batch_statements!())
                    .fetch_all(&mut *tx)
                    .await?,
            );
        }
        tx.commit().await?;
        Ok(moved)
    }

    async fn affiliate_contacts(
        &self,
        merchant_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<(String, String, Option<String>)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let mut q =
                sqlx::QueryBuilder::new("SELECT id, email, name FROM affiliates WHERE merchant_id = ");
            q.push_bind(merchant_id).push(" AND id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id);
            }
            q.push(")");
            out.extend(
                q.build_query_as::<(String, String, Option<String>)>()
                    .persistent(keep_batch_statements!())
                    .fetch_all(self.reader())
                    .await?,
            );
        }
        Ok(out)
    }

    async fn payout_by_transfer(&self, merchant_id: &str, transfer_id: &str) -> StoreResult<Option<Payout>> {
        Ok(sqlx::query_as("SELECT * FROM payouts WHERE merchant_id = $1 AND transfer_id = $2")
            .bind(merchant_id)
            .bind(transfer_id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn ledger_snapshot(&self, merchant_id: &str) -> StoreResult<LedgerSnapshot> {
        let entries: Vec<LedgerEntry> =
            sqlx::query_as("SELECT * FROM ledger_entries WHERE merchant_id = $1 ORDER BY id")
                .bind(merchant_id)
                .fetch_all(self.reader())
                .await?;
        let conversions: Vec<ConversionMoney> = sqlx::query_as(
            "SELECT id, affiliate_id, currency, status, commission_minor, earned_minor, paid_minor, is_test \
             FROM conversions WHERE merchant_id = $1",
        )
        .bind(merchant_id)
        .fetch_all(self.reader())
        .await?;
        let adjustments: Vec<(String, i64)> = sqlx::query_as(
            "SELECT conversion_id, amount_minor FROM commission_adjustments WHERE merchant_id = $1",
        )
        .bind(merchant_id)
        .fetch_all(self.reader())
        .await?;
        let payouts: Vec<Payout> = sqlx::query_as("SELECT * FROM payouts WHERE merchant_id = $1")
            .bind(merchant_id)
            .fetch_all(self.reader())
            .await?;
        let items: Vec<PayoutItem> = sqlx::query_as(
            "SELECT i.* FROM payout_items i JOIN payouts p ON p.id = i.payout_id WHERE p.merchant_id = $1",
        )
        .bind(merchant_id)
        .fetch_all(self.reader())
        .await?;
        Ok(LedgerSnapshot { entries, conversions, adjustments, payouts, items })
    }

    async fn claim_schedule(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        due_before: i64,
        lease_until: i64,
    ) -> StoreResult<bool> {
        // One statement: on PostgreSQL a second node's UPDATE waits for the first and then
        // re-checks the lease, so only one of them takes it.
        let taken: Option<String> = sqlx::query_scalar(
            "UPDATE scheduled_runs SET holder = $2, lease_until = $5 \
             WHERE name = $1 AND lease_until < $3 AND last_run_at <= $4 RETURNING name",
        )
        .bind(name)
        .bind(holder)
        .bind(now)
        .bind(due_before)
        .bind(lease_until)
        .fetch_optional(self.writer())
        .await?;
        Ok(taken.is_some())
    }

    async fn finish_schedule(&self, name: &str, holder: &str, now: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE scheduled_runs SET lease_until = 0, last_run_at = $3 WHERE name = $1 AND holder = $2",
        )
        .bind(name)
        .bind(holder)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn automatic_payout_merchants(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT id FROM merchants WHERE automatic_payouts ORDER BY id")
            .fetch_all(self.reader())
            .await?)
    }

    async fn merchant_ids(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT id FROM merchants ORDER BY id").fetch_all(self.reader()).await?)
    }
}

/// Locks the conversions `ids` in id order (PostgreSQL; SQLite's writer is alone anyway), so a
/// refund or rejection cannot slip between the check and the commit, and answers each one's
/// status and outstanding amount.
async fn lock_and_read(conn: &mut Conn, ids: &[&str]) -> StoreResult<Vec<(String, String, i64)>> {
    let mut q = sqlx::QueryBuilder::new(
        "SELECT id, status, earned_minor - paid_minor FROM conversions WHERE id IN (",
    );
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(") ORDER BY id ").push(for_update!());
    Ok(q.build_query_as().persistent(keep_batch_statements!()).fetch_all(&mut *conn).await?)
}

/// Writes a paid (or returned) entry for a payout item and moves its conversion's paid total
/// and status: a commission fully paid becomes `paid`; a returned one `approved` again.
async fn settle(
    conn: &mut Conn,
    item: &PayoutItem,
    kind: EntryKind,
    now: i64,
) -> StoreResult<Option<Conversion>> {
    let amount = if kind == EntryKind::Returned { -item.amount_minor } else { item.amount_minor };
    let c: Option<Conversion> = sqlx::query_as(
        "UPDATE conversions SET paid_minor = paid_minor + $2, updated_at = $3, \
            status = CASE \
                WHEN $4 = 'paid' AND $2 > 0 AND status = 'approved' THEN 'paid' \
                WHEN $4 = 'returned' AND status = 'paid' AND paid_minor + $2 <= 0 THEN 'approved' \
                ELSE status END \
         WHERE id = $1 RETURNING *",
    )
    .bind(&item.conversion_id)
    .bind(amount)
    .bind(now)
    .bind(kind)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(c) = &c {
        ledger::append(conn, c, kind, amount, Some(&item.payout_id), now).await?;
    }
    Ok(c)
}

/// A payout that ended no longer holds its items.
pub(super) async fn close_items(conn: &mut Conn, payout_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE payout_items SET is_open = FALSE WHERE payout_id = $1")
        .bind(payout_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Appends the WHERE clause of `f` for merchant `merchant_id` (payouts aliased `p`).
fn payout_filters(q: &mut sqlx::QueryBuilder<'_, crate::Db>, merchant_id: &str, f: &PayoutFilter) {
    q.push(" WHERE p.merchant_id = ").push_bind(merchant_id.to_string());
    q.push(" AND p.is_test = ").push_bind(f.mode);
    if let Some(from) = f.from {
        q.push(" AND p.created_at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        q.push(" AND p.created_at <= ").push_bind(to);
    }
    if let Some(status) = f.status {
        q.push(" AND p.status = ").push_bind(status);
    }
    if let Some(affiliate) = &f.affiliate_id {
        q.push(" AND p.affiliate_id = ").push_bind(affiliate.clone());
    }
    if let Some(currency) = &f.currency {
        q.push(" AND p.currency = ").push_bind(currency.clone());
    }
    if let Some(method) = &f.method {
        q.push(" AND p.method = ").push_bind(method.clone());
    }
    if let Some(export) = &f.export_id {
        q.push(" AND p.export_id = ").push_bind(export.clone());
    }
    if let Some(conversion) = &f.conversion_id {
        q.push(" AND EXISTS (SELECT 1 FROM payout_items i WHERE i.payout_id = p.id AND i.conversion_id = ")
            .push_bind(conversion.clone())
            .push(")");
    }
}

//! Ledger entries, written inside the transaction of the change they record.
//!
//! New sales accrue their commission in bulk ([`accrue`]); after any other change to a
//! conversion, [`sync_commission`] appends the one entry that takes the ledger to what the
//! conversion now earns (`refline_domain::ledger::change_entry`: an adjustment, a reversal, or a
//! clawback once paid) and takes the conversion out of an open payout whose amount for it is no
//! longer right, re-totalling that payout (and cancelling it when nothing is left to pay).

use refline_domain::{
    ledger::{change_entry, expected_earned, CommissionTotals, EntryKind, PayoutStatus},
    ConversionStatus,
};
use refline_store::{Conversion, StoreResult};

use super::{script::Script, Conn};

/// One accrued entry per new sale with a commission.
pub(super) async fn accrue(conn: &mut Conn, sales: &[&Conversion]) -> StoreResult<()> {
    let mut script = Script::new();
    accrue_into(&mut script, sales);
    Ok(script.run(conn).await?)
}

/// As [`accrue`], as statements of `script`.
pub(super) fn accrue_into<'q>(script: &mut Script<'q>, sales: &[&'q Conversion]) {
    let earning: Vec<&'q Conversion> = sales.iter().copied().filter(|c| c.commission_minor != 0).collect();
    // 10 binds a row.
    for chunk in earning.chunks(500) {
        let query = script.statement(
            "INSERT INTO ledger_entries (merchant_id, affiliate_id, campaign_id, conversion_id, payout_id, \
                currency, kind, amount_minor, is_test, created_at) ",
        );
        query.push_values(chunk, |mut row, c| {
            row.push_bind(&c.merchant_id)
                .push_bind(&c.affiliate_id)
                .push_bind(&c.campaign_id)
                .push_bind(&c.id)
                .push_bind(None::<String>)
                .push_bind(&c.currency)
                .push_bind(EntryKind::Accrued)
                .push_bind(c.commission_minor)
                .push_bind(c.mode)
                .push_bind(c.created_at);
        });
    }
}

/// Appends one entry for conversion `c` (read back inside this transaction).
pub(super) async fn append(
    conn: &mut Conn,
    c: &Conversion,
    kind: EntryKind,
    amount: i64,
    payout_id: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO ledger_entries (merchant_id, affiliate_id, campaign_id, conversion_id, payout_id, \
            currency, kind, amount_minor, is_test, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&c.merchant_id)
    .bind(&c.affiliate_id)
    .bind(&c.campaign_id)
    .bind(&c.id)
    .bind(payout_id)
    .bind(&c.currency)
    .bind(kind)
    .bind(amount)
    .bind(c.mode)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// After a change to `c` (its row as it now is in this transaction): the entry that makes the
/// ledger agree with it, and its removal from an open payout that no longer pays it right.
pub(super) async fn sync_commission(conn: &mut Conn, c: &Conversion, now: i64) -> StoreResult<()> {
    let status = c.status;
    // The conversion carries the sum of its earning entries, kept with every entry.
    let earned = c.earned_minor;
    let clawed: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM commission_adjustments WHERE conversion_id = $1",
    )
    .bind(&c.id)
    .fetch_one(&mut *conn)
    .await?;
    let totals = CommissionTotals { earned, paid: c.paid_minor };
    let target = expected_earned(status, c.commission_minor, clawed);
    if let Some((kind, delta)) = change_entry(totals, target) {
        append(conn, c, kind, delta, None, now).await?;
        sqlx::query("UPDATE conversions SET earned_minor = $2 WHERE id = $1")
            .bind(&c.id)
            .bind(target)
            .execute(&mut *conn)
            .await?;
    }
    let outstanding = target.saturating_sub(c.paid_minor);
    let open: Option<(String, i64)> = sqlx::query_as(
        "SELECT payout_id, amount_minor FROM payout_items WHERE conversion_id = $1 AND is_open",
    )
    .bind(&c.id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((payout_id, amount)) = open {
        let payable = matches!(status, ConversionStatus::Approved | ConversionStatus::Paid);
        if !payable || amount != outstanding {
            leave_payout(conn, &payout_id, &c.id, now).await?;
        }
    }
    Ok(())
}

/// Takes `conversion_id` out of open payout `payout_id` and re-totals it; a payout left with
/// nothing positive to pay is cancelled (its remaining items, clawbacks, are owed again).
async fn leave_payout(conn: &mut Conn, payout_id: &str, conversion_id: &str, now: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM payout_items WHERE payout_id = $1 AND conversion_id = $2")
        .bind(payout_id)
        .bind(conversion_id)
        .execute(&mut *conn)
        .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM payout_items WHERE payout_id = $1",
    )
    .bind(payout_id)
    .fetch_one(&mut *conn)
    .await?;
    if total > 0 {
        sqlx::query("UPDATE payouts SET amount_minor = $2, updated_at = $3 WHERE id = $1")
            .bind(payout_id)
            .bind(total)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    } else {
        sqlx::query(
            "UPDATE payouts SET amount_minor = $2, status = $3, updated_at = $4, \
                failure_reason = 'nothing left to pay: its commissions were refunded or rejected' \
             WHERE id = $1",
        )
        .bind(payout_id)
        .bind(total)
        .bind(PayoutStatus::Cancelled)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        super::payout::close_items(conn, payout_id).await?;
    }
    Ok(())
}

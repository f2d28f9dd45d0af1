//! Applying a refund to its conversion, in one write transaction: claim the refund step (a
//! step reported twice counts once), move the refunded total by compare-and-set, then make the
//! change the core decided (a [`RefundChange`], from `refline_domain::refund_effect`), with the
//! ledger entry it makes. Nothing is written unless all of it is.

use refline_domain::ConversionStatus;
use refline_store::{
    outbox, rollup::RollupDelta, CommissionAdjustment, Conversion, RefundApplication, RefundApplied,
    RefundChange, StoreResult,
};

use super::{ledger, rollup, webhook::emit_events, Conn};
use crate::Engine;

/// Applies `r` (see [`refline_store::ProcessorStore::apply_refund`]).
pub(super) async fn apply_refund(store: &Engine, r: &RefundApplication<'_>) -> StoreResult<RefundApplied> {
    let mut tx = store.begin_write().await?;
    if let Some(key) = &r.refund_key {
        if !claim_refund_step(&mut tx, r, key).await? {
            tx.rollback().await?;
            return Ok(RefundApplied::AlreadyApplied);
        }
    }
    if !advance_refunded_total(&mut tx, r).await? {
        tx.rollback().await?;
        return Ok(RefundApplied::Conflict);
    }
    let (changed, delta) = match &r.change {
        RefundChange::Reverse { from } => {
            let c = reverse_conversion(&mut tx, r, *from).await?;
            let delta = c.as_ref().map(|c| RollupDelta::status_changed(c, *from));
            (c, delta)
        }
        RefundChange::SetCommission(commission) => {
            // Read (and lock) the commission it had: the rollups move by the difference.
            let before: Option<i64> = sqlx::query_scalar(concat!(
                "SELECT commission_minor FROM conversions WHERE merchant_id = $1 AND id = $2 ",
                for_update!()
            ))
            .bind(r.merchant_id)
            .bind(r.conversion_id)
            .fetch_optional(&mut *tx)
            .await?;
            let c = set_commission(&mut tx, r, *commission).await?;
            let delta = c.as_ref().zip(before).map(|(c, before)| RollupDelta::commission_changed(c, before));
            (c, delta)
        }
        // A paid conversion stays as it is (nothing to announce); what is owed back is recorded.
        RefundChange::Clawback(adjustment) => {
            insert_adjustment(&mut tx, adjustment).await?;
            let paid: Option<Conversion> = sqlx::query_as("SELECT * FROM conversions WHERE id = $1")
                .bind(r.conversion_id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(c) = paid {
                ledger::sync_commission(&mut tx, &c, r.now).await?;
            }
            tx.commit().await?;
            return Ok(RefundApplied::Applied);
        }
    };
    // The conversion left the state the refund was computed from.
    let Some(c) = changed else {
        tx.rollback().await?;
        return Ok(RefundApplied::Conflict);
    };
    // The ledger records the reversal or adjustment; an open payout lets the commission go.
    ledger::sync_commission(&mut tx, &c, r.now).await?;
    // Webhook receivers see the change like every other change to a live conversion.
    if let Some(event) = outbox::conversion_changed(&c, r.now) {
        emit_events(&mut tx, std::slice::from_ref(&event)).await?;
    }
    if let Some(delta) = delta.filter(|d| !d.is_empty()) {
        rollup::apply(&mut tx, &delta, rollup::shard_of(&c.id)).await?;
    }
    tx.commit().await?;
    Ok(RefundApplied::Applied)
}

/// Claims the refund step `key` for the conversion; false when it was applied before.
async fn claim_refund_step(conn: &mut Conn, r: &RefundApplication<'_>, key: &str) -> StoreResult<bool> {
    let claimed = sqlx::query(
        "INSERT INTO processor_payments (merchant_id, provider, object_key, conversion_id) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (merchant_id, provider, object_key) DO NOTHING",
    )
    .bind(r.merchant_id)
    .bind(r.provider)
    .bind(key)
    .bind(r.conversion_id)
    .execute(&mut *conn)
    .await?;
    Ok(claimed.rows_affected() > 0)
}

/// Moves the conversion's refunded total from `r.before` to `r.refunded_after` (creating its
/// progress row at `r.before` the first time); false when the progress is no longer `r.before`.
async fn advance_refunded_total(conn: &mut Conn, r: &RefundApplication<'_>) -> StoreResult<bool> {
    sqlx::query(
        "INSERT INTO processor_refunds (merchant_id, conversion_id, refunded_minor, \
            original_commission_minor, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (merchant_id, conversion_id) DO NOTHING",
    )
    .bind(r.merchant_id)
    .bind(r.conversion_id)
    .bind(r.before.refunded_minor)
    .bind(r.before.original_commission_minor)
    .bind(r.now)
    .execute(&mut *conn)
    .await?;
    let moved = sqlx::query(
        "UPDATE processor_refunds SET refunded_minor = $5, updated_at = $6 \
         WHERE merchant_id = $1 AND conversion_id = $2 AND refunded_minor = $3 \
            AND original_commission_minor = $4",
    )
    .bind(r.merchant_id)
    .bind(r.conversion_id)
    .bind(r.before.refunded_minor)
    .bind(r.before.original_commission_minor)
    .bind(r.refunded_after)
    .bind(r.now)
    .execute(&mut *conn)
    .await?;
    Ok(moved.rows_affected() > 0)
}

/// A full refund: the conversion, still in status `from`, becomes `refunded`.
async fn reverse_conversion(
    conn: &mut Conn,
    r: &RefundApplication<'_>,
    from: ConversionStatus,
) -> StoreResult<Option<Conversion>> {
    Ok(sqlx::query_as(
        "UPDATE conversions SET status = 'refunded', updated_at = $4 \
         WHERE merchant_id = $1 AND id = $2 AND status = $3 RETURNING *",
    )
    .bind(r.merchant_id)
    .bind(r.conversion_id)
    .bind(from)
    .bind(r.now)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A partial refund before payout: the unpaid conversion now earns `commission`. It earns its
/// commission plus its clawbacks (`expected_earned`); a conversion paid, refunded in part (a
/// clawback) and then returned by a failed payout has clawbacks for part of the same refunded
/// share, so they are taken off here rather than counted twice.
async fn set_commission(
    conn: &mut Conn,
    r: &RefundApplication<'_>,
    commission: i64,
) -> StoreResult<Option<Conversion>> {
    Ok(sqlx::query_as(
        "UPDATE conversions SET commission_minor = $3 - (SELECT CAST(COALESCE(SUM(a.amount_minor), 0) AS BIGINT) \
                FROM commission_adjustments a WHERE a.conversion_id = conversions.id), updated_at = $4 \
         WHERE merchant_id = $1 AND id = $2 \
            AND status IN ('pending', 'approved', 'trial') RETURNING *",
    )
    .bind(r.merchant_id)
    .bind(r.conversion_id)
    .bind(commission)
    .bind(r.now)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A refund after payout: the amount owed back (idempotent by the adjustment's id).
async fn insert_adjustment(conn: &mut Conn, a: &CommissionAdjustment) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO commission_adjustments (id, merchant_id, conversion_id, affiliate_id, \
            amount_minor, currency, reason, is_test, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&a.id)
    .bind(&a.merchant_id)
    .bind(&a.conversion_id)
    .bind(&a.affiliate_id)
    .bind(a.amount_minor)
    .bind(&a.currency)
    .bind(&a.reason)
    .bind(a.mode)
    .bind(a.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

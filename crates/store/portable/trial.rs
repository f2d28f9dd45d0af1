//! A priced trial (`immediate` trial mode) turned `pending` by its subscription's first payment,
//! in one write transaction: the conversion (compare-and-set on `trial`), the payment's keys,
//! the ledger entry of the changed commission and the `conversion.updated` event.

use refline_domain::ConversionStatus;
use refline_store::{outbox, rollup::RollupDelta, Conversion, StoreResult, TrialConversion};

use super::{ledger, rollup, webhook::emit_events};
use crate::Engine;

/// See [`refline_store::ProcessorStore::convert_trial`].
pub(super) async fn convert_trial(
    store: &Engine,
    t: &TrialConversion<'_>,
) -> StoreResult<Option<Conversion>> {
    let mut tx = store.begin_write().await?;
    // The values it had (locked): the rollups move by the difference.
    let before: Option<(i64, i64)> = sqlx::query_as(concat!(
        "SELECT amount_minor, commission_minor FROM conversions WHERE merchant_id = $1 AND id = $2 ",
        for_update!()
    ))
    .bind(t.merchant_id)
    .bind(t.conversion_id)
    .fetch_optional(&mut *tx)
    .await?;
    // Only a trial that carries an amount: a $0 trial stays a trial beside the payment's own
    // conversion, and anything the merchant decided on (rejected) is not overturned.
    let converted: Option<Conversion> = sqlx::query_as(
        "UPDATE conversions SET status = $3, amount_minor = $4, commission_minor = $5, updated_at = $6 \
         WHERE merchant_id = $1 AND id = $2 AND status = $7 AND amount_minor > 0 RETURNING *",
    )
    .bind(t.merchant_id)
    .bind(t.conversion_id)
    .bind(ConversionStatus::Pending)
    .bind(t.amount_minor)
    .bind(t.commission_minor)
    .bind(t.now)
    .bind(ConversionStatus::Trial)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(c) = converted else {
        tx.rollback().await?;
        return Ok(None);
    };
    if !t.payment_keys.is_empty() {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO processor_payments (merchant_id, provider, object_key, conversion_id) ",
        );
        query.push_values(t.payment_keys, |mut row, key| {
            row.push_bind(t.merchant_id).push_bind(t.provider).push_bind(key.as_str()).push_bind(&c.id);
        });
        query.push(" ON CONFLICT (merchant_id, provider, object_key) DO NOTHING");
        query.build().persistent(keep_batch_statements!()).execute(&mut *tx).await?;
    }
    // The trial accrued its expected commission; the entry takes it to the paid amount's.
    ledger::sync_commission(&mut tx, &c, t.now).await?;
    if let Some(event) = outbox::conversion_updated(&c, t.now) {
        emit_events(&mut tx, std::slice::from_ref(&event)).await?;
    }
    if let Some((amount, commission)) = before {
        let delta = RollupDelta::values_changed(&c, amount, commission);
        if !delta.is_empty() {
            rollup::apply(&mut tx, &delta, rollup::shard_of(&c.id)).await?;
        }
    }
    tx.commit().await?;
    Ok(Some(c))
}

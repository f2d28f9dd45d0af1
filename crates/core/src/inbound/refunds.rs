//! Refunds and chargebacks: reverse, reduce or claw back the commission of the sale they name,
//! each step applied once.

use refline_domain::{refund_effect, RefundEffect};
use refline_processors::Provider;
use refline_store::{
    CommissionAdjustment, InboxEntry, InboxResult, RefundApplication, RefundApplied, RefundChange,
    RefundState, StoreError,
};

use super::{links, memo::Memo, outcome::Outcome, InboxContext};

pub(super) enum RefundAmount {
    Full,
    Total(i64),
    Step(i64),
    Unknown,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn apply_refund(
    ctx: &InboxContext,
    memo: &Memo,
    entry: &InboxEntry,
    out: &Outcome,
    provider: Provider,
    keys: &[String],
    amount: RefundAmount,
    refund_key: Option<String>,
    label: String,
) -> Result<InboxResult, StoreError> {
    let store = ctx.store.as_ref();
    let merchant = &entry.merchant_id;
    let Some(conversion_id) = links::find_payment(memo, merchant, provider.as_str(), keys).await? else {
        return Ok(out.wait(entry, format!("{label}: no credited sale for {} yet", keys.join(" / "))));
    };
    let Some(conversion) = store.get_conversion(merchant, &conversion_id).await? else {
        return Ok(out.ignored(format!("{label}: conversion {conversion_id} no longer exists"), None));
    };
    let status = conversion.status;
    let before = store
        .refund_state(merchant, &conversion.id)
        .await?
        .unwrap_or(RefundState { refunded_minor: 0, original_commission_minor: conversion.commission_minor });
    let after = match amount {
        RefundAmount::Full => conversion.amount_minor,
        RefundAmount::Total(total) => total,
        RefundAmount::Step(step) => before.refunded_minor + step,
        RefundAmount::Unknown => {
            return Ok(out.ignored(
                format!("{label}: partial refund without an amount; commission unchanged"),
                Some(conversion.id),
            ))
        }
    }
    .min(conversion.amount_minor);
    let effect = refund_effect(
        status,
        conversion.amount_minor,
        before.original_commission_minor,
        before.refunded_minor,
        after,
    );
    let (change, outcome) = match effect {
        RefundEffect::Nothing => {
            return Ok(out.ignored(
                format!("{label}: nothing to change (conversion is {status})"),
                Some(conversion.id),
            ))
        }
        RefundEffect::Reverse => (
            RefundChange::Reverse { from: status },
            format!("{label}: conversion {} refunded, commission reversed", conversion.id),
        ),
        RefundEffect::Reduce { commission_minor } => (
            RefundChange::SetCommission(commission_minor),
            format!(
                "{label}: partial refund, commission of {} reduced to {commission_minor} (minor units)",
                conversion.id
            ),
        ),
        RefundEffect::Clawback { owed_minor } => (
            RefundChange::Clawback(CommissionAdjustment {
                // Named by what it settles: one adjustment per refunded total.
                id: format!("adj_{}_{after}", conversion.id),
                merchant_id: merchant.clone(),
                conversion_id: conversion.id.clone(),
                affiliate_id: conversion.affiliate_id.clone(),
                amount_minor: -owed_minor,
                currency: conversion.currency.clone(),
                reason: label.clone(),
                mode: conversion.mode,
                created_at: out.now,
            }),
            format!(
                "{label}: commission of {} was already paid; {owed_minor} (minor units) owed back",
                conversion.id
            ),
        ),
    };
    let applied = store
        .apply_refund(&RefundApplication {
            merchant_id: merchant,
            provider: provider.as_str(),
            conversion_id: &conversion.id,
            refund_key,
            before,
            refunded_after: after,
            change,
            now: out.now,
        })
        .await?;
    Ok(match applied {
        RefundApplied::Applied => out.processed(outcome, Some(conversion.id)),
        RefundApplied::AlreadyApplied => {
            out.ignored(format!("{label} was already applied"), Some(conversion.id))
        }
        // Another refund of this conversion was applied meanwhile: read it again shortly.
        RefundApplied::Conflict => {
            out.wait(entry, format!("{label}: conversion changed meanwhile; retrying"))
        }
    })
}

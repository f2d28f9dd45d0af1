//! A payment: a first sale or a renewal of a subscription, attributed and recorded.

use refline_domain::Mode;
use refline_processors::{Payment, Provider};
use refline_store::{InboxEntry, InboxResult, StoreError};

use super::{
    attribution::{attribute, memory_keys, Memory},
    memo::Memo,
    outcome::Outcome,
    process::keys_of,
    sale::{record, remember, Sale},
    trial_payment::convert_priced_trial,
    InboxContext,
};

pub(super) async fn record_payment(
    ctx: &InboxContext,
    memo: &Memo,
    entry: &InboxEntry,
    out: &Outcome,
    provider: Provider,
    mode: Mode,
    payment: Payment,
) -> Result<InboxResult, StoreError> {
    let merchant = &entry.merchant_id;
    let keys = keys_of(&payment.object_id, &payment.aliases);
    if let Some(existing) = memo.find_processor_payment(merchant, provider.as_str(), &keys).await? {
        // Another event type may name the same money by more ids (payment intent, charge):
        // keep them, so a later refund or dispute naming those finds the sale.
        memo.remember_processor_payment(merchant, provider.as_str(), &keys, &existing).await?;
        return Ok(out.ignored(format!("{} was already credited", payment.object_id), Some(existing)));
    }
    let memory = memory_keys(payment.subscription_id.as_deref(), payment.customer_id.as_deref());
    let renewal = payment.billing_reason.continues_subscription();
    let use_memory = renewal || payment.subscription_id.is_some();
    let credit = attribute(
        memo,
        merchant,
        provider.as_str(),
        payment.reference.as_ref(),
        payment.coupon.as_ref(),
        Memory { keys: &memory, credits: use_memory, now: out.now },
    )
    .await?;
    let Some(credit) = credit else {
        return Ok(out.ignored("no tracking reference, registered coupon or known subscription".into(), None));
    };
    let first = credit.subscription.as_ref().and_then(|s| s.first_conversion_id.clone());
    let after_trial = credit.subscription.as_ref().is_some_and(|s| s.trial_conversion_id.is_some());
    // Processors report the first charge after a trial as a cycle/recurring payment; with a
    // trial on record and no paid sale yet, it is the subscription's first payment.
    let renewal = renewal && !(first.is_none() && after_trial);
    if renewal && first.is_none() {
        return Ok(out.wait(entry, "renewal arrived before its subscription's first sale".into()));
    }
    if !renewal && first.is_none() && after_trial {
        let converted =
            convert_priced_trial(memo, merchant, out, provider, &payment, &keys, &memory, &credit).await?;
        if let Some(result) = converted {
            return Ok(result);
        }
    }
    let sale = Sale {
        merchant_id: merchant,
        provider,
        credit: &credit,
        order_id: format!("{}:{}", provider.as_str(), payment.object_id),
        amount_minor: payment.amount_minor,
        currency: Some(&payment.currency),
        customer_email: payment.customer_email.clone(),
        trial: false,
        recurring: renewal || payment.subscription_id.is_some(),
        renewal_parent: if renewal { first.clone() } else { None },
        mode,
    };
    let conversion = match record(memo, ctx, out, sale).await? {
        Ok(conversion) => conversion,
        Err(result) => {
            if let Some(existing) = &result.conversion_id {
                memo.remember_processor_payment(merchant, provider.as_str(), &keys, existing).await?;
                // Recorded by an attempt that stopped before remembering it (a crash, or a
                // batch that did not finish): remember the subscription as that attempt would
                // have, or its renewals would wait for a first sale that is already there.
                let chain_first = if renewal { first.clone() } else { Some(existing.clone()) };
                remember(memo, merchant, provider, &memory, &credit, chain_first, None, out.now).await?;
            }
            return Ok(result);
        }
    };
    memo.remember_processor_payment(merchant, provider.as_str(), &keys, &conversion.id).await?;
    remember(
        memo,
        merchant,
        provider,
        &memory,
        &credit,
        // Every key the payment names points at the chain's first sale, including keys the
        // first sale did not name (a Lemon Squeezy order names no subscription): a key
        // remembered without it would stop the next renewal from finding its first sale.
        if renewal { first } else { Some(conversion.id.clone()) },
        None,
        out.now,
    )
    .await?;
    let trial = credit.subscription.as_ref().and_then(|s| s.trial_conversion_id.as_deref());
    let trial_note = match trial {
        Some(trial) if !renewal => format!("; trial {trial} converted"),
        _ => String::new(),
    };
    Ok(out.processed(
        format!(
            "conversion {} recorded: payment #{}, {} {} via {}{trial_note}",
            conversion.id,
            conversion.payment_number,
            refline_domain::format_amount_in(conversion.amount_minor, &conversion.currency),
            conversion.currency.to_uppercase(),
            credit.via
        ),
        Some(conversion.id),
    ))
}

//! Links a processor reports in events of their own: more ids of a payment (Stripe
//! `invoice_payment.paid`: invoice → payment intent / charge) and the subscription a first sale
//! started (Lemon Squeezy `subscription_created`: subscription → order).
//!
//! Such an event may arrive before or after the payment it names is credited. After: its ids
//! join the payment's aliases at once. Before: the link is kept as a *pending* alias —
//! a row of the alias table under `link:<id>` whose value is the payment's object id, not a
//! conversion — and followed later by whoever needs it (a refund or dispute naming the alias,
//! a renewal naming the subscription). Nothing waits or retries for a link, so links of
//! payments that are never credited (sales nobody referred) cost one row each and no work.

use refline_processors::{Link, Provider};
use refline_store::{InboxEntry, InboxResult, ProcessorSubscription, StoreError, StoreResult};

use super::{attribution::memory_keys, memo::Memo, outcome::Outcome};

/// Prefix of a pending alias in the alias table (processor ids never contain a colon prefix
/// like this, so it cannot collide with a real object id).
const PENDING: &str = "link:";

fn pending(keys: &[String]) -> Vec<String> {
    keys.iter().map(|k| format!("{PENDING}{k}")).collect()
}

/// The conversion credited for `keys`, directly or through a pending link saved before the
/// payment was credited. A link found this way is made direct for next time.
pub async fn find_payment(
    memo: &Memo,
    merchant: &str,
    provider: &str,
    keys: &[String],
) -> StoreResult<Option<String>> {
    if let Some(found) = memo.find_processor_payment(merchant, provider, keys).await? {
        return Ok(Some(found));
    }
    let Some(object) = memo.find_processor_payment(merchant, provider, &pending(keys)).await? else {
        return Ok(None);
    };
    let found = memo.find_processor_payment(merchant, provider, &[object]).await?;
    if let Some(conversion) = &found {
        memo.remember_processor_payment(merchant, provider, keys, conversion).await?;
    }
    Ok(found)
}

/// What is remembered for a subscription whose first sale a link named, if that sale is
/// credited by now (and remembers it under `keys`, so the next renewal reads it directly).
pub async fn linked_subscription(
    memo: &Memo,
    merchant: &str,
    provider: &str,
    subscription_key: &str,
    keys: &[String],
    now: i64,
) -> StoreResult<Option<ProcessorSubscription>> {
    let link = [subscription_key.to_string()];
    let Some(object) = memo.find_processor_payment(merchant, provider, &pending(&link)).await? else {
        return Ok(None);
    };
    let Some(conversion) = memo.find_processor_payment(merchant, provider, &[object]).await? else {
        return Ok(None);
    };
    remember_first_sale(memo, merchant, provider, keys, &conversion, now).await?;
    // The subscription's own row: a customer key may belong to an older subscription.
    memo.find_subscription(merchant, provider, subscription_key).await
}

/// Remembers the conversion `conversion_id` (or the first sale of its chain) as the first sale
/// of the subscription remembered under `keys`.
async fn remember_first_sale(
    memo: &Memo,
    merchant: &str,
    provider: &str,
    keys: &[String],
    conversion_id: &str,
    now: i64,
) -> StoreResult<()> {
    let Some(conversion) = memo.store().get_conversion(merchant, conversion_id).await? else {
        return Ok(());
    };
    let first = conversion.parent_conversion_id.clone().unwrap_or_else(|| conversion.id.clone());
    for key in keys {
        let row = ProcessorSubscription {
            merchant_id: merchant.to_string(),
            provider: provider.to_string(),
            subscription_key: key.clone(),
            campaign_id: conversion.campaign_id.clone(),
            affiliate_id: conversion.affiliate_id.clone(),
            click_id: conversion.click_id.clone(),
            first_conversion_id: Some(first.clone()),
            trial_conversion_id: None,
            created_at: now,
        };
        // An existing row keeps its attribution and trial; only a missing first sale is filled.
        memo.remember_subscription(&row).await?;
    }
    Ok(())
}

/// Applies a link event.
pub(super) async fn apply(
    memo: &Memo,
    entry: &InboxEntry,
    out: &Outcome,
    provider: Provider,
    link: Link,
) -> Result<InboxResult, StoreError> {
    let merchant = &entry.merchant_id;
    let provider = provider.as_str();
    let subscription_key = link.subscription_id.as_deref().map(|s| format!("sub:{s}"));
    let ids: Vec<String> = link.aliases.iter().cloned().chain(subscription_key.clone()).collect();
    let keys: Vec<String> =
        std::iter::once(link.object_id.clone()).chain(link.aliases.iter().cloned()).collect();
    let Some(conversion) = memo.find_processor_payment(merchant, provider, &keys).await? else {
        memo.remember_processor_payment(merchant, provider, &pending(&ids), &link.object_id).await?;
        return Ok(out.processed(
            format!(
                "{} is not credited (yet); {} kept as linked to it for later refunds and renewals",
                link.object_id,
                ids.join(", ")
            ),
            None,
        ));
    };
    memo.remember_processor_payment(merchant, provider, &keys, &conversion).await?;
    if let Some(subscription) = &link.subscription_id {
        let memory = memory_keys(Some(subscription), link.customer_id.as_deref());
        remember_first_sale(memo, merchant, provider, &memory, &conversion, out.now).await?;
    }
    Ok(out.processed(
        format!("{} linked to conversion {conversion} ({})", link.object_id, ids.join(", ")),
        Some(conversion),
    ))
}

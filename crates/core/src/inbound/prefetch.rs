//! Reading what a claimed batch will ask for, one query per kind for the whole batch: the
//! payments already credited (and pending links), the remembered subscriptions and customers,
//! the tracking links, the merchants' plans, then the attributions of the sales their tracking
//! reference credits. Whatever this misses is asked of the store when a delivery needs it
//! ([`super::memo`]), so it only saves round trips and never decides anything.

use std::collections::BTreeSet;

use refline_domain::Mode;
use refline_processors::Action;
use refline_store::{AttributionQuery, InboxEntry, ProcessorKey, StoreResult};

use super::{attribution::memory_keys, memo::BatchMemo, process::keys_of, process::Read};

/// Fills `memo` for `batch` (deliveries with what they say).
pub async fn prefetch(memo: &BatchMemo, batch: &[(InboxEntry, Read)]) -> StoreResult<()> {
    let mut payments = Vec::new();
    let mut subscriptions = Vec::new();
    let mut links = Vec::new();
    let mut merchants = BTreeSet::new();
    for (entry, read) in batch {
        let Read::Parsed(provider, parsed) = read else { continue };
        let key = |key: String| ProcessorKey {
            merchant_id: entry.merchant_id.clone(),
            provider: provider.as_str().to_string(),
            key,
        };
        // Direct keys, and the pending links (`link:<id>`) a refund or renewal may follow.
        let object = |keys: Vec<String>, payments: &mut Vec<ProcessorKey>| {
            for k in keys {
                payments.push(key(format!("link:{k}")));
                payments.push(key(k));
            }
        };
        let mut remembered = |memory: Vec<String>, payments: &mut Vec<ProcessorKey>| {
            for k in memory {
                if k.starts_with("sub:") {
                    payments.push(key(format!("link:{k}")));
                }
                subscriptions.push(key(k));
            }
        };
        match &parsed.action {
            Action::Payment(p) => {
                merchants.insert(entry.merchant_id.as_str());
                object(keys_of(&p.object_id, &p.aliases), &mut payments);
                remembered(
                    memory_keys(p.subscription_id.as_deref(), p.customer_id.as_deref()),
                    &mut payments,
                );
                if let Some(r) = &p.reference {
                    links.push((r.tracking_code.clone(), r.affiliate_id.clone()));
                }
            }
            Action::TrialStarted(t) => {
                merchants.insert(entry.merchant_id.as_str());
                remembered(memory_keys(Some(&t.subscription_id), t.customer_id.as_deref()), &mut payments);
                if let Some(r) = &t.reference {
                    links.push((r.tracking_code.clone(), r.affiliate_id.clone()));
                }
            }
            Action::Refund(r) => object(keys_of(&r.object_id, &r.aliases), &mut payments),
            Action::Chargeback(c) => object(keys_of(&c.object_id, &c.aliases), &mut payments),
            Action::Link(l) => {
                object(keys_of(&l.object_id, &l.aliases), &mut payments);
                let subscription = l.subscription_id.as_deref();
                remembered(memory_keys(subscription, l.customer_id.as_deref()), &mut payments);
            }
            Action::TransferReversed { .. } | Action::Ignored { .. } | Action::NeedsLookup { .. } => {}
        }
    }
    // Independent reads: on PostgreSQL they run on separate connections at once.
    let plans = async {
        for merchant in merchants {
            memo.merchant_plan(merchant).await?;
        }
        StoreResult::Ok(())
    };
    let (paid, remembered, linked, planned) = tokio::join!(
        memo.load_payments(payments),
        memo.load_subscriptions(subscriptions),
        memo.load_links(links),
        plans
    );
    paid?;
    remembered?;
    linked?;
    planned?;
    attributions(memo, batch).await
}

/// The attributions of the batch's payments credited by their tracking reference, as
/// `inbound::sale::record` will ask for them.
async fn attributions(memo: &BatchMemo, batch: &[(InboxEntry, Read)]) -> StoreResult<()> {
    // (merchant, campaign, affiliate, click, order id, mode), owned for the queries to borrow.
    let mut wanted = Vec::new();
    for (entry, read) in batch {
        let Read::Parsed(provider, parsed) = read else { continue };
        let Action::Payment(payment) = &parsed.action else { continue };
        let Some(reference) = &payment.reference else { continue };
        let Some(Some(target)) = memo.known_link(&reference.tracking_code, &reference.affiliate_id) else {
            continue;
        };
        if target.merchant_id != entry.merchant_id {
            continue;
        }
        let order_id = format!("{}:{}", provider.as_str(), payment.object_id);
        let mode = Mode::from_is_test(parsed.test_mode);
        wanted.push((entry.merchant_id.clone(), target, reference.click_id.clone(), order_id, mode));
    }
    let queries: Vec<AttributionQuery<'_>> = wanted
        .iter()
        .map(|(merchant, target, click, order, mode)| AttributionQuery {
            merchant_id: merchant,
            campaign_id: &target.campaign_id,
            affiliate_id: &target.affiliate_id,
            click_id: click.as_deref(),
            order_id: Some(order.as_str()),
            mode: *mode,
        })
        .collect();
    memo.load_attributions(&queries).await
}

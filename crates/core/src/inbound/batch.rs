//! A claimed batch of deliveries processed as a batch: read what it needs with one query per
//! kind ([`super::prefetch`]), process its deliveries (their conversions meet in the
//! group-commit writer), and finish it — every result and everything remembered — in one
//! transaction. A batch costs a handful of transactions however many deliveries it holds.
//!
//! Order: deliveries that name a common object (a payment and its refund, a subscription's
//! first sale and its renewal, a trial and its first charge) form a chain, processed one after
//! another in the order they arrived, each seeing what the ones before it remembered
//! ([`super::memo`]); chains run at once. A delivery left waiting (a refund that arrived before
//! its sale) is processed once more at the end of the batch if anything in the batch was
//! credited, instead of waiting for its retry.

use std::{collections::HashMap, sync::Arc};

use refline_processors::Action;
use refline_store::{write_isolating, InboxEntry, InboxFinish, InboxResult, Store};
use tokio::task::JoinSet;

use super::{
    attribution::memory_keys,
    memo::{BatchMemo, Remembered},
    prefetch::prefetch,
    process::{keys_of, process, read, Read},
    InboxContext,
};

/// A delivery with what it says.
pub type Item = (InboxEntry, Read);

/// Processes and finishes `batch` (claimed deliveries, oldest first, read by
/// [`super::process::read`]).
pub async fn run(ctx: &InboxContext, batch: Vec<Item>) {
    let memo = BatchMemo::new(ctx.store.clone());
    if let Err(err) = prefetch(&memo, &batch).await {
        // Only a saving: each delivery asks for what it needs.
        tracing::warn!(%err, "reading ahead for processor deliveries failed");
    }
    let groups = chains(&batch);
    let mut items: Vec<Option<Item>> = batch.into_iter().map(Some).collect();
    let mut tasks = JoinSet::new();
    for group in groups {
        let chain: Vec<(usize, Item)> =
            group.into_iter().filter_map(|i| items.get_mut(i)?.take().map(|item| (i, item))).collect();
        let (ctx, memo) = (ctx.clone(), memo.clone());
        tasks.spawn(async move {
            let mut done = Vec::with_capacity(chain.len());
            for (i, (entry, read)) in chain {
                let view = memo.for_delivery();
                let result = process(&ctx, &view, &entry, read).await;
                done.push((i, entry, result, view.take_remembered()));
            }
            done
        });
    }
    let mut finished: Vec<Option<(InboxEntry, InboxResult, Remembered)>> =
        items.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(done) => {
                for (i, entry, result, remembered) in done {
                    if let Some(slot) = finished.get_mut(i) {
                        *slot = Some((entry, result, remembered));
                    }
                }
            }
            // Its deliveries stay claimed until the lease ends, then run again.
            Err(err) => tracing::error!(%err, "processing a chain of processor deliveries failed"),
        }
    }
    second_chance(ctx, &memo, &mut finished).await;
    let finished: Vec<InboxFinish> = finished
        .into_iter()
        .flatten()
        .map(|(entry, result, remembered)| InboxFinish {
            id: entry.id,
            attempt: entry.attempts,
            result,
            payments: remembered.payments,
            subscriptions: remembered.subscriptions,
        })
        .collect();
    finish(ctx.store.clone(), ctx.clock.now(), finished).await;
}

/// Processes once more, in order, the deliveries left waiting when another delivery of the
/// batch was credited: the sale a refund or renewal waits for may have been in the batch.
async fn second_chance(
    ctx: &InboxContext,
    memo: &Arc<BatchMemo>,
    finished: &mut [Option<(InboxEntry, InboxResult, Remembered)>],
) {
    let credited = finished.iter().flatten().any(|(_, result, _)| result.status == "processed");
    if !credited {
        return;
    }
    for (entry, result, remembered) in finished.iter_mut().flatten() {
        if result.status != "waiting" {
            continue;
        }
        let view = memo.for_delivery();
        *result = process(ctx, &view, entry, read(entry)).await;
        let again = view.take_remembered();
        remembered.payments.extend(again.payments);
        remembered.subscriptions.extend(again.subscriptions);
    }
}

/// Writes a batch's results and memory in one transaction; a delivery whose rows the
/// database refuses is finished alone as failed, so it neither blocks the others nor runs
/// forever.
pub async fn finish(store: Arc<dyn Store>, now: i64, finished: Vec<InboxFinish>) {
    let outcomes = write_isolating(&finished, |part| {
        let store = store.clone();
        async move { store.finish_inbox_batch(&part).await }
    })
    .await;
    for (f, outcome) in finished.iter().zip(outcomes) {
        let Err(err) = outcome else { continue };
        if !err.is_row_fault() {
            tracing::warn!(%err, delivery = %f.id, "recording a processed delivery failed; it runs again");
            continue;
        }
        let failed = InboxResult {
            status: "failed",
            outcome: format!("{} (but its result could not be recorded: {err})", f.result.outcome),
            conversion_id: f.result.conversion_id.clone(),
            next_attempt_at: now,
            processed_at: Some(now),
        };
        if let Err(err) = store.finish_inbox(&f.id, f.attempt, &failed).await {
            tracing::warn!(%err, delivery = %f.id, "recording a failed delivery failed; it runs again");
        }
    }
}

/// The ids a delivery reads or remembers under (scoped by merchant and provider).
fn object_keys(entry: &InboxEntry, read: &Read) -> Vec<(String, String, String)> {
    let Read::Parsed(provider, parsed) = read else { return Vec::new() };
    let ids: Vec<String> = match &parsed.action {
        Action::Payment(p) => keys_of(&p.object_id, &p.aliases)
            .into_iter()
            .chain(memory_keys(p.subscription_id.as_deref(), p.customer_id.as_deref()))
            .collect(),
        Action::TrialStarted(t) => std::iter::once(t.object_id.clone())
            .chain(memory_keys(Some(&t.subscription_id), t.customer_id.as_deref()))
            .collect(),
        Action::Refund(r) => keys_of(&r.object_id, &r.aliases),
        Action::Chargeback(c) => keys_of(&c.object_id, &c.aliases),
        Action::Link(l) => keys_of(&l.object_id, &l.aliases)
            .into_iter()
            .chain(memory_keys(l.subscription_id.as_deref(), l.customer_id.as_deref()))
            .collect(),
        Action::TransferReversed { transfer_id } => vec![format!("transfer:{transfer_id}")],
        Action::Ignored { .. } | Action::NeedsLookup { .. } => Vec::new(),
    };
    ids.into_iter().map(|id| (entry.merchant_id.clone(), provider.as_str().to_string(), id)).collect()
}

/// Groups the batch into chains of deliveries sharing an id (transitively), each in batch
/// order.
fn chains(batch: &[Item]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..batch.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: HashMap<(String, String, String), usize> = HashMap::new();
    for (i, (entry, read)) in batch.iter().enumerate() {
        for key in object_keys(entry, read) {
            match owner.get(&key) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    owner.insert(key, i);
                }
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    for i in 0..batch.len() {
        let r = root(&mut parent, i);
        let g = *group_of.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

#[cfg(test)]
mod tests {
    use refline_processors::{BillingReason, Parsed, Payment, Provider, Refund};

    use super::*;

    fn item(n: usize, action: Action) -> Item {
        let entry = InboxEntry {
            id: format!("whin_{n}"),
            merchant_id: "mer_1".into(),
            integration_id: "int_1".into(),
            provider: "stripe".into(),
            dedupe_key: format!("evt_{n}"),
            event_type: None,
            headers: "[]".into(),
            query: String::new(),
            body: "{}".into(),
            verification: "signature".into(),
            status: "pending".into(),
            outcome: None,
            conversion_id: None,
            attempts: 1,
            next_attempt_at: 0,
            received_at: 0,
            processed_at: None,
        };
        let parsed = Parsed {
            event_id: format!("evt_{n}"),
            event_type: "test".into(),
            test_mode: false,
            occurred_at_unix_ms: None,
            action,
        };
        (entry, Read::Parsed(Provider::Stripe, Box::new(parsed)))
    }

    fn payment(object: &str, customer: &str) -> Action {
        Action::Payment(Payment {
            object_id: object.into(),
            aliases: vec![format!("ch_{object}")],
            amount_minor: 1800,
            tax_minor: None,
            currency: "usd".into(),
            customer_id: Some(customer.into()),
            customer_email: None,
            subscription_id: None,
            billing_reason: BillingReason::OneOff,
            reference: None,
            coupon: None,
        })
    }

    fn refund(alias: &str) -> Action {
        Action::Refund(Refund {
            object_id: "pi_unknown".into(),
            aliases: vec![alias.into()],
            refund_id: "re_1".into(),
            full: true,
            amount_minor: None,
            total_refunded_minor: None,
            original_amount_minor: None,
            currency: None,
        })
    }

    #[test]
    fn deliveries_naming_one_object_form_one_chain_in_order() {
        let batch = vec![
            item(0, payment("pi_a", "cus_a")),
            item(1, payment("pi_b", "cus_b")),
            // Names the first sale only by its charge (an alias).
            item(2, refund("ch_pi_a")),
            // Same customer as the second.
            item(3, payment("pi_c", "cus_b")),
            item(4, Action::Ignored { reason: "not a sale".into() }),
        ];
        assert_eq!(chains(&batch), vec![vec![0, 2], vec![1, 3], vec![4]]);
    }
}

//! The inbox worker: claims due deliveries a batch at a time, processes each batch as a batch
//! ([`super::batch`]) and records what each delivery became. Claims are leased in the
//! database, so several nodes never process one delivery at once; a node that dies mid-way
//! leaves the lease to expire and another node takes over.
//!
//! One batch at a time: a batch is claimed after the previous one finished, so it reads
//! everything earlier batches remembered (a refund claimed after its sale always finds it).
//! Within a batch, deliveries run concurrently except those naming a common object, which run
//! in the order they arrived. Across nodes the database decides every race (one conversion per
//! order key; refunds and renewals that arrive before their sale wait and retry).
//!
//! Deliveries that need a payment lookup first (GoPay's notifications carry only an id) are
//! processed beside the batches, each alone, so a slow processor API never holds up a batch.

use std::{sync::Arc, time::Duration};

use refline_store::InboxEntry;
use tokio::{
    sync::{Notify, Semaphore},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

use super::{batch, memo::BatchMemo, process, InboxContext};
use refline_processors::Action;
use refline_store::InboxFinish;

/// Deliveries claimed (and processed) at once.
pub const BATCH: i64 = 128;

/// How recently a delivery must have been received for the worker to count deliveries as
/// arriving, and claim [`InboxContext::claim_while_receiving`] at a time instead of [`BATCH`].
const RECEIVING_WINDOW: Duration = Duration::from_millis(100);

/// Payment lookups in flight at once.
const LOOKUPS: usize = 32;

/// Runs until `stop` is cancelled, then finishes the deliveries it holds.
pub async fn run(ctx: InboxContext, wake: Arc<Notify>, poll: Duration, stop: CancellationToken) {
    let lookups = Arc::new(Semaphore::new(LOOKUPS));
    let mut looking_up = JoinSet::new();
    while !stop.is_cancelled() {
        while looking_up.try_join_next().is_some() {}
        let now = ctx.clock.now();
        // While deliveries arrive, smaller batches: on an engine with one writer every
        // receiver's commit waits for the worker's turn (claim, sales, finish), and a turn's
        // length grows with its batch. What is left is drained in full batches.
        let claim = if ctx.inbox.receiving(RECEIVING_WINDOW) {
            ctx.claim_while_receiving.clamp(1, BATCH)
        } else {
            BATCH
        };
        let claimed = match ctx.store.claim_inbox(now, now + ctx.lease_ms, claim).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::warn!(%err, "claiming processor deliveries failed");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
                () = stop.cancelled() => {}
            }
            continue;
        }
        let (slow, batch): (Vec<batch::Item>, Vec<batch::Item>) = claimed
            .into_iter()
            .map(|entry| {
                let read = process::read(&entry);
                (entry, read)
            })
            .partition(|(_, read)| needs_lookup(read));
        for (entry, read) in slow {
            let Ok(permit) = lookups.clone().acquire_owned().await else { break };
            let ctx = ctx.clone();
            looking_up.spawn(async move {
                alone(&ctx, entry, read).await;
                drop(permit);
            });
        }
        if !batch.is_empty() {
            batch::run(&ctx, batch).await;
        }
    }
    while looking_up.join_next().await.is_some() {}
}

fn needs_lookup(read: &process::Read) -> bool {
    matches!(read, process::Read::Parsed(_, parsed) if matches!(parsed.action, Action::NeedsLookup { .. }))
}

/// Processes and finishes one delivery on its own.
async fn alone(ctx: &InboxContext, entry: InboxEntry, read: process::Read) {
    let memo = BatchMemo::new(ctx.store.clone());
    let view = memo.for_delivery();
    let result = process::process(ctx, &view, &entry, read).await;
    let remembered = view.take_remembered();
    let finished = InboxFinish {
        id: entry.id,
        attempt: entry.attempts,
        result,
        payments: remembered.payments,
        subscriptions: remembered.subscriptions,
    };
    batch::finish(ctx.store.clone(), ctx.clock.now(), vec![finished]).await;
}

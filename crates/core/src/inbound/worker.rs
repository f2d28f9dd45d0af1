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

/// How many deliveries the worker claims (and processes) at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimSizes {
    /// When no delivery is arriving: a backlog is drained in these.
    pub quiet: i64,
    /// While deliveries are arriving (one received by this node within [`RECEIVING_WINDOW`]).
    pub receiving: i64,
}

impl ClaimSizes {
    /// An engine with one writer (SQLite): every receiver's commit waits for the worker's turns
    /// on it (claim, the batch's sales, finish), and a turn grows with its batch, so the worker
    /// claims few while deliveries arrive. Measured with `refline-bench stripe` (32 connections,
    /// one size for the whole run): accepted 4,905/s claiming 128, 5,798/s claiming 64, 7,025/s
    /// claiming 32, 7,879/s claiming 16, end to end (until every delivery was processed) 4,873,
    /// 4,452, 3,693 and 2,869/s. These sizes: accepted 6,705–6,881/s, end to end 4,260–4,351/s
    /// (docs/BENCHMARKS.md).
    pub const ONE_WRITER: ClaimSizes = ClaimSizes { quiet: 128, receiving: 32 };

    /// An engine whose receivers and workers write side by side (PostgreSQL): a batch's three
    /// commits (claim, sales, finish) come one after the other, each waiting for its WAL flush,
    /// so a larger batch shares them among more deliveries. Measured end to end: 2,039–2,172/s
    /// claiming 128, 2,847/s claiming 256, 3,067/s claiming 512 (accepting, which shares the
    /// two cores, 4,157 → 3,578 → 3,275/s).
    pub const PARALLEL_WRITERS: ClaimSizes = ClaimSizes { quiet: 256, receiving: 256 };

    /// The size to claim now.
    fn now(self, receiving: bool) -> i64 {
        if receiving {
            self.receiving.clamp(1, self.quiet.max(1))
        } else {
            self.quiet.max(1)
        }
    }
}

/// How recently a delivery must have been received for the worker to count deliveries as
/// arriving.
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
        // Fewer while deliveries arrive where that keeps receivers waiting (`ClaimSizes`).
        let claim = ctx.claim.now(ctx.inbox.receiving(RECEIVING_WINDOW));
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

#[cfg(test)]
mod tests {
    use super::ClaimSizes;

    #[test]
    fn fewer_are_claimed_while_deliveries_arrive_where_the_engine_has_one_writer() {
        assert_eq!(ClaimSizes::ONE_WRITER.now(true), 32);
        assert_eq!(ClaimSizes::ONE_WRITER.now(false), 128);
        assert_eq!(ClaimSizes::PARALLEL_WRITERS.now(true), 256);
        assert_eq!(ClaimSizes::PARALLEL_WRITERS.now(false), 256);
        // Never more while receiving than when quiet, never fewer than one.
        assert_eq!(ClaimSizes { quiet: 16, receiving: 64 }.now(true), 16);
        assert_eq!(ClaimSizes { quiet: 0, receiving: 0 }.now(true), 1);
        assert_eq!(ClaimSizes { quiet: -5, receiving: 3 }.now(false), 1);
    }
}

//! The inbox worker: claims due deliveries, processes them, records what each became. Claims
//! are leased in the database, so several nodes never process one delivery at once; a node that
//! dies mid-way leaves the lease to expire and another node takes over.
//!
//! Deliveries are processed concurrently. Order does not need a lock: the database decides
//! every race (one conversion per order key, refunds and renewals that arrive before their sale
//! wait and retry), so concurrency changes only how soon, never what.

use std::{sync::Arc, time::Duration};

use tokio::{
    sync::{Notify, Semaphore},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

use super::{process::process, InboxContext};

/// Deliveries processed at once by a node.
const CONCURRENCY: usize = 32;

/// Runs until `stop` is cancelled, then finishes the deliveries it holds.
pub async fn run(ctx: InboxContext, wake: Arc<Notify>, poll: Duration, stop: CancellationToken) {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut running = JoinSet::new();
    while !stop.is_cancelled() {
        while running.try_join_next().is_some() {}
        let free = slots.available_permits();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            let now = ctx.clock.now();
            let limit = i64::try_from(free).unwrap_or(1);
            match ctx.store.claim_inbox(now, now + ctx.lease_ms, limit).await {
                Ok(claimed) => claimed,
                Err(err) => {
                    tracing::warn!(%err, "claiming processor deliveries failed");
                    Vec::new()
                }
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
                _ = slots.clone().acquire_owned(), if free == 0 => {}
                () = stop.cancelled() => {}
            }
            continue;
        }
        for entry in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else { break };
            let ctx = ctx.clone();
            running.spawn(async move {
                let result = process(&ctx, &entry).await;
                if let Err(err) = ctx.store.finish_inbox(&entry.id, entry.attempts, &result).await {
                    tracing::warn!(%err, delivery = %entry.id, "recording a processed delivery failed; it runs again");
                }
                drop(permit);
            });
        }
    }
    while running.join_next().await.is_some() {}
}

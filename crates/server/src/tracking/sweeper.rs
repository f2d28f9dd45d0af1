//! Housekeeping that runs once across the cluster: clears raw click IPs once the fraud window is
//! over (hourly) and drops the shared rate windows and unique visits that have expired (each
//! minute). Every node checks each minute; the node that takes a job's lease
//! (`scheduled_runs`, the same lease as automatic payouts) runs it, the others skip it.

use std::{sync::Arc, time::Duration};

use refline_domain::UNIQUE_WINDOW_MS;
use refline_store::{Store, StoreResult};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const MINUTE_MS: i64 = 60 * 1000;
/// How long a node may hold a job before another may take it (a node that died mid-run).
const LEASE_MS: i64 = 10 * MINUTE_MS;

/// A job and how often it is due.
struct Job {
    name: &'static str,
    every_ms: i64,
}

const CLICK_IPS: Job = Job { name: "click_ip_sweep", every_ms: 60 * MINUTE_MS };
const CLUSTER_STATE: Job = Job { name: "cluster_sweep", every_ms: MINUTE_MS };

/// Checks every minute (and at start) until `stop`.
pub async fn run(store: Arc<dyn Store>, clock: Arc<dyn Clock>, retention_days: i64, stop: CancellationToken) {
    let holder = refline_core::ids::new_id("node");
    loop {
        let now = clock.now();
        let ips = once(&store, &holder, &CLICK_IPS, now, || async {
            store.scrub_click_ips(now - retention_days * DAY_MS).await
        });
        match ips.await {
            Ok(None) => {}
            // Logged even when nothing was cleared: which node ran the cluster's hourly job.
            Ok(Some(cleared)) => tracing::info!(cleared, "click_ip_sweep ran: cleared raw IPs of old clicks"),
            Err(err) => tracing::warn!(%err, "clearing old click IPs failed"),
        }
        let windows_before = now.div_euclid(MINUTE_MS) - 1;
        let state = once(&store, &holder, &CLUSTER_STATE, now, || async {
            store.sweep_cluster_state(windows_before, now - UNIQUE_WINDOW_MS).await
        });
        if let Err(err) = state.await {
            tracing::warn!(%err, "dropping expired rate windows and unique visits failed");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
}

/// Runs `work` if `job` is due and this node takes its lease; `None` if it was not its turn.
async fn once<F, Fut>(
    store: &Arc<dyn Store>,
    holder: &str,
    job: &Job,
    now: i64,
    work: F,
) -> StoreResult<Option<u64>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = StoreResult<u64>>,
{
    if !store.claim_schedule(job.name, holder, now, now - job.every_ms, now + LEASE_MS).await? {
        return Ok(None);
    }
    let done = work().await;
    // Finished or failed, the lease is given back; a failure is tried again when next due.
    store.finish_schedule(job.name, holder, if done.is_ok() { now } else { 0 }).await?;
    done.map(Some)
}

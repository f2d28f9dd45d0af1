//! Clears raw click IPs once the fraud window is over.

use std::{sync::Arc, time::Duration};

use refline_store::Store;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Every hour (and at start), clears the IPs of clicks older than `retention_days`.
pub async fn run(store: Arc<dyn Store>, clock: Arc<dyn Clock>, retention_days: i64, stop: CancellationToken) {
    loop {
        let before = clock.now() - retention_days * DAY_MS;
        match store.scrub_click_ips(before).await {
            Ok(0) => {}
            Ok(cleared) => tracing::info!(cleared, "cleared raw IPs of old clicks"),
            Err(err) => tracing::warn!(%err, "clearing old click IPs failed"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(60 * 60)) => {}
        }
    }
}

//! The delivery worker: claims due deliveries from the outbox, sends them, and records each
//! attempt with what happens next (delivered, retry at, failed, endpoint disabled).
//!
//! Claims are leased in the database, so several nodes on one PostgreSQL never send the same
//! delivery in parallel; a node that dies mid-send leaves its lease to expire and another node
//! sends again (at-least-once; receivers dedupe on `webhook-id`). Workers wake when this node
//! writes and otherwise poll, to see what other nodes wrote.

use std::sync::Arc;

use rand::Rng;
use refline_domain::{next_retry_at, DISABLE_AFTER_FAILURES};
use refline_store::{AttemptOutcome, Store, WebhookDelivery, WebhookEndpoint};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    clock::Clock,
    webhooks::{
        dispatch::{succeeded, Dispatcher},
        settings::WebhookSettings,
    },
};

/// Runs until `stop` is cancelled, finishing the deliveries it holds.
pub async fn run(
    store: Arc<dyn Store>,
    dispatcher: Dispatcher,
    settings: WebhookSettings,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    stop: CancellationToken,
) {
    let limit = i64::try_from(settings.concurrency).unwrap_or(32);
    while !stop.is_cancelled() {
        let now = clock.now();
        let claimed = match store.claim_due_deliveries(now, settings.lease_ms, limit).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::warn!(%err, "claiming webhook deliveries failed");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(settings.poll_interval) => {}
                () = stop.cancelled() => {}
            }
            continue;
        }
        let mut sends = tokio::task::JoinSet::new();
        for (delivery, endpoint) in claimed {
            let (store, dispatcher, settings, clock) =
                (store.clone(), dispatcher.clone(), settings.clone(), clock.clone());
            sends.spawn(async move {
                deliver(store.as_ref(), &dispatcher, &settings, clock.as_ref(), delivery, endpoint).await
            });
        }
        // Wait for every send of this round (a task cancelled by a runtime shutdown is fine:
        // its lease expires and the delivery is sent again).
        while sends.join_next().await.is_some() {}
    }
}

/// One attempt of one delivery, recorded.
async fn deliver(
    store: &dyn Store,
    dispatcher: &Dispatcher,
    settings: &WebhookSettings,
    clock: &dyn Clock,
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
) {
    let number = delivery.attempts + 1;
    let attempt = dispatcher.send(&endpoint, &delivery.id, &delivery.event, &delivery.payload, number).await;
    let success = succeeded(&attempt);
    let jitter = rand::thread_rng().gen_range(-200..=200);
    let retry_at =
        if success { None } else { next_retry_at(clock.now(), number, &settings.retry_delays_ms, jitter) };
    let outcome = AttemptOutcome { attempt, success, retry_at, disable_after: DISABLE_AFTER_FAILURES };
    if let Err(err) = store.finish_attempt(&outcome).await {
        // The lease runs out and the delivery is tried again: at least once, never lost.
        tracing::error!(%err, delivery = %delivery.id, "recording a webhook attempt failed");
    }
}

//! The delivery worker: claims due deliveries from the outbox, sends them, and records each
//! attempt with what happens next (delivered, retry at, failed, endpoint disabled).
//!
//! Claims are leased in the database, so several nodes on one PostgreSQL never send the same
//! delivery in parallel; a node that dies mid-send leaves its lease to expire and another node
//! sends again (at-least-once; receivers dedupe on `webhook-id`). Workers wake when this node
//! writes and otherwise poll, to see what other nodes wrote.

use std::{sync::Arc, time::Duration};

use rand::Rng;
use refline_domain::{next_retry_at, DISABLE_AFTER_FAILURES};
use refline_store::{AttemptOutcome, Store, WebhookDelivery, WebhookEndpoint};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::{
    clock::Clock,
    outbound::{
        dispatch::{succeeded, Dispatcher},
        settings::WebhookSettings,
    },
};

/// How long the worker waits after a wake-up before it looks for due deliveries, so the wake-ups
/// of a burst of sales cost one look: the most a first delivery waits for it.
const WAKE_COALESCE: Duration = Duration::from_millis(10);

/// Runs until `stop` is cancelled, then waits for the deliveries it holds.
///
/// Up to `concurrency` sends run at once and each finishes on its own, so one slow receiver
/// holds one slot for at most the timeout instead of stalling everyone else's deliveries.
pub async fn run(
    store: Arc<dyn Store>,
    dispatcher: Dispatcher,
    settings: WebhookSettings,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    stop: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    // A lease must outlast any send, or a second worker could start the same delivery.
    let timeout_ms = i64::try_from(settings.timeout.as_millis()).unwrap_or(i64::MAX / 4);
    let lease_ms = settings.lease_ms.max(timeout_ms.saturating_mul(3));
    let mut sends = tokio::task::JoinSet::new();
    while !stop.is_cancelled() {
        while sends.try_join_next().is_some() {}
        let free = slots.available_permits();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            let limit = i64::try_from(free).unwrap_or(1);
            match store.claim_due_deliveries(clock.now(), lease_ms, limit).await {
                Ok(claimed) => claimed,
                Err(err) => {
                    tracing::warn!(%err, "claiming webhook deliveries failed");
                    Vec::new()
                }
            }
        };
        if claimed.is_empty() {
            let woken = tokio::select! {
                () = wake.notified() => true,
                () = tokio::time::sleep(settings.poll_interval) => false,
                _ = slots.clone().acquire_owned(), if free == 0 => false,
                () = stop.cancelled() => false,
            };
            // Every live sale wakes the worker, and most find nothing to claim (most merchants
            // have no endpoint): a short pause folds a burst's wake-ups into one look instead of
            // one read per sale (a thousand a second under many merchants' sales, issue 18).
            if woken {
                tokio::select! {
                    () = tokio::time::sleep(WAKE_COALESCE) => {}
                    () = stop.cancelled() => {}
                }
            }
            continue;
        }
        for (delivery, endpoint) in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else { break };
            let (store, dispatcher, settings, clock) =
                (store.clone(), dispatcher.clone(), settings.clone(), clock.clone());
            sends.spawn(async move {
                deliver(store.as_ref(), &dispatcher, &settings, clock.as_ref(), delivery, endpoint).await;
                drop(permit);
            });
        }
    }
    // A task cancelled by a runtime shutdown is fine: its lease expires and it is sent again.
    while sends.join_next().await.is_some() {}
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
    // Counted once its outcome is recorded, so the backlog figures already agree with it.
    crate::metrics::record_webhook_attempt(outcome.delivery_status());
}

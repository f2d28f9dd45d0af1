//! The mail worker: claims due mails (a lease, so other nodes skip them meanwhile), delivers
//! each, and records the outcome; a failure is retried with back-off, then given up after
//! [`MAX_ATTEMPTS`] with its error kept.

use std::{sync::Arc, time::Duration};

use refline_core::Clock;
use refline_store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::MailTransport;

/// Attempts before a mail is given up (`status = failed`).
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed mail is left to its worker before another may take it.
const LEASE_MS: i64 = 5 * 60 * 1000;
/// Mails claimed at once.
const BATCH: i64 = 20;

/// Delay before attempt `attempts + 1`: 1 min, 5 min, 30 min, 2 h, then 6 h.
pub fn backoff_ms(attempts: i64) -> i64 {
    const MINUTE: i64 = 60 * 1000;
    match attempts {
        ..=1 => MINUTE,
        2 => 5 * MINUTE,
        3 => 30 * MINUTE,
        4 => 120 * MINUTE,
        _ => 360 * MINUTE,
    }
}

/// Runs until `stop`: delivers due mail whenever woken or every `poll`.
pub async fn run(
    store: Arc<dyn Store>,
    transport: MailTransport,
    from: String,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    poll: Duration,
    stop: CancellationToken,
) {
    loop {
        let delivered = deliver_due(store.as_ref(), &transport, &from, clock.as_ref()).await;
        if delivered == BATCH as usize {
            continue;
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Delivers one batch of due mail; answers how many were claimed.
pub async fn deliver_due(
    store: &dyn Store,
    transport: &MailTransport,
    from: &str,
    clock: &dyn Clock,
) -> usize {
    let now = clock.now();
    let due = match store.claim_mail(now, now + LEASE_MS, BATCH).await {
        Ok(due) => due,
        Err(err) => {
            tracing::warn!(%err, "mail outbox unreadable; retrying at the next poll");
            return 0;
        }
    };
    for mail in &due {
        let outcome = transport.deliver(from, mail).await;
        let attempts = mail.attempts + 1;
        let recorded = match &outcome {
            Ok(()) => store.mail_sent(&mail.id, clock.now()).await,
            Err(error) => {
                let retry = (attempts < MAX_ATTEMPTS).then(|| clock.now() + backoff_ms(attempts));
                tracing::warn!(id = %mail.id, to = %mail.to_address, attempts, %error, given_up = retry.is_none(), "mail delivery failed");
                store
                    .mail_failed(&mail.id, attempts, retry, &error.chars().take(500).collect::<String>())
                    .await
            }
        };
        if let Err(err) = recorded {
            // The lease lapses and the mail is tried again: at worst delivered twice, never lost.
            tracing::warn!(%err, id = %mail.id, "mail outcome not recorded");
        }
    }
    due.len()
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_then_levels() {
        let delays: Vec<i64> = (1..=7).map(super::backoff_ms).collect();
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(delays[0], 60_000);
        assert_eq!(delays[6], 6 * 3_600_000);
    }
}

//! Outbound webhook settings.

use std::time::Duration;

use refline_domain::DEFAULT_RETRY_DELAYS_MS;

/// How deliveries are made and retried.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Development and tests only: allow `http://` and private or loopback targets.
    pub allow_private_targets: bool,
    /// Delays before each retry (ms); the length is the number of retries.
    pub retry_delays_ms: Vec<i64>,
    /// A receiver must answer within this.
    pub timeout: Duration,
    /// How often idle workers look for due deliveries written by other nodes.
    pub poll_interval: Duration,
    /// How long a claimed delivery is reserved for one worker (longer than `timeout`).
    pub lease_ms: i64,
    /// A re-activated endpoint receives what it missed for at most this long.
    pub catch_up_window_ms: i64,
    /// Deliveries sent at once by a node.
    pub concurrency: usize,
    /// Run the delivery worker (and the processor inbox worker) in this process.
    pub worker_enabled: bool,
    /// How often the idle processor inbox worker looks for due deliveries when nothing woke it
    /// (a receiver on this node or another node's announcement wakes it at once).
    pub inbox_poll_interval: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private_targets: false,
            retry_delays_ms: DEFAULT_RETRY_DELAYS_MS.to_vec(),
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
            lease_ms: 60_000,
            catch_up_window_ms: 3 * 24 * 60 * 60 * 1000,
            concurrency: 32,
            worker_enabled: true,
            inbox_poll_interval: Duration::from_millis(500),
        }
    }
}

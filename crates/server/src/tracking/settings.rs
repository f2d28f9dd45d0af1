//! Tracking settings.

use std::time::Duration;

/// How clicks are resolved, written and kept.
#[derive(Debug, Clone)]
pub struct TrackingSettings {
    /// How long a resolved link is trusted before the store is asked again. Writes through this
    /// node clear the cache at once; this bounds how stale another node's change can be.
    pub cache_ttl: Duration,
    /// How long the writer gathers clicks before writing them: fewer, larger transactions (and
    /// fewer wake-ups) at the price of this much more a crash can lose.
    pub batch_window: Duration,
    /// Clicks waiting for the writer before a redirect has to wait for room. 8,192 by default:
    /// more than a 50 ms window plus a batch's write at a 2-core node's peak (~70,000/s), and
    /// small enough that a burst does not leave the heap it filled resident afterwards (65,536
    /// queued clicks kept ~17 MB after the load, `refline-bench memory`; issue 18).
    pub queue_capacity: usize,
    /// Most clicks in one write transaction.
    pub max_batch: usize,
    /// Days a click's raw IP is kept for self-referral checks before it is cleared.
    pub ip_retention_days: i64,
    /// Where unknown or inactive links send visitors; `None` answers a 404 page.
    pub fallback_url: Option<String>,
    /// (visitor, link) pairs remembered for unique counting.
    pub unique_capacity: usize,
    /// Answer a click (302, beacon) only after its batch committed: nothing answered is lost
    /// in a crash, at the price of a write in every answer's latency (such batches are written
    /// without waiting for `batch_window`).
    pub ack_after_commit: bool,
    /// Whether this node takes its turn at the cluster's housekeeping (`tracking/sweeper.rs`:
    /// clearing old click IPs, dropping expired rate windows and unique visits). On by default;
    /// off only for a node whose clock is not the cluster's, such as a test server on a manual
    /// clock sharing a database with others, whose "now" would sweep away their current state.
    pub sweeper_enabled: bool,
}

impl Default for TrackingSettings {
    fn default() -> Self {
        TrackingSettings {
            cache_ttl: Duration::from_secs(10),
            batch_window: Duration::from_millis(50),
            queue_capacity: 8_192,
            max_batch: 2_000,
            ip_retention_days: 30,
            fallback_url: None,
            unique_capacity: 1_000_000,
            ack_after_commit: false,
            sweeper_enabled: true,
        }
    }
}

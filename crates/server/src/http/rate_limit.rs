//! Fixed one-minute windows per bucket (an API key, an IP, a key's invitations).
//!
//! Windows align to wall-clock minutes, so `X-RateLimit-Reset` is the next minute boundary.
//!
//! One node (SQLite, or PostgreSQL with one node) could count in memory, but several nodes on
//! one PostgreSQL must share the count. Asking the database on every request would add a round
//! trip to every API call, so a node takes requests from the shared window in **leases**: it
//! asks for a few at once (`ClusterStore::lease_rate`, one statement that never grants past the
//! limit), answers from its lease until it runs out, and asks again. The lease doubles while a
//! key is busy, up to a quarter of what is left of the window (at most 64), and starts at one
//! each minute. One lease is taken at a time per bucket: requests that find the node's lease
//! empty while it is being refilled wait for that lease and share it (each leasing on its own
//! would take a quarter of the same stale remainder many times over). Once the window is used
//! up across the cluster, refusals need no statement: the count only grows within a minute.
//! So:
//! - across all nodes, never more than the limit is admitted in a window;
//! - a node may refuse while another still holds requests it leased and has not used: at most
//!   a quarter of what was left when it leased, and only one request each once the window is
//!   nearly used up;
//! - a quiet key costs one database statement per request, a busy one about one per 64.
//!
//! If the database cannot be reached, the node counts on its own until it can.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use refline_store::Store;

/// The state of one bucket after a request was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The window's allowance.
    pub limit: u32,
    /// Requests left in this window.
    pub remaining: u32,
    /// Unix seconds when the window resets.
    pub reset: i64,
}

/// Past this many buckets the memory of old windows is dropped.
const CAPACITY: usize = 100_000;
/// The largest lease a node takes at once.
const MAX_LEASE: u32 = 64;

/// Counts requests per bucket and minute, in memory or across the cluster.
#[derive(Default)]
pub struct RateLimiter {
    /// Set when several nodes share the database: leases come from it.
    shared: Option<Arc<dyn Store>>,
    local: LocalWindows,
    leases: Mutex<HashMap<String, Lease>>,
}

/// What [`RateLimiter::take`] found.
enum Take {
    /// Answered from what the node holds (or knows: the window is used up).
    Done(RateDecision),
    /// The node holds nothing: lease `want` more, one lease at a time per bucket (`gate`).
    Lease { want: u32, gate: Arc<tokio::sync::Mutex<()>> },
}

impl RateLimiter {
    /// A limiter whose windows are shared by every node on `store`'s database.
    pub fn shared(store: Arc<dyn Store>) -> Self {
        Self { shared: Some(store), ..Self::default() }
    }

    /// Counts one request for `bucket` at `now_ms` against `limit` per minute.
    pub async fn hit(&self, bucket: &str, limit: u32, now_ms: i64) -> RateDecision {
        let Some(store) = &self.shared else { return self.local.hit(bucket, limit, now_ms) };
        let window = now_ms.div_euclid(60_000);
        let reset = (window + 1) * 60;
        let gate = match self.take(bucket, window, limit) {
            Take::Done(decision) => return decision,
            Take::Lease { gate, .. } => gate,
        };
        // One lease in flight per bucket: requests that find the lease empty while another is
        // being taken wait for it and share it, instead of each leasing on the same stale
        // count (a burst of them would take far more than a quarter of what is left, leaving
        // other nodes refusing while this one holds requests nobody uses).
        let _turn = gate.lock().await;
        let want = match self.take(bucket, window, limit) {
            Take::Done(decision) => return decision,
            Take::Lease { want, .. } => want,
        };
        match store.lease_rate(bucket, window, limit, want).await {
            Ok(granted) => {
                let mut leases = self.leases.lock().unwrap_or_else(PoisonError::into_inner);
                let lease = lease_in(&mut leases, bucket, window);
                if lease.window != window {
                    // The next minute began meanwhile and has its own lease: this grant (of
                    // the minute before) answers this request only.
                    let remaining = limit.saturating_sub(granted.used);
                    return RateDecision { allowed: granted.granted > 0, limit, remaining, reset };
                }
                lease.used = lease.used.max(granted.used);
                if granted.granted == 0 {
                    return lease.decision(false, limit);
                }
                lease.size = granted.granted;
                lease.left += granted.granted - 1;
                lease.decision(true, limit)
            }
            Err(err) => {
                tracing::warn!(%err, "shared rate limit unavailable; counting on this node alone");
                self.local.hit(bucket, limit, now_ms)
            }
        }
    }

    /// Answers from the node's lease of `bucket` when it can.
    fn take(&self, bucket: &str, window: i64, limit: u32) -> Take {
        let mut leases = self.leases.lock().unwrap_or_else(PoisonError::into_inner);
        if leases.len() > CAPACITY {
            leases.retain(|_, l| l.window >= window);
        }
        let lease = lease_in(&mut leases, bucket, window);
        if lease.left > 0 {
            lease.left -= 1;
            return Take::Done(lease.decision(true, limit));
        }
        // The cluster's count only grows within a minute: once it reached the limit, asking
        // again would cost a write per refused request and grant nothing.
        if lease.used >= limit {
            return Take::Done(lease.decision(false, limit));
        }
        Take::Lease { want: lease.next_size(limit), gate: lease.gate.clone() }
    }
}

/// `bucket`'s lease for `window`: a new window starts a new lease. A request that read the
/// clock just before another started the next minute's lease is counted in that minute: an
/// older lease never replaces a newer one.
fn lease_in<'a>(leases: &'a mut HashMap<String, Lease>, bucket: &str, window: i64) -> &'a mut Lease {
    let lease = leases.entry(bucket.to_string()).or_insert_with(|| Lease::new(window));
    if lease.window < window {
        *lease = Lease::new(window);
    }
    lease
}

/// What a node holds of one bucket's shared window.
#[derive(Debug, Clone)]
struct Lease {
    window: i64,
    /// Leased requests not used yet.
    left: u32,
    /// Requests taken by all nodes as of this node's last lease.
    used: u32,
    /// The last lease's size.
    size: u32,
    /// Held while this node leases more of the window.
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl Lease {
    fn new(window: i64) -> Self {
        Self { window, left: 0, used: 0, size: 0, gate: Arc::default() }
    }

    /// The next lease: double the last, at most a quarter of what is left, at least one.
    fn next_size(&self, limit: u32) -> u32 {
        let left_in_window = limit.saturating_sub(self.used);
        self.size.saturating_mul(2).clamp(1, (left_in_window / 4).clamp(1, MAX_LEASE))
    }

    /// What the caller is told: what the cluster had left at this node's last lease, plus
    /// what this node still holds; the window resets at the end of the lease's minute.
    fn decision(&self, allowed: bool, limit: u32) -> RateDecision {
        let remaining = limit.saturating_sub(self.used).saturating_add(self.left).min(limit);
        RateDecision { allowed, limit, remaining, reset: (self.window + 1) * 60 }
    }
}

/// Windows counted in this node's memory.
#[derive(Debug, Default)]
struct LocalWindows {
    buckets: Mutex<HashMap<String, (i64, u32)>>,
}

impl LocalWindows {
    fn hit(&self, bucket: &str, limit: u32, now_ms: i64) -> RateDecision {
        let window = now_ms.div_euclid(60_000);
        let reset = (window + 1) * 60;
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > CAPACITY {
            buckets.retain(|_, (w, _)| *w == window);
        }
        let entry = buckets.entry(bucket.to_string()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let allowed = entry.1 < limit;
        if allowed {
            entry.1 += 1;
        }
        RateDecision { allowed, limit, remaining: limit.saturating_sub(entry.1), reset }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_within_a_minute_and_resets_on_the_next() {
        let limiter = RateLimiter::default();
        let t = 1_700_000_040_000;
        for i in 0..3 {
            let d = limiter.hit("k", 3, t + i).await;
            assert!(d.allowed);
            assert_eq!(d.remaining, 2 - u32::try_from(i).unwrap());
        }
        let d = limiter.hit("k", 3, t + 10).await;
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.reset, (t / 60_000 + 1) * 60);
        assert!(limiter.hit("k", 3, (t / 60_000 + 1) * 60_000).await.allowed);
        assert!(limiter.hit("other", 3, t).await.allowed);
    }

    #[test]
    fn leases_double_but_never_take_more_than_a_quarter_of_what_is_left() {
        let mut lease = Lease::new(0);
        assert_eq!(lease.next_size(1000), 1, "a window starts with one request");
        lease.size = 1;
        assert_eq!(lease.next_size(1000), 2);
        lease.size = 32;
        assert_eq!(lease.next_size(1000), MAX_LEASE);
        lease.used = 900;
        assert_eq!(lease.next_size(1000), 25);
        lease.used = 998;
        assert_eq!(lease.next_size(1000), 1, "near the limit, one at a time");
        lease.used = 1000;
        assert_eq!(lease.next_size(1000), 1);
        assert_eq!(lease.next_size(0), 1);
    }
}

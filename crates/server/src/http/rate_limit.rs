//! Fixed one-minute windows per key, in memory.
//!
//! Windows align to wall-clock minutes, so `X-RateLimit-Reset` is the next minute boundary.
//! Each node counts on its own: behind N nodes the effective limit is up to N times higher
//! (documented in docs/API.md).

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

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

/// Counts requests per bucket and minute.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    /// Counts one request for `bucket` at `now_ms` against `limit` per minute.
    pub fn hit(&self, bucket: &str, limit: u32, now_ms: i64) -> RateDecision {
        let window = now_ms.div_euclid(60_000);
        let reset = (window + 1) * 60;
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > 100_000 {
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

    #[test]
    fn counts_within_a_minute_and_resets_on_the_next() {
        let limiter = RateLimiter::default();
        let t = 1_700_000_040_000;
        for i in 0..3 {
            let d = limiter.hit("k", 3, t + i);
            assert!(d.allowed);
            assert_eq!(d.remaining, 2 - u32::try_from(i).unwrap());
        }
        let d = limiter.hit("k", 3, t + 10);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.reset, (t / 60_000 + 1) * 60);
        assert!(limiter.hit("k", 3, (t / 60_000 + 1) * 60_000).allowed);
        assert!(limiter.hit("other", 3, t).allowed);
    }
}

//! The shared counters behind a cluster's rate limits and unique clicks, on both engines:
//! leases never grant past the limit, even when many are taken at once, and a visit is unique
//! once per hour per key.

use std::sync::Arc;

use refline_server::http::rate_limit::RateLimiter;
use refline_store::Store;

use crate::{
    engine_tests,
    support::{fresh_store, Engine},
};

async fn leases_never_grant_past_the_limit(engine: Engine) {
    let (store, _dir) = fresh_store(&engine.isolated().await).await;
    let first = store.lease_rate("key_a", 7, 10, 4).await.unwrap();
    assert_eq!((first.granted, first.used), (4, 4));
    let second = store.lease_rate("key_a", 7, 10, 4).await.unwrap();
    assert_eq!((second.granted, second.used), (4, 8));
    let third = store.lease_rate("key_a", 7, 10, 4).await.unwrap();
    assert_eq!((third.granted, third.used), (2, 10), "only what is left");
    let none = store.lease_rate("key_a", 7, 10, 1).await.unwrap();
    assert_eq!((none.granted, none.used), (0, 10));
    assert_eq!(store.lease_rate("key_a", 8, 10, 1).await.unwrap().granted, 1, "a new minute");
    assert_eq!(store.lease_rate("key_b", 7, 10, 1).await.unwrap().granted, 1, "another bucket");
    assert_eq!(store.lease_rate("key_c", 7, 0, 1).await.unwrap().granted, 0, "a zero limit");
    assert_eq!(store.lease_rate("key_d", 7, 3, 9).await.unwrap().granted, 3, "a first lease past the limit");

    // Many leases at once (several nodes): the grants add up to the limit exactly.
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let store: Arc<dyn Store> = store.clone();
            tokio::spawn(async move { store.lease_rate("busy", 9, 50, 3).await.unwrap().granted })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        granted += task.await.unwrap();
    }
    assert_eq!(granted, 50);

    assert_eq!(store.sweep_cluster_state(8, 0).await.unwrap(), 4, "the four windows of minute 7 go");
    assert_eq!(store.lease_rate("key_a", 8, 10, 1).await.unwrap().used, 2, "minute 8 stays");
}

async fn a_visit_is_unique_once_an_hour(engine: Engine) {
    let (store, _dir) = fresh_store(&engine.isolated().await).await;
    let hour = 3_600_000;
    let unique = store.claim_unique_visits(&[(1, 1_000), (2, 1_000), (1, 1_500)], hour).await.unwrap();
    assert_eq!(sorted(unique), [1, 2], "a key repeated in one batch counts once");
    assert!(store.claim_unique_visits(&[(1, 2_000)], hour).await.unwrap().is_empty());
    assert_eq!(store.claim_unique_visits(&[(1, 1_000 + hour), (3, 5)], hour).await.unwrap().len(), 2);
    assert!(
        store.claim_unique_visits(&[(1, 2_000 + hour)], hour).await.unwrap().is_empty(),
        "hour restarted"
    );
    assert!(store.claim_unique_visits(&[], hour).await.unwrap().is_empty());
    assert_eq!(store.sweep_cluster_state(0, 1_000 + hour).await.unwrap(), 2, "keys 2 and 3 expire");
}

/// A node's limiter leases from the shared window one lease at a time per key: a burst of
/// requests that finds the node's lease empty shares the next lease instead of each taking its
/// own on the same stale count (which left the node holding most of the window unused while
/// other nodes refused the key). Once the window is used up, refusals need no lease.
async fn a_burst_on_one_node_does_not_hoard_the_window(engine: Engine) {
    let (store, _dir) = fresh_store(&engine.isolated().await).await;
    let store: Arc<dyn Store> = store;
    let node = Arc::new(RateLimiter::shared(store.clone()));
    let (limit, now) = (400, 7 * 60_000 + 5);
    // A busy key: its leases have grown.
    for _ in 0..30 {
        assert!(node.hit("key", limit, now).await.allowed);
    }
    let burst: Vec<_> = (0..60)
        .map(|_| {
            let node = node.clone();
            tokio::spawn(async move { node.hit("key", limit, now).await.allowed })
        })
        .collect();
    for hit in burst {
        assert!(hit.await.unwrap(), "well within the limit");
    }
    // What the cluster counts as taken, less the 90 requests admitted: what this node holds
    // unused. One lease at most (64), never most of what was left.
    let taken = store.lease_rate("key", 7, limit, 0).await.unwrap().used;
    assert!(taken - 90 <= 64, "the node holds {} requests it did not use", taken - 90);

    // Another node still gets the rest of the window, and then the limit holds exactly.
    let other = RateLimiter::shared(store.clone());
    let mut admitted = 90;
    for _ in 0..limit {
        admitted += u32::from(node.hit("key", limit, now).await.allowed);
        admitted += u32::from(other.hit("key", limit, now).await.allowed);
    }
    assert_eq!(admitted, limit, "exactly the limit across both nodes");
    assert!(!node.hit("key", limit, now).await.allowed);
    assert!(node.hit("key", limit, now + 60_000).await.allowed, "the next minute");
}

fn sorted(mut keys: Vec<i64>) -> Vec<i64> {
    keys.sort_unstable();
    keys
}

engine_tests!(
    leases_never_grant_past_the_limit,
    a_visit_is_unique_once_an_hour,
    a_burst_on_one_node_does_not_hoard_the_window
);

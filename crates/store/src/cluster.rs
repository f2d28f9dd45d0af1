//! State the nodes of one cluster share: rate-limit leases, unique-visit memory and the
//! announcements that wake other nodes' workers and clear their caches.
//!
//! Several stateless nodes on one PostgreSQL must behave like one server: a key's rate limit
//! holds across all of them, a visitor's click is unique once an hour whichever node it reaches,
//! and a change made through one node reaches the caches and workers of the others at once.
//! SQLite serves one node, which keeps the same state in memory (the server picks).

use async_trait::async_trait;

use crate::StoreResult;

/// What a node was granted from a bucket's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLease {
    /// Requests granted to this node now (0 when the window is used up).
    pub granted: u32,
    /// Requests taken from the window by all nodes, this grant included.
    pub used: u32,
}

/// The shared counters (portable SQL, `crates/store/portable/cluster.rs`).
#[async_trait]
pub trait ClusterStore {
    /// Takes up to `want` requests from `bucket`'s window `window` (minutes since the epoch)
    /// of `limit`, in one statement: never more than the limit is granted across all callers.
    async fn lease_rate(&self, bucket: &str, window: i64, limit: u32, want: u32) -> StoreResult<RateLease>;

    /// Of `visits` (visit key, click time), those that are unique: no unique click of the same
    /// key since `time - horizon_ms`. They become the key's last unique click; the others leave
    /// the memory as it was. One statement for the batch.
    async fn claim_unique_visits(&self, visits: &[(i64, i64)], horizon_ms: i64) -> StoreResult<Vec<i64>>;

    /// Drops rate windows that started before `window_before` and unique visits older than
    /// `visits_before`; the number of rows dropped.
    async fn sweep_cluster_state(&self, window_before: i64, visits_before: i64) -> StoreResult<u64>;
}

/// Announcements between nodes (engine-specific: PostgreSQL's LISTEN/NOTIFY).
#[async_trait]
pub trait Broadcast {
    /// Tells every node listening that `topics` changed (each is a short ASCII word; the
    /// payload names the sending node so it can skip its own). A no-op on a one-node engine.
    async fn announce(&self, payloads: &[String]) -> StoreResult<()>;

    /// Starts listening for announcements: `None` on an engine that serves one node.
    async fn listen(&self) -> StoreResult<Option<Box<dyn Subscription>>>;
}

/// A stream of announcements.
#[async_trait]
pub trait Subscription: Send {
    /// The next payload; `Ok(None)` when the connection was lost and re-made, so announcements
    /// may have been missed (the caller then acts as if everything changed).
    async fn next(&mut self) -> StoreResult<Option<String>>;
}

/// The channel every node listens on.
pub const CHANNEL: &str = "refline_cluster";

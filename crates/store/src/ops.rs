//! What an operator asks of the database: is it reachable and migrated (`/readyz`), how much
//! work waits in its queues and how busy its connection pools are (`/metrics`).

use async_trait::async_trait;

use crate::StoreResult;

/// Whether this binary's schema is in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// Migrations this binary carries.
    pub expected: usize,
    /// Of those, how many the database records as applied successfully.
    pub applied: usize,
    /// Versions this binary carries that the database has not applied (empty when current).
    pub missing: Vec<i64>,
}

impl Readiness {
    /// Every migration of this binary is applied.
    pub fn is_current(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Rows waiting in the database's work queues.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlogs {
    /// Outbound webhook deliveries pending (due now or scheduled for a retry).
    pub webhooks_pending: i64,
    /// Of those, the ones already due.
    pub webhooks_due: i64,
    /// Deliveries held because their endpoint is disabled.
    pub webhooks_held: i64,
    /// Processor deliveries not yet processed (`pending` or `waiting`).
    pub inbox_pending: i64,
    /// Mails not yet sent.
    pub mail_pending: i64,
}

/// One connection pool's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStats {
    /// `"main"` (PostgreSQL), `"reader"` or `"writer"` (SQLite).
    pub name: &'static str,
    /// Connections open now.
    pub size: u32,
    /// Of those, idle.
    pub idle: u32,
    /// Most the pool opens.
    pub max: u32,
}

/// The operator's view of a store. Implemented by each engine (`portable/ops.rs`).
#[async_trait]
pub trait OpsStore {
    /// Reads the migrations the database has applied and compares them with this binary's. An
    /// error means the database could not be read at all.
    async fn readiness(&self) -> StoreResult<Readiness>;

    /// Counts the rows waiting in the outbound, inbox and mail queues (`now_ms` decides which
    /// webhook deliveries are due).
    async fn backlogs(&self, now_ms: i64) -> StoreResult<Backlogs>;

    /// The connection pools' figures, without touching the database.
    fn pool_stats(&self) -> Vec<PoolStats>;
}

//! Stored responses for `Idempotency-Key` replays.

use crate::StoreResult;

/// What happened when a request claimed an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// The key is new (or expired): this request owns it and must complete or abandon it.
    Started,
    /// The key was used for the same request: replay this status and body.
    Replay {
        /// Stored status.
        status: u16,
        /// Stored JSON body.
        body: String,
    },
    /// The first request with this key is still running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

/// Idempotency keys, scoped per merchant.
#[async_trait::async_trait]
pub trait IdempotencyStore {
    /// Claims `key` for a request whose fingerprint is `request_hash`. Keys older than
    /// `expires_before` (unix ms) are forgotten and claimed anew.
    async fn begin_idempotent(
        &self,
        merchant_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        expires_before: i64,
    ) -> StoreResult<IdempotencyBegin>;
    /// Stores the response of a claimed key.
    async fn complete_idempotent(
        &self,
        merchant_id: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()>;
    /// Releases a claimed key whose request produced nothing worth replaying.
    async fn abandon_idempotent(&self, merchant_id: &str, key: &str) -> StoreResult<()>;
}

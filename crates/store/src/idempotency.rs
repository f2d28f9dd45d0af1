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

/// A claim already stored for a key: (request hash, status, body); status and body are set once
/// the request completed.
pub type StoredClaim = (String, Option<i64>, Option<String>);

impl IdempotencyBegin {
    /// What a request with fingerprint `request_hash` gets when its key was claimed before and
    /// the claim reads `stored`.
    pub fn of_existing(request_hash: &str, stored: Option<StoredClaim>) -> Self {
        match stored {
            // Abandoned between our insert and read: the caller may simply retry.
            None => IdempotencyBegin::InProgress,
            Some((hash, _, _)) if hash != request_hash => IdempotencyBegin::Mismatch,
            Some((_, Some(status), Some(body))) => {
                IdempotencyBegin::Replay { status: u16::try_from(status).unwrap_or(500), body }
            }
            Some(_) => IdempotencyBegin::InProgress,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(hash: &str, status: Option<i64>, body: Option<&str>) -> Option<StoredClaim> {
        Some((hash.into(), status, body.map(str::to_string)))
    }

    #[test]
    fn a_completed_claim_of_the_same_request_is_replayed() {
        assert_eq!(
            IdempotencyBegin::of_existing("h", stored("h", Some(201), Some("{}"))),
            IdempotencyBegin::Replay { status: 201, body: "{}".into() }
        );
        // A status no HTTP response can have replays as a server error.
        assert_eq!(
            IdempotencyBegin::of_existing("h", stored("h", Some(70_000), Some("{}"))),
            IdempotencyBegin::Replay { status: 500, body: "{}".into() }
        );
    }

    #[test]
    fn other_requests_and_running_or_vanished_claims() {
        assert_eq!(
            IdempotencyBegin::of_existing("h", stored("other", Some(200), Some("{}"))),
            IdempotencyBegin::Mismatch
        );
        assert_eq!(IdempotencyBegin::of_existing("h", stored("h", None, None)), IdempotencyBegin::InProgress);
        assert_eq!(IdempotencyBegin::of_existing("h", None), IdempotencyBegin::InProgress);
    }
}

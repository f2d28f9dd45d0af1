//! Visitor and device hashes.
//!
//! A visitor is sha256(daily salt, IP, user agent). The salt is random per day, shared by
//! nodes through the store and deleted after two days, so a visitor hash cannot be traced back
//! to an IP by brute force once its day is over, nor linked across days.

use std::net::IpAddr;

use rand::{distributions::Alphanumeric, Rng};
use refline_store::Store;
use sha2::{Digest, Sha256};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub use refline_core::fingerprint::device_hash;

/// Hashes visitors with the salt of the day, fetching a new salt when the day changes.
#[derive(Debug, Default)]
pub struct VisitorHasher {
    day: Option<i64>,
    salt: String,
}

impl VisitorHasher {
    /// The visitor hash of `ip` + `user_agent` at `now_ms`.
    pub async fn hash(
        &mut self,
        store: &dyn Store,
        now_ms: i64,
        ip: Option<IpAddr>,
        user_agent: &str,
    ) -> [u8; 16] {
        let day = now_ms.div_euclid(DAY_MS);
        if self.day != Some(day) {
            let candidate: String =
                rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect();
            // Without the store, this node still counts uniques with its own salt for the day.
            match store.visitor_salt(day, &candidate).await {
                Ok(salt) => {
                    self.salt = salt;
                    self.day = Some(day);
                }
                // This click uses a node-local salt; the shared one is asked for again next time.
                Err(err) => {
                    tracing::warn!(%err, "visitor salt not shared yet; using a node-local one");
                    self.salt = candidate;
                }
            }
        }
        let mut hasher = Sha256::new();
        hasher.update(self.salt.as_bytes());
        hasher.update(b"\0");
        if let Some(ip) = ip {
            hasher.update(ip.to_string().as_bytes());
        }
        hasher.update(b"\0");
        hasher.update(user_agent.as_bytes());
        let mut visitor = [0u8; 16];
        visitor.copy_from_slice(&hasher.finalize()[..16]);
        visitor
    }
}

//! Fingerprints that self-referral checks compare between a customer's click and the
//! affiliate's own activity.

use sha2::{Digest, Sha256};

/// The hash of a user agent, normalised (trimmed).
pub fn device_hash(user_agent: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"device\0");
    hasher.update(user_agent.trim().as_bytes());
    // 64 bits: only ever compared for equality within one affiliate's few devices.
    hex::encode(&hasher.finalize()[..8])
}

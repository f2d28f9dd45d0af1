//! Random identifiers, API keys and tracking codes, and key hashing.

use rand::{distributions::Alphanumeric, Rng};
use refline_domain::KeyKind;
use sha2::{Digest, Sha256};

fn random_alphanumeric(len: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// A new id such as `conv_3hG9kQ2mZx81LpWv4Ty0`: a type prefix and 20 random base-62 characters
/// (119 bits), unguessable so ids can appear in URLs.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_alphanumeric(20))
}

/// A fresh API key of the given kind: prefix and 32 random base-62 characters (190 bits).
pub fn new_api_key(kind: KeyKind) -> String {
    format!("{}{}", kind.prefix(), random_alphanumeric(32))
}

/// A tracking code for `tc=` in links: 8 upper-case letters and digits, easy to read aloud.
pub fn new_tracking_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..8).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect()
}

/// Hex SHA-256, the only form in which API keys are stored. Keys carry 190 random bits, so a
/// fast hash is enough; a slow password hash would only add latency to every request.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// What may be shown of a key after creation: its prefix and last four characters.
pub fn key_hint(key: &str) -> String {
    let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    let prefix = if key.starts_with(refline_domain::TEST_PREFIX) {
        refline_domain::TEST_PREFIX
    } else {
        refline_domain::LIVE_PREFIX
    };
    format!("{prefix}…{tail}")
}

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

/// A new id whose first 8 characters are the time (base 62, in ASCII order) and last 12 are
/// random (71 bits), e.g. `click_0qX3b2Lm9sTq7vPa2Wc1`. Rows keyed by it are appended at the end
/// of the primary-key index instead of scattered over it, which keeps high-volume inserts
/// (clicks) cheap as the table grows.
pub fn new_ordered_id(prefix: &str, now_ms: i64) -> String {
    format!("{}{}", refline_domain::ordered_id_floor(prefix, now_ms), random_alphanumeric(12))
}

/// The time (unix ms) an ordered id was made at, when `id` is `<prefix>_` followed by 20
/// base-62 characters.
pub fn ordered_id_time(prefix: &str, id: &str) -> Option<i64> {
    let rest = id.strip_prefix(prefix)?.strip_prefix('_')?;
    if rest.len() != 20 || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    rest.bytes().take(8).try_fold(0i64, |acc, b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'Z' => b - b'A' + 10,
            _ => b - b'a' + 36,
        };
        acc.checked_mul(62)?.checked_add(i64::from(digit))
    })
}

/// A secret for a cookie, a CSRF token or an emailed link: 43 random base-62 characters
/// (256 bits) from the thread's CSPRNG. Stored only as its SHA-256 where it grants access.
pub fn new_secret_token() -> String {
    random_alphanumeric(43)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_ids_sort_by_time() {
        let a = new_ordered_id("click", 1_700_000_000_000);
        let b = new_ordered_id("click", 1_700_000_000_001);
        let c = new_ordered_id("click", 1_800_000_000_000);
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(a.len(), "click_".len() + 20);
        assert!(a["click_".len()..].bytes().all(|ch| ch.is_ascii_alphanumeric()));
        assert_eq!(ordered_id_time("click", &a), Some(1_700_000_000_000));
        assert_eq!(ordered_id_time("click", "click_short"), None);
        assert_eq!(ordered_id_time("conv", &a), None);
    }
}

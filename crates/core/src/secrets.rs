//! Secrets at rest: payment-processor webhook secrets and API credentials are stored sealed
//! with AES-256-GCM under the server's key, so a copy of the database alone does not let anyone
//! forge webhooks or call a merchant's processor.
//!
//! Sealed text is `v1:<base64(nonce ‖ ciphertext ‖ tag)>` with a random 96-bit nonce per seal.
//! The version prefix leaves room for a later key or algorithm without guessing at old rows.

use aes_gcm::{
    aead::{Aead, AeadCore, KeyInit, OsRng},
    Aes256Gcm, Key, Nonce,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use rand::RngCore;

/// The prefix of the current sealed format.
const PREFIX: &str = "v1:";
/// AES-GCM nonce length (96 bits).
const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
const TAG_LEN: usize = 16;

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretError {
    /// Not in a known sealed form (wrong prefix, bad base64, too short).
    Malformed,
    /// Authentication failed: sealed under another key, or altered.
    Undecryptable,
    /// Decrypted, but not UTF-8 text.
    NotText,
}

impl std::fmt::Display for SecretError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecretError::Malformed => "sealed secret is malformed",
            SecretError::Undecryptable => "sealed secret does not open with this key (wrong key or altered)",
            SecretError::NotText => "sealed secret is not text",
        })
    }
}

impl std::error::Error for SecretError {}

/// Seals and opens secrets with one 256-bit key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

// The key must never reach a log line.
impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// A box using `key`.
    pub fn new(key: [u8; 32]) -> Self {
        SecretBox { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)) }
    }

    /// Encrypts `plaintext` under a fresh random nonce: `v1:<base64>`. Sealing the same text
    /// twice gives different output.
    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption into a Vec fails only past AES-GCM's length limit (64 GiB), far beyond
        // anything sealed here (request bodies are capped at a few MiB).
        let ciphertext = self.cipher.encrypt(&nonce, plaintext.as_bytes()).unwrap_or_default();
        let mut bytes = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&ciphertext);
        format!("{PREFIX}{}", STANDARD.encode(bytes))
    }

    /// Decrypts what [`SecretBox::seal`] produced.
    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let encoded = sealed.strip_prefix(PREFIX).ok_or(SecretError::Malformed)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SecretError::Malformed)?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::NotText)
    }
}

/// A new random key (from the operating system's generator).
pub fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

/// Reads a key written as 64 hexadecimal characters (surrounding whitespace ignored).
pub fn parse_key(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn round_trip() {
        let secrets = SecretBox::new([7; 32]);
        for text in ["whsec_abc123", "", "ünïcödé ✓", &"x".repeat(5000)] {
            let sealed = secrets.seal(text);
            assert!(sealed.starts_with("v1:"));
            assert!(!sealed.contains(text) || text.is_empty());
            assert_eq!(secrets.open(&sealed).unwrap(), text);
        }
    }

    #[test]
    fn nonces_differ_per_seal() {
        let secrets = SecretBox::new([7; 32]);
        assert_ne!(secrets.seal("same"), secrets.seal("same"));
    }

    #[test]
    fn tampering_is_detected() {
        let secrets = SecretBox::new([7; 32]);
        let sealed = secrets.seal("whsec_secret");
        let mut bytes = STANDARD.decode(&sealed[3..]).unwrap();
        for i in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[i] ^= 1;
            let altered = format!("v1:{}", STANDARD.encode(&bytes));
            assert_eq!(secrets.open(&altered), Err(SecretError::Undecryptable));
            bytes[i] ^= 1;
        }
        let truncated = format!("v1:{}", STANDARD.encode(&bytes[..bytes.len() - 1]));
        assert_eq!(secrets.open(&truncated), Err(SecretError::Undecryptable));
    }

    #[test]
    fn wrong_key_is_refused() {
        let sealed = SecretBox::new([7; 32]).seal("whsec_secret");
        assert_eq!(SecretBox::new([8; 32]).open(&sealed), Err(SecretError::Undecryptable));
    }

    #[test]
    fn malformed_input_is_refused() {
        let secrets = SecretBox::new([7; 32]);
        for bad in ["", "whsec_plain", "v1:", "v1:!!!", "v2:AAAA", "v1:AAAA"] {
            assert_eq!(secrets.open(bad), Err(SecretError::Malformed), "{bad}");
        }
    }

    #[test]
    fn keys_parse_from_hex() {
        let key = random_key();
        assert_eq!(parse_key(&format!(" {}\n", hex::encode(key))), Some(key));
        assert_eq!(parse_key("abcd"), None);
        assert_eq!(parse_key(&"zz".repeat(32)), None);
        assert_ne!(random_key(), random_key());
    }
}

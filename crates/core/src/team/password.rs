//! Argon2id password hashes (RustCrypto's `argon2`, its default parameters: 19 MiB, 2 passes,
//! one lane — OWASP's recommended minimum). Hashing takes tens of milliseconds of CPU, so it runs
//! on the blocking pool, never on a request's worker thread.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use crate::{CoreError, CoreResult};

/// The PHC string of `password`.
pub async fn hash(password: String) -> CoreResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(CoreError::internal)?
    .map_err(CoreError::internal)
}

/// Whether `password` matches `stored` (a PHC string). With no stored hash, a dummy hash is
/// checked anyway so an unknown email takes as long to refuse as a wrong password.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known
    })
    .await
    .unwrap_or(false)
}

/// The hash of a random password nobody knows, with the default parameters.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Vb8Zq5m5V0I2pQb1bYtVbHqkq6bqWm3N2oKf2s0nG2o";

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = super::hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(super::verify("correct horse battery".into(), Some(stored.clone())).await);
        assert!(!super::verify("wrong horse battery".into(), Some(stored)).await);
        assert!(!super::verify("anything".into(), None).await);
    }
}

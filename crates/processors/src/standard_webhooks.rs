//! Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> …`):
//! HMAC-SHA256 over `{id}.{timestamp}.{raw body}`, base64 with padding, timestamps within the
//! tolerance both ways. Polar uses it with the secret's raw bytes as key; the specification
//! (and our own outbound webhooks) use the base64 key after a `whsec_` prefix.

use base64::Engine as _;

use crate::verify_common::{
    any_matches, check_tolerance, find_secret, hmac_sha256, parse_unix_s, Trust, Verification,
};
use crate::{Headers, VerifyError};

/// Verify with each key's raw bytes; returns the index of the matching key (empty keys are
/// skipped) and the signed timestamp.
pub(crate) fn verify_raw_keys(
    keys: &[&[u8]],
    headers: &dyn Headers,
    body: &[u8],
    now: i64,
    tolerance_s: i64,
) -> Result<(usize, i64), VerifyError> {
    if keys.iter().all(|k| k.is_empty()) {
        return Err(VerifyError::NoSecret);
    }
    let sig_header = headers.get("webhook-signature").ok_or(VerifyError::MissingSignature)?;
    let id =
        headers.get("webhook-id").ok_or_else(|| VerifyError::Malformed("no webhook-id header".into()))?;
    let ts_text = headers
        .get("webhook-timestamp")
        .ok_or_else(|| VerifyError::Malformed("no webhook-timestamp header".into()))?
        .trim();
    let signed_at = parse_unix_s(ts_text)?;
    let signatures: Vec<Vec<u8>> = sig_header
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, sig)| base64::engine::general_purpose::STANDARD.decode(sig).ok())
        // An empty `v1,` entry must never match (the reference library's zip-compare lets it).
        .filter(|sig| !sig.is_empty())
        .collect();
    if signatures.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    let index = keys
        .iter()
        .position(|key| {
            !key.is_empty()
                && any_matches(
                    &hmac_sha256(key, &[id.as_bytes(), b".", ts_text.as_bytes(), b".", body]),
                    &signatures,
                )
        })
        .ok_or(VerifyError::BadSignature)?;
    check_tolerance(signed_at, now, tolerance_s)?;
    Ok((index, signed_at))
}

/// Verify a Standard Webhooks delivery whose secrets are `whsec_<base64 key>` (the
/// specification's form, also used by Svix and by our own outbound webhooks).
pub fn verify_standard_webhooks(
    secrets: &[&str],
    headers: &dyn Headers,
    body: &[u8],
    now_unix_s: i64,
    tolerance_s: i64,
) -> Result<Verification, VerifyError> {
    find_secret(secrets, |_| true)?;
    let mut keys: Vec<Vec<u8>> = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
        let key = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| VerifyError::InvalidSecret("secret is not base64 after `whsec_`".into()))?;
        keys.push(key);
    }
    let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let (index, signed_at) = verify_raw_keys(&key_refs, headers, body, now_unix_s, tolerance_s)?;
    Ok(Verification {
        scheme: "standard-webhooks v1",
        trust: Trust::Signature,
        secret_index: Some(index),
        signed_at_unix_s: Some(signed_at),
    })
}

//! Pieces shared by the verifiers: HMAC in constant time, secret rotation, timestamp tolerance.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::VerifyError;

/// Default allowed distance between a signed timestamp and now (Stripe's and Standard Webhooks'
/// default). Replays inside the window are caught by event-id dedupe.
pub const DEFAULT_TOLERANCE_S: i64 = 300;

/// How a delivery was authenticated, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Human-readable scheme, e.g. `"stripe hmac-sha256 v1"`.
    pub scheme: &'static str,
    pub trust: Trust,
    /// Which of the configured secrets matched (0 = first); shows when an old secret can go.
    pub secret_index: Option<usize>,
    /// The timestamp the processor signed, where it signs one.
    pub signed_at_unix_s: Option<i64>,
}

/// How much a successful verification proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// A signature over the raw body with the connection's secret.
    Signature,
    /// A shared secret the sender echoed (URL token or Basic credentials); nothing binds the body.
    SharedSecret,
    /// Nothing authenticates the delivery: it is only a hint to fetch the truth from the API.
    LookupRequired,
}

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 over the concatenation of `parts` (avoids copying the body to prepend a prefix).
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this never fails; fall back defensively anyway.
    let mut mac = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()));
    for part in parts {
        mac.update(part);
    }
    mac
}

/// The index of the first usable secret for which `matches` holds.
pub(crate) fn find_secret(
    secrets: &[&str],
    mut matches: impl FnMut(&str) -> bool,
) -> Result<usize, VerifyError> {
    let usable: Vec<(usize, &str)> =
        secrets.iter().copied().enumerate().filter(|(_, s)| !s.is_empty()).collect();
    if usable.is_empty() {
        return Err(VerifyError::NoSecret);
    }
    // Stopping at the first match leaks only which secret matched, which is not secret; the
    // signature bytes themselves are compared in constant time.
    usable.into_iter().find(|(_, s)| matches(s)).map(|(i, _)| i).ok_or(VerifyError::BadSignature)
}

/// Whether any of the given signatures equals `mac` (constant-time per comparison, lengths
/// checked by `verify_slice`).
pub(crate) fn any_matches(mac: &HmacSha256, signatures: &[Vec<u8>]) -> bool {
    signatures.iter().any(|sig| mac.clone().verify_slice(sig).is_ok())
}

/// Lower- or upper-case hex signatures; entries that are not hex can never match and are dropped.
pub(crate) fn decode_hex_all<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Vec<u8>> {
    values.into_iter().filter_map(|v| hex::decode(v.trim()).ok()).filter(|v| !v.is_empty()).collect()
}

pub(crate) fn parse_unix_s(text: &str) -> Result<i64, VerifyError> {
    let t = text.trim();
    if t.is_empty() || t.len() > 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::Malformed(format!("timestamp `{}` is not Unix seconds", truncate(t))));
    }
    t.parse().map_err(|_| VerifyError::Malformed("timestamp out of range".into()))
}

/// Reject a signed timestamp too far in the past or the future.
pub(crate) fn check_tolerance(signed_at: i64, now: i64, tolerance_s: i64) -> Result<(), VerifyError> {
    if tolerance_s > 0 && now.abs_diff(signed_at) > tolerance_s.unsigned_abs() {
        return Err(VerifyError::TimestampOutOfTolerance { signed_at, now, tolerance_s });
    }
    Ok(())
}

/// A short, printable excerpt of untrusted text for error messages.
pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(40).filter(|c| !c.is_control()).collect()
}

/// A hex HMAC-SHA256 of the raw body in one header (Lemon Squeezy, Creem).
pub(crate) fn verify_body_hmac_hex(
    secrets: &[&str],
    header: Option<&str>,
    body: &[u8],
    scheme: &'static str,
) -> Result<Verification, VerifyError> {
    let header = header.filter(|h| !h.trim().is_empty()).ok_or(VerifyError::MissingSignature)?;
    let signatures = decode_hex_all([header]);
    let index =
        find_secret(secrets, |secret| any_matches(&hmac_sha256(secret.as_bytes(), &[body]), &signatures))?;
    Ok(Verification { scheme, trust: Trust::Signature, secret_index: Some(index), signed_at_unix_s: None })
}

/// How a processor writes a timestamped signature header: `t=…,v1=…` (Stripe) or
/// `ts=…;h1=…` (Paddle Billing), signing `{timestamp}{joiner}{body}`.
pub(crate) struct TimestampedHeader {
    /// Between items.
    pub(crate) separator: char,
    /// Name of the timestamp item.
    pub(crate) timestamp: &'static str,
    /// Name of the signature items (several may be present during a rotation: any may match).
    pub(crate) signature: &'static str,
    /// Between timestamp and body in the signed bytes.
    pub(crate) joiner: &'static [u8],
    /// How the delivery was verified, for the delivery log.
    pub(crate) scheme: &'static str,
    /// Only old timestamps are refused, not ones ahead of our clock: Stripe's own libraries
    /// check only the age (a signature from the future needs the secret as much as any other;
    /// the tolerance is about replays), and a receiver whose clock runs late must not refuse
    /// what Stripe's SDK would accept.
    pub(crate) future_ok: bool,
}

/// Verifies a timestamped hex HMAC-SHA256 header. Unknown items (Stripe's fake test-mode `v0`)
/// are ignored, as the processors' SDKs do.
pub(crate) fn verify_timestamped_hmac(
    format: &TimestampedHeader,
    secrets: &[&str],
    header: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance_s: i64,
) -> Result<Verification, VerifyError> {
    let header = header.ok_or(VerifyError::MissingSignature)?;
    let mut timestamp = None;
    let mut signed = Vec::new();
    for item in header.split(format.separator) {
        match item.split_once('=') {
            Some((k, v)) if k.trim() == format.timestamp && timestamp.is_none() => timestamp = Some(v.trim()),
            Some((k, v)) if k.trim() == format.signature => signed.push(v.trim()),
            _ => {}
        }
    }
    let ts_text =
        timestamp.ok_or_else(|| VerifyError::Malformed(format!("no `{}=` timestamp", format.timestamp)))?;
    if signed.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    let signed_at = parse_unix_s(ts_text)?;
    let signatures = decode_hex_all(signed);
    // Authenticity before freshness, so a forged header never learns about our clock.
    let index = find_secret(secrets, |secret| {
        any_matches(&hmac_sha256(secret.as_bytes(), &[ts_text.as_bytes(), format.joiner, body]), &signatures)
    })?;
    if !(format.future_ok && signed_at >= now) {
        check_tolerance(signed_at, now, tolerance_s)?;
    }
    Ok(Verification {
        scheme: format.scheme,
        trust: Trust::Signature,
        secret_index: Some(index),
        signed_at_unix_s: Some(signed_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_is_symmetric_and_zero_disables_it() {
        assert!(check_tolerance(1000, 1300, 300).is_ok());
        assert!(check_tolerance(1000, 1301, 300).is_err());
        assert!(check_tolerance(1301, 1000, 300).is_err());
        assert!(check_tolerance(0, i64::MAX, 0).is_ok());
        assert!(check_tolerance(i64::MIN, i64::MAX, 300).is_err());
    }

    #[test]
    fn no_usable_secret_is_its_own_error() {
        assert_eq!(find_secret(&[], |_| true), Err(VerifyError::NoSecret));
        assert_eq!(find_secret(&[""], |_| true), Err(VerifyError::NoSecret));
        assert_eq!(find_secret(&["a", "b"], |s| s == "b"), Ok(1));
    }
}

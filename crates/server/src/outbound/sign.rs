//! Signatures of outbound webhooks, in both schemes receivers may verify:
//!
//! - LinkJolt's: `X-LinkJolt-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
//!   the secret's 64 hex characters used as the ASCII key (as LinkJolt's sample code does).
//! - Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
//!   HMAC-SHA256(key, "<id>.<t>.<body>")>`, where the key is the secret's 32 bytes (the hex
//!   decoded), i.e. the `whsec_` secret shown at creation.
//!
//! While a rotated-out secret is still valid, each header carries a signature with both.

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac =
        HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `whsec_` + base64 of the secret's bytes: the Standard Webhooks form of a hex secret.
pub fn standard_secret(hex_secret: &str) -> String {
    format!("whsec_{}", STANDARD.encode(hex::decode(hex_secret).unwrap_or_default()))
}

/// The `X-LinkJolt-Signature` value for `body` at unix second `t`.
pub fn linkjolt_signature(secrets: &[&str], t: i64, body: &[u8]) -> String {
    let t_text = t.to_string();
    let mut value = format!("t={t_text}");
    for secret in secrets {
        let sig = hmac(secret.as_bytes(), &[t_text.as_bytes(), b".", body]);
        value.push_str(&format!(",v1={}", hex::encode(sig)));
    }
    value
}

/// The `webhook-signature` value (space-separated `v1,<base64>` entries).
pub fn standard_signature(secrets: &[&str], id: &str, t: i64, body: &[u8]) -> String {
    let t_text = t.to_string();
    secrets
        .iter()
        .map(|secret| {
            let key = hex::decode(secret).unwrap_or_default();
            format!(
                "v1,{}",
                STANDARD.encode(hmac(&key, &[id.as_bytes(), b".", t_text.as_bytes(), b".", body]))
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The official Standard Webhooks test vector (shared/spec/payment-webhooks.md §9.2).
    #[test]
    fn standard_webhooks_test_vector() {
        let key = STANDARD.decode("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        let hex_secret = hex::encode(&key);
        assert_eq!(
            standard_signature(&[&hex_secret], "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
        assert_eq!(standard_secret(&hex_secret), "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
    }

    #[test]
    fn linkjolt_signature_signs_timestamp_dot_body_with_the_ascii_secret() {
        let secret = "a".repeat(64);
        let value = linkjolt_signature(&[&secret], 1_700_000_000, b"{}");
        let expected = hex::encode(hmac(secret.as_bytes(), &[b"1700000000.{}"]));
        assert_eq!(value, format!("t=1700000000,v1={expected}"));
        let two = linkjolt_signature(&[&secret, &"b".repeat(64)], 1, b"x");
        assert_eq!(two.matches(",v1=").count(), 2);
    }
}

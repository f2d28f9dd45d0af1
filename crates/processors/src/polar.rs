//! Polar: Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature:
//! v1,<base64> …`), HMAC-SHA256 over `{id}.{timestamp}.{raw body}`, base64. Two keys are tried
//! per secret, as Polar's SDKs do: the UTF-8 of the secret exactly as Polar shows it, and — when
//! the text after an optional `whsec_` prefix is base64 — its decoded bytes (the Standard
//! Webhooks form `whsec_<base64>`). Timestamps must be within the tolerance both ways. Dedupe
//! on `webhook-id`.
//!
//! Canonical events: `order.paid` (`billing_reason` `purchase` / `subscription_create` /
//! `subscription_cycle` / `subscription_update`), `subscription.created` with `status: trialing`,
//! `order.refunded` (cumulative `refunded_amount`; `refund.*` ignored). Polar has no chargeback
//! event, and its payloads carry no test-mode flag (sandbox is a separate server).

use serde_json::Value;

use crate::event::{aliases, ignored, Action, BillingReason, CouponRef, Parsed, Payment, Refund, Trial};
use crate::json::{
    at, currency_at, id_at, int_at, parse_body, req_currency, req_id, req_int, req_str, str_at, string_map,
};
use crate::reference::{first_of, from_map};
use crate::standard_webhooks::verify_raw_keys;
use crate::time::parse_rfc3339_ms;
use crate::verify_common::{Trust, Verification};
use crate::{Headers, ParseError, VerifyError};

pub(crate) fn verify(
    secrets: &[&str],
    headers: &dyn Headers,
    body: &[u8],
    now: i64,
    tolerance_s: i64,
) -> Result<Verification, VerifyError> {
    // Each secret is tried as Polar's SDKs try it: its UTF-8 text as the key, then — when the
    // rest after an optional `whsec_` prefix is base64 (padding optional) — the decoded bytes,
    // the Standard Webhooks form. Merchants paste either; only the real key can match.
    let mut keys: Vec<Vec<u8>> = Vec::with_capacity(secrets.len() * 2);
    let mut owner: Vec<(usize, &'static str)> = Vec::with_capacity(secrets.len() * 2);
    for (index, secret) in secrets.iter().enumerate() {
        keys.push(secret.as_bytes().to_vec());
        owner.push((index, "polar standard-webhooks v1 (raw key)"));
        if let Some(decoded) = decoded_key(secret) {
            keys.push(decoded);
            owner.push((index, "polar standard-webhooks v1 (base64 key)"));
        }
    }
    let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let (found, signed_at) = verify_raw_keys(&key_refs, headers, body, now, tolerance_s)?;
    let (index, scheme) = owner.get(found).copied().unwrap_or((found, "polar standard-webhooks v1"));
    Ok(Verification {
        scheme,
        trust: Trust::Signature,
        secret_index: Some(index),
        signed_at_unix_s: Some(signed_at),
    })
}

/// The second key Polar's SDKs derive from a secret: base64 of the text after `whsec_` (or of
/// the whole text), padding optional; `None` when that is not base64, is empty, or equals the
/// text's own bytes.
fn decoded_key(secret: &str) -> Option<Vec<u8>> {
    use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
    use base64::Engine as _;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    if secret.is_empty() {
        return None;
    }
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    LENIENT.decode(encoded).ok().filter(|k| !k.is_empty() && k.as_slice() != secret.as_bytes())
}

pub(crate) fn parse(headers: &dyn Headers, body: &[u8]) -> Result<Parsed, ParseError> {
    let v = parse_body(body)?;
    let event_type = req_str(&v, &["type"])?.to_string();
    let data = || at(&v, &["data"]).ok_or_else(|| ParseError::field("data"));
    let action = match event_type.as_str() {
        "order.paid" => order_paid(data()?)?,
        "order.created" | "order.updated" => ignored("payments are taken from order.paid"),
        "order.refunded" => order_refunded(data()?)?,
        "refund.created" | "refund.updated" => ignored("refunds are taken from order.refunded (cumulative)"),
        "subscription.created" => subscription_created(data()?)?,
        other => ignored(format!("Polar event {other} does not affect commissions")),
    };
    let event_id = match headers.get("webhook-id").filter(|id| !id.is_empty()) {
        Some(id) => id.to_string(),
        // Deliveries always carry webhook-id; derive one only for replays stored without headers.
        None => format!("sha256:{}", crate::json::digest_hex(body)),
    };
    Ok(Parsed {
        event_id,
        event_type,
        test_mode: false,
        occurred_at_unix_ms: str_at(&v, &["timestamp"]).and_then(parse_rfc3339_ms),
        action,
    })
}

fn reference(d: &Value) -> Option<crate::Reference> {
    first_of([
        from_map(&string_map(at(d, &["metadata"]))),
        from_map(&string_map(at(d, &["customer", "metadata"]))),
    ])
}

fn order_paid(d: &Value) -> Result<Action, ParseError> {
    if str_at(d, &["status"]).is_some_and(|s| s == "pending") {
        return Ok(ignored("order still pending"));
    }
    let billing_reason = match str_at(d, &["billing_reason"]) {
        Some("purchase") => BillingReason::OneOff,
        Some("subscription_create") => BillingReason::FirstPayment,
        Some("subscription_cycle") => BillingReason::Renewal,
        Some("subscription_update") => BillingReason::PlanChange,
        _ => BillingReason::Unknown,
    };
    let amount = req_int(d, &["total_amount"])?;
    if amount == 0 {
        return Ok(ignored("$0 order (trial or 100% discount)"));
    }
    let object_id = req_id(d, &["id"])?;
    Ok(Action::Payment(Payment {
        aliases: aliases(&object_id, [id_at(d, &["checkout_id"])]),
        object_id,
        amount_minor: amount,
        tax_minor: int_at(d, &["tax_amount"]),
        currency: req_currency(d, &["currency"])?,
        customer_id: id_at(d, &["customer_id"]),
        customer_email: str_at(d, &["customer", "email"]).map(str::to_string),
        subscription_id: id_at(d, &["subscription_id"]),
        billing_reason,
        reference: reference(d),
        coupon: CouponRef {
            coupon_id: id_at(d, &["discount_id"]),
            code: str_at(d, &["discount", "code"]).map(str::to_string),
            ..CouponRef::default()
        }
        .non_empty(),
    }))
}

fn order_refunded(d: &Value) -> Result<Action, ParseError> {
    let object_id = req_id(d, &["id"])?;
    let total = req_int(d, &["refunded_amount"])?;
    let original = int_at(d, &["total_amount"]);
    let full = str_at(d, &["status"]) == Some("refunded") || original.is_some_and(|o| o > 0 && total >= o);
    Ok(Action::Refund(Refund {
        refund_id: format!("{object_id}:refunded:{total}"),
        aliases: aliases(&object_id, [id_at(d, &["checkout_id"])]),
        object_id,
        full,
        amount_minor: None,
        total_refunded_minor: Some(total),
        original_amount_minor: original,
        currency: currency_at(d, &["currency"]),
    }))
}

fn subscription_created(d: &Value) -> Result<Action, ParseError> {
    if str_at(d, &["status"]) != Some("trialing") {
        return Ok(ignored("subscription without trial; its first payment is credited from order.paid"));
    }
    let id = req_id(d, &["id"])?;
    let ends =
        str_at(d, &["trial_end"]).or_else(|| str_at(d, &["current_period_end"])).and_then(parse_rfc3339_ms);
    Ok(Action::TrialStarted(Trial {
        object_id: id.clone(),
        subscription_id: id,
        customer_id: id_at(d, &["customer_id"]),
        customer_email: str_at(d, &["customer", "email"]).map(str::to_string),
        reference: reference(d),
        coupon: CouponRef { coupon_id: id_at(d, &["discount_id"]), ..CouponRef::default() }.non_empty(),
        trial_ends_at_unix_ms: ends,
        expected_amount_minor: None,
        expected_currency: None,
    }))
}

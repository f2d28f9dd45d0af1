//! Paddle Classic: form-encoded alerts signed in the `p_signature` field with RSA PKCS#1 v1.5
//! over SHA-1 of the PHP `serialize()` of all other fields sorted by key. The "secret" is the
//! vendor's RSA public key (PEM, `BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`). No timestamp.
//!
//! Canonical alerts: `payment_succeeded` (one-off), `subscription_payment_succeeded` (first
//! payment when `initial_payment` is set, else renewal), `payment_refunded` and
//! `subscription_payment_refunded` (VAT-only refunds ignored), `payment_dispute_created`,
//! `subscription_created` with `status: trialing`. The dedupe key is `alert_id`; payments are
//! keyed on `order_id`. Attribution rides in `passthrough` (a raw reference, JSON or a query
//! string).

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha1::{Digest, Sha1};

use crate::event::{
    aliases, ignored, Action, BillingReason, Chargeback, CouponRef, Parsed, Payment, Refund, Trial,
};
use crate::form::Form;
use crate::money::{decimal_field, normalize_currency};
use crate::reference::from_text;
use crate::time::parse_rfc3339_ms;
use crate::verify_common::{Trust, Verification};
use crate::{ParseError, VerifyError};

pub(crate) const SIGNATURE_FIELD: &str = "p_signature";

pub(crate) fn verify(public_keys: &[&str], body: &[u8]) -> Result<Verification, VerifyError> {
    let form = Form::parse(body).map_err(|_| VerifyError::Malformed("body is not a form".into()))?;
    let signature = form.get(SIGNATURE_FIELD).ok_or(VerifyError::MissingSignature)?;
    // A '+' that was not percent-encoded arrives as a space.
    let signature =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, signature.replace(' ', "+"))
            .map_err(|_| VerifyError::Malformed("p_signature is not base64".into()))?;
    let digest = Sha1::digest(php_serialize(&signed_fields(&form)).as_bytes());
    let keys: Vec<(usize, RsaPublicKey)> = public_keys
        .iter()
        .enumerate()
        .filter(|(_, k)| !k.trim().is_empty())
        .filter_map(|(i, k)| parse_public_key(k).map(|key| (i, key)))
        .collect();
    if keys.is_empty() {
        return Err(if public_keys.iter().all(|k| k.trim().is_empty()) {
            VerifyError::NoSecret
        } else {
            VerifyError::InvalidSecret("not an RSA public key in PEM form".into())
        });
    }
    let index = keys
        .iter()
        .find(|(_, key)| key.verify(Pkcs1v15Sign::new::<Sha1>(), &digest, &signature).is_ok())
        .map(|(i, _)| *i)
        .ok_or(VerifyError::BadSignature)?;
    Ok(Verification {
        scheme: "paddle classic rsa-sha1 p_signature",
        trust: Trust::Signature,
        secret_index: Some(index),
        signed_at_unix_s: None,
    })
}

fn parse_public_key(pem: &str) -> Option<RsaPublicKey> {
    let pem = pem.trim();
    RsaPublicKey::from_public_key_pem(pem).or_else(|_| RsaPublicKey::from_pkcs1_pem(pem)).ok()
}

/// Every field but the signature, last value per key, sorted by key bytes (PHP `ksort`).
pub(crate) fn signed_fields(form: &Form) -> Vec<(&str, &str)> {
    let mut fields: Vec<(&str, &str)> = Vec::new();
    for (k, v) in &form.pairs {
        if k == SIGNATURE_FIELD {
            continue;
        }
        match fields.iter_mut().find(|(fk, _)| *fk == k.as_str()) {
            Some(slot) => slot.1 = v.as_str(),
            None => fields.push((k.as_str(), v.as_str())),
        }
    }
    fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    fields
}

/// PHP `serialize()` of a string → string array; lengths are byte lengths.
pub(crate) fn php_serialize(fields: &[(&str, &str)]) -> String {
    let mut out = format!("a:{}:{{", fields.len());
    for (k, v) in fields {
        out.push_str(&format!("s:{}:\"{k}\";s:{}:\"{v}\";", k.len(), v.len()));
    }
    out.push('}');
    out
}

pub(crate) fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let f = Form::parse(body)?;
    let alert = f.req("alert_name")?.to_string();
    let action = match alert.as_str() {
        "payment_succeeded" => payment(&f, false)?,
        "subscription_payment_succeeded" => payment(&f, true)?,
        "payment_refunded" | "subscription_payment_refunded" => refund(&f)?,
        "payment_dispute_created" => dispute(&f)?,
        "payment_dispute_closed" => {
            ignored("dispute closed; chargebacks are taken from payment_dispute_created")
        }
        "subscription_created" => trial(&f)?,
        other => ignored(format!("Paddle Classic alert {other} does not affect commissions")),
    };
    Ok(Parsed {
        event_id: f.req("alert_id")?.to_string(),
        event_type: alert,
        test_mode: false,
        occurred_at_unix_ms: f.get("event_time").and_then(parse_rfc3339_ms),
        action,
    })
}

fn currency(f: &Form, key: &str) -> Result<String, ParseError> {
    f.get(key).and_then(normalize_currency).ok_or_else(|| ParseError::field(key))
}

fn payment(f: &Form, subscription: bool) -> Result<Action, ParseError> {
    let currency = currency(f, "currency")?;
    let amount = decimal_field("sale_gross", f.req("sale_gross")?, &currency)?;
    if amount == 0 {
        return Ok(ignored("$0 payment"));
    }
    let tax = f.get("payment_tax").and_then(|t| decimal_field("payment_tax", t, &currency).ok());
    let billing_reason = match (subscription, f.flag("initial_payment")) {
        (false, _) => BillingReason::OneOff,
        (true, true) => BillingReason::FirstPayment,
        (true, false) => BillingReason::Renewal,
    };
    let object_id = f.req("order_id")?.to_string();
    Ok(Action::Payment(Payment {
        aliases: aliases(
            &object_id,
            [f.get("subscription_payment_id").map(str::to_string), f.get("checkout_id").map(str::to_string)],
        ),
        object_id,
        amount_minor: amount,
        tax_minor: tax,
        currency,
        customer_id: f.get("user_id").map(str::to_string),
        customer_email: f.get("email").map(str::to_string),
        subscription_id: f.get("subscription_id").map(str::to_string),
        billing_reason,
        reference: f.get("passthrough").and_then(from_text),
        coupon: CouponRef { code: f.get("coupon").map(str::to_string), ..CouponRef::default() }.non_empty(),
    }))
}

fn refund(f: &Form) -> Result<Action, ParseError> {
    let refund_type = f.get("refund_type").unwrap_or("");
    if refund_type == "vat" {
        return Ok(ignored("VAT-only refund: the sale amount is unchanged"));
    }
    let currency = currency(f, "currency").ok();
    let amount_text =
        f.get("gross_refund").map(|t| ("gross_refund", t)).or(f.get("amount").map(|t| ("amount", t)));
    let amount = match (amount_text, &currency) {
        (Some((field, text)), Some(c)) => Some(decimal_field(field, text, c)?),
        _ => None,
    };
    let object_id = f.req("order_id")?.to_string();
    Ok(Action::Refund(Refund {
        aliases: aliases(&object_id, [f.get("subscription_payment_id").map(str::to_string)]),
        object_id,
        refund_id: f.req("alert_id")?.to_string(),
        full: refund_type == "full",
        amount_minor: amount,
        total_refunded_minor: None,
        original_amount_minor: None,
        currency,
    }))
}

fn dispute(f: &Form) -> Result<Action, ParseError> {
    let currency = currency(f, "currency").ok();
    let amount = match (f.get("amount"), &currency) {
        (Some(text), Some(c)) => Some(decimal_field("amount", text, c)?),
        _ => None,
    };
    Ok(Action::Chargeback(Chargeback {
        object_id: f.req("order_id")?.to_string(),
        aliases: Vec::new(),
        dispute_id: f.req("alert_id")?.to_string(),
        amount_minor: amount,
        currency,
        reason: None,
    }))
}

fn trial(f: &Form) -> Result<Action, ParseError> {
    if f.get("status") != Some("trialing") {
        return Ok(ignored("subscription without trial; credited from subscription_payment_succeeded"));
    }
    let id = f.req("subscription_id")?.to_string();
    Ok(Action::TrialStarted(Trial {
        object_id: id.clone(),
        subscription_id: id,
        customer_id: f.get("user_id").map(str::to_string),
        customer_email: f.get("email").map(str::to_string),
        reference: f.get("passthrough").and_then(from_text),
        coupon: None,
        trial_ends_at_unix_ms: f
            .get("next_bill_date")
            .and_then(|d| parse_rfc3339_ms(&format!("{d}T00:00:00Z"))),
        expected_amount_minor: None,
        expected_currency: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_like_php_for_the_spec_example() {
        let form = Form::parse(
            b"sale_gross=12.99&alert_name=payment_succeeded&passthrough=%7B%22aff%22%3A%22jane%22%7D&alert_id=1234&p_signature=x",
        )
        .unwrap_or_else(|_| Form { pairs: Vec::new() });
        assert_eq!(
            php_serialize(&signed_fields(&form)),
            r#"a:4:{s:8:"alert_id";s:4:"1234";s:10:"alert_name";s:17:"payment_succeeded";s:11:"passthrough";s:14:"{"aff":"jane"}";s:10:"sale_gross";s:5:"12.99";}"#
        );
    }

    #[test]
    fn lengths_are_bytes_and_last_value_wins() {
        let form = Form {
            pairs: vec![("b".into(), "1".into()), ("a".into(), "é".into()), ("b".into(), "2".into())],
        };
        assert_eq!(php_serialize(&signed_fields(&form)), r#"a:2:{s:1:"a";s:2:"é";s:1:"b";s:1:"2";}"#);
    }
}

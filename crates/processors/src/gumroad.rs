//! Gumroad: pings are not signed. We authenticate the shared secret the merchant put in the
//! URL we gave them (`?token=<secret>`), or HTTP Basic credentials from the URL's userinfo
//! (whose password, or `user:password`, is the secret). Nothing binds the body, so the
//! verification is [`Trust::SharedSecret`]; check `seller_id` and, for refunds, confirm with
//! the API where it matters. A server that puts the token in the path instead compares it
//! itself, or passes it on as `token=<value>` in `query`.
//!
//! Bodies are Rails-style form data (`url_params[ref]=…`, brackets literal or percent-encoded)
//! or, for newer targets, JSON; both are read into the same bracket-keyed pairs. Retries add a
//! `retry_count` field, so derived event ids ignore it.
//!
//! Mapping: `sale` → payment (`is_recurring_charge` = renewal; a $0 sale with a
//! `subscription_id` = trial start); `refund` → refund (`refunded=true` is full; otherwise a
//! partial refund of unknown amount); `dispute` → chargeback; everything else ignored. Event ids
//! are `(resource_name, sale_id)` as the spec recommends, plus a body digest for refunds and
//! subscription resources, which can repeat with new content.

use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::event::{ignored, Action, BillingReason, Chargeback, CouponRef, Parsed, Payment, Refund, Trial};
use crate::form::Form;
use crate::money::{int_text, normalize_currency};
use crate::reference::{first_of, from_map};
use crate::time::parse_rfc3339_ms;
use crate::verify_common::{find_secret, Trust, Verification};
use crate::{Headers, ParseError, VerifyError};

/// The query parameter carrying the connection's shared secret.
pub const TOKEN_PARAM: &str = "token";

pub(crate) fn verify(
    secrets: &[&str],
    headers: &dyn Headers,
    query: &str,
) -> Result<Verification, VerifyError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let token =
        pairs.iter().rev().find(|(k, _)| k == TOKEN_PARAM).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let basic = headers.get("Authorization").and_then(basic_credentials);
    if token.is_none() && basic.is_none() {
        return Err(VerifyError::MissingSignature);
    }
    let index = find_secret(secrets, |secret| {
        token.as_deref().is_some_and(|t| same_secret(t, secret))
            || basic.as_ref().is_some_and(|(user, pass)| {
                same_secret(pass, secret) || same_secret(&format!("{user}:{pass}"), secret)
            })
    })?;
    Ok(Verification {
        scheme: if token.is_some() { "gumroad shared secret in URL" } else { "gumroad basic auth" },
        trust: Trust::SharedSecret,
        secret_index: Some(index),
        signed_at_unix_s: None,
    })
}

/// Constant-time equality that does not reveal the secret's length (compares digests).
fn same_secret(given: &str, secret: &str) -> bool {
    Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(secret.as_bytes())).into()
}

fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// A body as bracket-keyed pairs, from form data or JSON.
fn read_body(headers: &dyn Headers, body: &[u8]) -> Result<Form, ParseError> {
    let is_json = headers.get("Content-Type").is_some_and(|c| c.to_ascii_lowercase().contains("json"))
        || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !is_json {
        return Form::parse(body);
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| ParseError::Body("JSON"))?;
    if !v.is_object() {
        return Err(ParseError::Body("JSON object"));
    }
    let mut pairs = Vec::new();
    flatten("", &v, &mut pairs);
    Ok(Form { pairs })
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}[{k}]") };
                flatten(&key, v, out);
            }
        }
        Value::Array(a) => {
            for v in a {
                flatten(&format!("{prefix}[]"), v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Number(n) => out.push((prefix.to_string(), n.to_string())),
        Value::Bool(b) => out.push((prefix.to_string(), b.to_string())),
        Value::Null => out.push((prefix.to_string(), String::new())),
    }
}

/// A digest of the ping without `retry_count`, stable across Gumroad's retries.
fn body_digest(f: &Form) -> String {
    let mut pairs: Vec<&(String, String)> = f.pairs.iter().filter(|(k, _)| k != "retry_count").collect();
    pairs.sort();
    let mut h = Sha256::new();
    for (k, v) in pairs {
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
        h.update(b"\n");
    }
    hex::encode(&h.finalize()[..8])
}

pub(crate) fn parse(headers: &dyn Headers, body: &[u8]) -> Result<Parsed, ParseError> {
    let f = read_body(headers, body)?;
    let resource = f.get("resource_name").unwrap_or("sale").to_string();
    let sale_id = f.get("sale_id").map(str::to_string);
    let (action, event_id) = match resource.as_str() {
        "sale" => {
            let sale_id = sale_id.ok_or_else(|| ParseError::field("sale_id"))?;
            (sale(&f, &sale_id)?, format!("sale:{sale_id}"))
        }
        "refund" => {
            let sale_id = sale_id.ok_or_else(|| ParseError::field("sale_id"))?;
            let event_id = format!("refund:{sale_id}:{}", body_digest(&f));
            (refund(&f, &sale_id, &event_id)?, event_id)
        }
        "dispute" => {
            let sale_id = sale_id.ok_or_else(|| ParseError::field("sale_id"))?;
            (dispute(&f, &sale_id)?, format!("dispute:{sale_id}"))
        }
        "dispute_won" => (
            ignored("dispute won; a conversion already reversed stays refunded"),
            format!("dispute_won:{}", sale_id.as_deref().unwrap_or("-")),
        ),
        other => {
            let id = f.get("subscription_id").or(sale_id.as_deref()).unwrap_or("-");
            (
                ignored(format!("Gumroad {other} does not affect commissions")),
                format!("{other}:{id}:{}", body_digest(&f)),
            )
        }
    };
    let occurred = ["sale_timestamp", "cancelled_at", "ended_at", "created_at"]
        .iter()
        .find_map(|k| f.get(k).and_then(parse_rfc3339_ms));
    Ok(Parsed {
        event_id,
        event_type: resource,
        test_mode: f.flag("test"),
        occurred_at_unix_ms: occurred,
        action,
    })
}

fn price(f: &Form) -> Result<i64, ParseError> {
    f.get("price").and_then(int_text).ok_or_else(|| ParseError::field("price"))
}

/// Gumroad's docs speak of USD cents; the code sends the product currency (lower case).
fn currency(f: &Form) -> Result<String, ParseError> {
    match f.get("currency") {
        None => Ok("USD".to_string()),
        Some(c) => normalize_currency(c).ok_or_else(|| ParseError::field("currency")),
    }
}

fn sale(f: &Form, sale_id: &str) -> Result<Action, ParseError> {
    let amount = price(f)?;
    let subscription_id = f.get("subscription_id").map(str::to_string);
    let recurring = f.flag("is_recurring_charge");
    let reference = first_of([from_map(&f.nested("url_params")), from_map(&f.nested("custom_fields"))]);
    let coupon =
        CouponRef { code: f.get("offer_code").map(str::to_string), ..CouponRef::default() }.non_empty();
    if amount == 0 {
        return Ok(match subscription_id {
            Some(sub) if !recurring => Action::TrialStarted(Trial {
                object_id: sub.clone(),
                subscription_id: sub,
                customer_id: f.get("purchaser_id").map(str::to_string),
                customer_email: f.get("email").map(str::to_string),
                reference,
                coupon,
                trial_ends_at_unix_ms: f.get("free_trial_ends_at").and_then(parse_rfc3339_ms),
                expected_amount_minor: None,
                expected_currency: None,
            }),
            _ => ignored("$0 sale"),
        });
    }
    let billing_reason = match (recurring, &subscription_id) {
        (true, _) => BillingReason::Renewal,
        (false, Some(_)) => BillingReason::FirstPayment,
        (false, None) => BillingReason::OneOff,
    };
    Ok(Action::Payment(Payment {
        object_id: sale_id.to_string(),
        aliases: Vec::new(),
        amount_minor: amount,
        tax_minor: None,
        currency: currency(f)?,
        customer_id: f.get("purchaser_id").map(str::to_string),
        customer_email: f.get("email").map(str::to_string),
        subscription_id,
        billing_reason,
        reference,
        coupon,
    }))
}

fn refund(f: &Form, sale_id: &str, refund_id: &str) -> Result<Action, ParseError> {
    // Partial refunds arrive without an amount: fetch the sale from the API to learn it.
    Ok(Action::Refund(Refund {
        object_id: sale_id.to_string(),
        aliases: Vec::new(),
        refund_id: refund_id.to_string(),
        full: f.flag("refunded"),
        amount_minor: None,
        total_refunded_minor: None,
        original_amount_minor: f.get("price").and_then(int_text),
        currency: currency(f).ok(),
    }))
}

fn dispute(f: &Form, sale_id: &str) -> Result<Action, ParseError> {
    Ok(Action::Chargeback(Chargeback {
        object_id: sale_id.to_string(),
        aliases: Vec::new(),
        dispute_id: format!("{sale_id}:dispute"),
        amount_minor: f.get("price").and_then(int_text),
        currency: currency(f).ok(),
        reason: None,
    }))
}

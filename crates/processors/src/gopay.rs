//! GoPay: a bare `GET <notification_url>?id=<payment_id>` (plus `parent_id` for recurrences)
//! with no body and no signature. Nothing authenticates it, so [`crate::verify`] only checks
//! the shape and reports [`Trust::LookupRequired`]; [`crate::parse`] answers
//! [`Action::NeedsLookup`]. The caller checks the id is a payment it created, fetches
//! `GET /api/payments/payment/{id}` with its OAuth token, and passes the JSON to
//! [`parse_payment`] (exported as `parse_gopay_payment`).
//!
//! Notifications are not deduped (each may announce a new state); looked-up states are, on
//! `(payment_id, state)`. `PAID` → payment (a payment with `parent_id` is a recurrence, one with
//! `recurrence` the first of a series); `REFUNDED` / `PARTIALLY_REFUNDED` → refund (the status
//! object carries no refunded amount); other states are ignored. Sandbox payments are recognised
//! by their `gw_url` host.

use serde_json::Value;

use crate::event::{ignored, Action, BillingReason, Parsed, Payment, Refund};
use crate::json::{array_at, at, id_at, parse_body, req_currency, req_id, req_int, req_str, str_at};
use crate::reference::{first_of, from_map, parse_reference};
use crate::verify_common::{Trust, Verification};
use crate::{ParseError, VerifyError};

fn payment_id(query: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let id = pairs.into_iter().rev().find(|(k, _)| k == "id")?.1;
    (!id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

pub(crate) fn verify(query: &str) -> Result<Verification, VerifyError> {
    payment_id(query).ok_or_else(|| VerifyError::Malformed("no numeric `id` query parameter".into()))?;
    Ok(Verification {
        scheme: "gopay: API lookup required",
        trust: Trust::LookupRequired,
        secret_index: None,
        signed_at_unix_s: None,
    })
}

pub(crate) fn parse(query: &str) -> Result<Parsed, ParseError> {
    let id = payment_id(query).ok_or_else(|| ParseError::field("id"))?;
    Ok(Parsed {
        event_id: format!("notification:{id}"),
        event_type: "notification".to_string(),
        test_mode: false,
        occurred_at_unix_ms: None,
        action: Action::NeedsLookup { payment_id: id },
    })
}

/// Parse the payment status GoPay's API returned for a notified payment id.
pub fn parse_payment(json: &[u8]) -> Result<Parsed, ParseError> {
    let v = parse_body(json)?;
    let id = req_id(&v, &["id"])?;
    let state = req_str(&v, &["state"])?.to_string();
    let test_mode = str_at(&v, &["gw_url"]).is_some_and(|u| u.contains(".sandbox.gopay."));
    let action = match state.as_str() {
        "PAID" => paid(&v, &id)?,
        "REFUNDED" | "PARTIALLY_REFUNDED" => Action::Refund(Refund {
            object_id: id.clone(),
            aliases: Vec::new(),
            refund_id: format!("{id}:{state}"),
            full: state == "REFUNDED",
            amount_minor: None,
            total_refunded_minor: None,
            original_amount_minor: crate::json::int_at(&v, &["amount"]),
            currency: crate::json::currency_at(&v, &["currency"]),
        }),
        "AUTHORIZED" => ignored("pre-authorized, not yet captured"),
        other => ignored(format!("GoPay state {other} moves no money")),
    };
    Ok(Parsed {
        event_id: format!("{id}:{state}"),
        event_type: format!("payment.{}", state.to_ascii_lowercase()),
        test_mode,
        occurred_at_unix_ms: None,
        action,
    })
}

fn paid(v: &Value, id: &str) -> Result<Action, ParseError> {
    let amount = req_int(v, &["amount"])?;
    if amount == 0 {
        return Ok(ignored("$0 payment"));
    }
    let params: Vec<(String, String)> = array_at(v, &["additional_params"])
        .iter()
        .filter_map(|p| Some((str_at(p, &["name"])?.to_string(), str_at(p, &["value"])?.to_string())))
        .collect();
    let parent = id_at(v, &["parent_id"]);
    let billing_reason = match (&parent, at(v, &["recurrence"])) {
        (Some(_), _) => BillingReason::Renewal,
        (None, Some(_)) => BillingReason::FirstPayment,
        (None, None) => BillingReason::OneOff,
    };
    Ok(Action::Payment(Payment {
        object_id: id.to_string(),
        aliases: Vec::new(),
        amount_minor: amount,
        tax_minor: None,
        currency: req_currency(v, &["currency"])?,
        customer_id: None,
        customer_email: str_at(v, &["payer", "contact", "email"]).map(str::to_string),
        // A recurrence series is identified by its parent (first) payment.
        subscription_id: parent.or_else(|| at(v, &["recurrence"]).map(|_| id.to_string())),
        billing_reason,
        reference: first_of([from_map(&params), str_at(v, &["order_number"]).and_then(parse_reference)]),
        coupon: None,
    }))
}

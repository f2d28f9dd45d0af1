//! Creem: `creem-signature` = lowercase hex HMAC-SHA256 of the raw body keyed with the webhook
//! secret. No timestamp. Dedupe on the top-level `id` (`evt_…`).
//!
//! Canonical events:
//! - first sale: `checkout.completed` with `order.status: paid`, keyed on the order id (the
//!   checkout and transaction ids are aliases);
//! - renewals: `subscription.paid`, keyed on `last_transaction.order` when present (then the first
//!   period's `subscription.paid` dedupes with the checkout's order), else on the transaction id;
//! - trials: `subscription.trialing`; refunds: `refund.created`; chargebacks: `dispute.created`.
//!
//! `test_mode` is true when `mode` (on the object or its order) is present and is not `prod` /
//! `live`; the documentation's examples use `test` and `local`.

use serde_json::Value;

use crate::event::{
    aliases, ignored, Action, BillingReason, Chargeback, CouponRef, Parsed, Payment, Refund, Trial,
};
use crate::json::{
    at, currency_at, id_at, int_at, parse_body, req_currency, req_id, req_int, req_str, str_at, string_map,
};
use crate::reference::{first_of, from_map, parse_reference};
use crate::time::parse_rfc3339_ms;
use crate::verify_common::{verify_body_hmac_hex, Verification};
use crate::{ParseError, VerifyError};

pub(crate) const SIGNATURE_HEADER: &str = "creem-signature";

pub(crate) fn verify(
    secrets: &[&str],
    header: Option<&str>,
    body: &[u8],
) -> Result<Verification, VerifyError> {
    verify_body_hmac_hex(secrets, header, body, "creem hmac-sha256 creem-signature")
}

pub(crate) fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let v = parse_body(body)?;
    let event_type = req_str(&v, &["eventType"])?.to_string();
    let obj = at(&v, &["object"]).unwrap_or(&Value::Null);
    let need_obj = || if obj.is_object() { Ok(obj) } else { Err(ParseError::field("object")) };
    let action = match event_type.as_str() {
        "checkout.completed" => checkout(need_obj()?)?,
        "subscription.paid" => subscription_paid(need_obj()?)?,
        "subscription.trialing" => trialing(need_obj()?)?,
        "refund.created" => refund(need_obj()?)?,
        "dispute.created" => dispute(need_obj()?)?,
        "subscription.active" => ignored("sync-only event; payments are credited from subscription.paid"),
        other => ignored(format!("Creem event {other} does not affect commissions")),
    };
    let mode = str_at(obj, &["mode"]).or_else(|| str_at(obj, &["order", "mode"]));
    Ok(Parsed {
        event_id: req_str(&v, &["id"])?.to_string(),
        event_type,
        test_mode: mode.is_some_and(|m| m != "prod" && m != "live"),
        occurred_at_unix_ms: int_at(&v, &["created_at"]),
        action,
    })
}

/// Reference carriers: the object's metadata, its subscription's metadata, `request_id`.
fn reference(o: &Value) -> Option<crate::Reference> {
    first_of([
        from_map(&string_map(at(o, &["metadata"]))),
        from_map(&string_map(at(o, &["subscription", "metadata"]))),
        str_at(o, &["request_id"]).and_then(parse_reference),
    ])
}

fn customer_email(o: &Value) -> Option<String> {
    str_at(o, &["customer", "email"]).map(str::to_string)
}

fn checkout(o: &Value) -> Result<Action, ParseError> {
    let order = at(o, &["order"]).ok_or_else(|| ParseError::field("object.order"))?;
    let status = str_at(order, &["status"]).unwrap_or("");
    if status != "paid" {
        return Ok(ignored(format!("order status `{status}` is not paid")));
    }
    let amount = int_at(order, &["amount_paid"]).map_or_else(|| req_int(order, &["amount"]), Ok)?;
    if amount == 0 {
        return Ok(ignored("$0 order (trial start is taken from subscription.trialing)"));
    }
    let object_id = req_id(order, &["id"])?;
    let subscription_id = id_at(o, &["subscription"]);
    Ok(Action::Payment(Payment {
        aliases: aliases(&object_id, [id_at(o, &["id"]), id_at(order, &["transaction"])]),
        object_id,
        amount_minor: amount,
        tax_minor: int_at(order, &["tax_amount"]),
        currency: req_currency(order, &["currency"])?,
        customer_id: id_at(o, &["customer"]).or_else(|| id_at(order, &["customer"])),
        customer_email: customer_email(o),
        billing_reason: match str_at(order, &["type"]) {
            Some("recurring") => BillingReason::FirstPayment,
            Some("onetime") => BillingReason::OneOff,
            _ if subscription_id.is_some() => BillingReason::FirstPayment,
            _ => BillingReason::Unknown,
        },
        subscription_id,
        reference: reference(o),
        coupon: CouponRef {
            coupon_id: id_at(order, &["discount"]),
            code: str_at(o, &["discount_code"]).map(str::to_string),
            ..CouponRef::default()
        }
        .non_empty(),
    }))
}

fn subscription_paid(o: &Value) -> Result<Action, ParseError> {
    let sub = req_id(o, &["id"])?;
    let tx = at(o, &["last_transaction"]);
    let tx_id = tx.and_then(|t| id_at(t, &["id"])).or_else(|| id_at(o, &["last_transaction_id"]));
    let order_id = tx.and_then(|t| id_at(t, &["order"]));
    let object_id =
        order_id.clone().or(tx_id.clone()).ok_or_else(|| ParseError::field("last_transaction_id"))?;
    let (amount, currency) = match tx {
        Some(t) => (
            int_at(t, &["amount_paid"]).map_or_else(|| req_int(t, &["amount"]), Ok)?,
            currency_at(t, &["currency"]).map_or_else(|| req_currency(o, &["product", "currency"]), Ok)?,
        ),
        None => (req_int(o, &["product", "price"])?, req_currency(o, &["product", "currency"])?),
    };
    if amount == 0 {
        return Ok(ignored("$0 subscription payment"));
    }
    Ok(Action::Payment(Payment {
        aliases: aliases(&object_id, [tx_id]),
        object_id,
        amount_minor: amount,
        tax_minor: tx.and_then(|t| int_at(t, &["tax_amount"])),
        currency,
        customer_id: id_at(o, &["customer"]),
        customer_email: customer_email(o),
        subscription_id: Some(sub),
        billing_reason: BillingReason::Renewal,
        reference: reference(o),
        coupon: CouponRef { coupon_id: id_at(o, &["discount"]), ..CouponRef::default() }.non_empty(),
    }))
}

fn trialing(o: &Value) -> Result<Action, ParseError> {
    let id = req_id(o, &["id"])?;
    Ok(Action::TrialStarted(Trial {
        object_id: id.clone(),
        subscription_id: id,
        customer_id: id_at(o, &["customer"]),
        customer_email: customer_email(o),
        reference: reference(o),
        coupon: CouponRef { coupon_id: id_at(o, &["discount"]), ..CouponRef::default() }.non_empty(),
        trial_ends_at_unix_ms: str_at(o, &["current_period_end_date"]).and_then(parse_rfc3339_ms),
        expected_amount_minor: None,
        expected_currency: None,
    }))
}

fn refund(o: &Value) -> Result<Action, ParseError> {
    let status = str_at(o, &["status"]).unwrap_or("succeeded");
    if status == "failed" || status == "canceled" {
        return Ok(ignored(format!("refund {status}: no money returned")));
    }
    let tx = at(o, &["transaction"]);
    let order = id_at(o, &["order"]).or_else(|| tx.and_then(|t| id_at(t, &["order"])));
    let tx_id = tx.and_then(|t| id_at(t, &["id"])).or_else(|| id_at(o, &["transaction"]));
    let object_id = order.clone().or(tx_id.clone()).ok_or_else(|| ParseError::field("object.order"))?;
    let amount = int_at(o, &["refund_amount"]);
    let original = tx.and_then(|t| int_at(t, &["amount_paid"]).or_else(|| int_at(t, &["amount"])));
    let total = tx.and_then(|t| int_at(t, &["refunded_amount"]));
    let full = tx.and_then(|t| str_at(t, &["status"])) == Some("refunded")
        || matches!((total.or(amount), original), (Some(r), Some(o)) if o > 0 && r >= o);
    Ok(Action::Refund(Refund {
        aliases: aliases(&object_id, [tx_id, id_at(o, &["checkout"])]),
        object_id,
        refund_id: req_id(o, &["id"])?,
        full,
        amount_minor: amount,
        total_refunded_minor: total,
        original_amount_minor: original,
        currency: currency_at(o, &["refund_currency"])
            .or_else(|| tx.and_then(|t| currency_at(t, &["currency"]))),
    }))
}

fn dispute(o: &Value) -> Result<Action, ParseError> {
    let order = id_at(o, &["order"]);
    let tx = id_at(o, &["transaction"]);
    let object_id = order.clone().or(tx.clone()).ok_or_else(|| ParseError::field("object.order"))?;
    Ok(Action::Chargeback(Chargeback {
        aliases: aliases(&object_id, [tx, id_at(o, &["checkout"])]),
        object_id,
        dispute_id: req_id(o, &["id"])?,
        amount_minor: int_at(o, &["amount"]),
        currency: currency_at(o, &["currency"]),
        reason: str_at(o, &["reason"]).map(str::to_string),
    }))
}

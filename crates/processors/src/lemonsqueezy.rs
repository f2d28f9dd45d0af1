//! Lemon Squeezy: `X-Signature` = lowercase hex HMAC-SHA256 of the raw body, keyed with the
//! merchant-chosen signing secret. No timestamp, no event id.
//!
//! Canonical events:
//! - first sale (one-off or subscription): `order_created` with `status: paid`, keyed on the
//!   order id; the accompanying `subscription_payment_success` with `billing_reason: initial` is
//!   ignored so the first payment is credited once;
//! - renewals / plan changes: `subscription_payment_success` (`renewal` / `updated`), keyed on
//!   the subscription-invoice id;
//! - trials: `subscription_created` with `status: on_trial`; any other `subscription_created`
//!   links the subscription to its first order (`attributes.order_id`), because orders do not
//!   name their subscription and renewals name only the subscription (and customer);
//! - refunds: `order_refunded` and `subscription_payment_refunded` (cumulative
//!   `refunded_amount`); the latter is ignored for the initial invoice, whose refund is reported
//!   on its order.
//!
//! No chargeback event and no coupon identity exist in the payloads. The event id is derived
//! from the natural key `(event_name, data.type, data.id, updated_at)`.

use serde_json::Value;

use crate::event::{ignored, Action, BillingReason, Link, Parsed, Payment, Refund, Trial};
use crate::json::{
    at, bool_at, id_at, int_at, parse_body, req_currency, req_id, req_int, str_at, string_map,
};
use crate::reference::from_map;
use crate::time::parse_rfc3339_ms;
use crate::verify_common::{verify_body_hmac_hex, Verification};
use crate::{Headers, ParseError, VerifyError};

pub(crate) const SIGNATURE_HEADER: &str = "X-Signature";

pub(crate) fn verify(
    secrets: &[&str],
    header: Option<&str>,
    body: &[u8],
) -> Result<Verification, VerifyError> {
    verify_body_hmac_hex(secrets, header, body, "lemonsqueezy hmac-sha256 X-Signature")
}

pub(crate) fn parse(headers: &dyn Headers, body: &[u8]) -> Result<Parsed, ParseError> {
    let v = parse_body(body)?;
    let event_type = str_at(&v, &["meta", "event_name"])
        .or_else(|| headers.get("X-Event-Name"))
        .ok_or_else(|| ParseError::field("meta.event_name"))?
        .to_string();
    let data = at(&v, &["data"]).ok_or_else(|| ParseError::field("data"))?;
    let attrs = at(data, &["attributes"]).unwrap_or(&Value::Null);
    let test_mode =
        bool_at(&v, &["meta", "test_mode"]).or_else(|| bool_at(attrs, &["test_mode"])).unwrap_or(false);
    let ctx = Ctx { meta_custom: at(&v, &["meta", "custom_data"]), data, attrs };
    let action = match event_type.as_str() {
        "order_created" => order_created(&ctx)?,
        "subscription_payment_success" => invoice_paid(&ctx)?,
        "subscription_created" => subscription_created(&ctx)?,
        "order_refunded" => refunded(&ctx)?,
        "subscription_payment_refunded" => {
            if str_at(attrs, &["billing_reason"]) == Some("initial") {
                ignored("refund of the initial invoice is taken from order_refunded")
            } else {
                refunded(&ctx)?
            }
        }
        "subscription_payment_recovered" => {
            ignored("always sent with subscription_payment_success, which is credited")
        }
        other => ignored(format!("Lemon Squeezy event {other} does not affect commissions")),
    };
    let event_id = format!(
        "{event_type}:{}:{}:{}",
        str_at(data, &["type"]).unwrap_or("-"),
        id_at(data, &["id"]).unwrap_or_else(|| "-".into()),
        str_at(attrs, &["updated_at"]).unwrap_or("-"),
    );
    Ok(Parsed {
        event_id,
        event_type,
        test_mode,
        occurred_at_unix_ms: str_at(attrs, &["updated_at"])
            .or_else(|| str_at(attrs, &["created_at"]))
            .and_then(parse_rfc3339_ms),
        action,
    })
}

struct Ctx<'a> {
    meta_custom: Option<&'a Value>,
    data: &'a Value,
    attrs: &'a Value,
}

fn order_created(c: &Ctx) -> Result<Action, ParseError> {
    let status = str_at(c.attrs, &["status"]).unwrap_or("");
    if status != "paid" {
        return Ok(ignored(format!("order status `{status}` is not paid")));
    }
    // Orders do not say whether they start a subscription; renewals never create orders.
    payment(c, BillingReason::Unknown)
}

fn invoice_paid(c: &Ctx) -> Result<Action, ParseError> {
    let reason = match str_at(c.attrs, &["billing_reason"]) {
        Some("initial") => return Ok(ignored("first payment is credited from order_created")),
        Some("renewal") => BillingReason::Renewal,
        Some("updated") => BillingReason::PlanChange,
        _ => BillingReason::Unknown,
    };
    let status = str_at(c.attrs, &["status"]).unwrap_or("paid");
    if status != "paid" {
        return Ok(ignored(format!("invoice status `{status}` is not paid")));
    }
    payment(c, reason)
}

fn payment(c: &Ctx, billing_reason: BillingReason) -> Result<Action, ParseError> {
    let amount = req_int(c.attrs, &["total"])?;
    if amount == 0 {
        return Ok(ignored("$0 payment"));
    }
    Ok(Action::Payment(Payment {
        object_id: req_id(c.data, &["id"])?,
        aliases: Vec::new(),
        amount_minor: amount,
        tax_minor: int_at(c.attrs, &["tax"]),
        currency: req_currency(c.attrs, &["currency"])?,
        customer_id: id_at(c.attrs, &["customer_id"]),
        customer_email: str_at(c.attrs, &["user_email"]).map(str::to_string),
        subscription_id: id_at(c.attrs, &["subscription_id"]),
        billing_reason,
        reference: from_map(&string_map(c.meta_custom)),
        coupon: None,
    }))
}

fn subscription_created(c: &Ctx) -> Result<Action, ParseError> {
    let id = req_id(c.data, &["id"])?;
    if str_at(c.attrs, &["status"]) != Some("on_trial") {
        // The first payment is credited from order_created; this says which subscription
        // that order started, so its renewals find the first sale.
        return Ok(match id_at(c.attrs, &["order_id"]) {
            Some(order) => Action::Link(Link {
                object_id: order,
                aliases: Vec::new(),
                subscription_id: Some(id),
                customer_id: id_at(c.attrs, &["customer_id"]),
            }),
            None => ignored("subscription without trial or order; nothing to link"),
        });
    }
    Ok(Action::TrialStarted(Trial {
        object_id: id.clone(),
        subscription_id: id,
        customer_id: id_at(c.attrs, &["customer_id"]),
        customer_email: str_at(c.attrs, &["user_email"]).map(str::to_string),
        reference: from_map(&string_map(c.meta_custom)),
        coupon: None,
        trial_ends_at_unix_ms: str_at(c.attrs, &["trial_ends_at"]).and_then(parse_rfc3339_ms),
        expected_amount_minor: None,
        expected_currency: None,
    }))
}

fn refunded(c: &Ctx) -> Result<Action, ParseError> {
    let object_id = req_id(c.data, &["id"])?;
    let total = req_int(c.attrs, &["refunded_amount"])?;
    let status = str_at(c.attrs, &["status"]).unwrap_or("");
    let original = int_at(c.attrs, &["total"]);
    let full = bool_at(c.attrs, &["refunded"]) == Some(true)
        || status == "refunded"
        || original.is_some_and(|o| o > 0 && total >= o);
    Ok(Action::Refund(Refund {
        refund_id: format!("{object_id}:refunded:{total}"),
        object_id,
        aliases: Vec::new(),
        full,
        amount_minor: None,
        total_refunded_minor: Some(total),
        original_amount_minor: original,
        currency: crate::json::currency_at(c.attrs, &["currency"]),
    }))
}

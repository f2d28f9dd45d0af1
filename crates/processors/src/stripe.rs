//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`, HMAC-SHA256 over `{t}.{raw body}` keyed
//! with the whole `whsec_…` string as UTF-8. As in Stripe's SDKs, only a timestamp older than the
//! tolerance is refused, not one ahead of our clock.
//!
//! Canonical events:
//! - first sale: `checkout.session.completed` (or `checkout.session.async_payment_succeeded`)
//!   with `payment_status: paid`; its `object_id` is the first invoice (subscription mode) or the
//!   payment intent (payment mode), so `invoice.paid` / `payment_intent.succeeded` for the same
//!   money dedupe on `object_id`;
//! - renewals: `invoice.paid` and `invoice.payment_succeeded` (both map to the invoice id);
//! - trials: `customer.subscription.created` with `status: trialing`, and a checkout completed
//!   with `no_payment_required` in subscription mode (both keyed on the subscription id);
//! - payment ids of invoices: `invoice_payment.paid` (API 2025-03-31.basil and later) links an
//!   invoice to the payment intent / charge that paid it, since `invoice.paid` no longer names
//!   them unless `payments` is included; refunds and disputes name only those;
//! - refunds: `charge.refunded` (cumulative `amount_refunded`); `refund.*` are ignored;
//! - chargebacks: `charge.dispute.created` (and `charge.dispute.closed` with `status: lost`).

use serde_json::Value;

use crate::event::{
    aliases, ignored, Action, BillingReason, Chargeback, CouponRef, Link, Parsed, Payment, Refund, Trial,
};
use crate::json::{
    array_at, at, bool_at, id_at, int_at, parse_body, req_currency, req_id, req_int, req_str, str_at,
    string_map,
};
use crate::reference::{first_of, from_map, parse_reference};
use crate::verify_common::{verify_timestamped_hmac, TimestampedHeader, Verification};
use crate::{ParseError, VerifyError};

pub(crate) const SIGNATURE_HEADER: &str = "Stripe-Signature";

pub(crate) fn verify(
    secrets: &[&str],
    header: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance_s: i64,
) -> Result<Verification, VerifyError> {
    let format = TimestampedHeader {
        separator: ',',
        timestamp: "t",
        signature: "v1",
        joiner: b".",
        scheme: "stripe hmac-sha256 v1",
        future_ok: true,
    };
    verify_timestamped_hmac(&format, secrets, header, body, now, tolerance_s)
}

pub(crate) fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let v = parse_body(body)?;
    let event_type = req_str(&v, &["type"])?.to_string();
    let obj = || at(&v, &["data", "object"]).ok_or_else(|| ParseError::field("data.object"));
    let action = match event_type.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => checkout(obj()?)?,
        "invoice.paid" | "invoice.payment_succeeded" => invoice(obj()?)?,
        "payment_intent.succeeded" => payment_intent(obj()?)?,
        "invoice_payment.paid" => invoice_payment(obj()?)?,
        "customer.subscription.created" => subscription_created(obj()?)?,
        "charge.refunded" => charge_refunded(obj()?)?,
        "charge.dispute.created" | "charge.dispute.closed" => dispute(obj()?, &event_type)?,
        "refund.created" | "refund.updated" => {
            ignored("refunds are taken from charge.refunded (cumulative amount_refunded)")
        }
        "charge.dispute.funds_withdrawn" | "charge.dispute.updated" => {
            ignored("chargebacks are taken from charge.dispute.created")
        }
        "checkout.session.async_payment_failed" => ignored("asynchronous payment failed: no money received"),
        "transfer.reversed" => {
            Action::TransferReversed { transfer_id: req_str(obj()?, &["id"])?.to_string() }
        }
        other => ignored(format!("Stripe event {other} does not affect commissions")),
    };
    Ok(Parsed {
        event_id: req_str(&v, &["id"])?.to_string(),
        event_type,
        test_mode: bool_at(&v, &["livemode"]) == Some(false),
        occurred_at_unix_ms: int_at(&v, &["created"]).and_then(|s| s.checked_mul(1000)),
        action,
    })
}

fn checkout(o: &Value) -> Result<Action, ParseError> {
    let mode = str_at(o, &["mode"]).unwrap_or("");
    if mode == "setup" {
        return Ok(ignored("setup-mode checkout collects no money"));
    }
    let subscription_id = id_at(o, &["subscription"]);
    let reference = first_of([
        str_at(o, &["client_reference_id"]).and_then(parse_reference),
        from_map(&string_map(at(o, &["metadata"]))),
    ]);
    let coupon = discounts_coupon(array_at(o, &["discounts"]));
    let customer_id = id_at(o, &["customer"]);
    let customer_email = str_at(o, &["customer_details", "email"])
        .or_else(|| str_at(o, &["customer_email"]))
        .map(str::to_string);
    match str_at(o, &["payment_status"]).unwrap_or("") {
        "paid" => {}
        "no_payment_required" => {
            return Ok(match subscription_id {
                Some(sub) if mode == "subscription" => Action::TrialStarted(Trial {
                    object_id: sub.clone(),
                    subscription_id: sub,
                    customer_id,
                    customer_email,
                    reference,
                    coupon,
                    trial_ends_at_unix_ms: None,
                    expected_amount_minor: None,
                    expected_currency: None,
                }),
                _ => ignored("checkout needed no payment and started no subscription"),
            });
        }
        "unpaid" => {
            return Ok(ignored(
                "payment is still processing; credited on checkout.session.async_payment_succeeded",
            ))
        }
        other => return Ok(ignored(format!("checkout payment_status `{other}` is not paid"))),
    }
    let amount = req_int(o, &["amount_total"])?;
    if amount == 0 {
        return Ok(ignored("$0 checkout"));
    }
    let session_id = req_id(o, &["id"])?;
    let invoice = id_at(o, &["invoice"]);
    let payment_intent = id_at(o, &["payment_intent"]);
    // The id that invoice.paid / payment_intent.succeeded will also report for this money.
    let object_id = invoice.clone().or(payment_intent.clone()).unwrap_or(session_id.clone());
    Ok(Action::Payment(Payment {
        aliases: aliases(&object_id, [Some(session_id), invoice, payment_intent]),
        object_id,
        amount_minor: amount,
        tax_minor: int_at(o, &["total_details", "amount_tax"]),
        currency: req_currency(o, &["currency"])?,
        customer_id,
        customer_email,
        billing_reason: if mode == "subscription" || subscription_id.is_some() {
            BillingReason::FirstPayment
        } else {
            BillingReason::OneOff
        },
        subscription_id,
        reference,
        coupon,
    }))
}

fn invoice(o: &Value) -> Result<Action, ParseError> {
    let amount = req_int(o, &["amount_paid"])?;
    if amount == 0 {
        return Ok(ignored(
            "$0 invoice (trial or 100% discount); trials are taken from customer.subscription.created",
        ));
    }
    let lines = array_at(o, &["lines", "data"]);
    let subscription_id = id_at(o, &["parent", "subscription_details", "subscription"])
        .or_else(|| id_at(o, &["subscription"]))
        .or_else(|| {
            lines.iter().find_map(|l| {
                id_at(l, &["parent", "subscription_item_details", "subscription"])
                    .or_else(|| id_at(l, &["subscription"]))
            })
        });
    let reference = first_of(
        [
            at(o, &["parent", "subscription_details", "metadata"]),
            at(o, &["subscription_details", "metadata"]),
            at(o, &["metadata"]),
        ]
        .into_iter()
        .map(|m| from_map(&string_map(m)))
        .chain(lines.iter().map(|l| from_map(&string_map(at(l, &["metadata"]))))),
    );
    let billing_reason = match str_at(o, &["billing_reason"]) {
        Some("subscription_create") => BillingReason::FirstPayment,
        Some("subscription_cycle" | "subscription_threshold") => BillingReason::Renewal,
        Some("subscription_update") => BillingReason::PlanChange,
        Some("manual") if subscription_id.is_none() => BillingReason::OneOff,
        _ => BillingReason::Unknown,
    };
    let mut coupon = discounts_coupon(array_at(o, &["discounts"]));
    if coupon.is_none() {
        coupon = at(o, &["discount"]).and_then(discount_coupon);
    }
    let object_id = req_id(o, &["id"])?;
    let mut ids = aliases(&object_id, [id_at(o, &["payment_intent"]), id_at(o, &["charge"])]);
    // Since 2025-03-31 (basil) an invoice names its payment intent and charge only in
    // `payments` (when the webhook includes it); a refund or dispute names those.
    for paid in array_at(o, &["payments", "data"]) {
        for id in [id_at(paid, &["payment", "payment_intent"]), id_at(paid, &["payment", "charge"])]
            .into_iter()
            .flatten()
        {
            if id != object_id && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(Action::Payment(Payment {
        aliases: ids,
        object_id,
        amount_minor: amount,
        tax_minor: int_at(o, &["tax"]),
        currency: req_currency(o, &["currency"])?,
        customer_id: id_at(o, &["customer"]),
        customer_email: str_at(o, &["customer_email"]).map(str::to_string),
        subscription_id,
        billing_reason,
        reference,
        coupon,
    }))
}

/// `invoice_payment` (basil and later): `invoice` was paid by `payment.payment_intent` /
/// `payment.charge`.
fn invoice_payment(o: &Value) -> Result<Action, ParseError> {
    if str_at(o, &["status"]).is_some_and(|s| s != "paid") {
        return Ok(ignored("invoice payment is not paid"));
    }
    let invoice = req_id(o, &["invoice"])?;
    let ids = aliases(&invoice, [id_at(o, &["payment", "payment_intent"]), id_at(o, &["payment", "charge"])]);
    if ids.is_empty() {
        return Ok(ignored("invoice payment names no payment intent or charge"));
    }
    Ok(Action::Link(Link { object_id: invoice, aliases: ids, subscription_id: None, customer_id: None }))
}

fn payment_intent(o: &Value) -> Result<Action, ParseError> {
    if let Some(invoice) = id_at(o, &["invoice"]) {
        return Ok(ignored(format!("pays invoice {invoice}; credited from invoice.paid")));
    }
    let Some(reference) = from_map(&string_map(at(o, &["metadata"]))) else {
        return Ok(ignored(
            "no reference in metadata; one-off sales are credited from checkout.session.completed",
        ));
    };
    let amount = int_at(o, &["amount_received"]).map_or_else(|| req_int(o, &["amount"]), Ok)?;
    if amount == 0 {
        return Ok(ignored("$0 payment"));
    }
    let object_id = req_id(o, &["id"])?;
    Ok(Action::Payment(Payment {
        aliases: aliases(&object_id, [id_at(o, &["latest_charge"])]),
        object_id,
        amount_minor: amount,
        tax_minor: None,
        currency: req_currency(o, &["currency"])?,
        customer_id: id_at(o, &["customer"]),
        customer_email: str_at(o, &["receipt_email"]).map(str::to_string),
        subscription_id: None,
        billing_reason: BillingReason::OneOff,
        reference: Some(reference),
        coupon: None,
    }))
}

fn subscription_created(o: &Value) -> Result<Action, ParseError> {
    if str_at(o, &["status"]) != Some("trialing") {
        return Ok(ignored("subscription without trial; its first payment is credited from invoice.paid"));
    }
    let id = req_id(o, &["id"])?;
    let expected = subscription_price(o);
    let mut coupon = discounts_coupon(array_at(o, &["discounts"]));
    if coupon.is_none() {
        coupon = at(o, &["discount"]).and_then(discount_coupon);
    }
    Ok(Action::TrialStarted(Trial {
        object_id: id.clone(),
        subscription_id: id,
        customer_id: id_at(o, &["customer"]),
        customer_email: None,
        reference: from_map(&string_map(at(o, &["metadata"]))),
        coupon,
        trial_ends_at_unix_ms: int_at(o, &["trial_end"]).and_then(|s| s.checked_mul(1000)),
        expected_amount_minor: expected.as_ref().map(|(amount, _)| *amount),
        expected_currency: expected.map(|(_, currency)| currency),
    }))
}

/// What a subscription charges per period: Σ `items.data[].price.unit_amount` × `quantity`, in
/// one currency (before discounts and tax, which the first invoice decides). `None` when an
/// item has no `unit_amount` (tiered or metered prices), currencies differ or there are no items.
fn subscription_price(o: &Value) -> Option<(i64, String)> {
    let items = array_at(o, &["items", "data"]);
    let mut total: i64 = 0;
    let mut currency: Option<String> = None;
    for item in items {
        let unit = int_at(item, &["price", "unit_amount"])?;
        let quantity = match at(item, &["quantity"]) {
            None | Some(Value::Null) => 1,
            Some(_) => int_at(item, &["quantity"])?,
        };
        let code = crate::json::currency_at(item, &["price", "currency"])
            .or_else(|| crate::json::currency_at(o, &["currency"]))?;
        if currency.as_ref().is_some_and(|c| *c != code) {
            return None;
        }
        currency = Some(code);
        total = total.checked_add(unit.checked_mul(quantity)?)?;
    }
    Some((total, currency?))
}

fn charge_refunded(o: &Value) -> Result<Action, ParseError> {
    let charge = req_id(o, &["id"])?;
    let total = req_int(o, &["amount_refunded"])?;
    let payment_intent = id_at(o, &["payment_intent"]);
    // ≤ acacia charges name their invoice, which is what renewals were credited under.
    let object_id = id_at(o, &["invoice"]).or(payment_intent.clone()).unwrap_or(charge.clone());
    Ok(Action::Refund(Refund {
        aliases: aliases(&object_id, [payment_intent, Some(charge.clone())]),
        object_id,
        // The charge carries no refund id; the cumulative total identifies this state.
        refund_id: format!("{charge}:refunded:{total}"),
        full: bool_at(o, &["refunded"]) == Some(true),
        amount_minor: None,
        total_refunded_minor: Some(total),
        original_amount_minor: int_at(o, &["amount"]),
        currency: crate::json::currency_at(o, &["currency"]),
    }))
}

fn dispute(o: &Value, event_type: &str) -> Result<Action, ParseError> {
    let status = str_at(o, &["status"]).unwrap_or("");
    if status.starts_with("warning_") {
        return Ok(ignored(format!("inquiry ({status}): no funds withdrawn")));
    }
    if event_type == "charge.dispute.closed" && status != "lost" {
        return Ok(ignored(format!(
            "dispute closed as `{status}`; a conversion already reversed stays refunded"
        )));
    }
    let charge = id_at(o, &["charge"]);
    let payment_intent = id_at(o, &["payment_intent"]);
    let object_id = payment_intent.clone().or(charge.clone()).ok_or_else(|| ParseError::field("charge"))?;
    Ok(Action::Chargeback(Chargeback {
        aliases: aliases(&object_id, [payment_intent, charge]),
        object_id,
        dispute_id: req_id(o, &["id"])?,
        amount_minor: int_at(o, &["amount"]),
        currency: crate::json::currency_at(o, &["currency"]),
        reason: str_at(o, &["reason"]).map(str::to_string),
    }))
}

/// Coupon and promotion-code ids from `discounts[]` entries (ids or expanded objects). Plain
/// `di_…` strings name invoice discount objects, not coupons, and are skipped.
fn discounts_coupon(discounts: &[Value]) -> Option<CouponRef> {
    discounts.iter().find_map(discount_coupon)
}

fn discount_coupon(d: &Value) -> Option<CouponRef> {
    if !d.is_object() {
        return None;
    }
    CouponRef {
        coupon_id: id_at(d, &["coupon"]),
        promotion_code_id: id_at(d, &["promotion_code"]),
        code: str_at(d, &["promotion_code", "code"]).map(str::to_string),
    }
    .non_empty()
}

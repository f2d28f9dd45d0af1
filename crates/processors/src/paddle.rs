//! Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=…]`, HMAC-SHA256 over
//! `{ts}:{raw body}` keyed with the notification destination's secret as UTF-8.
//!
//! The SDK allows only 5 s of skew; we use the configurable tolerance (300 s by default)
//! because queued retries and clock skew make 5 s fragile, and `event_id` dedupe covers replays.
//!
//! Canonical events:
//! - payments: `transaction.completed` (not `transaction.paid`, which may lack the subscription
//!   id and totals); `origin` tells first sale (`web`/`api`) from renewal
//!   (`subscription_recurring`) and plan change (`subscription_update`);
//! - trials: `subscription.created` / `subscription.trialing` with `status: trialing`;
//! - refunds and chargebacks: `adjustment.created` / `adjustment.updated`, acted on only once
//!   `status == approved` (refunds start as `pending_approval`), keyed on the adjustment id.
//!
//! Paddle payloads do not say whether they come from the sandbox (separate accounts and
//! secrets), so `test_mode` is always false: the connection knows its environment.

use serde_json::Value;

use crate::event::{
    aliases, ignored, Action, BillingReason, Chargeback, CouponRef, Parsed, Payment, Refund, Trial,
};
use crate::json::{
    array_at, at, currency_at, id_at, int_at, parse_body, req_currency, req_id, req_int, req_str, str_at,
    string_map,
};
use crate::reference::from_map;
use crate::time::parse_rfc3339_ms;
use crate::verify_common::{verify_timestamped_hmac, TimestampedHeader, Verification};
use crate::{ParseError, VerifyError};

pub(crate) const SIGNATURE_HEADER: &str = "Paddle-Signature";

pub(crate) fn verify(
    secrets: &[&str],
    header: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance_s: i64,
) -> Result<Verification, VerifyError> {
    let format = TimestampedHeader {
        separator: ';',
        timestamp: "ts",
        signature: "h1",
        joiner: b":",
        scheme: "paddle hmac-sha256 h1",
        future_ok: false,
    };
    verify_timestamped_hmac(&format, secrets, header, body, now, tolerance_s)
}

pub(crate) fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let v = parse_body(body)?;
    let event_type = req_str(&v, &["event_type"])?.to_string();
    let data = || at(&v, &["data"]).ok_or_else(|| ParseError::field("data"));
    let action = match event_type.as_str() {
        "transaction.completed" => transaction(data()?)?,
        "transaction.paid" => ignored("payments are taken from transaction.completed"),
        "subscription.created" | "subscription.trialing" => subscription(data()?)?,
        "adjustment.created" | "adjustment.updated" => adjustment(data()?)?,
        other => ignored(format!("Paddle event {other} does not affect commissions")),
    };
    Ok(Parsed {
        event_id: req_str(&v, &["event_id"])?.to_string(),
        event_type,
        test_mode: false,
        occurred_at_unix_ms: str_at(&v, &["occurred_at"]).and_then(parse_rfc3339_ms),
        action,
    })
}

fn transaction(d: &Value) -> Result<Action, ParseError> {
    let subscription_id = id_at(d, &["subscription_id"]);
    let billing_reason = match str_at(d, &["origin"]) {
        Some("subscription_recurring") => BillingReason::Renewal,
        Some("subscription_update") => BillingReason::PlanChange,
        Some("subscription_payment_method_change") => {
            return Ok(ignored("payment-method change collects no money"))
        }
        Some("web" | "api") if subscription_id.is_some() => BillingReason::FirstPayment,
        Some("web" | "api" | "subscription_charge") => BillingReason::OneOff,
        _ => BillingReason::Unknown,
    };
    let amount = req_int(d, &["details", "totals", "grand_total"])?;
    if amount == 0 {
        return Ok(ignored("$0 transaction (trial start or 100% discount)"));
    }
    let currency = currency_at(d, &["currency_code"])
        .map_or_else(|| req_currency(d, &["details", "totals", "currency_code"]), Ok)?;
    let object_id = req_id(d, &["id"])?;
    Ok(Action::Payment(Payment {
        aliases: aliases(&object_id, [id_at(d, &["invoice_number"])]),
        object_id,
        amount_minor: amount,
        tax_minor: int_at(d, &["details", "totals", "tax"]),
        currency,
        customer_id: id_at(d, &["customer_id"]),
        // Transactions carry no email (customer.* events or the API have it).
        customer_email: None,
        subscription_id,
        billing_reason,
        reference: from_map(&string_map(at(d, &["custom_data"]))),
        coupon: CouponRef { coupon_id: id_at(d, &["discount_id"]), ..CouponRef::default() }.non_empty(),
    }))
}

fn subscription(d: &Value) -> Result<Action, ParseError> {
    if str_at(d, &["status"]) != Some("trialing") {
        return Ok(ignored("subscription without trial; its payment is credited from transaction.completed"));
    }
    let id = req_id(d, &["id"])?;
    let expected = subscription_price(d);
    let trial_end = at(d, &["items"])
        .and_then(Value::as_array)
        .and_then(|items| items.iter().find_map(|i| str_at(i, &["trial_dates", "ends_at"])))
        .or_else(|| str_at(d, &["next_billed_at"]))
        .and_then(parse_rfc3339_ms);
    Ok(Action::TrialStarted(Trial {
        object_id: id.clone(),
        subscription_id: id,
        customer_id: id_at(d, &["customer_id"]),
        customer_email: None,
        reference: from_map(&string_map(at(d, &["custom_data"]))),
        coupon: CouponRef { coupon_id: id_at(d, &["discount", "id"]), ..CouponRef::default() }.non_empty(),
        trial_ends_at_unix_ms: trial_end,
        expected_amount_minor: expected.as_ref().map(|(amount, _)| *amount),
        expected_currency: expected.map(|(_, currency)| currency),
    }))
}

/// What a subscription charges per period: Σ `items[].price.unit_price.amount` (minor units as
/// text) × `quantity`, in the subscription's `currency_code` (before discounts and tax). `None`
/// when an item has no unit price, prices are in another currency, or there are no items.
fn subscription_price(d: &Value) -> Option<(i64, String)> {
    let currency = currency_at(d, &["currency_code"])?;
    let mut total: i64 = 0;
    let mut priced = false;
    for item in array_at(d, &["items"]) {
        let unit = int_at(item, &["price", "unit_price", "amount"])?;
        if currency_at(item, &["price", "unit_price", "currency_code"]).is_some_and(|c| c != currency) {
            return None;
        }
        let quantity = int_at(item, &["quantity"]).unwrap_or(1);
        total = total.checked_add(unit.checked_mul(quantity)?)?;
        priced = true;
    }
    priced.then_some((total, currency))
}

fn adjustment(d: &Value) -> Result<Action, ParseError> {
    let action = str_at(d, &["action"]).unwrap_or("");
    let status = str_at(d, &["status"]).unwrap_or("");
    match action {
        "refund" | "chargeback" => {}
        "chargeback_warning" | "chargeback_warning_reverse" => {
            return Ok(ignored(format!("{action}: early warning, no funds moved")))
        }
        "chargeback_reverse" => {
            return Ok(ignored("chargeback reversed; a conversion already reversed stays refunded"))
        }
        other => return Ok(ignored(format!("adjustment action `{other}` does not affect commissions"))),
    }
    // Refunds are created pending approval and may be rejected: act on the approved update only.
    if status != "approved" {
        return Ok(ignored(format!("{action} adjustment is `{status}`; acted on once approved")));
    }
    let id = req_id(d, &["id"])?;
    let object_id = req_id(d, &["transaction_id"])?;
    let amount = int_at(d, &["totals", "total"]);
    let currency =
        currency_at(d, &["currency_code"]).or_else(|| currency_at(d, &["totals", "currency_code"]));
    if action == "chargeback" {
        return Ok(Action::Chargeback(Chargeback {
            object_id,
            aliases: Vec::new(),
            dispute_id: id,
            amount_minor: amount,
            currency,
            reason: str_at(d, &["reason"]).map(str::to_string),
        }));
    }
    Ok(Action::Refund(Refund {
        object_id,
        aliases: Vec::new(),
        refund_id: id,
        full: str_at(d, &["type"]) == Some("full"),
        amount_minor: amount,
        total_refunded_minor: None,
        original_amount_minor: None,
        currency,
    }))
}

use refline_processors::fixtures::{paddle as fx, Sale};
use refline_processors::{BillingReason, Provider};

use crate::spec_payloads as spec;
use crate::support::*;

const SECRET: &str = "pdl_ntfset_fixture";

fn sale() -> Sale {
    Sale {
        event_id: "evt_01fixture".into(),
        object_id: "txn_01fixture".into(),
        customer_id: "ctm_01fixture".into(),
        subscription_id: Some("sub_01fixture".into()),
        ..Sale::default()
    }
}

#[test]
fn spec_transaction_completed_first_sale() {
    let p = parse_body(Provider::Paddle, spec::PADDLE_TRANSACTION_COMPLETED);
    assert_eq!(p.event_id, "evt_01h8e1jxjnw9ra6zarhnz1a7y1");
    assert_eq!(p.occurred_at_unix_ms, Some(1_692_688_545_366));
    assert!(!p.test_mode);
    let pay = payment(&p);
    assert_eq!(pay.object_id, "txn_01h8dzxgkvdwemdhbpcapj2tbj");
    assert_eq!((pay.amount_minor, pay.tax_minor, pay.currency.as_str()), (65215, Some(5315), "USD"));
    assert_eq!(pay.customer_id.as_deref(), Some("ctm_01h8e18bxp9hby49dnm8ewf0m0"));
    assert_eq!(pay.billing_reason, BillingReason::OneOff);
    assert_eq!((pay.reference.as_ref(), pay.coupon.as_ref()), (None, None));
}

#[test]
fn spec_transaction_renewal_variant() {
    let body = spec::PADDLE_TRANSACTION_COMPLETED
        .replace(r#""origin": "web""#, r#""origin": "subscription_recurring""#)
        .replace(r#""subscription_id": null"#, r#""subscription_id": "sub_01h8bxswamxysj44zt5n48njwh""#)
        .replace(r#""invoice_number": null"#, r#""invoice_number": "325-10566""#);
    let p = parse_body(Provider::Paddle, &body);
    let pay = payment(&p);
    assert_eq!(pay.billing_reason, BillingReason::Renewal);
    assert_eq!(pay.subscription_id.as_deref(), Some("sub_01h8bxswamxysj44zt5n48njwh"));
    assert_eq!(pay.aliases, ["325-10566"]);
}

#[test]
fn spec_adjustment_pending_then_approved() {
    let pending = parse_body(Provider::Paddle, spec::PADDLE_ADJUSTMENT_CREATED);
    assert!(ignored(&pending).contains("approved"));
    let approved = spec::PADDLE_ADJUSTMENT_CREATED
        .replace("adjustment.created", "adjustment.updated")
        .replace("pending_approval", "approved");
    let p = parse_body(Provider::Paddle, &approved);
    let r = refund(&p);
    assert_eq!(r.object_id, "txn_01h8bxpvx398a7zbawb77y0kp5");
    assert_eq!(r.refund_id, "adj_01h8c6tbrkpdd7vx61w7b1r0ap");
    assert_eq!((r.full, r.amount_minor, r.currency.as_deref()), (false, Some(100), Some("USD")));
}

#[test]
fn fixtures_cover_every_action() {
    let first = verified(
        Provider::Paddle,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::transaction_completed(&sale(), "web")),
    );
    assert_eq!(payment(&first).billing_reason, BillingReason::FirstPayment);
    assert_eq!(payment(&first).reference, Some(expected_ref()));

    let renewal = verified(
        Provider::Paddle,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::transaction_completed(&sale(), "subscription_recurring")),
    );
    assert_eq!(payment(&renewal).billing_reason, BillingReason::Renewal);
    let upgrade = verified(
        Provider::Paddle,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::transaction_completed(&sale(), "subscription_update")),
    );
    assert_eq!(payment(&upgrade).billing_reason, BillingReason::PlanChange);

    let zero = Sale { amount_minor: 0, ..sale() };
    assert!(ignored(&verified(
        Provider::Paddle,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::transaction_completed(&zero, "web"))
    ))
    .contains("$0"));

    let t = verified(
        Provider::Paddle,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::subscription_trialing(&sale(), NOW + 86_400)),
    );
    assert_eq!(trial(&t).subscription_id, "sub_01fixture");
    assert_eq!(trial(&t).trial_ends_at_unix_ms, Some((NOW + 86_400) * 1000));
    assert_eq!(trial(&t).reference, Some(expected_ref()));

    let full = fx::adjustment(
        "evt_a",
        "adjustment.updated",
        "adj_1",
        "txn_01fixture",
        "refund",
        "full",
        "approved",
        1800,
        "USD",
    );
    let r = verified(Provider::Paddle, SECRET, &fx::delivery(SECRET, NOW, full));
    assert!(refund(&r).full);
    let partial = fx::adjustment(
        "evt_b",
        "adjustment.updated",
        "adj_2",
        "txn_01fixture",
        "refund",
        "partial",
        "approved",
        500,
        "USD",
    );
    let r = verified(Provider::Paddle, SECRET, &fx::delivery(SECRET, NOW, partial));
    assert_eq!((refund(&r).full, refund(&r).amount_minor), (false, Some(500)));
    let rejected = fx::adjustment(
        "evt_c",
        "adjustment.updated",
        "adj_3",
        "txn_01fixture",
        "refund",
        "full",
        "rejected",
        1800,
        "USD",
    );
    assert!(ignored(&verified(Provider::Paddle, SECRET, &fx::delivery(SECRET, NOW, rejected)))
        .contains("rejected"));
    let cb = fx::adjustment(
        "evt_d",
        "adjustment.created",
        "adj_4",
        "txn_01fixture",
        "chargeback",
        "full",
        "approved",
        1800,
        "USD",
    );
    let c = verified(Provider::Paddle, SECRET, &fx::delivery(SECRET, NOW, cb));
    assert_eq!(
        (chargeback(&c).object_id.as_str(), chargeback(&c).dispute_id.as_str()),
        ("txn_01fixture", "adj_4")
    );
    let warn = fx::adjustment(
        "evt_e",
        "adjustment.created",
        "adj_5",
        "txn_01fixture",
        "chargeback_warning",
        "full",
        "approved",
        1800,
        "USD",
    );
    assert!(
        ignored(&verified(Provider::Paddle, SECRET, &fx::delivery(SECRET, NOW, warn))).contains("warning")
    );

    let coupon_only = Sale { reference: None, coupon: Some("dsc_01jane".into()), ..sale() };
    let p = verified(
        Provider::Paddle,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::transaction_completed(&coupon_only, "web")),
    );
    assert_eq!(payment(&p).reference, None);
    assert_eq!(payment(&p).coupon.as_ref().and_then(|c| c.coupon_id.as_deref()), Some("dsc_01jane"));

    let paid = r#"{"event_id":"evt_x","event_type":"transaction.paid","data":{}}"#;
    assert!(ignored(&parse_body(Provider::Paddle, paid)).contains("transaction.completed"));
}

/// `subscription.trialing` carries the price the trial will turn into (items' unit price ×
/// quantity, in the subscription's currency), for a campaign in `immediate` trial mode.
#[test]
fn trial_carries_the_subscription_price() {
    let t = verified(
        Provider::Paddle,
        SECRET,
        &fx::delivery(
            SECRET,
            NOW,
            fx::subscription_trialing(&Sale { amount_minor: 2_900, ..sale() }, NOW + 86_400),
        ),
    );
    assert_eq!(
        (trial(&t).expected_amount_minor, trial(&t).expected_currency.as_deref()),
        (Some(2_900), Some("USD"))
    );
    let subscription = |items: serde_json::Value| {
        fx::event(
            "evt_items",
            "subscription.trialing",
            NOW,
            serde_json::json!({ "id": "sub_9", "status": "trialing", "currency_code": "EUR", "items": items }),
        )
    };
    let priced = |items| {
        let t = verified(Provider::Paddle, SECRET, &fx::delivery(SECRET, NOW, subscription(items)));
        (trial(&t).expected_amount_minor, trial(&t).expected_currency.clone())
    };
    let two = serde_json::json!([
        { "quantity": 2, "price": { "unit_price": { "amount": "1500", "currency_code": "EUR" } } },
        { "price": { "unit_price": { "amount": "100" } } }
    ]);
    assert_eq!(priced(two), (Some(3_100), Some("EUR".to_string())));
    let other = serde_json::json!([{ "quantity": 1, "price": { "unit_price": { "amount": "100", "currency_code": "USD" } } }]);
    assert_eq!(priced(other), (None, None));
    let unpriced = serde_json::json!([{ "quantity": 1, "price": { "id": "pri_x" } }]);
    assert_eq!(priced(unpriced), (None, None));
    assert_eq!(priced(serde_json::json!([])), (None, None));
}

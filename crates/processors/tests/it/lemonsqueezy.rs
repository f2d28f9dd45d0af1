use refline_processors::fixtures::{lemonsqueezy as fx, Sale};
use refline_processors::{BillingReason, Provider};

use crate::spec_payloads as spec;
use crate::support::*;

const SECRET: &str = "ls_fixture_secret";

fn order() -> Sale {
    Sale { object_id: "1234567".into(), customer_id: "6287548".into(), amount_minor: 1199, ..Sale::default() }
}

fn invoice() -> Sale {
    Sale {
        object_id: "3833712".into(),
        subscription_id: Some("1334075".into()),
        amount_minor: 999,
        ..order()
    }
}

#[test]
fn spec_order_created() {
    let p = parse_body(Provider::LemonSqueezy, spec::LS_ORDER_CREATED);
    assert_eq!(p.event_type, "order_created");
    assert_eq!(p.event_id, "order_created:orders:1234567:2025-07-12T09:57:18.000000Z");
    assert!(!p.test_mode);
    let pay = payment(&p);
    assert_eq!(
        (pay.object_id.as_str(), pay.amount_minor, pay.tax_minor, pay.currency.as_str()),
        ("1234567", 1199, Some(200), "USD")
    );
    assert_eq!(
        (pay.customer_id.as_deref(), pay.customer_email.as_deref()),
        (Some("6287548"), Some("buyer@example.com"))
    );
    assert_eq!(pay.reference, None);
}

#[test]
fn spec_subscription_payment_success_renewal() {
    let p = parse_body(Provider::LemonSqueezy, spec::LS_SUBSCRIPTION_PAYMENT_SUCCESS);
    assert!(p.test_mode);
    let pay = payment(&p);
    assert_eq!((pay.object_id.as_str(), pay.billing_reason), ("3833712", BillingReason::Renewal));
    assert_eq!(pay.subscription_id.as_deref(), Some("1334075"));
    assert_eq!(pay.amount_minor, 999);
}

#[test]
fn spec_partial_refund_variant() {
    let body = spec::LS_ORDER_CREATED
        .replace(r#""event_name": "order_created""#, r#""event_name": "order_refunded""#)
        .replace(r#""status": "paid""#, r#""status": "partial_refund""#)
        .replace(r#""refunded_amount": 0"#, r#""refunded_amount": 500"#);
    let p = parse_body(Provider::LemonSqueezy, &body);
    let r = refund(&p);
    assert_eq!(
        (r.object_id.as_str(), r.full, r.total_refunded_minor, r.original_amount_minor),
        ("1234567", false, Some(500), Some(1199))
    );
}

#[test]
fn fixtures_cover_every_action() {
    let first = verified(Provider::LemonSqueezy, SECRET, &fx::delivery(SECRET, fx::order_created(&order())));
    assert_eq!(payment(&first).reference, Some(expected_ref()));
    assert_eq!(payment(&first).billing_reason, BillingReason::Unknown);

    let initial = verified(
        Provider::LemonSqueezy,
        SECRET,
        &fx::delivery(SECRET, fx::subscription_payment_success(&invoice(), "initial")),
    );
    assert!(ignored(&initial).contains("order_created"));
    let renewal = verified(
        Provider::LemonSqueezy,
        SECRET,
        &fx::delivery(SECRET, fx::subscription_payment_success(&invoice(), "renewal")),
    );
    assert_eq!(payment(&renewal).billing_reason, BillingReason::Renewal);
    assert_eq!(payment(&renewal).reference, Some(expected_ref()));
    let updated = verified(
        Provider::LemonSqueezy,
        SECRET,
        &fx::delivery(SECRET, fx::subscription_payment_success(&invoice(), "updated")),
    );
    assert_eq!(payment(&updated).billing_reason, BillingReason::PlanChange);

    let t = verified(
        Provider::LemonSqueezy,
        SECRET,
        &fx::delivery(SECRET, fx::subscription_created_trial(&invoice(), NOW + 86_400)),
    );
    assert_eq!(
        (trial(&t).subscription_id.as_str(), trial(&t).trial_ends_at_unix_ms),
        ("1334075", Some((NOW + 86_400) * 1000))
    );

    let full =
        verified(Provider::LemonSqueezy, SECRET, &fx::delivery(SECRET, fx::order_refunded(&order(), 1199)));
    assert!(refund(&full).full);
    let partial =
        verified(Provider::LemonSqueezy, SECRET, &fx::delivery(SECRET, fx::order_refunded(&order(), 300)));
    assert_eq!((refund(&partial).full, refund(&partial).total_refunded_minor), (false, Some(300)));
    assert_ne!(refund(&full).refund_id, refund(&partial).refund_id);

    let test = verified(
        Provider::LemonSqueezy,
        SECRET,
        &fx::delivery(SECRET, fx::order_created(&Sale { test_mode: true, ..order() })),
    );
    assert!(test.test_mode);
    let bare = verified(
        Provider::LemonSqueezy,
        SECRET,
        &fx::delivery(SECRET, fx::order_created(&Sale { reference: None, ..order() })),
    );
    assert_eq!((payment(&bare).reference.as_ref(), payment(&bare).coupon.as_ref()), (None, None));

    let expired = r#"{"meta":{"event_name":"subscription_expired"},"data":{"type":"subscriptions","id":"1","attributes":{}}}"#;
    assert!(!ignored(&parse_body(Provider::LemonSqueezy, expired)).is_empty());
    let initial_refund = r#"{"meta":{"event_name":"subscription_payment_refunded"},"data":{"type":"subscription-invoices","id":"9","attributes":{"billing_reason":"initial","refunded_amount":999}}}"#;
    assert!(ignored(&parse_body(Provider::LemonSqueezy, initial_refund)).contains("order_refunded"));
}

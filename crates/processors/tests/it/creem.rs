use refline_processors::fixtures::{creem as fx, Sale};
use refline_processors::{BillingReason, Provider};

use crate::spec_payloads as spec;
use crate::support::*;

const SECRET: &str = "whsec_creem_fixture";

fn sale() -> Sale {
    Sale {
        event_id: "evt_c1".into(),
        object_id: "ord_1".into(),
        amount_minor: 1000,
        currency: "EUR".into(),
        customer_id: "cust_1".into(),
        subscription_id: Some("sub_c1".into()),
        ..Sale::default()
    }
}

#[test]
fn spec_checkout_completed() {
    let p = parse_body(Provider::Creem, spec::CREEM_CHECKOUT_COMPLETED);
    assert_eq!(p.event_id, "evt_5WHHcZPv7VS0YUsberIuOz");
    assert_eq!(p.occurred_at_unix_ms, Some(1_728_734_325_927));
    assert!(p.test_mode, "mode `local` is not production");
    let pay = payment(&p);
    assert_eq!(
        (pay.object_id.as_str(), pay.amount_minor, pay.currency.as_str()),
        ("ord_4aDwWXjMLpes4Kj4XqNnUA", 1000, "EUR")
    );
    assert_eq!(pay.aliases, ["ch_4l0N34kxo16AhRKUHFUuXr"]);
    assert_eq!(pay.billing_reason, BillingReason::FirstPayment);
    assert_eq!(pay.subscription_id.as_deref(), Some("sub_6pC2lNB6joCRQIZ1aMrTpi"));
    assert_eq!(pay.customer_id.as_deref(), Some("cust_1OcIK1GEuVvXZwD19tjq2z"));
    assert_eq!(pay.customer_email.as_deref(), Some("buyer@example.com"));
    assert_eq!(pay.reference, None);
}

#[test]
fn spec_refund_created_partial() {
    let p = parse_body(Provider::Creem, spec::CREEM_REFUND_CREATED);
    assert!(!p.test_mode);
    let r = refund(&p);
    assert_eq!(
        (r.object_id.as_str(), r.full, r.amount_minor, r.total_refunded_minor),
        ("ord_…", false, Some(500), Some(500))
    );
    assert_eq!((r.original_amount_minor, r.currency.as_deref()), (Some(1000), Some("EUR")));
    assert_eq!(r.aliases, ["tran_…"]);
}

#[test]
fn fixtures_cover_every_action() {
    let first = verified(Provider::Creem, SECRET, &fx::delivery(SECRET, fx::checkout_completed(&sale())));
    assert_eq!(payment(&first).reference, Some(expected_ref()));
    assert!(!first.test_mode);
    // The first period's subscription.paid names the same order.
    let paid = verified(
        Provider::Creem,
        SECRET,
        &fx::delivery(SECRET, fx::subscription_paid(&Sale { event_id: "evt_c2".into(), ..sale() })),
    );
    assert_eq!(payment(&paid).object_id, payment(&first).object_id);
    let renewal = verified(
        Provider::Creem,
        SECRET,
        &fx::delivery(SECRET, fx::subscription_paid(&Sale { object_id: "ord_2".into(), ..sale() })),
    );
    assert_eq!(
        (payment(&renewal).object_id.as_str(), payment(&renewal).billing_reason),
        ("ord_2", BillingReason::Renewal)
    );
    assert_eq!(payment(&renewal).reference, Some(expected_ref()));

    let one_off = verified(
        Provider::Creem,
        SECRET,
        &fx::delivery(SECRET, fx::checkout_completed(&Sale { subscription_id: None, ..sale() })),
    );
    assert_eq!(payment(&one_off).billing_reason, BillingReason::OneOff);

    let t = verified(
        Provider::Creem,
        SECRET,
        &fx::delivery(SECRET, fx::subscription_trialing(&sale(), NOW + 86_400)),
    );
    assert_eq!(
        (trial(&t).subscription_id.as_str(), trial(&t).trial_ends_at_unix_ms),
        ("sub_c1", Some((NOW + 86_400) * 1000))
    );

    let full = verified(
        Provider::Creem,
        SECRET,
        &fx::delivery(SECRET, fx::refund_created("evt_r", "ref_1", "ord_1", 1000, 1000, 1000, "EUR")),
    );
    assert!(refund(&full).full);
    let partial = verified(
        Provider::Creem,
        SECRET,
        &fx::delivery(SECRET, fx::refund_created("evt_r2", "ref_2", "ord_1", 300, 1000, 300, "EUR")),
    );
    assert_eq!(
        (refund(&partial).full, refund(&partial).amount_minor, refund(&partial).refund_id.as_str()),
        (false, Some(300), "ref_2")
    );

    let d = verified(
        Provider::Creem,
        SECRET,
        &fx::delivery(SECRET, fx::dispute_created("evt_d", "disp_1", "ord_1", 1000, "EUR")),
    );
    assert_eq!((chargeback(&d).object_id.as_str(), chargeback(&d).dispute_id.as_str()), ("ord_1", "disp_1"));

    let test = verified(
        Provider::Creem,
        SECRET,
        &fx::delivery(SECRET, fx::checkout_completed(&Sale { test_mode: true, ..sale() })),
    );
    assert!(test.test_mode);
    let coupon_only = verified(
        Provider::Creem,
        SECRET,
        &fx::delivery(
            SECRET,
            fx::checkout_completed(&Sale { reference: None, coupon: Some("dis_jane".into()), ..sale() }),
        ),
    );
    assert_eq!(payment(&coupon_only).reference, None);
    assert_eq!(payment(&coupon_only).coupon.as_ref().and_then(|c| c.coupon_id.as_deref()), Some("dis_jane"));

    let canceled =
        r#"{"id":"evt_x","eventType":"subscription.canceled","created_at":1,"object":{"id":"sub"}}"#;
    assert!(!ignored(&parse_body(Provider::Creem, canceled)).is_empty());
}

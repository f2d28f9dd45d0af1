use refline_processors::fixtures::{stripe as fx, Sale};
use refline_processors::{BillingReason, CouponRef, Provider};

use crate::spec_payloads as spec;
use crate::support::*;

const SECRET: &str = "whsec_fixture";

fn sub_sale() -> Sale {
    Sale {
        event_id: "evt_1".into(),
        object_id: "in_first".into(),
        customer_id: "cus_1".into(),
        subscription_id: Some("sub_1".into()),
        ..Sale::default()
    }
}

#[test]
fn spec_checkout_completed() {
    let p = parse_body(Provider::Stripe, spec::STRIPE_CHECKOUT_COMPLETED);
    assert_eq!(p.event_id, "evt_1PqXyZ2eZvKYlo2C0a1b2c3d");
    assert_eq!(p.event_type, "checkout.session.completed");
    assert!(p.test_mode);
    assert_eq!(p.occurred_at_unix_ms, Some(1_751_465_619_000));
    let pay = payment(&p);
    assert_eq!(pay.object_id, "in_1RgRPqEEXQJo9EEO");
    assert_eq!(pay.aliases, ["cs_test_a1RMSyzQu5Mk2cZYoAYLOCV9"]);
    assert_eq!((pay.amount_minor, pay.currency.as_str(), pay.tax_minor), (1800, "USD", Some(0)));
    assert_eq!(pay.customer_id.as_deref(), Some("cus_SbGYl34MpG4nv5"));
    assert_eq!(pay.customer_email.as_deref(), Some("buyer@example.com"));
    assert_eq!(pay.subscription_id.as_deref(), Some("sub_1RgRPqEEXQJo9EEO"));
    assert_eq!(pay.billing_reason, BillingReason::FirstPayment);
    // `aff_7PtIfIqd` and `ref: jane` are not tracking references: coupon attribution only.
    assert_eq!(pay.reference, None);
    assert_eq!(
        pay.coupon,
        Some(CouponRef { coupon_id: None, promotion_code_id: Some("promo_1QabcDEF".into()), code: None })
    );
}

#[test]
fn spec_invoice_paid_renewal() {
    let p = parse_body(Provider::Stripe, spec::STRIPE_INVOICE_PAID_RENEWAL);
    let pay = payment(&p);
    assert_eq!(pay.object_id, "in_1RhAAA");
    assert_eq!(pay.billing_reason, BillingReason::Renewal);
    assert_eq!(pay.subscription_id.as_deref(), Some("sub_1RgRPqEEXQJo9EEO"));
    assert_eq!((pay.amount_minor, pay.currency.as_str()), (1800, "USD"));
    assert_eq!(pay.customer_email.as_deref(), Some("buyer@example.com"));
    assert_eq!(pay.reference, None);
    assert_eq!(pay.coupon, None, "di_ ids are invoice discounts, not coupons");
}

#[test]
fn spec_refunds_disputes_and_ignored() {
    let r = parse_body(Provider::Stripe, spec::STRIPE_CHARGE_REFUNDED_PARTIAL);
    let refund = refund(&r);
    assert_eq!(refund.object_id, "pi_3RgRPq");
    assert_eq!(refund.aliases, ["ch_3RgRPq"]);
    assert!(!refund.full);
    assert_eq!((refund.total_refunded_minor, refund.original_amount_minor), (Some(500), Some(1800)));
    assert_eq!(refund.refund_id, "ch_3RgRPq:refunded:500");
    assert_eq!(refund.currency.as_deref(), Some("USD"));

    assert!(ignored(&parse_body(Provider::Stripe, spec::STRIPE_REFUND_CREATED)).contains("charge.refunded"));

    let d = parse_body(Provider::Stripe, spec::STRIPE_DISPUTE_CLOSED);
    let cb = chargeback(&d);
    assert_eq!(
        (cb.object_id.as_str(), cb.dispute_id.as_str(), cb.amount_minor),
        ("pi_3RgRPq", "dp_1RhCCC", Some(1800))
    );
    assert_eq!(cb.reason.as_deref(), Some("fraudulent"));

    assert!(!ignored(&parse_body(Provider::Stripe, spec::STRIPE_SUBSCRIPTION_DELETED)).is_empty());
}

#[test]
fn first_sale_with_reference_dedupes_with_its_invoice() {
    let sale = sub_sale();
    let checkout =
        verified(Provider::Stripe, SECRET, &fx::delivery(SECRET, NOW, fx::checkout_completed(&sale)));
    let invoice = verified(
        Provider::Stripe,
        SECRET,
        &fx::delivery(
            SECRET,
            NOW,
            fx::invoice_paid(&Sale { event_id: "evt_2".into(), ..sale.clone() }, "subscription_create"),
        ),
    );
    let (a, b) = (payment(&checkout), payment(&invoice));
    assert_eq!(a.object_id, b.object_id);
    assert_eq!(a.reference, Some(expected_ref()));
    assert_eq!(b.reference, Some(expected_ref()));
    assert_eq!(
        (a.billing_reason, b.billing_reason),
        (BillingReason::FirstPayment, BillingReason::FirstPayment)
    );
    assert!(!checkout.test_mode);
}

#[test]
fn one_off_checkout_is_keyed_on_the_payment_intent() {
    let sale = Sale { object_id: "pi_1".into(), ..Sale::default() };
    let p = verified(Provider::Stripe, SECRET, &fx::delivery(SECRET, NOW, fx::checkout_completed(&sale)));
    let pay = payment(&p);
    assert_eq!((pay.object_id.as_str(), pay.billing_reason), ("pi_1", BillingReason::OneOff));
}

#[test]
fn renewal_trial_refunds_chargeback() {
    let sale = Sale { object_id: "in_2".into(), ..sub_sale() };
    let renewal = verified(
        Provider::Stripe,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::invoice_paid(&sale, "subscription_cycle")),
    );
    assert_eq!(payment(&renewal).billing_reason, BillingReason::Renewal);
    let upgrade = verified(
        Provider::Stripe,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::invoice_paid(&sale, "subscription_update")),
    );
    assert_eq!(payment(&upgrade).billing_reason, BillingReason::PlanChange);

    let t = verified(
        Provider::Stripe,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::subscription_trialing(&sale, NOW + 14 * 86_400)),
    );
    let tr = trial(&t);
    assert_eq!(
        (tr.object_id.as_str(), tr.trial_ends_at_unix_ms),
        ("sub_1", Some((NOW + 14 * 86_400) * 1000))
    );
    assert_eq!(tr.reference, Some(expected_ref()));
    let t2 = verified(Provider::Stripe, SECRET, &fx::delivery(SECRET, NOW, fx::checkout_trial(&sale)));
    assert_eq!(trial(&t2).object_id, "sub_1");
    assert_eq!(trial(&t2).reference, Some(expected_ref()));

    let zero = Sale { amount_minor: 0, ..sale.clone() };
    assert!(ignored(&verified(
        Provider::Stripe,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::invoice_paid(&zero, "subscription_create"))
    ))
    .contains("$0"));

    let full = fx::charge_refunded("evt_r", "ch_1", "pi_1", 1800, 1800, "usd", true, NOW);
    let r = verified(Provider::Stripe, SECRET, &fx::delivery(SECRET, NOW, full));
    assert!(refund(&r).full);
    let partial = fx::charge_refunded("evt_r2", "ch_1", "pi_1", 1800, 600, "usd", true, NOW);
    let r = verified(Provider::Stripe, SECRET, &fx::delivery(SECRET, NOW, partial));
    assert_eq!((refund(&r).full, refund(&r).total_refunded_minor), (false, Some(600)));

    let d = fx::dispute_created("evt_d", "dp_1", "ch_1", "pi_1", 1800, "usd");
    let c = verified(Provider::Stripe, SECRET, &fx::delivery(SECRET, NOW, d));
    assert_eq!(
        (chargeback(&c).object_id.as_str(), chargeback(&c).aliases.as_slice()),
        ("pi_1", &["ch_1".to_string()][..])
    );
}

#[test]
fn test_mode_coupon_only_and_no_attribution() {
    let test = Sale { test_mode: true, ..sub_sale() };
    let p = verified(Provider::Stripe, SECRET, &fx::delivery(SECRET, NOW, fx::checkout_completed(&test)));
    assert!(p.test_mode);

    let coupon_only = Sale { reference: None, coupon: Some("JANE10".into()), ..sub_sale() };
    let p =
        verified(Provider::Stripe, SECRET, &fx::delivery(SECRET, NOW, fx::checkout_completed(&coupon_only)));
    assert_eq!(payment(&p).reference, None);
    assert_eq!(payment(&p).coupon.as_ref().and_then(|c| c.coupon_id.as_deref()), Some("JANE10"));
    let p = verified(
        Provider::Stripe,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::invoice_paid(&coupon_only, "subscription_cycle")),
    );
    assert_eq!(payment(&p).coupon.as_ref().and_then(|c| c.coupon_id.as_deref()), Some("JANE10"));

    let bare = Sale { reference: None, ..sub_sale() };
    let p = verified(Provider::Stripe, SECRET, &fx::delivery(SECRET, NOW, fx::checkout_completed(&bare)));
    assert_eq!((payment(&p).reference.as_ref(), payment(&p).coupon.as_ref()), (None, None));
}

#[test]
fn acacia_invoice_shape_and_edge_statuses() {
    let body = r#"{"id":"evt_a","type":"invoice.payment_succeeded","livemode":true,"created":1,
      "data":{"object":{"id":"in_a","billing_reason":"subscription_cycle","amount_paid":2500,"currency":"eur",
      "subscription":"sub_a","subscription_details":{"metadata":{"ref":"tc_ABC_aff_aff_x"}},
      "charge":"ch_a","payment_intent":"pi_a","discount":{"coupon":{"id":"co_1"}}}}}"#;
    let p = parse_body(Provider::Stripe, body);
    let pay = payment(&p);
    assert_eq!((pay.object_id.as_str(), pay.subscription_id.as_deref()), ("in_a", Some("sub_a")));
    assert_eq!(pay.aliases, ["pi_a", "ch_a"]);
    assert_eq!(pay.reference.as_ref().map(|r| r.affiliate_id.as_str()), Some("aff_x"));
    assert_eq!(pay.coupon.as_ref().and_then(|c| c.coupon_id.as_deref()), Some("co_1"));
    assert_eq!(pay.currency, "EUR");
    assert!(!p.test_mode);

    let unpaid = r#"{"id":"e","type":"checkout.session.completed","data":{"object":{"id":"cs","mode":"payment","payment_status":"unpaid"}}}"#;
    assert!(ignored(&parse_body(Provider::Stripe, unpaid)).contains("async_payment_succeeded"));
    let warning = r#"{"id":"e","type":"charge.dispute.created","data":{"object":{"id":"dp","charge":"ch","status":"warning_needs_response"}}}"#;
    assert!(ignored(&parse_body(Provider::Stripe, warning)).contains("inquiry"));
    let won = r#"{"id":"e","type":"charge.dispute.closed","data":{"object":{"id":"dp","charge":"ch","status":"won"}}}"#;
    assert!(ignored(&parse_body(Provider::Stripe, won)).contains("won"));
    let pi_for_invoice = r#"{"id":"e","type":"payment_intent.succeeded","data":{"object":{"id":"pi","invoice":"in_1","amount":5,"currency":"usd"}}}"#;
    assert!(ignored(&parse_body(Provider::Stripe, pi_for_invoice)).contains("invoice.paid"));
    let pi_ref = r#"{"id":"e","type":"payment_intent.succeeded","data":{"object":{"id":"pi","amount":500,"amount_received":500,"currency":"usd","metadata":{"linkjolt_ref":"tc_A_aff_b"}}}}"#;
    assert_eq!(payment(&parse_body(Provider::Stripe, pi_ref)).object_id, "pi");
    let missing = r#"{"id":"e","type":"invoice.paid","data":{"object":{"id":"in"}}}"#;
    let headers: Vec<(String, String)> = Vec::new();
    let err = refline_processors::parse(Provider::Stripe, &headers, "", missing.as_bytes()).unwrap_err();
    assert_eq!(err.code(), "missing_field");
}

/// Basil invoices name their payment intent and charge only under `payments`: kept as aliases
/// so a refund or dispute of a subscription payment finds its sale.
#[test]
fn invoice_payments_become_aliases() {
    let mut v: serde_json::Value =
        serde_json::from_slice(&fx::invoice_paid(&sub_sale(), "subscription_cycle")).unwrap();
    v["data"]["object"]["payments"] = serde_json::json!({ "object": "list", "data": [
        { "object": "invoice_payment", "payment": { "type": "payment_intent", "payment_intent": "pi_sub_1", "charge": "ch_sub_1" } }
    ] });
    let p = parse_body(Provider::Stripe, &v.to_string());
    assert_eq!(payment(&p).aliases, ["pi_sub_1", "ch_sub_1"]);
}

/// `customer.subscription.created` carries the price the trial will turn into: the sum of its
/// items' `unit_amount` × `quantity`, for a campaign in `immediate` trial mode. A checkout that
/// started a trial carries none, nor does an item without a unit amount (tiered/metered).
#[test]
fn trial_carries_the_subscription_price() {
    let sale = Sale { amount_minor: 4_900, ..sub_sale() };
    let t = verified(
        Provider::Stripe,
        SECRET,
        &fx::delivery(SECRET, NOW, fx::subscription_trialing(&sale, NOW + 14 * 86_400)),
    );
    let tr = trial(&t);
    assert_eq!((tr.expected_amount_minor, tr.expected_currency.as_deref()), (Some(4_900), Some("USD")));
    let checkout = verified(Provider::Stripe, SECRET, &fx::delivery(SECRET, NOW, fx::checkout_trial(&sale)));
    assert_eq!(
        (trial(&checkout).expected_amount_minor, trial(&checkout).expected_currency.as_ref()),
        (None, None)
    );

    let subscription = |items: serde_json::Value| {
        fx::event(
            "evt_items",
            "customer.subscription.created",
            true,
            NOW,
            serde_json::json!({ "id": "sub_9", "object": "subscription", "status": "trialing",
                                "currency": "eur", "metadata": {}, "items": { "data": items } }),
        )
    };
    let priced = |items| {
        let t = verified(Provider::Stripe, SECRET, &fx::delivery(SECRET, NOW, subscription(items)));
        let tr = trial(&t);
        (tr.expected_amount_minor, tr.expected_currency.clone())
    };
    let two = serde_json::json!([
        { "quantity": 3, "price": { "unit_amount": 1_000, "currency": "eur" } },
        { "price": { "unit_amount": 250 } }
    ]);
    assert_eq!(priced(two), (Some(3_250), Some("EUR".to_string())));
    let metered = serde_json::json!([{ "quantity": 1, "price": { "unit_amount": null, "currency": "eur" } }]);
    assert_eq!(priced(metered), (None, None));
    let mixed = serde_json::json!([
        { "price": { "unit_amount": 100, "currency": "eur" } },
        { "price": { "unit_amount": 100, "currency": "usd" } }
    ]);
    assert_eq!(priced(mixed), (None, None));
    assert_eq!(priced(serde_json::json!([])), (None, None));
    let overflow =
        serde_json::json!([{ "quantity": i64::MAX, "price": { "unit_amount": 2, "currency": "eur" } }]);
    assert_eq!(priced(overflow), (None, None));
}

use refline_processors::fixtures::{polar as fx, Sale};
use refline_processors::{parse, BillingReason, Provider};

use crate::spec_payloads as spec;
use crate::support::*;

const SECRET: &str = "polar_whs_fixture";

fn sale() -> Sale {
    Sale {
        object_id: "9f1e1b3a-0c0e-4a59-9a42-1f7f0a1b2c3d".into(),
        customer_id: "5b1c".into(),
        subscription_id: Some("sub_p1".into()),
        ..Sale::default()
    }
}

#[test]
fn spec_order_paid_renewal() {
    let h = vec![("webhook-id".to_string(), "msg_spec".to_string())];
    let p = parse(Provider::Polar, &h, "", spec::POLAR_ORDER_PAID.as_bytes()).unwrap();
    assert_eq!(p.event_id, "msg_spec");
    assert_eq!(p.occurred_at_unix_ms, Some(1_746_093_600_000));
    let pay = payment(&p);
    assert_eq!(
        (pay.object_id.as_str(), pay.amount_minor, pay.tax_minor, pay.currency.as_str()),
        ("9f1e1b3a-0c0e-4a59-9a42-1f7f0a1b2c3d", 1800, Some(0), "USD")
    );
    assert_eq!(pay.billing_reason, BillingReason::Renewal);
    assert_eq!(pay.customer_email.as_deref(), Some("buyer@example.com"));
    assert_eq!(pay.reference, None);
    assert_eq!(pay.coupon.as_ref().and_then(|c| c.coupon_id.as_deref()), Some("…"));
    // Without headers (a stored body), the id is derived from the body.
    assert!(parse_body(Provider::Polar, spec::POLAR_ORDER_PAID).event_id.starts_with("sha256:"));
}

#[test]
fn fixtures_cover_every_action() {
    let d = |body: Vec<u8>| fx::delivery(SECRET, "msg_f", NOW, body);
    let first = verified(Provider::Polar, SECRET, &d(fx::order_paid(&sale(), "subscription_create")));
    assert_eq!(first.event_id, "msg_f");
    assert_eq!(payment(&first).billing_reason, BillingReason::FirstPayment);
    assert_eq!(payment(&first).reference, Some(expected_ref()));
    let one_off = verified(Provider::Polar, SECRET, &d(fx::order_paid(&sale(), "purchase")));
    assert_eq!(payment(&one_off).billing_reason, BillingReason::OneOff);
    let renewal = verified(Provider::Polar, SECRET, &d(fx::order_paid(&sale(), "subscription_cycle")));
    assert_eq!(payment(&renewal).billing_reason, BillingReason::Renewal);
    let upgrade = verified(Provider::Polar, SECRET, &d(fx::order_paid(&sale(), "subscription_update")));
    assert_eq!(payment(&upgrade).billing_reason, BillingReason::PlanChange);

    let zero = verified(
        Provider::Polar,
        SECRET,
        &d(fx::order_paid(&Sale { amount_minor: 0, ..sale() }, "subscription_create")),
    );
    assert!(ignored(&zero).contains("$0"));

    let t = verified(Provider::Polar, SECRET, &d(fx::subscription_trialing(&sale(), NOW + 86_400)));
    assert_eq!(
        (trial(&t).subscription_id.as_str(), trial(&t).trial_ends_at_unix_ms),
        ("sub_p1", Some((NOW + 86_400) * 1000))
    );
    assert_eq!(trial(&t).reference, Some(expected_ref()));

    let full = verified(Provider::Polar, SECRET, &d(fx::order_refunded(&sale(), 1800)));
    assert!(refund(&full).full);
    let partial = verified(Provider::Polar, SECRET, &d(fx::order_refunded(&sale(), 700)));
    assert_eq!((refund(&partial).full, refund(&partial).total_refunded_minor), (false, Some(700)));

    let coupon_only = verified(
        Provider::Polar,
        SECRET,
        &d(fx::order_paid(&Sale { reference: None, coupon: Some("disc_1".into()), ..sale() }, "purchase")),
    );
    assert_eq!(payment(&coupon_only).reference, None);
    assert_eq!(payment(&coupon_only).coupon.as_ref().and_then(|c| c.coupon_id.as_deref()), Some("disc_1"));

    let refund_created = verified(
        Provider::Polar,
        SECRET,
        &d(fx::event("refund.created", NOW, serde_json::json!({"id": "r"}))),
    );
    assert!(ignored(&refund_created).contains("order.refunded"));
}

/// A secret in the Standard Webhooks form verifies deliveries signed with its decoded key (the
/// specification's libraries) and with its text (Polar's SDKs); nothing else does.
#[test]
fn whsec_secrets_accept_both_key_forms() {
    use base64::Engine as _;
    use refline_processors::verify;
    let key = b"polar-standard-webhooks-key-32by";
    let secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key));
    let body = fx::order_paid(&sale(), "purchase");
    let decoded = fx::delivery_with_key(key, "msg_k", NOW, body.clone());
    let text = fx::delivery(&secret, "msg_t", NOW, body.clone());
    let other = fx::delivery_with_key(b"another key", "msg_o", NOW, body);
    let check = |d: &refline_processors::fixtures::Delivery, secrets: &[&str]| {
        verify(Provider::Polar, secrets, &d.0, &d.1, &d.2, NOW)
    };
    let by_key = check(&decoded, &[secret.as_str()]).unwrap();
    assert!(by_key.scheme.contains("base64 key"), "{}", by_key.scheme);
    assert_eq!(by_key.secret_index, Some(0));
    assert!(check(&text, &[secret.as_str()]).unwrap().scheme.contains("raw key"));
    assert!(check(&other, &[secret.as_str()]).is_err());
    // During a rotation the index names the secret that matched, not the key form.
    assert_eq!(check(&decoded, &["old_polar_secret", secret.as_str()]).unwrap().secret_index, Some(1));
    // A raw secret that merely starts with `whsec_` but is not base64 is used as text.
    let plain = "whsec_not*base64!";
    assert!(check(&fx::delivery(plain, "msg_p", NOW, b"{}".to_vec()), &[plain]).is_ok());
    // Unpadded base64 after the prefix is a key too.
    let unpadded = secret.trim_end_matches('=');
    assert!(check(&decoded, &[unpadded]).is_ok());
}

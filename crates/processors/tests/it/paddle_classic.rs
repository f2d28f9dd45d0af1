use refline_processors::fixtures::{paddle_classic as fx, Sale};
use refline_processors::{verify, BillingReason, Provider, VerifyError};

use crate::support::*;

const PUBLIC: &str = fx::TEST_PUBLIC_KEY_PEM;

fn sale() -> Sale {
    Sale {
        event_id: "1234".into(),
        object_id: "123-456".into(),
        amount_minor: 1299,
        customer_id: "42".into(),
        subscription_id: Some("502198".into()),
        ..Sale::default()
    }
}

#[test]
fn spec_example_fields_sign_and_verify() {
    let fields: Vec<(String, String)> = [
        ("sale_gross", "12.99"),
        ("alert_name", "payment_succeeded"),
        ("passthrough", r#"{"aff":"jane"}"#),
        ("alert_id", "1234"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let d = fx::delivery(fx::TEST_PRIVATE_KEY_PEM, fields);
    assert!(verify(Provider::PaddleClassic, &[PUBLIC], &d.0, "", &d.2, 0).is_ok());
}

#[test]
fn signature_checks() {
    let d = fx::delivery(
        fx::TEST_PRIVATE_KEY_PEM,
        fx::payment_succeeded(&Sale { subscription_id: None, ..sale() }),
    );
    let v = verify(Provider::PaddleClassic, &[PUBLIC], &d.0, "", &d.2, 0).unwrap();
    assert_eq!(v.scheme, "paddle classic rsa-sha1 p_signature");
    // Changing a field's value breaks the signature.
    let tampered = String::from_utf8(d.2.clone()).unwrap().replace("12.99", "99.99");
    assert_eq!(
        verify(Provider::PaddleClassic, &[PUBLIC], &d.0, "", tampered.as_bytes(), 0),
        Err(VerifyError::BadSignature)
    );
    // Field order on the wire does not matter (the signed form is sorted).
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&d.2).unwrap();
    pairs.reverse();
    let reordered = serde_urlencoded::to_string(&pairs).unwrap();
    assert!(verify(Provider::PaddleClassic, &[PUBLIC], &d.0, "", reordered.as_bytes(), 0).is_ok());
    // Rotation / invalid keys.
    assert_eq!(
        verify(Provider::PaddleClassic, &["not a key", PUBLIC], &d.0, "", &d.2, 0).unwrap().secret_index,
        Some(1)
    );
    assert_eq!(
        verify(Provider::PaddleClassic, &["not a key"], &d.0, "", &d.2, 0).map_err(|e| e.code()),
        Err("invalid_secret")
    );
    let unsigned = b"alert_id=1&alert_name=payment_succeeded";
    assert_eq!(
        verify(Provider::PaddleClassic, &[PUBLIC], &d.0, "", unsigned, 0),
        Err(VerifyError::MissingSignature)
    );
    let garbage = b"alert_id=1&p_signature=%%%";
    assert!(verify(Provider::PaddleClassic, &[PUBLIC], &d.0, "", garbage, 0).is_err());
}

#[test]
fn parses_every_alert() {
    let one_off = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(
            fx::TEST_PRIVATE_KEY_PEM,
            fx::payment_succeeded(&Sale { subscription_id: None, ..sale() }),
        ),
    );
    assert_eq!(one_off.event_id, "1234");
    assert_eq!(one_off.occurred_at_unix_ms, Some(1_700_000_000_000));
    let pay = payment(&one_off);
    assert_eq!(
        (pay.object_id.as_str(), pay.amount_minor, pay.billing_reason),
        ("123-456", 1299, BillingReason::OneOff)
    );
    assert_eq!(pay.reference, Some(expected_ref()));

    let first = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(fx::TEST_PRIVATE_KEY_PEM, fx::subscription_payment_succeeded(&sale(), true)),
    );
    assert_eq!(payment(&first).billing_reason, BillingReason::FirstPayment);
    assert_eq!(payment(&first).aliases, ["sp_123-456"]);
    let renewal = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(fx::TEST_PRIVATE_KEY_PEM, fx::subscription_payment_succeeded(&sale(), false)),
    );
    assert_eq!(payment(&renewal).billing_reason, BillingReason::Renewal);
    assert_eq!(payment(&renewal).subscription_id.as_deref(), Some("502198"));

    let jpy = Sale { currency: "JPY".into(), amount_minor: 1000, ..sale() };
    let p = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(fx::TEST_PRIVATE_KEY_PEM, fx::payment_succeeded(&jpy)),
    );
    assert_eq!((payment(&p).amount_minor, payment(&p).currency.as_str()), (1000, "JPY"));

    let t = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(fx::TEST_PRIVATE_KEY_PEM, fx::subscription_created_trial(&sale(), "2023-11-28")),
    );
    assert_eq!(trial(&t).subscription_id, "502198");
    assert!(trial(&t).trial_ends_at_unix_ms.is_some());

    let full = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(
            fx::TEST_PRIVATE_KEY_PEM,
            fx::payment_refunded("77", "123-456", "12.99", "full", "USD"),
        ),
    );
    assert_eq!((refund(&full).full, refund(&full).amount_minor), (true, Some(1299)));
    let partial = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(
            fx::TEST_PRIVATE_KEY_PEM,
            fx::payment_refunded("78", "123-456", "5.00", "partial", "USD"),
        ),
    );
    assert_eq!(
        (refund(&partial).full, refund(&partial).amount_minor, refund(&partial).refund_id.as_str()),
        (false, Some(500), "78")
    );
    let vat = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(fx::TEST_PRIVATE_KEY_PEM, fx::payment_refunded("79", "123-456", "2.00", "vat", "USD")),
    );
    assert!(ignored(&vat).contains("VAT"));
    let cb = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(fx::TEST_PRIVATE_KEY_PEM, fx::dispute_created("80", "123-456", "12.99", "USD")),
    );
    assert_eq!((chargeback(&cb).object_id.as_str(), chargeback(&cb).amount_minor), ("123-456", Some(1299)));

    let coupon_only = Sale { reference: None, coupon: Some("JANE10".into()), ..sale() };
    let p = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(fx::TEST_PRIVATE_KEY_PEM, fx::payment_succeeded(&coupon_only)),
    );
    assert_eq!(payment(&p).reference, None);
    assert_eq!(payment(&p).coupon.as_ref().and_then(|c| c.code.as_deref()), Some("JANE10"));

    // `passthrough` as JSON, and the spec's `{"aff":"jane"}` (no reference).
    let json_pass = Sale { reference: Some(format!(r#"{{"linkjolt_ref":"{REF}"}}"#)), ..sale() };
    let p = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(fx::TEST_PRIVATE_KEY_PEM, fx::payment_succeeded(&json_pass)),
    );
    assert_eq!(payment(&p).reference, Some(expected_ref()));
    let jane = Sale { reference: Some(r#"{"aff":"jane"}"#.into()), ..sale() };
    let p = verified(
        Provider::PaddleClassic,
        PUBLIC,
        &fx::delivery(fx::TEST_PRIVATE_KEY_PEM, fx::payment_succeeded(&jane)),
    );
    assert_eq!(payment(&p).reference, None);

    let too_precise = Sale { amount_minor: 0, ..sale() };
    let mut fields = fx::payment_succeeded(&too_precise);
    for (k, v) in &mut fields {
        if k == "sale_gross" {
            *v = "12.999".into();
        }
    }
    let d = fx::delivery(fx::TEST_PRIVATE_KEY_PEM, fields);
    let err = refline_processors::parse(Provider::PaddleClassic, &d.0, "", &d.2).unwrap_err();
    assert_eq!(err.code(), "invalid_amount");
}

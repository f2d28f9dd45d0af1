use refline_processors::fixtures::{gumroad as fx, Sale};
use refline_processors::{parse, verify, BillingReason, Provider, Trust, VerifyError};

use crate::spec_payloads as spec;
use crate::support::*;

const TOKEN: &str = "gr_tok_fixture_0123456789";

fn sale() -> Sale {
    Sale {
        object_id: "FO8TXN-dbzWjwrQ5hgGvQ==".into(),
        amount_minor: 2900,
        customer_id: "buyer_1".into(),
        ..Sale::default()
    }
}

#[test]
fn url_token_and_basic_auth() {
    let none: Vec<(String, String)> = Vec::new();
    let v = verify(Provider::Gumroad, &[TOKEN], &none, &format!("token={TOKEN}"), b"", 0).unwrap();
    assert_eq!((v.trust, v.scheme), (Trust::SharedSecret, "gumroad shared secret in URL"));
    assert_eq!(
        verify(Provider::Gumroad, &[TOKEN], &none, "token=wrong", b"", 0),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(verify(Provider::Gumroad, &[TOKEN], &none, "", b"", 0), Err(VerifyError::MissingSignature));
    assert_eq!(
        verify(Provider::Gumroad, &["old", TOKEN], &none, &format!("x=1&token={TOKEN}"), b"", 0)
            .unwrap()
            .secret_index,
        Some(1)
    );
    let basic =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("gumroad:{TOKEN}"));
    let h = vec![("Authorization".to_string(), format!("Basic {basic}"))];
    assert_eq!(verify(Provider::Gumroad, &[TOKEN], &h, "", b"", 0).unwrap().scheme, "gumroad basic auth");
}

#[test]
fn spec_sale_is_a_renewal_without_reference() {
    let p = parse_body(Provider::Gumroad, spec::GUMROAD_SALE);
    assert_eq!((p.event_type.as_str(), p.event_id.as_str()), ("sale", "sale:FO8TXN-dbzWjwrQ5hgGvQ=="));
    assert!(!p.test_mode);
    assert_eq!(p.occurred_at_unix_ms, Some(1_736_937_000_000));
    let pay = payment(&p);
    assert_eq!(
        (pay.object_id.as_str(), pay.amount_minor, pay.currency.as_str()),
        ("FO8TXN-dbzWjwrQ5hgGvQ==", 2900, "USD")
    );
    assert_eq!(pay.billing_reason, BillingReason::Renewal);
    assert_eq!(pay.subscription_id.as_deref(), Some("Q3c1m9sH7Z0bO6q8fQx0sQ=="));
    assert_eq!(pay.reference, None, "ref=jane is not a tracking reference");
    assert_eq!(pay.coupon.as_ref().and_then(|c| c.code.as_deref()), Some("JANE10"));
}

#[test]
fn brackets_literal_or_encoded_json_variant_and_retry_count() {
    let literal = format!("sale_id=s1&price=500&currency=usd&url_params[ref]={REF}");
    let p = parse_body(Provider::Gumroad, &literal);
    assert_eq!(payment(&p).reference, Some(expected_ref()));
    let encoded = literal.replace('[', "%5B").replace(']', "%5D");
    assert_eq!(payment(&parse_body(Provider::Gumroad, &encoded)).reference, Some(expected_ref()));

    let json = r#"{"sale_id":"s1","price":500,"currency":"eur","url_params":{"tc":"K7PX2MQA","aff":"aff_x"},"test":true}"#;
    let h = vec![("Content-Type".to_string(), "application/json".to_string())];
    let p = parse(Provider::Gumroad, &h, "", json.as_bytes()).unwrap();
    assert!(p.test_mode);
    assert_eq!(payment(&p).currency, "EUR");
    assert_eq!(payment(&p).reference.as_ref().map(|r| r.affiliate_id.as_str()), Some("aff_x"));

    let refund1 = "resource_name=refund&sale_id=s1&price=500&refunded=false";
    let retried = format!("{refund1}&retry_count=2");
    assert_eq!(
        parse_body(Provider::Gumroad, refund1).event_id,
        parse_body(Provider::Gumroad, &retried).event_id
    );
}

#[test]
fn fixtures_cover_every_action() {
    let first = verified(Provider::Gumroad, TOKEN, &fx::delivery(TOKEN, fx::sale(&sale(), false)));
    assert_eq!(payment(&first).billing_reason, BillingReason::OneOff);
    assert_eq!(payment(&first).reference, Some(expected_ref()));
    let sub = Sale { subscription_id: Some("sub_g".into()), ..sale() };
    let first_sub = verified(Provider::Gumroad, TOKEN, &fx::delivery(TOKEN, fx::sale(&sub, false)));
    assert_eq!(payment(&first_sub).billing_reason, BillingReason::FirstPayment);
    let renewal = verified(Provider::Gumroad, TOKEN, &fx::delivery(TOKEN, fx::sale(&sub, true)));
    assert_eq!(payment(&renewal).billing_reason, BillingReason::Renewal);

    let t = verified(
        Provider::Gumroad,
        TOKEN,
        &fx::delivery(TOKEN, fx::sale(&Sale { amount_minor: 0, ..sub.clone() }, false)),
    );
    assert_eq!(trial(&t).subscription_id, "sub_g");
    assert_eq!(trial(&t).reference, Some(expected_ref()));

    let full = verified(Provider::Gumroad, TOKEN, &fx::delivery(TOKEN, fx::refund(&sale(), true)));
    assert_eq!((refund(&full).object_id.as_str(), refund(&full).full), ("FO8TXN-dbzWjwrQ5hgGvQ==", true));
    let partial = verified(Provider::Gumroad, TOKEN, &fx::delivery(TOKEN, fx::refund(&sale(), false)));
    assert_eq!((refund(&partial).full, refund(&partial).amount_minor), (false, None));

    let d = verified(Provider::Gumroad, TOKEN, &fx::delivery(TOKEN, fx::dispute(&sale())));
    assert_eq!(
        (chargeback(&d).object_id.as_str(), chargeback(&d).amount_minor),
        ("FO8TXN-dbzWjwrQ5hgGvQ==", Some(2900))
    );

    let test = verified(
        Provider::Gumroad,
        TOKEN,
        &fx::delivery(TOKEN, fx::sale(&Sale { test_mode: true, ..sale() }, false)),
    );
    assert!(test.test_mode);
    let coupon_only = verified(
        Provider::Gumroad,
        TOKEN,
        &fx::delivery(
            TOKEN,
            fx::sale(&Sale { reference: None, coupon: Some("JANE10".into()), ..sale() }, false),
        ),
    );
    assert_eq!(payment(&coupon_only).reference, None);
    assert_eq!(payment(&coupon_only).coupon.as_ref().and_then(|c| c.code.as_deref()), Some("JANE10"));

    let cancel =
        "resource_name=cancellation&subscription_id=sub_g&cancelled=true&cancelled_at=2025-01-15T10:30:00Z";
    let p = parse_body(Provider::Gumroad, cancel);
    assert!(ignored(&p).contains("cancellation"));
    assert!(p.event_id.starts_with("cancellation:sub_g:"));
}

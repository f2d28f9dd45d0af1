use refline_processors::fixtures::{gopay as fx, Sale};
use refline_processors::{
    parse, parse_gopay_payment, verify, Action, BillingReason, Provider, Trust, VerifyError,
};

use crate::spec_payloads as spec;
use crate::support::*;

fn sale() -> Sale {
    Sale { object_id: "3000006542".into(), amount_minor: 139_900, currency: "CZK".into(), ..Sale::default() }
}

#[test]
fn notification_needs_a_lookup() {
    let (h, q, b) = fx::notification("3000006542");
    let v = verify(Provider::GoPay, &[], &h, &q, &b, 0).unwrap();
    assert_eq!((v.trust, v.scheme), (Trust::LookupRequired, "gopay: API lookup required"));
    let p = parse(Provider::GoPay, &h, &q, &b).unwrap();
    assert_eq!(p.action, Action::NeedsLookup { payment_id: "3000006542".into() });
    assert!(matches!(verify(Provider::GoPay, &[], &h, "id=abc", &b, 0), Err(VerifyError::Malformed(_))));
    assert!(verify(Provider::GoPay, &[], &h, "", &b, 0).is_err());
    assert!(parse(Provider::GoPay, &h, "parent_id=1", &b).is_err());
}

#[test]
fn spec_status_paid() {
    let p = parse_gopay_payment(spec::GOPAY_PAYMENT_PAID.as_bytes()).unwrap();
    assert_eq!((p.event_id.as_str(), p.event_type.as_str()), ("3000006542:PAID", "payment.paid"));
    assert!(p.test_mode, "gw_url is the sandbox");
    let pay = payment(&p);
    assert_eq!(
        (pay.object_id.as_str(), pay.amount_minor, pay.currency.as_str()),
        ("3000006542", 139_900, "CZK")
    );
    assert_eq!(pay.billing_reason, BillingReason::FirstPayment);
    assert_eq!(pay.customer_email.as_deref(), Some("buyer@example.com"));
    assert_eq!(pay.reference, None);
}

#[test]
fn fixtures_cover_every_state() {
    let one_off = parse_gopay_payment(&fx::payment_status(&sale(), "PAID", None)).unwrap();
    assert_eq!(payment(&one_off).billing_reason, BillingReason::OneOff);
    assert_eq!(payment(&one_off).reference, Some(expected_ref()));
    assert!(!one_off.test_mode);
    let recurrence = parse_gopay_payment(&fx::payment_status(
        &Sale { object_id: "3000006999".into(), ..sale() },
        "PAID",
        Some("3000006542"),
    ))
    .unwrap();
    assert_eq!(payment(&recurrence).billing_reason, BillingReason::Renewal);
    assert_eq!(payment(&recurrence).subscription_id.as_deref(), Some("3000006542"));
    let full = parse_gopay_payment(&fx::payment_status(&sale(), "REFUNDED", None)).unwrap();
    assert!(refund(&full).full);
    let partial = parse_gopay_payment(&fx::payment_status(&sale(), "PARTIALLY_REFUNDED", None)).unwrap();
    assert_eq!(
        (refund(&partial).full, refund(&partial).refund_id.as_str()),
        (false, "3000006542:PARTIALLY_REFUNDED")
    );
    let test =
        parse_gopay_payment(&fx::payment_status(&Sale { test_mode: true, ..sale() }, "PAID", None)).unwrap();
    assert!(test.test_mode);
    let bare =
        parse_gopay_payment(&fx::payment_status(&Sale { reference: None, ..sale() }, "PAID", None)).unwrap();
    assert_eq!(payment(&bare).reference, None);
    for state in ["CANCELED", "TIMEOUTED", "AUTHORIZED"] {
        assert!(!ignored(&parse_gopay_payment(&fx::payment_status(&sale(), state, None)).unwrap()).is_empty());
    }
}

//! Every test vector of spec §10, verbatim, plus tampering, tolerance and rotation.

use refline_processors::{
    verify, verify_standard_webhooks, verify_with_tolerance, Provider, Trust, VerifyError,
};

type H = Vec<(String, String)>;

fn h(pairs: &[(&str, &str)]) -> H {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn tamper(body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    let i = b.len() / 2;
    b[i] ^= 0x01;
    b
}

// 1. Standard Webhooks
const SW_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const SW_BODY: &str = r#"{"email":"test@example.com","username":"test_user"}"#;
const SW_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

fn sw_headers(sig: &str, ts: &str) -> H {
    h(&[
        ("webhook-id", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk"),
        ("webhook-timestamp", ts),
        ("webhook-signature", sig),
    ])
}

#[test]
fn v1_standard_webhooks() {
    let ok = sw_headers(SW_SIG, "1649367553");
    let v = verify_standard_webhooks(&[SW_SECRET], &ok, SW_BODY.as_bytes(), 1_649_367_553, 300).unwrap();
    assert_eq!(
        (v.secret_index, v.signed_at_unix_s, v.trust),
        (Some(0), Some(1_649_367_553), Trust::Signature)
    );
    // Secret without the prefix is the same key.
    assert!(verify_standard_webhooks(
        &["C2FVsBQIhrscChlQIMV+b5sSYspob7oD"],
        &ok,
        SW_BODY.as_bytes(),
        1_649_367_553,
        300
    )
    .is_ok());
    assert_eq!(
        verify_standard_webhooks(&[SW_SECRET], &ok, &tamper(SW_BODY.as_bytes()), 1_649_367_553, 300),
        Err(VerifyError::BadSignature)
    );
    assert!(matches!(
        verify_standard_webhooks(&[SW_SECRET], &ok, SW_BODY.as_bytes(), 1_649_367_553 + 301, 300),
        Err(VerifyError::TimestampOutOfTolerance { .. })
    ));
    assert!(matches!(
        verify_standard_webhooks(&[SW_SECRET], &ok, SW_BODY.as_bytes(), 1_649_367_553 - 301, 300),
        Err(VerifyError::TimestampOutOfTolerance { .. })
    ));
    // Rotation: the second secret matches.
    let rotated = verify_standard_webhooks(
        &["whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", SW_SECRET],
        &ok,
        SW_BODY.as_bytes(),
        1_649_367_553,
        300,
    );
    assert_eq!(rotated.unwrap().secret_index, Some(1));
    // Several signatures, only the second right.
    let two = sw_headers(&format!("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= {SW_SIG}"), "1649367553");
    assert!(verify_standard_webhooks(&[SW_SECRET], &two, SW_BODY.as_bytes(), 1_649_367_553, 300).is_ok());
    // An empty `v1,` entry, or a prefix of the right one, never passes.
    for sig in ["v1,", "v1,tZ1I4/hDygAJgO5T", "v2,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="] {
        assert!(
            verify_standard_webhooks(
                &[SW_SECRET],
                &sw_headers(sig, "1649367553"),
                SW_BODY.as_bytes(),
                1_649_367_553,
                300
            )
            .is_err(),
            "{sig}"
        );
    }
}

// 2. Stripe
const STRIPE_SECRET: &str = "whsec_test_secret";
const STRIPE_BODY: &str = r#"{"id":"evt_test_1","object":"event","type":"checkout.session.completed"}"#;
const STRIPE_SIG: &str = "t=1700000000,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08";

fn stripe(
    sig: &str,
    secrets: &[&str],
    body: &[u8],
    now: i64,
) -> Result<refline_processors::Verification, VerifyError> {
    verify(Provider::Stripe, secrets, &h(&[("Stripe-Signature", sig)]), "", body, now)
}

#[test]
fn v2_stripe() {
    let v = stripe(STRIPE_SIG, &[STRIPE_SECRET], STRIPE_BODY.as_bytes(), 1_700_000_000).unwrap();
    assert_eq!(v.signed_at_unix_s, Some(1_700_000_000));
    assert_eq!(
        stripe(STRIPE_SIG, &[STRIPE_SECRET], &tamper(STRIPE_BODY.as_bytes()), 1_700_000_000),
        Err(VerifyError::BadSignature)
    );
    let stale = stripe(STRIPE_SIG, &[STRIPE_SECRET], STRIPE_BODY.as_bytes(), 1_700_000_301);
    assert_eq!(stale.as_ref().map_err(VerifyError::code), Err("timestamp_out_of_tolerance"));
    assert!(stripe(STRIPE_SIG, &[STRIPE_SECRET], STRIPE_BODY.as_bytes(), 1_700_000_300).is_ok());
    // A timestamp ahead of our clock is accepted, as Stripe's libraries accept it (they check
    // only the age); Paddle's and Standard Webhooks' check both ways.
    assert!(stripe(STRIPE_SIG, &[STRIPE_SECRET], STRIPE_BODY.as_bytes(), 1_699_999_000).is_ok());
    assert_eq!(
        stripe(STRIPE_SIG, &["whsec_old", STRIPE_SECRET], STRIPE_BODY.as_bytes(), 1_700_000_000)
            .unwrap()
            .secret_index,
        Some(1)
    );
    // Several v1 (secret roll), only the second right; the fake test-mode v0 is ignored.
    let many = "t=1700000000,v1=00000000000000000000000000000000000000000000000000000000000000ff,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08,v0=6ffbb59b";
    assert!(stripe(many, &[STRIPE_SECRET], STRIPE_BODY.as_bytes(), 1_700_000_000).is_ok());
    let v0_only = "t=1700000000,v0=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08";
    assert_eq!(
        stripe(v0_only, &[STRIPE_SECRET], STRIPE_BODY.as_bytes(), 1_700_000_000),
        Err(VerifyError::MissingSignature)
    );
    // The secret is used verbatim, prefix included.
    assert_eq!(
        stripe(STRIPE_SIG, &["test_secret"], STRIPE_BODY.as_bytes(), 1_700_000_000),
        Err(VerifyError::BadSignature)
    );
    let none: H = Vec::new();
    assert_eq!(
        verify(Provider::Stripe, &[STRIPE_SECRET], &none, "", STRIPE_BODY.as_bytes(), 1_700_000_000),
        Err(VerifyError::MissingSignature)
    );
    assert_eq!(stripe(STRIPE_SIG, &[], STRIPE_BODY.as_bytes(), 1_700_000_000), Err(VerifyError::NoSecret));
    assert!(matches!(
        stripe("v1=abc", &[STRIPE_SECRET], STRIPE_BODY.as_bytes(), 1_700_000_000),
        Err(VerifyError::Malformed(_))
    ));
    // Tolerance 0 disables the check.
    let old = verify_with_tolerance(
        Provider::Stripe,
        &[STRIPE_SECRET],
        &h(&[("stripe-signature", STRIPE_SIG)]),
        "",
        STRIPE_BODY.as_bytes(),
        1_800_000_000,
        0,
    );
    assert!(old.is_ok());
}

// 3. Paddle Billing
const PADDLE_SECRET: &str = "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI";
const PADDLE_BODY: &str =
    r#"{"event_id":"evt_01h8e1jxjnw9ra6zarhnz1a7y1","event_type":"transaction.completed"}"#;
const PADDLE_SIG: &str = "ts=1700000000;h1=d59ce413c571a02f8abf103fa32754a4b537434b4ca496148fd8d129826a6bab";

fn paddle(
    sig: &str,
    secrets: &[&str],
    body: &[u8],
    now: i64,
) -> Result<refline_processors::Verification, VerifyError> {
    verify(Provider::Paddle, secrets, &h(&[("Paddle-Signature", sig)]), "", body, now)
}

#[test]
fn v3_paddle_billing() {
    assert!(paddle(PADDLE_SIG, &[PADDLE_SECRET], PADDLE_BODY.as_bytes(), 1_700_000_000).is_ok());
    assert_eq!(
        paddle(PADDLE_SIG, &[PADDLE_SECRET], &tamper(PADDLE_BODY.as_bytes()), 1_700_000_000),
        Err(VerifyError::BadSignature)
    );
    assert!(matches!(
        paddle(PADDLE_SIG, &[PADDLE_SECRET], PADDLE_BODY.as_bytes(), 1_700_000_301),
        Err(VerifyError::TimestampOutOfTolerance { .. })
    ));
    assert!(matches!(
        paddle(PADDLE_SIG, &[PADDLE_SECRET], PADDLE_BODY.as_bytes(), 1_699_999_699),
        Err(VerifyError::TimestampOutOfTolerance { .. })
    ));
    assert_eq!(
        paddle(PADDLE_SIG, &["pdl_ntfset_old", PADDLE_SECRET], PADDLE_BODY.as_bytes(), 1_700_000_000)
            .unwrap()
            .secret_index,
        Some(1)
    );
    let two = "ts=1700000000;h1=deadbeef;h1=d59ce413c571a02f8abf103fa32754a4b537434b4ca496148fd8d129826a6bab";
    assert!(paddle(two, &[PADDLE_SECRET], PADDLE_BODY.as_bytes(), 1_700_000_000).is_ok());
    assert_eq!(
        paddle("ts=1700000000", &[PADDLE_SECRET], PADDLE_BODY.as_bytes(), 1_700_000_000),
        Err(VerifyError::MissingSignature)
    );
    assert!(matches!(
        paddle("ts=soon;h1=00", &[PADDLE_SECRET], PADDLE_BODY.as_bytes(), 1_700_000_000),
        Err(VerifyError::Malformed(_))
    ));
}

// 4. Lemon Squeezy
const LS_SECRET: &str = "my_signing_secret";
const LS_BODY: &str = r#"{"meta":{"event_name":"order_created"},"data":{"type":"orders","id":"1"}}"#;
const LS_SIG: &str = "5850ede7b6235a8f477a172f126e7214b8bb882f93a42edf0513fa66b3dd507b";

#[test]
fn v4_lemon_squeezy() {
    let ls = |sig: &str, secrets: &[&str], body: &[u8]| {
        verify(Provider::LemonSqueezy, secrets, &h(&[("X-Signature", sig)]), "", body, 0)
    };
    assert!(ls(LS_SIG, &[LS_SECRET], LS_BODY.as_bytes()).is_ok());
    assert!(ls(&LS_SIG.to_uppercase(), &[LS_SECRET], LS_BODY.as_bytes()).is_ok());
    assert_eq!(ls(LS_SIG, &[LS_SECRET], &tamper(LS_BODY.as_bytes())), Err(VerifyError::BadSignature));
    assert_eq!(ls(LS_SIG, &["other", LS_SECRET], LS_BODY.as_bytes()).unwrap().secret_index, Some(1));
    assert_eq!(ls(&LS_SIG[..32], &[LS_SECRET], LS_BODY.as_bytes()), Err(VerifyError::BadSignature));
    assert_eq!(ls("", &[LS_SECRET], LS_BODY.as_bytes()), Err(VerifyError::MissingSignature));
}

// 5. Creem
const CREEM_SECRET: &str = "whsec_creem_example";
const CREEM_BODY: &str = r#"{"id":"evt_5WHHcZPv7VS0YUsberIuOz","eventType":"checkout.completed"}"#;
const CREEM_SIG: &str = "843c768b1eb7cea107a8a7186816c14c67f2d68f6be853e2a4c44d2d61376204";

#[test]
fn v5_creem() {
    let c = |sig: &str, secrets: &[&str], body: &[u8]| {
        verify(Provider::Creem, secrets, &h(&[("creem-signature", sig)]), "", body, 0)
    };
    assert!(c(CREEM_SIG, &[CREEM_SECRET], CREEM_BODY.as_bytes()).is_ok());
    assert_eq!(c(CREEM_SIG, &[CREEM_SECRET], &tamper(CREEM_BODY.as_bytes())), Err(VerifyError::BadSignature));
    assert_eq!(
        c(CREEM_SIG, &["whsec_old", CREEM_SECRET], CREEM_BODY.as_bytes()).unwrap().secret_index,
        Some(1)
    );
    let none: H = Vec::new();
    assert_eq!(
        verify(Provider::Creem, &[CREEM_SECRET], &none, "", CREEM_BODY.as_bytes(), 0),
        Err(VerifyError::MissingSignature)
    );
}

// 6. Polar
const POLAR_SECRET: &str = "polar_whs_example";
const POLAR_BODY: &str = r#"{"type":"order.paid"}"#;
const POLAR_SIG: &str = "v1,LhS7NwdFikF4l4pZ6qx0bmaTLMYQF5QB18kE+FEzz8o=";

fn polar_headers(sig: &str) -> H {
    h(&[("webhook-id", "msg_1"), ("webhook-timestamp", "1700000000"), ("webhook-signature", sig)])
}

#[test]
fn v6_polar() {
    let p =
        |hs: &H, secrets: &[&str], body: &[u8], now: i64| verify(Provider::Polar, secrets, hs, "", body, now);
    let ok = polar_headers(POLAR_SIG);
    assert!(p(&ok, &[POLAR_SECRET], POLAR_BODY.as_bytes(), 1_700_000_000).is_ok());
    assert_eq!(
        p(&ok, &[POLAR_SECRET], &tamper(POLAR_BODY.as_bytes()), 1_700_000_000),
        Err(VerifyError::BadSignature)
    );
    assert!(matches!(
        p(&ok, &[POLAR_SECRET], POLAR_BODY.as_bytes(), 1_700_000_301),
        Err(VerifyError::TimestampOutOfTolerance { .. })
    ));
    assert!(matches!(
        p(&ok, &[POLAR_SECRET], POLAR_BODY.as_bytes(), 1_699_999_699),
        Err(VerifyError::TimestampOutOfTolerance { .. })
    ));
    assert_eq!(
        p(&ok, &["polar_whs_old", POLAR_SECRET], POLAR_BODY.as_bytes(), 1_700_000_000).unwrap().secret_index,
        Some(1)
    );
    // The raw key, not a base64-decoded one.
    assert!(
        verify_standard_webhooks(&[POLAR_SECRET], &ok, POLAR_BODY.as_bytes(), 1_700_000_000, 300).is_err()
    );
    assert!(p(
        &polar_headers(&format!("v1,AAAA {POLAR_SIG}")),
        &[POLAR_SECRET],
        POLAR_BODY.as_bytes(),
        1_700_000_000
    )
    .is_ok());
    assert!(p(&polar_headers("v1,"), &[POLAR_SECRET], POLAR_BODY.as_bytes(), 1_700_000_000).is_err());
    let other_id =
        h(&[("webhook-id", "msg_2"), ("webhook-timestamp", "1700000000"), ("webhook-signature", POLAR_SIG)]);
    assert_eq!(
        p(&other_id, &[POLAR_SECRET], POLAR_BODY.as_bytes(), 1_700_000_000),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn fixture_signers_reproduce_the_vectors() {
    use refline_processors::fixtures;
    assert_eq!(fixtures::stripe::sign(STRIPE_SECRET, 1_700_000_000, STRIPE_BODY.as_bytes()), STRIPE_SIG);
    assert_eq!(fixtures::paddle::sign(PADDLE_SECRET, 1_700_000_000, PADDLE_BODY.as_bytes()), PADDLE_SIG);
    assert_eq!(fixtures::lemonsqueezy::sign(LS_SECRET, LS_BODY.as_bytes()), LS_SIG);
    assert_eq!(fixtures::creem::sign(CREEM_SECRET, CREEM_BODY.as_bytes()), CREEM_SIG);
    assert_eq!(fixtures::polar::sign(POLAR_SECRET, "msg_1", 1_700_000_000, POLAR_BODY.as_bytes()), POLAR_SIG);
}

#[test]
fn error_codes_are_stable() {
    let codes: Vec<&str> = [
        VerifyError::NoSecret,
        VerifyError::InvalidSecret(String::new()),
        VerifyError::MissingSignature,
        VerifyError::Malformed(String::new()),
        VerifyError::BadSignature,
        VerifyError::TimestampOutOfTolerance { signed_at: 0, now: 0, tolerance_s: 0 },
    ]
    .iter()
    .map(VerifyError::code)
    .collect();
    assert_eq!(
        codes,
        [
            "no_secret",
            "invalid_secret",
            "missing_signature",
            "malformed_signature",
            "bad_signature",
            "timestamp_out_of_tolerance"
        ]
    );
}

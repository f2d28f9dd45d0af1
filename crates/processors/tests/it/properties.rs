//! Nothing panics: every verifier and parser over arbitrary bytes, headers and queries, and over
//! mutations of valid payloads.

use proptest::prelude::*;
use refline_processors::fixtures::{self, Sale};
use refline_processors::{parse, parse_gopay_payment, parse_reference, verify, Provider};

use crate::spec_payloads as spec;

const HEADER_NAMES: &[&str] = &[
    "Stripe-Signature",
    "Paddle-Signature",
    "X-Signature",
    "X-Event-Name",
    "creem-signature",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "Authorization",
    "Content-Type",
];

fn provider() -> impl Strategy<Value = Provider> {
    proptest::sample::select(Provider::ALL.to_vec())
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(
        (proptest::sample::select(HEADER_NAMES.to_vec()).prop_map(str::to_string), header_value()),
        0..6,
    )
}

/// Header values that look like the real ones often enough to reach the deep paths.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,80}",
        "t=[0-9]{1,12},v1=[0-9a-f]{0,64}(,v0=[a-z0-9]{0,8})?",
        "ts=[0-9]{0,12};h1=[0-9a-fA-F]{0,64}",
        "v1,[A-Za-z0-9+/=]{0,44}( v1,[A-Za-z0-9+/=]{0,44})?",
        "[0-9]{0,20}",
        "Basic [A-Za-z0-9+/=]{0,40}",
        Just("application/json".to_string()),
    ]
}

fn secrets() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(
        prop_oneof![".{0,20}", Just(fixtures::paddle_classic::TEST_PUBLIC_KEY_PEM.to_string())],
        0..3,
    )
}

/// Valid bodies for every provider, to mutate.
fn valid_bodies() -> Vec<(Provider, Vec<u8>)> {
    let sale = Sale { subscription_id: Some("sub_1".into()), coupon: Some("C1".into()), ..Sale::default() };
    vec![
        (Provider::Stripe, spec::STRIPE_CHECKOUT_COMPLETED.as_bytes().to_vec()),
        (Provider::Stripe, spec::STRIPE_INVOICE_PAID_RENEWAL.as_bytes().to_vec()),
        (Provider::Stripe, spec::STRIPE_CHARGE_REFUNDED_PARTIAL.as_bytes().to_vec()),
        (Provider::Stripe, fixtures::stripe::subscription_trialing(&sale, 1)),
        (Provider::Paddle, spec::PADDLE_TRANSACTION_COMPLETED.as_bytes().to_vec()),
        (
            Provider::Paddle,
            spec::PADDLE_ADJUSTMENT_CREATED.replace("pending_approval", "approved").into_bytes(),
        ),
        (
            Provider::PaddleClassic,
            fixtures::paddle_classic::delivery(
                fixtures::paddle_classic::TEST_PRIVATE_KEY_PEM,
                fixtures::paddle_classic::subscription_payment_succeeded(&sale, true),
            )
            .2,
        ),
        (Provider::LemonSqueezy, spec::LS_ORDER_CREATED.as_bytes().to_vec()),
        (Provider::LemonSqueezy, spec::LS_SUBSCRIPTION_PAYMENT_SUCCESS.as_bytes().to_vec()),
        (Provider::Gumroad, spec::GUMROAD_SALE.as_bytes().to_vec()),
        (Provider::Creem, spec::CREEM_CHECKOUT_COMPLETED.as_bytes().to_vec()),
        (Provider::Creem, spec::CREEM_REFUND_CREATED.as_bytes().to_vec()),
        (Provider::Polar, spec::POLAR_ORDER_PAID.as_bytes().to_vec()),
        (Provider::Polar, fixtures::polar::order_refunded(&sale, 5)),
        (Provider::GoPay, spec::GOPAY_PAYMENT_PAID.as_bytes().to_vec()),
    ]
}

/// JSON-ish tokens to splice in: type changes, nulls, huge and negative numbers, nesting.
fn splice() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_string()),
        Just("\"\"".to_string()),
        Just("{}".to_string()),
        Just("[]".to_string()),
        Just("-1".to_string()),
        Just("1e400".to_string()),
        Just("99999999999999999999999".to_string()),
        Just("1.5".to_string()),
        Just("true".to_string()),
        Just("\"tc_A_aff_b_cid_c\"".to_string()),
        Just("[[[[[[[[[[]]]]]]]]]]".to_string()),
        ".{0,8}",
    ]
}

fn run_all(provider: Provider, headers: &[(String, String)], query: &str, body: &[u8], secrets: &[String]) {
    let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let _ = verify(provider, &secret_refs, &headers.to_vec(), query, body, 1_700_000_000);
    let _ = verify(provider, &secret_refs, &headers.to_vec(), query, body, i64::MIN);
    let _ = verify(provider, &secret_refs, &headers.to_vec(), query, body, i64::MAX);
    let _ = parse(provider, &headers.to_vec(), query, body);
    if provider == Provider::GoPay {
        let _ = parse_gopay_payment(body);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn verifiers_and_parsers_never_panic_on_arbitrary_input(
        provider in provider(),
        headers in headers(),
        query in ".{0,40}",
        body in proptest::collection::vec(any::<u8>(), 0..300),
        secrets in secrets(),
    ) {
        run_all(provider, &headers, &query, &body, &secrets);
    }

    #[test]
    fn parsers_never_panic_on_mutated_valid_payloads(
        index in any::<proptest::sample::Index>(),
        cut in any::<proptest::sample::Index>(),
        len in 0usize..12,
        insert in splice(),
        flip in any::<Option<(proptest::sample::Index, u8)>>(),
    ) {
        let bodies = valid_bodies();
        let (provider, body) = &bodies[index.index(bodies.len())];
        let at = cut.index(body.len() + 1);
        let end = (at + len).min(body.len());
        let mut mutated = body[..at].to_vec();
        mutated.extend_from_slice(insert.as_bytes());
        mutated.extend_from_slice(&body[end..]);
        if let Some((i, b)) = flip {
            if !mutated.is_empty() {
                let i = i.index(mutated.len());
                mutated[i] ^= b;
            }
        }
        let h = vec![("webhook-id".to_string(), "msg".to_string())];
        run_all(*provider, &h, "token=x&id=1", &mutated, &["s".to_string()]);
    }

    #[test]
    fn valid_json_with_replaced_values_never_panics(
        index in any::<proptest::sample::Index>(),
        key_pick in any::<proptest::sample::Index>(),
        replacement in prop_oneof![
            Just(serde_json::Value::Null),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
            ".{0,12}".prop_map(serde_json::Value::from),
            Just(serde_json::json!({"id": 1, "metadata": {"ref": 5}})),
            Just(serde_json::json!([1, "a", null])),
        ],
    ) {
        let bodies: Vec<(Provider, Vec<u8>)> = valid_bodies()
            .into_iter()
            .filter(|(_, b)| serde_json::from_slice::<serde_json::Value>(b).is_ok())
            .collect();
        let (provider, body) = &bodies[index.index(bodies.len())];
        let mut v: serde_json::Value = serde_json::from_slice(body).unwrap();
        let mut paths = Vec::new();
        collect_paths(&v, &mut Vec::new(), &mut paths);
        let path = &paths[key_pick.index(paths.len())];
        if let Some(slot) = v.pointer_mut(path) {
            *slot = replacement;
        }
        let bytes = serde_json::to_vec(&v).unwrap();
        run_all(*provider, &[], "", &bytes, &[]);
    }

    #[test]
    fn parse_reference_never_panics_and_round_trips(
        code in "[A-Z0-9]{1,12}",
        aff in "aff_[A-Za-z0-9]{1,20}",
        cid in proptest::option::of("[A-Za-z0-9_]{1,20}"),
        noise in ".{0,60}",
    ) {
        let _ = parse_reference(&noise);
        let text = match &cid {
            Some(c) => format!("tc_{code}_aff_{aff}_cid_{c}"),
            None => format!("tc_{code}_aff_{aff}"),
        };
        let r = parse_reference(&text).unwrap();
        prop_assert_eq!(r.tracking_code, code);
        prop_assert_eq!(r.affiliate_id, aff);
        prop_assert_eq!(r.click_id, cid);
    }
}

fn collect_paths(v: &serde_json::Value, prefix: &mut Vec<String>, out: &mut Vec<String>) {
    out.push(prefix.iter().map(|p| format!("/{p}")).collect());
    match v {
        serde_json::Value::Object(o) => {
            for (k, v) in o {
                prefix.push(k.replace('~', "~0").replace('/', "~1"));
                collect_paths(v, prefix, out);
                prefix.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                prefix.push(i.to_string());
                collect_paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

//! Writes the seed corpora of the processor fuzz targets (`fuzz/corpus/processor_parse` and
//! `processor_verify`) from the fixtures and the spec's example payloads, in the fuzz crate's
//! delivery format (`fuzz/src/lib.rs`: provider line, header lines, empty line, query line,
//! body), signed with the fuzz targets' secret at their clock. Run by hand after the fixtures
//! change: `cargo test -p refline-processors --test it -- --ignored write_fuzz_seeds`.

use std::path::PathBuf;

use refline_processors::fixtures::{self, paddle_classic::TEST_PRIVATE_KEY_PEM, Delivery, Sale};
use refline_processors::Provider;

use crate::spec_payloads as spec;

/// The fuzz targets' secret and clock (`refline_fuzz::SECRET`, `refline_fuzz::NOW`).
const SECRET: &str = "whsec_fuzz_secret";
const NOW: i64 = 1_700_000_000;

fn encode(provider: Provider, (headers, query, body): &Delivery) -> Vec<u8> {
    let mut out = format!("{provider}\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\n").as_bytes());
    }
    out.extend_from_slice(format!("\n{query}\n").as_bytes());
    out.extend_from_slice(body);
    out
}

fn deliveries() -> Vec<(String, Provider, Delivery)> {
    let sale = Sale { created_unix_s: NOW, ..Sale::default() };
    let sub = Sale { subscription_id: Some("sub_1".into()), coupon: Some("C1".into()), ..sale.clone() };
    let stripe = |b: Vec<u8>| fixtures::stripe::delivery(SECRET, NOW, b);
    let paddle = |b: Vec<u8>| fixtures::paddle::delivery(SECRET, NOW, b);
    let ls = |b: Vec<u8>| fixtures::lemonsqueezy::delivery(SECRET, b);
    let creem = |b: Vec<u8>| fixtures::creem::delivery(SECRET, b);
    let polar = |b: Vec<u8>| fixtures::polar::delivery(SECRET, "msg_seed", NOW, b);
    let classic = |f: Vec<(String, String)>| fixtures::paddle_classic::delivery(TEST_PRIVATE_KEY_PEM, f);
    let gumroad = |f: Vec<(String, String)>| fixtures::gumroad::delivery(SECRET, f);
    let s = |t: &str| t.as_bytes().to_vec();
    use Provider::*;
    vec![
        ("stripe_checkout", Stripe, stripe(fixtures::stripe::checkout_completed(&sub))),
        ("stripe_trial", Stripe, stripe(fixtures::stripe::checkout_trial(&sub))),
        ("stripe_invoice", Stripe, stripe(fixtures::stripe::invoice_paid(&sub, "subscription_cycle"))),
        ("stripe_sub_trialing", Stripe, stripe(fixtures::stripe::subscription_trialing(&sub, NOW + 86_400))),
        (
            "stripe_refund",
            Stripe,
            stripe(fixtures::stripe::charge_refunded("evt_r", "ch_1", "pi_1", 1800, 900, "usd", true, NOW)),
        ),
        (
            "stripe_dispute",
            Stripe,
            stripe(fixtures::stripe::dispute_created("evt_d", "dp_1", "ch_1", "pi_1", 1800, "usd")),
        ),
        ("stripe_spec_checkout", Stripe, stripe(s(spec::STRIPE_CHECKOUT_COMPLETED))),
        ("stripe_spec_renewal", Stripe, stripe(s(spec::STRIPE_INVOICE_PAID_RENEWAL))),
        ("stripe_spec_refund_created", Stripe, stripe(s(spec::STRIPE_REFUND_CREATED))),
        ("stripe_spec_dispute_closed", Stripe, stripe(s(spec::STRIPE_DISPUTE_CLOSED))),
        ("paddle_transaction", Paddle, paddle(fixtures::paddle::transaction_completed(&sub, "web"))),
        ("paddle_trial", Paddle, paddle(fixtures::paddle::subscription_trialing(&sub, NOW + 86_400))),
        (
            "paddle_refund",
            Paddle,
            paddle(fixtures::paddle::adjustment(
                "evt_a",
                "adjustment.created",
                "adj_1",
                "txn_1",
                "refund",
                "partial",
                "approved",
                900,
                "USD",
            )),
        ),
        ("paddle_spec_transaction", Paddle, paddle(s(spec::PADDLE_TRANSACTION_COMPLETED))),
        (
            "paddle_classic_payment",
            PaddleClassic,
            classic(fixtures::paddle_classic::payment_succeeded(&sale)),
        ),
        (
            "paddle_classic_subscription",
            PaddleClassic,
            classic(fixtures::paddle_classic::subscription_payment_succeeded(&sub, true)),
        ),
        (
            "paddle_classic_refund",
            PaddleClassic,
            classic(fixtures::paddle_classic::payment_refunded("a1", "ord_1", "9.00", "partial", "USD")),
        ),
        ("ls_order", LemonSqueezy, ls(fixtures::lemonsqueezy::order_created(&sale))),
        ("ls_refund", LemonSqueezy, ls(fixtures::lemonsqueezy::order_refunded(&sale, 900))),
        (
            "ls_renewal",
            LemonSqueezy,
            ls(fixtures::lemonsqueezy::subscription_payment_success(&sub, "renewal")),
        ),
        (
            "ls_trial",
            LemonSqueezy,
            ls(fixtures::lemonsqueezy::subscription_created_trial(&sub, NOW + 86_400)),
        ),
        ("ls_spec_order", LemonSqueezy, ls(s(spec::LS_ORDER_CREATED))),
        ("gumroad_sale", Gumroad, gumroad(fixtures::gumroad::sale(&sub, true))),
        ("gumroad_refund", Gumroad, gumroad(fixtures::gumroad::refund(&sale, false))),
        ("gumroad_dispute", Gumroad, gumroad(fixtures::gumroad::dispute(&sale))),
        ("gumroad_spec_sale", Gumroad, (Vec::new(), format!("token={SECRET}"), s(spec::GUMROAD_SALE))),
        ("gopay_notification", GoPay, fixtures::gopay::notification("3000006542")),
        (
            "gopay_payment",
            GoPay,
            (
                Vec::new(),
                "id=3000006542".into(),
                fixtures::gopay::payment_status(
                    &Sale { object_id: "3000006542".into(), ..sale.clone() },
                    "PAID",
                    None,
                ),
            ),
        ),
        ("gopay_spec_payment", GoPay, (Vec::new(), "id=3000006542".into(), s(spec::GOPAY_PAYMENT_PAID))),
        ("creem_checkout", Creem, creem(fixtures::creem::checkout_completed(&sale))),
        ("creem_renewal", Creem, creem(fixtures::creem::subscription_paid(&sub))),
        (
            "creem_refund",
            Creem,
            creem(fixtures::creem::refund_created("evt_r", "ref_1", "ord_1", 900, 1800, 900, "USD")),
        ),
        (
            "creem_dispute",
            Creem,
            creem(fixtures::creem::dispute_created("evt_d", "dsp_1", "ord_1", 1800, "USD")),
        ),
        ("creem_spec_checkout", Creem, creem(s(spec::CREEM_CHECKOUT_COMPLETED))),
        ("polar_order", Polar, polar(fixtures::polar::order_paid(&sub, "subscription_create"))),
        ("polar_refund", Polar, polar(fixtures::polar::order_refunded(&sale, 900))),
        ("polar_trial", Polar, polar(fixtures::polar::subscription_trialing(&sub, NOW + 86_400))),
        ("polar_spec_order", Polar, polar(s(spec::POLAR_ORDER_PAID))),
    ]
    .into_iter()
    .map(|(name, provider, d)| (name.to_string(), provider, d))
    .collect()
}

#[test]
#[ignore = "writes fuzz/corpus; run by hand"]
fn write_fuzz_seeds() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for target in ["processor_parse", "processor_verify"] {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, provider, delivery) in deliveries() {
            std::fs::write(dir.join(name), encode(provider, &delivery)).unwrap();
        }
    }
}

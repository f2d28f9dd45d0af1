//! Correctly signed deliveries with nonsensical amounts: a negative sale, a sale near 2^63
//! minor units, a negative or huge refund. Each is finished as `failed` with its reason in the
//! delivery log (never retried, never a 5xx), records nothing, and the reads that add amounts
//! up (`/api/v1/stats`, campaigns, conversions) keep answering.

use refline_processors::fixtures::{self, Delivery, Sale};
use refline_server::clock::Clock;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{engine_tests, processors::Shop, support::Engine};

const STRIPE_SECRET: &str = "whsec_amounts_secret";
const PADDLE_SECRET: &str = "pdl_ntfset_amounts";
const LS_SECRET: &str = "ls_amounts_secret";

/// Near 2^63: passes `i64` parsing, far beyond any sale.
const HUGE: i64 = i64::MAX - 7;

async fn refused(shop: &Shop, provider: &str, delivery: &Delivery, why: &str) {
    let reply = shop.deliver(provider, delivery).await;
    assert_eq!(reply.status, StatusCode::OK, "{provider}: stored, not a 5xx: {}", reply.text);
    let id = reply.body["deliveryId"].as_str().unwrap().to_string();
    let done = shop.wait_for(&id, |d| d["status"] != "pending").await;
    assert_eq!(done["status"], "failed", "{provider}: {done}");
    assert!(done["outcome"].as_str().unwrap_or_default().contains(why), "{provider}: {done}");
    assert!(done["conversionId"].is_null(), "{provider}: {done}");
    // Finished for good: a week later it has not run again.
    shop.clock.advance(8 * 24 * 3_600_000);
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let later = shop.deliveries().await.into_iter().find(|d| d["id"] == id.as_str()).unwrap();
    assert_eq!(
        (later["status"].clone(), later["attempts"].clone()),
        (json!("failed"), done["attempts"].clone())
    );
}

async fn reads_still_answer(shop: &Shop) {
    for path in [
        "/api/v1/stats".to_string(),
        format!("/api/v1/campaigns/{}", shop.campaign),
        "/api/v1/campaigns".to_string(),
        "/api/v1/conversions".to_string(),
    ] {
        let reply = shop.app.get(&shop.merchant.key, &path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    }
}

fn sale(shop: &Shop, event: &str, object: &str, amount_minor: i64) -> Sale {
    Sale {
        event_id: event.into(),
        object_id: object.into(),
        amount_minor,
        reference: Some(shop.reference()),
        created_unix_s: shop.clock.now() / 1000,
        ..Sale::default()
    }
}

async fn stripe_amounts_out_of_range(engine: Engine) {
    let shop = Shop::open(&engine, json!({ "provider": "stripe", "webhookSecret": STRIPE_SECRET })).await;
    let send = |body: Vec<u8>| fixtures::stripe::delivery(STRIPE_SECRET, shop.clock.now() / 1000, body);
    let negative = sale(&shop, "evt_neg", "pi_neg", -5_000);
    refused(&shop, "stripe", &send(fixtures::stripe::checkout_completed(&negative)), "must be positive")
        .await;
    let huge = sale(&shop, "evt_huge", "pi_huge", HUGE);
    refused(&shop, "stripe", &send(fixtures::stripe::checkout_completed(&huge)), "out of range").await;
    let invoice =
        Sale { subscription_id: Some("sub_huge".into()), ..sale(&shop, "evt_inv", "in_huge", HUGE) };
    refused(
        &shop,
        "stripe",
        &send(fixtures::stripe::invoice_paid(&invoice, "subscription_create")),
        "out of range",
    )
    .await;

    // A real sale, then refunds with a negative and a huge cumulative amount.
    let real = sale(&shop, "evt_real", "pi_real", 10_000);
    let sold = shop.settle("stripe", &send(fixtures::stripe::checkout_completed(&real))).await;
    assert_eq!(sold["status"], "processed", "{sold}");
    let now = shop.clock.now() / 1000;
    let refund = |event: &str, refunded: i64| {
        send(fixtures::stripe::charge_refunded(
            event, "ch_real", "pi_real", 10_000, refunded, "USD", true, now,
        ))
    };
    refused(&shop, "stripe", &refund("evt_ref_neg", -2_500), "negative").await;
    refused(&shop, "stripe", &refund("evt_ref_huge", HUGE), "out of range").await;
    let conversion = shop.conversion(sold["conversionId"].as_str().unwrap()).await;
    assert_eq!(
        (conversion["status"].as_str(), conversion["commission"].as_str()),
        (Some("pending"), Some("20.00"))
    );
    // A refund larger than the sale is a full refund.
    let over = shop.settle("stripe", &refund("evt_ref_over", 20_000)).await;
    assert_eq!(over["status"], "processed", "{over}");
    assert_eq!(shop.conversion(sold["conversionId"].as_str().unwrap()).await["status"], "refunded");

    let live: Vec<Value> = shop.conversions(false).await;
    assert_eq!(live.len(), 1, "only the real sale: {live:#?}");
    reads_still_answer(&shop).await;
}

async fn paddle_and_lemon_squeezy_amounts_out_of_range(engine: Engine) {
    let shop = Shop::open(&engine, json!({ "provider": "paddle", "webhookSecret": PADDLE_SECRET })).await;
    let send = |body: Vec<u8>| fixtures::paddle::delivery(PADDLE_SECRET, shop.clock.now() / 1000, body);
    let negative = sale(&shop, "evt_p_neg", "txn_neg", -5_000);
    refused(
        &shop,
        "paddle",
        &send(fixtures::paddle::transaction_completed(&negative, "web")),
        "must be positive",
    )
    .await;
    let huge = sale(&shop, "evt_p_huge", "txn_huge", HUGE);
    refused(&shop, "paddle", &send(fixtures::paddle::transaction_completed(&huge, "web")), "out of range")
        .await;
    let real = sale(&shop, "evt_p_real", "txn_real", 10_000);
    let sold = shop.settle("paddle", &send(fixtures::paddle::transaction_completed(&real, "web"))).await;
    assert_eq!(sold["status"], "processed", "{sold}");
    let adjustment = |event: &str, amount: i64| {
        send(fixtures::paddle::adjustment(
            event,
            "adjustment.updated",
            &format!("adj_{event}"),
            "txn_real",
            "refund",
            "partial",
            "approved",
            amount,
            "USD",
        ))
    };
    refused(&shop, "paddle", &adjustment("evt_adj_neg", -2_500), "negative").await;
    refused(&shop, "paddle", &adjustment("evt_adj_huge", HUGE), "out of range").await;
    assert_eq!(shop.conversion(sold["conversionId"].as_str().unwrap()).await["commission"], "20.00");
    reads_still_answer(&shop).await;

    let shop = Shop::open(&engine, json!({ "provider": "lemonsqueezy", "webhookSecret": LS_SECRET })).await;
    let send = |body: Vec<u8>| fixtures::lemonsqueezy::delivery(LS_SECRET, body);
    let negative = sale(&shop, "-", "5001", -5_000);
    refused(
        &shop,
        "lemonsqueezy",
        &send(fixtures::lemonsqueezy::order_created(&negative)),
        "must be positive",
    )
    .await;
    let huge = sale(&shop, "-", "5002", HUGE);
    refused(&shop, "lemonsqueezy", &send(fixtures::lemonsqueezy::order_created(&huge)), "out of range").await;
    assert!(shop.conversions(false).await.is_empty());
    reads_still_answer(&shop).await;
}

/// Correctly signed deliveries carrying U+0000 and other controls (which PostgreSQL cannot
/// store): customer text is recorded with those characters removed; an id the processor itself
/// made unstorable fails that one delivery with its reason, never stuck waiting.
async fn control_characters_in_processor_text(engine: Engine) {
    let shop = Shop::open(&engine, json!({ "provider": "stripe", "webhookSecret": STRIPE_SECRET })).await;
    let send = |body: Vec<u8>| fixtures::stripe::delivery(STRIPE_SECRET, shop.clock.now() / 1000, body);
    let hostile =
        Sale { customer_email: "Buyer\u{0}@Example.com".into(), ..sale(&shop, "evt_nul", "pi_ok", 4_200) };
    let reply = shop.deliver("stripe", &send(fixtures::stripe::checkout_completed(&hostile))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let id = reply.body["deliveryId"].as_str().unwrap().to_string();
    let done = shop.wait_for(&id, |d| d["status"] != "pending").await;
    assert_eq!(done["status"], "processed", "{done}");
    let conversion = shop.conversion(done["conversionId"].as_str().unwrap()).await;
    assert_eq!(conversion["customerEmail"], "buyer@example.com", "{conversion}");

    if matches!(engine, Engine::Postgres(_)) {
        let bad_id = sale(&shop, "evt_bad_id", "pi_bad\u{0}\u{1}", 4_300);
        let reply = shop.deliver("stripe", &send(fixtures::stripe::checkout_completed(&bad_id))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let id = reply.body["deliveryId"].as_str().unwrap().to_string();
        let done = shop.wait_for(&id, |d| d["status"] != "pending").await;
        assert_eq!(done["status"], "failed", "{done}");
        assert!(done["outcome"].as_str().unwrap_or_default().contains("refused by the database"), "{done}");
    }
    reads_still_answer(&shop).await;
}

engine_tests!(
    stripe_amounts_out_of_range,
    paddle_and_lemon_squeezy_amounts_out_of_range,
    control_characters_in_processor_text,
);

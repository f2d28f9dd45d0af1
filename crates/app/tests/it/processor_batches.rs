//! The inbox worker processes a claimed batch as a batch: deliveries that depend on each other
//! in one batch (a renewal and its first sale, a refund and its sale, even a refund that
//! arrived before its sale) come out as they would one by one, at once (no 30 s retry), and a
//! hostile delivery fails alone.
//!
//! The deliveries are written to the inbox directly (as the receiver stores them, which wakes
//! no worker) while the worker sleeps on an hour-long poll, then one delivery through HTTP
//! wakes it: it claims them all in one batch.

use std::time::Duration;

use refline_processors::fixtures::{self, Sale};
use refline_server::clock::Clock;
use refline_store::InboxEntry;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    processors::{now_s, Shop},
    support::Engine,
};

const SECRET: &str = "whsec_refline_batch_secret";

engine_tests!(
    a_batch_keeps_every_order_and_isolates_a_hostile_delivery,
    a_refused_delivery_fails_alone_in_the_inbox_group_commit
);

const HOUR_MS: i64 = 3_600_000;

/// An inbox row for a Stripe delivery of `body`, received `n` ms after `t0`.
fn stored(shop: &Shop, t0: i64, n: i64, event: &str, body: Vec<u8>) -> InboxEntry {
    let (headers, _, body) = fixtures::stripe::delivery(SECRET, now_s(), body);
    InboxEntry {
        id: format!("whin_batch_{n:02}"),
        merchant_id: shop.merchant.id.clone(),
        integration_id: shop.integration.clone(),
        provider: "stripe".into(),
        dedupe_key: event.into(),
        event_type: None,
        headers: serde_json::to_string(&headers).unwrap(),
        query: String::new(),
        body: String::from_utf8(body).unwrap(),
        verification: "stripe-signature".into(),
        status: "pending".into(),
        outcome: None,
        conversion_id: None,
        attempts: 0,
        next_attempt_at: t0 + n,
        received_at: t0 + n,
        processed_at: None,
    }
}

fn refund(event: &str, object: &str) -> Vec<u8> {
    let charge = format!("ch_{object}");
    fixtures::stripe::charge_refunded(event, &charge, object, 10_000, 10_000, "usd", true, now_s())
}

async fn a_batch_keeps_every_order_and_isolates_a_hostile_delivery(engine: Engine) {
    let shop = Shop::open_with(&engine, json!({ "provider": "stripe", "webhookSecret": SECRET }), |c| {
        c.webhooks.inbox_poll_interval = Duration::from_secs(3600);
    })
    .await;
    let sale = |event: &str, object: &str, customer: &str| Sale {
        customer_id: customer.into(),
        ..shop.sale(event, object)
    };
    let first = Sale { subscription_id: Some("sub_b".into()), ..sale("evt_b1", "in_b1", "cus_sub") };
    let renewal = Sale {
        reference: None,
        ..Sale { event_id: "evt_b2".into(), object_id: "in_b2".into(), ..first.clone() }
    };
    // Ids PostgreSQL cannot store (a NUL character); SQLite can.
    let hostile = sale("evt_b7", "pi_bad\u{0}id", "cus_bad");
    // On PostgreSQL every test of the run shares one database, and any test server's inbox
    // worker claims whatever is due there: these rows are due only an hour from now, on this
    // server's clock, which moves there just before the waker (other servers keep real time).
    let t0 = shop.clock.now() + HOUR_MS;
    let rows = vec![
        // A refund received before its sale.
        stored(&shop, t0, 1, "evt_b0", refund("evt_b0", "pi_early")),
        stored(&shop, t0, 2, "evt_b1", fixtures::stripe::invoice_paid(&first, "subscription_create")),
        stored(&shop, t0, 3, "evt_b2", fixtures::stripe::invoice_paid(&renewal, "subscription_cycle")),
        stored(
            &shop,
            t0,
            4,
            "evt_b3",
            fixtures::stripe::checkout_completed(&sale("evt_b3", "pi_late", "cus_l")),
        ),
        stored(&shop, t0, 5, "evt_b4", refund("evt_b4", "pi_late")),
        stored(
            &shop,
            t0,
            6,
            "evt_b5",
            fixtures::stripe::checkout_completed(&sale("evt_b5", "pi_early", "cus_e")),
        ),
        stored(&shop, t0, 7, "evt_b7", fixtures::stripe::checkout_completed(&hostile)),
    ];
    let stored_rows = shop.app.store.insert_inbox_batch(&rows).await.unwrap();
    assert!(stored_rows.iter().all(|s| *s), "{stored_rows:?}");
    // Nothing woke the worker: nothing is processed yet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(shop.deliveries().await.iter().all(|d| d["status"] == "pending"));

    // One more delivery through the receiver wakes the worker, which claims all eight at once.
    shop.clock.advance(HOUR_MS + 10_000);
    let waker = shop
        .deliver(
            "stripe",
            &fixtures::stripe::delivery(
                SECRET,
                shop.clock.now() / 1000,
                fixtures::stripe::checkout_completed(&sale("evt_b8", "pi_waker", "cus_w")),
            ),
        )
        .await;
    assert_eq!(waker.status, StatusCode::OK, "{}", waker.text);
    let waker_id = waker.body["deliveryId"].as_str().unwrap().to_string();
    shop.wait_for(&waker_id, |d| d["status"] != "pending").await;
    let log = shop.deliveries().await;
    let by_id = |id: &str| -> Value {
        log.iter().find(|d| d["id"] == id).cloned().unwrap_or_else(|| panic!("no {id} in {log:?}"))
    };
    // Every one of them ran once, in the one batch (the clock never moved: a retry would still
    // be waiting).
    for row in &rows {
        let d = by_id(&row.id);
        assert_eq!(d["attempts"], 1, "{d}");
        assert_ne!(d["status"], "pending", "{d}");
        assert_ne!(d["status"], "waiting", "{d}");
    }
    let conversion =
        |d: &Value| d["conversionId"].as_str().unwrap_or_else(|| panic!("no conversion: {d}")).to_string();

    let first_sale = by_id("whin_batch_02");
    assert_eq!(first_sale["status"], "processed", "{first_sale}");
    let renewed = by_id("whin_batch_03");
    assert_eq!(renewed["status"], "processed", "{renewed}");
    let renewal_conversion = shop.conversion(&conversion(&renewed)).await;
    assert_eq!(renewal_conversion["parentConversionId"], conversion(&first_sale).as_str());
    assert_eq!(renewal_conversion["paymentNumber"], 2);

    // The refund after its sale, and the one that arrived before it.
    for (sale_row, refund_row) in [("whin_batch_04", "whin_batch_05"), ("whin_batch_06", "whin_batch_01")] {
        let (sold, refunded) = (by_id(sale_row), by_id(refund_row));
        assert_eq!(sold["status"], "processed", "{sold}");
        assert_eq!(refunded["status"], "processed", "{refunded}");
        assert_eq!(conversion(&refunded), conversion(&sold));
        assert_eq!(shop.conversion(&conversion(&sold)).await["status"], "refunded");
    }

    // The hostile delivery settled (failed where the database refused its ids) and took
    // nothing else with it.
    let bad = by_id("whin_batch_07");
    if matches!(engine, Engine::Postgres(_)) {
        assert_eq!(bad["status"], "failed", "{bad}");
    }
    // One conversion per sale: first sale, renewal, two one-offs, the waker (and the hostile
    // one on SQLite).
    let expected = if matches!(engine, Engine::Postgres(_)) { 5 } else { 6 };
    assert_eq!(shop.conversions(false).await.len(), expected);

    // Redelivering the batch's events changes nothing.
    for row in &rows[1..3] {
        let again = shop
            .deliver(
                "stripe",
                &fixtures::stripe::delivery(SECRET, shop.clock.now() / 1000, row.body.clone().into_bytes()),
            )
            .await;
        assert_eq!(again.body["duplicate"], true, "{}", again.text);
    }
    assert_eq!(shop.conversions(false).await.len(), expected);
}

/// The inbox's group commit stores many merchants' deliveries in one transaction. A correctly
/// signed delivery whose body holds a raw NUL byte (which PostgreSQL's TEXT refuses, SQLite
/// keeps) arrives among other merchants' deliveries: every good one is answered 200 and is in
/// its merchant's delivery log; on PostgreSQL the refused one is answered 400 and never takes
/// anyone else's delivery with it.
async fn a_refused_delivery_fails_alone_in_the_inbox_group_commit(engine: Engine) {
    // A database of its own, as `Shop`'s: this server's inbox worker claims any due delivery of
    // its database, and must not take another test's.
    let app = crate::support::TestApp::start(&engine.isolated().await).await;
    let mut shops = Vec::new();
    for n in 0..4 {
        let m = app.merchant("ultimate").await;
        let secret = format!("whsec_group_{n}");
        let created = app
            .post(&m.key, "/api/v1/integrations", json!({ "provider": "stripe", "webhookSecret": secret }))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let integration = created.data()["id"].as_str().unwrap().to_string();
        shops.push((m, secret, integration));
    }
    let mut sends = Vec::new();
    for i in 0..80usize {
        // Shop 0 sends the hostile deliveries, one in four; the others send good ones.
        let hostile = i % 4 == 0;
        let (m, secret, _) = &shops[if hostile { 0 } else { 1 + i % 3 }];
        let sale = Sale {
            event_id: format!("evt_group_{i}"),
            object_id: if hostile { format!("pi_bad\u{0}{i}") } else { format!("pi_good_{i}") },
            customer_id: format!("cus_group_{i}"),
            amount_minor: 1_000,
            created_unix_s: now_s(),
            ..Sale::default()
        };
        let mut body = fixtures::stripe::checkout_completed(&sale);
        if hostile {
            // The JSON escape becomes the raw byte, still valid UTF-8, signed as sent.
            let text = String::from_utf8(body).unwrap().replace("\\u0000", "\0");
            assert!(text.contains('\0'));
            body = text.into_bytes();
        }
        let (headers, _, body) = fixtures::stripe::delivery(secret, now_s(), body);
        let mut request =
            app.client().post(app.url(&format!("/api/webhooks/stripe/merchant/{}", m.id))).body(body);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        sends.push(tokio::spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (hostile, status, body["deliveryId"].as_str().map(str::to_string))
        }));
    }
    let mut stored = Vec::new();
    for send in sends {
        let (hostile, status, delivery_id) = send.await.unwrap();
        if hostile {
            if matches!(engine, Engine::Postgres(_)) {
                // Refused for what it holds: a clear 400, not a 5xx the processor would retry.
                assert_eq!(status, StatusCode::BAD_REQUEST, "PostgreSQL cannot have stored it");
            }
        } else {
            assert_eq!(status, StatusCode::OK, "a good delivery failed with a refused one");
            stored.push(delivery_id.expect("a new delivery's id"));
        }
    }
    assert_eq!(stored.len(), 60);
    let mut logged = Vec::new();
    for (m, _, integration) in &shops[1..] {
        let page = app.get(&m.key, &format!("/api/v1/integrations/{integration}/deliveries?limit=100")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        logged.extend(page.data().as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()));
    }
    for id in &stored {
        assert!(logged.contains(id), "acknowledged delivery {id} is not in its merchant's log");
    }
}

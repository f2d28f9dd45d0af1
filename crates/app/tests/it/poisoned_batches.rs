//! Every batching writer survives a row the database refuses: the row's own request fails,
//! every other row of the batch (other merchants' too) is stored, and the writer keeps working.
//!
//! The poison differs per engine because the engines refuse different things: PostgreSQL
//! cannot store U+0000 in text at all (the edge refuses it over HTTP, so these tests hand the
//! rows to the writers directly, as any future door might); SQLite stores U+0000 but enforces
//! foreign keys, so there the poisoned sale names a campaign that does not exist, and clicks
//! (which have no foreign keys) meet a trigger that refuses one landing URL.

use std::{sync::Arc, time::Duration};

use refline_domain::{AffiliateVolume, CampaignStatus, ClickKind, MembershipStatus, Mode};
use refline_server::{
    http::audit::AuditSink,
    service::conversion_writer::ConversionWriter,
    tracking::{
        cache::ResolvedLink,
        click_writer::{ClickWriter, RawClick},
        settings::TrackingSettings,
    },
};
use refline_store::{AuditEntry, Pricer, RecordError, TrackingTarget};

use crate::{
    engine_tests,
    store_contract::{conversion, request, unique, world},
    support::{Engine, TestApp},
};

fn is_postgres(engine: &Engine) -> bool {
    matches!(engine, Engine::Postgres(_))
}

/// Makes the SQLite database of `app` refuse rows of `table` whose `column` is `value` (SQLite
/// stores what PostgreSQL refuses, so the poison there is a trigger).
async fn refuse_on_sqlite(app: &TestApp, table: &str, column: &str, value: &str) {
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&app.database_url).await.unwrap();
    let trigger = format!(
        "CREATE TRIGGER poison_{table} BEFORE INSERT ON {table} WHEN NEW.{column} = '{value}' \
         BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
    );
    sqlx::query(&trigger).execute(&mut conn).await.unwrap();
}

fn price() -> Pricer {
    Arc::new(|_: AffiliateVolume| 100)
}

async fn conversion_writer_isolates_a_poisoned_sale(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let store = app.store.clone();
    let mut worlds = Vec::new();
    for _ in 0..3 {
        worlds.push(world(&store).await);
    }
    let (m, camp, aff) = worlds[0].clone();
    let mut poisoned = conversion(&m, &camp, &aff, Some("poisoned"), 500, 10);
    if is_postgres(&engine) {
        poisoned.order_id = Some("bad\0order".into());
        poisoned.customer_name = Some("Mallory\0".into());
    } else {
        poisoned.campaign_id = "camp_does_not_exist".into();
    }
    // The poison is real: in one batch with a good sale, the database refuses the batch.
    let (gm, gc, ga) = worlds[1].clone();
    let probe = vec![
        refline_store::PendingConversion {
            request: request(conversion(&gm, &gc, &ga, Some(&unique("probe")), 100, 10), None, false),
            price: price(),
        },
        refline_store::PendingConversion { request: request(poisoned.clone(), None, false), price: price() },
    ];
    let refused = store.record_conversions(probe).await;
    assert!(matches!(&refused, Err(e) if !e.is_transient()), "{refused:?}");

    let (writer, mut tasks) = ConversionWriter::start(store.clone(), 1);
    let mut handles = Vec::new();
    for i in 0..60 {
        let (m, c, a) = worlds[i % 3].clone();
        let sale =
            request(conversion(&m, &c, &a, Some(&format!("good-{i}")), 1000 + i as i64, 10), None, false);
        let w = writer.clone();
        handles.push(tokio::spawn(async move { w.record(sale, price()).await }));
        if i == 30 {
            let w = writer.clone();
            let bad = request(poisoned.clone(), None, false);
            handles.push(tokio::spawn(async move { w.record(bad, price()).await }));
        }
    }
    let mut good = 0;
    let mut bad = 0;
    for handle in handles {
        match handle.await.unwrap() {
            Ok(c) => {
                assert!(c.order_id.as_deref().unwrap().starts_with("good-"));
                good += 1;
            }
            Err(RecordError::Store(e)) => {
                assert!(!e.is_transient(), "{e}");
                bad += 1;
            }
            Err(other) => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((good, bad), (60, 1));
    // Every good sale is in the database, merchant by merchant.
    for (m, _, _) in &worlds {
        let totals = store.conversion_totals(m, Mode::Live, None, None).await.unwrap();
        assert_eq!(totals.iter().map(|t| t.conversions).sum::<i64>(), 20, "merchant {m}");
    }
    // The writer keeps working.
    let (m, c, a) = worlds[2].clone();
    let after =
        writer.record(request(conversion(&m, &c, &a, Some("after"), 700, 11), None, false), price()).await;
    assert!(after.is_ok(), "{after:?}");
    drop(writer);
    while tasks.join_next().await.is_some() {}
}

fn raw_click(target: &TrackingTarget, landing: &str) -> RawClick {
    RawClick {
        id: refline_server::ids::new_ordered_id("click", 1_700_000_000_000),
        link: Arc::new(ResolvedLink { target: target.clone(), landing: None }),
        source: "redirect",
        ip: Some("203.0.113.9".parse().unwrap()),
        user_agent: Some("Mozilla/5.0 test".into()),
        kind: ClickKind::Human,
        landing_url: Some(landing.into()),
        referrer: None,
        at_ms: 1_700_000_000_000,
    }
}

fn target(merchant: &str, campaign: &str, affiliate: &str) -> TrackingTarget {
    TrackingTarget {
        merchant_id: merchant.into(),
        campaign_id: campaign.into(),
        tracking_code: "TC".into(),
        affiliate_id: affiliate.into(),
        target_url: None,
        cookie_window_days: 30,
        campaign_status: CampaignStatus::Active,
        membership_status: MembershipStatus::Approved,
        link_id: None,
    }
}

async fn click_writer_isolates_a_poisoned_click(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let store = app.store.clone();
    let mut targets = Vec::new();
    for _ in 0..3 {
        let (m, c, a) = world(&store).await;
        targets.push(target(&m, &c, &a));
    }
    let mut poisoned = targets[0].clone();
    let poisoned_url = if is_postgres(&engine) {
        // Ids come from the server, not from visitors, so nothing strips them.
        poisoned.merchant_id = format!("{}\0", poisoned.merchant_id);
        "https://shop.test/landing"
    } else {
        refuse_on_sqlite(&app, "clicks", "landing_url", "https://shop.test/poison").await;
        "https://shop.test/poison"
    };
    // A long window so every click below lands in one batch.
    let settings =
        TrackingSettings { batch_window: Duration::from_millis(300), ..TrackingSettings::default() };
    let (writer, task) = ClickWriter::start(store.clone(), &settings);
    let counters = writer.counters();
    for i in 0..45 {
        writer.click(raw_click(&targets[i % 3], "https://shop.test/ok")).await;
        if i == 20 {
            writer.click(raw_click(&poisoned, poisoned_url)).await;
            // What a visitor sent is stripped, not refused: this one is stored.
            writer.click(raw_click(&targets[1], "https://shop.test/\0stripped\u{1}")).await;
        }
    }
    // The refused click is counted once every part of the isolated batch is written, which can
    // be after the others are counted as stored: wait for both.
    wait_for(|| {
        counters.stored.load(std::sync::atomic::Ordering::Relaxed) >= 46
            && counters.rejected.load(std::sync::atomic::Ordering::Relaxed) >= 1
    })
    .await;
    assert_eq!(counters.stored.load(std::sync::atomic::Ordering::Relaxed), 46);
    assert_eq!(counters.rejected.load(std::sync::atomic::Ordering::Relaxed), 1);
    for (i, t) in targets.iter().enumerate() {
        let totals = store.click_totals(&t.merchant_id, Some(&t.campaign_id), None).await.unwrap();
        assert_eq!(totals.clicks, if i == 1 { 16 } else { 15 }, "merchant {}", t.merchant_id);
    }
    let stripped = store
        .list_clicks(
            &targets[1].merchant_id,
            &Default::default(),
            refline_store::PageRequest { limit: 100, offset: 0, sort: (), descending: true },
        )
        .await
        .unwrap();
    assert!(stripped.items.iter().any(|c| c.landing_url.as_deref() == Some("https://shop.test/stripped")));
    // Still working afterwards.
    writer.click(raw_click(&targets[1], "https://shop.test/after")).await;
    wait_for(|| counters.stored.load(std::sync::atomic::Ordering::Relaxed) >= 47).await;
    assert_eq!(counters.stored.load(std::sync::atomic::Ordering::Relaxed), 47);
    drop(writer);
    task.await.unwrap();
}

async fn audit_writer_keeps_every_entry(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let store = app.store.clone();
    let (sink, task) = AuditSink::start(store.clone());
    let merchants: Vec<String> = vec![unique("mer"), unique("mer"), unique("mer")];
    let entry = |merchant: &str, path: &str| AuditEntry {
        merchant_id: Some(merchant.into()),
        api_key_id: None,
        user_id: None,
        door: "api".into(),
        operation: None,
        target_id: None,
        method: Some("POST".into()),
        path: Some(path.into()),
        status_code: Some(201),
        error_code: None,
        ip_address: Some("203.0.113.1".into()),
        user_agent: Some("agent".into()),
        created_at: 1,
    };
    let hostile = AuditEntry {
        merchant_id: Some(format!("{}\0", merchants[0])),
        api_key_id: Some("key\0".into()),
        user_id: None,
        user_agent: Some("evil\0agent\u{1}".into()),
        ..entry(&merchants[0], &format!("/api/webhooks/stripe/merchant/\0{}", "x".repeat(10_000)))
    };
    let mut handles = Vec::new();
    for i in 0..30 {
        let s = sink.clone();
        let e = entry(&merchants[i % 3], &format!("/api/v1/things/{i}"));
        handles.push(tokio::spawn(async move { s.record(e).await }));
        if i == 15 {
            let s = sink.clone();
            let h = hostile.clone();
            handles.push(tokio::spawn(async move { s.record(h).await }));
        }
    }
    for h in handles {
        h.await.unwrap();
    }
    drop(sink);
    task.await.unwrap();
    let first = store.recent_audit_entries(Some(&merchants[0]), 100).await.unwrap();
    assert_eq!(first.len(), 11, "ten ordinary entries and the hostile one, defanged");
    let defanged =
        first.iter().find(|e| e.path.as_deref().is_some_and(|p| p.starts_with("/api/webhooks"))).unwrap();
    let path = defanged.path.as_deref().unwrap();
    assert!(!path.contains('\0') && path.len() <= 2048);
    assert_eq!(defanged.user_agent.as_deref(), Some("evilagent"));
    for m in &merchants[1..] {
        assert_eq!(store.recent_audit_entries(Some(m), 100).await.unwrap().len(), 10);
    }
}

/// A processor delivery the inbox refuses fails its own receiver alone: every other delivery
/// of the batch (other merchants' too) is stored — a second copy of each answers "duplicate" —
/// and the writer keeps working.
async fn inbox_writer_isolates_a_poisoned_delivery(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let store = app.store.clone();
    let poison_body = if is_postgres(&engine) {
        "{\"id\":\"evt\0poison\"}"
    } else {
        refuse_on_sqlite(&app, "processor_inbox", "body", "poison").await;
        "poison"
    };
    let merchants: Vec<String> = vec![unique("mer"), unique("mer"), unique("mer")];
    let delivery = |merchant: &str, body: &str| refline_store::InboxEntry {
        id: unique("whin"),
        merchant_id: merchant.into(),
        integration_id: unique("int"),
        provider: "stripe".into(),
        dedupe_key: unique("evt"),
        event_type: Some("checkout.session.completed".into()),
        headers: "[]".into(),
        query: String::new(),
        body: body.into(),
        verification: "signature".into(),
        status: "pending".into(),
        outcome: None,
        conversion_id: None,
        attempts: 0,
        // Due in 2100, so no test server's inbox worker claims them (PostgreSQL tests share
        // one database).
        next_attempt_at: 4_102_444_800_000,
        received_at: 1,
        processed_at: None,
    };
    let inbox = refline_core::inbound::inbox_writer::InboxWriter::new(store.clone());
    let mut good = Vec::new();
    let mut handles = Vec::new();
    for i in 0..30 {
        let e = delivery(&merchants[i % 3], "{}");
        good.push(e.clone());
        let w = inbox.clone();
        handles.push(tokio::spawn(async move { w.insert(e).await }));
        if i == 15 {
            let w = inbox.clone();
            let bad = delivery(&merchants[0], poison_body);
            handles.push(tokio::spawn(async move { w.insert(bad).await }));
        }
    }
    let mut outcomes = Vec::new();
    for h in handles {
        outcomes.push(h.await.unwrap());
    }
    let refused = outcomes.iter().filter(|o| o.is_err()).count();
    assert_eq!(refused, 1, "only the poisoned delivery fails: {outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| matches!(o, Ok(true))).count(), 30, "{outcomes:?}");
    // Each good delivery is stored: its redelivery is a duplicate.
    for e in good {
        let again = refline_store::InboxEntry { id: unique("whin"), ..e };
        assert!(!inbox.insert(again).await.unwrap(), "stored before");
    }
    assert!(inbox.insert(delivery(&merchants[1], "{}")).await.unwrap(), "still working afterwards");
}

/// Adding up sums past `i64` never breaks a read: stats and campaign reads saturate.
async fn money_sums_cannot_overflow(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let merchant = app.merchant("ultimate").await;
    let campaign = app.campaign(&merchant.key, serde_json::json!({})).await;
    let camp = campaign["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&merchant.key, &camp, "big@spender.test").await;
    // Written below the API (which bounds each sale) to reach totals no door allows.
    for i in 0..3 {
        let c = conversion(
            &merchant.id,
            &camp,
            &aff,
            Some(&format!("huge-{i}")),
            4_000_000_000_000_000_000,
            10 + i,
        );
        // A month each, so the monthly tally rows (one sum per row) stay in range.
        let mut r = request(c, None, false);
        r.month = 202601 + i;
        app.store.record_conversion(r, Arc::new(|_| 1_000_000_000_000_000_000)).await.unwrap();
    }
    let stats = app.get(&merchant.key, "/api/v1/stats").await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    let read = app.get(&merchant.key, &format!("/api/v1/campaigns/{camp}")).await;
    assert_eq!(read.status, 200, "{}", read.text);
    let all = app.store.conversion_totals(&merchant.id, Mode::Live, None, None).await.unwrap();
    let [totals] = &all[..] else { panic!("one currency expected: {all:?}") };
    assert_eq!(totals.revenue_minor, i64::MAX, "saturated");
    assert_eq!(totals.commissions_minor, 3_000_000_000_000_000_000, "exact below the bound");
    let affiliates = app.get(&merchant.key, "/api/v1/affiliates").await;
    assert_eq!(affiliates.status, 200, "{}", affiliates.text);
}

async fn wait_for(done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

engine_tests!(
    conversion_writer_isolates_a_poisoned_sale,
    click_writer_isolates_a_poisoned_click,
    audit_writer_keeps_every_entry,
    inbox_writer_isolates_a_poisoned_delivery,
    money_sums_cannot_overflow,
);

//! Outbound webhooks end to end: a real receiver, both signature schemes, retries on a
//! controllable clock, auto-disable and catch-up, replay, SSRF refusals, test keys, restarts.

use std::{sync::Arc, time::Duration};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use hmac::{Hmac, Mac};
use refline_server::clock::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{
    engine_tests,
    receiver::{Behaviour, MapResolver, Receiver},
    support::{Engine, TestApp, TestMerchant},
};

/// The Standard Webhooks reference verification (shared/spec/payment-webhooks.md §9.2), with the
/// length check the reference library forgets (§9.3).
fn standard_verify(secret: &str, id: &str, timestamp: &str, body: &str, header: &str) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    header.split(' ').filter_map(|entry| entry.split_once(',')).any(|(version, sig)| {
        version == "v1"
            && sig.len() == expected.len()
            && bool::from(sig.as_bytes().ct_eq(expected.as_bytes()))
    })
}

/// LinkJolt's guide: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, ASCII secret.
fn linkjolt_verify(secret: &str, body: &str, header: &str) -> bool {
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_string()),
            Some(("v1", v)) => signatures.push(v.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    signatures.iter().any(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())))
}

/// A server whose webhooks may reach the local receiver, polling fast, on `clock`.
/// Each gets its own database: delivery workers claim every due delivery of their database.
async fn start(engine: &Engine, clock: Option<Arc<ManualClock>>) -> TestApp {
    TestApp::start_with(&engine.isolated().await, |c| {
        c.webhooks.allow_private_targets = true;
        c.webhooks.poll_interval = Duration::from_millis(20);
        c.webhooks.timeout = Duration::from_millis(500);
        if let Some(clock) = clock {
            c.clock = clock;
        }
    })
    .await
}

/// A merchant with a campaign, an affiliate, and a webhook to `url` for `events`.
async fn setup(app: &TestApp, url: &str, events: Value) -> (TestMerchant, String, String, Value) {
    let m = app.merchant("ultimate").await;
    let camp = app.campaign(&m.key, json!({})).await;
    let camp_id = camp["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&m.key, &camp_id, "hooked@partner.test").await;
    let hook = app.post(&m.key, "/api/v1/webhooks", json!({ "url": url, "events": events })).await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    (m, camp_id, aff, hook.data().clone())
}

async fn deliveries(app: &TestApp, m: &TestMerchant, hook: &Value) -> Vec<Value> {
    let path = format!("/api/v1/webhooks/{}/deliveries", hook["id"].as_str().unwrap());
    let reply = app.get(&m.key, &path).await;
    reply.data().as_array().unwrap_or_else(|| panic!("deliveries: {}", reply.text)).clone()
}

/// Waits until the delivery list satisfies `done`.
async fn wait_deliveries(
    app: &TestApp,
    m: &TestMerchant,
    hook: &Value,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..500 {
        let list = deliveries(app, m, hook).await;
        if done(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("deliveries never reached the expected state: {:?}", deliveries(app, m, hook).await);
}

async fn events_are_delivered_signed_both_ways(engine: Engine) {
    // The verifier is the reference algorithm: it accepts the spec's own test vector.
    assert!(standard_verify(
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        "1649367553",
        r#"{"email":"test@example.com","username":"test_user"}"#,
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
    ));
    let receiver = Receiver::start().await;
    let app = start(&engine, None).await;
    let (m, camp, aff, hook) =
        setup(&app, &receiver.url, json!(["conversion.created", "conversion.approved", "affiliate.joined"]))
            .await;
    let secret = hook["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 64);
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(hook["id"].as_str().unwrap().starts_with("wh_"));
    let whsec = hook["standardWebhooksSecret"].as_str().unwrap();

    let created = app.convert(&m.key, &camp, &aff, json!(100), json!({ "orderId": "hooked-1" })).await;
    let conv_id = created.data()["id"].as_str().unwrap().to_string();
    app.patch(&m.key, &format!("/api/v1/conversions/{conv_id}"), json!({ "status": "approved" })).await;
    let got = receiver.wait_for(2).await;
    for r in &got {
        let id = r.header("webhook-id");
        assert!(id.starts_with("wh_del_") && !id.contains('.'));
        assert_eq!(r.json()["id"], id, "payload id is the delivery id");
        assert!(standard_verify(
            whsec,
            id,
            r.header("webhook-timestamp"),
            &r.body,
            r.header("webhook-signature")
        ));
        assert!(linkjolt_verify(secret, &r.body, r.header("x-linkjolt-signature")));
        assert!(!linkjolt_verify(&"0".repeat(64), &r.body, r.header("x-linkjolt-signature")));
        let t: i64 = r.header("webhook-timestamp").parse().unwrap();
        assert!((t - refline_server::clock::now_ms() / 1000).abs() < 60);
        assert_eq!(r.header("content-type"), "application/json");
    }
    let bodies: Vec<Value> = got.iter().map(|r| r.json()).collect();
    let first = bodies.iter().find(|b| b["event"] == "conversion.created").expect("created event");
    assert_eq!(first["data"]["conversionId"], conv_id.as_str());
    assert_eq!(first["data"]["amount"], "100.00");
    assert_eq!(first["data"]["commission"], "20.00");
    assert_eq!(first["data"]["status"], "pending");
    assert!(first["timestamp"].as_str().unwrap().ends_with('Z'));
    let approved = bodies.iter().find(|b| b["event"] == "conversion.approved").expect("approved event");
    assert_eq!(approved["data"]["status"], "approved");
    // affiliate.joined was subscribed, but the affiliate joined before the endpoint existed.
    assert!(bodies.iter().all(|b| b["event"] != "affiliate.joined"));

    let list =
        wait_deliveries(&app, &m, &hook, |l| l.len() == 2 && l.iter().all(|d| d["status"] == "delivered"))
            .await;
    assert_eq!(list[0]["attemptLog"][0]["statusCode"], 200);
    assert_eq!(list[0]["attempts"], 1);

    // An affiliate joining now is announced; an unsubscribed event is not.
    app.affiliate(&m.key, &camp, "second@partner.test").await;
    let got = receiver.wait_for(3).await;
    assert_eq!(got[2].json()["event"], "affiliate.joined");
    assert_eq!(got[2].json()["data"]["email"], "second@partner.test");
    app.patch(&m.key, &format!("/api/v1/conversions/{conv_id}"), json!({ "status": "rejected" })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 3, "conversion.rejected was not subscribed");

    // Removing an affiliate from a campaign announces affiliate.removed.
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());
    app.patch(&m.key, &path, json!({ "events": ["affiliate.removed", "affiliate.rejected"] })).await;
    let removed = app
        .send(Method::DELETE, Some(&m.key), &format!("/api/v1/affiliates/{aff}/campaigns/{camp}"), None)
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    let got = receiver.wait_for(4).await;
    assert_eq!(got[3].json()["event"], "affiliate.removed");
    assert_eq!(got[3].json()["data"]["affiliateId"], aff.as_str());
    assert_eq!(got[3].json()["data"]["status"], "removed");
    let again = app
        .send(Method::DELETE, Some(&m.key), &format!("/api/v1/affiliates/{aff}/campaigns/{camp}"), None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let refused = app.convert(&m.key, &camp, &aff, json!(10), json!({})).await;
    assert_eq!(refused.code(), "affiliate_not_approved", "no longer on the campaign");
}

async fn failures_retry_on_schedule_then_disable_and_catch_up(engine: Engine) {
    let clock = Arc::new(ManualClock::new());
    let receiver = Receiver::start().await;
    receiver.behave(Behaviour::Status(500));
    let app = start(&engine, Some(clock.clone())).await;
    let (m, camp, aff, hook) = setup(&app, &receiver.url, json!(["conversion.created"])).await;
    let hook_path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());

    app.convert(&m.key, &camp, &aff, json!(10), json!({ "orderId": "r-1" })).await;
    receiver.wait_for(1).await;
    let list = wait_deliveries(&app, &m, &hook, |l| l[0]["attempts"] == 1).await;
    assert_eq!(list[0]["status"], "pending");
    // Retries wait for the schedule (1 min ± 20 %), not for real time.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(receiver.received().len(), 1, "no retry before its time");
    for (n, wait_ms) in [(2, 72_000), (3, 360_000), (4, 2_160_000)] {
        // The next retry is scheduled from the clock when the attempt is recorded: move time
        // only after that, or the schedule starts from the moved clock.
        wait_deliveries(&app, &m, &hook, |l| l[0]["attempts"] == n - 1 && l[0]["status"] == "pending").await;
        clock.advance(wait_ms);
        receiver.wait_for(n).await;
    }
    let list = wait_deliveries(&app, &m, &hook, |l| l[0]["status"] == "failed").await;
    assert_eq!(list[0]["attempts"], 4, "first attempt plus three retries");
    assert_eq!(list[0]["attemptLog"].as_array().unwrap().len(), 4);
    assert_eq!(list[0]["attemptLog"][3]["statusCode"], 500);
    clock.advance(10_000_000);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(receiver.received().len(), 4, "a failed delivery is not retried again");
    assert_eq!(app.get(&m.key, &hook_path).await.data()["status"], "active", "4 failures in a row");

    // The fifth failure in a row disables the endpoint; what happens next is held.
    app.convert(&m.key, &camp, &aff, json!(10), json!({ "orderId": "r-2" })).await;
    receiver.wait_for(5).await;
    let endpoint = loop {
        let e = app.get(&m.key, &hook_path).await;
        if e.data()["status"] == "disabled" {
            break e;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(endpoint.data()["consecutiveFailures"], 5);
    app.convert(&m.key, &camp, &aff, json!(10), json!({ "orderId": "r-3" })).await;
    clock.advance(100_000);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(receiver.received().len(), 5, "nothing is sent to a disabled endpoint");
    let held = deliveries(&app, &m, &hook).await;
    assert_eq!(held.iter().filter(|d| d["status"] == "held").count(), 2);

    // No replay while disabled.
    let first_failed =
        deliveries(&app, &m, &hook).await.into_iter().find(|d| d["status"] == "failed").unwrap();
    let replay_path = format!("{hook_path}/deliveries/{}/retry", first_failed["id"].as_str().unwrap());
    let refused = app.post(&m.key, &replay_path, json!({})).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::CONFLICT, "webhook_disabled"));

    // Re-activated, it gets what it missed.
    receiver.behave(Behaviour::Status(204));
    let r = app.patch(&m.key, &hook_path, json!({ "status": "active" })).await;
    assert_eq!(r.data()["status"], "active", "{}", r.text);
    assert_eq!(r.data()["consecutiveFailures"], 0);
    let got = receiver.wait_for(7).await;
    let orders: Vec<String> =
        got[5..].iter().map(|r| r.json()["data"]["orderId"].as_str().unwrap().to_string()).collect();
    assert!(orders.contains(&"r-2".to_string()) && orders.contains(&"r-3".to_string()), "{orders:?}");
    wait_deliveries(&app, &m, &hook, |l| l.iter().filter(|d| d["status"] == "delivered").count() == 2).await;

    // Replay (beyond LinkJolt): a failed delivery is sent again on request.
    let failed = deliveries(&app, &m, &hook).await.into_iter().find(|d| d["status"] == "failed").unwrap();
    let retry = app
        .post(&m.key, &format!("{hook_path}/deliveries/{}/retry", failed["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!(retry.status, StatusCode::ACCEPTED, "{}", retry.text);
    let got = receiver.wait_for(8).await;
    assert_eq!(got[7].header("webhook-id"), failed["id"].as_str().unwrap(), "same id on a replay");
    let missing = app.post(&m.key, &format!("{hook_path}/deliveries/wh_del_nope/retry"), json!({})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn hanging_and_down_receivers_are_failures(engine: Engine) {
    let clock = Arc::new(ManualClock::new());
    let receiver = Receiver::start().await;
    receiver.behave(Behaviour::Hang);
    let app = start(&engine, Some(clock.clone())).await;
    let (m, camp, aff, hook) = setup(&app, &receiver.url, json!(["conversion.created"])).await;
    app.convert(&m.key, &camp, &aff, json!(10), json!({})).await;
    let list = wait_deliveries(&app, &m, &hook, |l| l[0]["attempts"] == 1).await;
    assert_eq!(list[0]["attemptLog"][0]["error"], "timed out");
    receiver.stop();
    clock.advance(80_000);
    let list = wait_deliveries(&app, &m, &hook, |l| l[0]["attempts"] == 2).await;
    let error = list[0]["attemptLog"][1]["error"].as_str().unwrap();
    assert!(error.starts_with("request failed"), "{error}");
    assert_eq!(list[0]["status"], "pending");
}

async fn ssrf_targets_are_refused(engine: Engine) {
    let resolver = Arc::new(MapResolver::default());
    resolver.set("hooks.example.com", "93.184.216.34");
    resolver.set("rebind.example.com", "93.184.216.34");
    resolver.set("sneaky.example.com", "127.0.0.1");
    let app = TestApp::start_with(&engine.isolated().await, |c| c.resolver = resolver.clone()).await;
    let m = app.merchant("ultimate").await;
    let create = |url: &str| {
        app.post(&m.key, "/api/v1/webhooks", json!({ "url": url, "events": ["conversion.created"] }))
    };
    for url in [
        "http://hooks.example.com/x",
        "https://localhost/x",
        "https://127.0.0.1/x",
        "https://127.1.2.3/x",
        "https://10.0.0.8/x",
        "https://172.16.5.4/x",
        "https://192.168.0.10/x",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/x",
        "https://0.0.0.0/x",
        "https://[::1]/x",
        "https://[fd00::1]/x",
        "https://[fe80::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://printer.local/x",
        "https://metadata.google.internal/x",
        "https://sneaky.example.com/x",
        "https://user:pass@hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "not a url",
    ] {
        let r = create(url).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "validation_error"), "{url}: {}", r.text);
        assert_eq!(r.body["error"]["details"][0]["path"], json!(["url"]), "{url}");
    }
    let nowhere = create("https://nowhere.example.com/x").await;
    assert!(nowhere.text.contains("does not resolve"), "{}", nowhere.text);
    let ok = create("https://hooks.example.com/linkjolt").await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    // DNS rebinding: the name turns private after it was saved; test dispatch checks again.
    let rebind = create("https://rebind.example.com/x").await;
    assert_eq!(rebind.status, StatusCode::CREATED);
    resolver.set("rebind.example.com", "10.1.2.3");
    let id = rebind.data()["id"].as_str().unwrap();
    let test = app.post(&m.key, &format!("/api/v1/webhooks/{id}/test"), json!({})).await;
    assert_eq!(test.data()["success"], false);
    assert!(test.data()["error"].as_str().unwrap().contains("private"), "{}", test.text);
    assert_eq!(test.data()["statusCode"], Value::Null, "nothing was sent");
    // PATCH re-checks too.
    let r =
        app.patch(&m.key, &format!("/api/v1/webhooks/{id}"), json!({ "url": "https://10.0.0.1/x" })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

async fn test_keys_dispatch_nothing(engine: Engine) {
    let receiver = Receiver::start().await;
    let app = start(&engine, None).await;
    let (m, camp, aff, hook) =
        setup(&app, &receiver.url, json!(["conversion.created", "conversion.approved", "affiliate.joined"]))
            .await;
    let c = app.convert(&m.test_key, &camp, &aff, json!(10), json!({})).await;
    let id = c.data()["id"].as_str().unwrap();
    app.patch(&m.test_key, &format!("/api/v1/conversions/{id}"), json!({ "status": "approved" })).await;
    app.post(&m.test_key, "/api/v1/affiliates", json!({ "email": "t@partner.test", "campaignId": camp }))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.received().is_empty());
    assert!(deliveries(&app, &m, &hook).await.is_empty());
    // The test dispatch is an explicit request, not an event: it is sent.
    let test =
        app.post(&m.key, &format!("/api/v1/webhooks/{}/test", hook["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(test.data()["success"], true, "{}", test.text);
    assert_eq!(receiver.wait_for(1).await[0].json()["event"], "webhook.test");
}

async fn endpoints_are_managed_and_secrets_rotate(engine: Engine) {
    let receiver = Receiver::start().await;
    let app = start(&engine, None).await;
    let (m, camp, aff, hook) = setup(&app, &receiver.url, json!(["conversion.created"])).await;
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());
    let read = app.get(&m.key, &path).await;
    assert!(read.data().get("secret").is_none(), "the secret is shown once");
    let listed = app.get(&m.key, "/api/v1/webhooks").await;
    assert_eq!(listed.body["pagination"]["total"], 1);
    assert!(listed.data()[0].get("secret").is_none());
    let other = app.merchant("ultimate").await;
    assert_eq!(app.get(&other.key, &path).await.status, StatusCode::NOT_FOUND);

    for bad in [
        json!({ "events": [] }),
        json!({ "events": ["conversion.deleted"] }),
        json!({ "events": "conversion.created" }),
    ] {
        let r = app.patch(&m.key, &path, bad.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let r = app.post(&m.key, "/api/v1/webhooks", json!({ "url": receiver.url })).await;
    assert_eq!(r.body["error"]["details"][0]["path"], json!(["events"]));

    let rotated = app.patch(&m.key, &path, json!({ "rotateSecret": true })).await;
    let new_secret = rotated.data()["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, hook["secret"].as_str().unwrap());
    app.convert(&m.key, &camp, &aff, json!(10), json!({})).await;
    let got = receiver.wait_for(1).await;
    let header = got[0].header("x-linkjolt-signature");
    assert_eq!(header.matches("v1=").count(), 2, "old and new secret both sign during rotation");
    assert!(linkjolt_verify(&new_secret, &got[0].body, header));
    assert!(linkjolt_verify(hook["secret"].as_str().unwrap(), &got[0].body, header));
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2);

    let deleted = app.send(Method::DELETE, Some(&m.key), &path, None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(app.get(&m.key, &path).await.status, StatusCode::NOT_FOUND);
    let pro = app.merchant("pro").await;
    let r = app
        .post(&pro.key, "/api/v1/webhooks", json!({ "url": receiver.url, "events": ["conversion.created"] }))
        .await;
    assert_eq!(r.code(), "insufficient_permissions");
}

/// The outbox survives the process: a delivery committed by a node that stops before sending is
/// sent by the next one.
async fn committed_events_survive_a_restart(engine: Engine) {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = match engine.isolated().await {
        Engine::Sqlite => format!("sqlite://{}", dir.path().join("outbox.db").display()),
        Engine::Postgres(url) => url,
    };
    let first = TestApp::start_on(url.clone(), None, |c| {
        c.webhooks.allow_private_targets = true;
        c.webhooks.worker_enabled = false;
    })
    .await;
    let (m, camp, aff, hook) = setup(&first, &receiver.url, json!(["conversion.created"])).await;
    first.convert(&m.key, &camp, &aff, json!(10), json!({ "orderId": "outbox-1" })).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(receiver.received().is_empty());
    first.stop().await;
    let second = TestApp::start_on(url, None, |c| {
        c.webhooks.allow_private_targets = true;
        c.webhooks.poll_interval = Duration::from_millis(20);
    })
    .await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].json()["data"]["orderId"], "outbox-1");
    wait_deliveries(&second, &m, &hook, |l| l[0]["status"] == "delivered").await;
}

/// A `refline serve` child killed when the test ends, however it ends: a failed assertion must
/// not leave servers running (two outlived a failed run here by an hour, holding its database).
struct KilledOnDrop(std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Two `refline serve` processes on one database deliver every event exactly once.
async fn two_processes_deliver_each_event_once(engine: Engine) {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = match engine.isolated().await {
        Engine::Sqlite => format!("sqlite://{}", dir.path().join("nodes.db").display()),
        Engine::Postgres(url) => url,
    };
    // Set up through a server without a worker, then queue 1,000 events in the outbox.
    let a = TestApp::start_on(url.clone(), None, |c| {
        c.webhooks.allow_private_targets = true;
        c.webhooks.worker_enabled = false;
    })
    .await;
    let (m, _, _, _) = setup(&a, &receiver.url, json!(["conversion.updated"])).await;
    let events: Vec<refline_store::OutboxEvent> = (0..1000)
        .map(|i| refline_store::OutboxEvent {
            merchant_id: m.id.clone(),
            event: "conversion.updated",
            data: json!({ "n": i }),
            at: refline_server::clock::now_ms(),
        })
        .collect();
    a.store.emit_events(&events).await.unwrap();
    a.stop().await;
    let spawn = || {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        std::process::Command::new(env!("CARGO_BIN_EXE_refline"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--allow-private-webhook-targets"])
            .env("REFLINE_DATABASE_URL", &url)
            // Both nodes share one key, as a real deployment must (no key file in the crate).
            .env("REFLINE_SECRET_KEY", "42".repeat(32))
            // Mails go to the temp dir, never to `refline-mail/` in the source tree.
            .env("REFLINE_MAIL_DIR", dir.path().join("mail"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(KilledOnDrop)
            .unwrap()
    };
    let (mut one, mut two) = (spawn(), spawn());
    let got = receiver.wait_for(1000).await;
    // Let any duplicate that was going to happen arrive before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = if receiver.received().len() > got.len() { receiver.received() } else { got };
    for child in [&mut one, &mut two] {
        std::process::Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    }
    for child in [&mut one, &mut two] {
        assert!(child.0.wait().unwrap().success(), "graceful exit");
    }
    let mut ids: Vec<String> = got.iter().map(|r| r.header("webhook-id").to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (1000, 1000), "no loss, no duplicate");
    let mut numbers: Vec<i64> = got.iter().map(|r| r.json()["data"]["n"].as_i64().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..1000).collect::<Vec<_>>());
}

engine_tests!(
    events_are_delivered_signed_both_ways,
    failures_retry_on_schedule_then_disable_and_catch_up,
    hanging_and_down_receivers_are_failures,
    ssrf_targets_are_refused,
    test_keys_dispatch_nothing,
    endpoints_are_managed_and_secrets_rotate,
    committed_events_survive_a_restart,
    two_processes_deliver_each_event_once,
);

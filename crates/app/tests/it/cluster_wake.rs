//! Work written through one node wakes another node's workers through `LISTEN`/`NOTIFY`, not
//! its polling (issue 17): node A has no workers of its own; node B's webhook, processor-inbox
//! and mail workers poll only once an hour, so anything B does within seconds of A's write was
//! woken by A's announcement. PostgreSQL only (SQLite serves one node); skipped without it.
//!
//! Payouts have no queue a write could feed: a send runs in the request that asks for it
//! (`POST /payouts/send`, the dashboard) and automatic runs take the `scheduled_runs` lease, so
//! there is no payout worker to wake (docs/SCALING.md, "Several nodes on one PostgreSQL").

use std::time::{Duration, Instant};

use refline_processors::fixtures::Sale;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    processors::signed_stripe_invoice,
    receiver::Receiver,
    support::{Engine, TestApp},
};

/// Far longer than the test: a worker that acts was woken, not polling.
const HOUR: Duration = Duration::from_secs(3600);
/// How long a woken worker may take on a loaded machine (the announcement itself takes
/// milliseconds).
const WAKE_BOUND: Duration = Duration::from_secs(5);

async fn within_bound<F, Fut>(what: &str, mut done: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < WAKE_BOUND, "{what}: no worker woke within {WAKE_BOUND:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_node_wakes_the_workers_of_another() {
    let Some(engine) = Engine::postgres() else { return };
    let Engine::Postgres(url) = engine.isolated().await else { unreachable!() };
    let mail_dir = tempfile::tempdir().unwrap();
    // B: every worker on, each polling once an hour.
    // Nodes of one cluster share the key that seals connection secrets (docs/SCALING.md).
    let secret_key = [0x5A; 32];
    let b = TestApp::start_on(url.clone(), None, |c| {
        c.secret_key = secret_key;
        c.webhooks.allow_private_targets = true;
        c.webhooks.poll_interval = HOUR;
        c.webhooks.inbox_poll_interval = HOUR;
        c.mail.poll = HOUR;
        c.mail.digest_poll = HOUR;
        c.mail.mail_dir = Some(mail_dir.path().to_path_buf());
    })
    .await;
    // A: no workers at all; it only writes and announces.
    let a = TestApp::start_on(url, None, |c| {
        c.secret_key = secret_key;
        c.webhooks.allow_private_targets = true;
        c.webhooks.worker_enabled = false;
        c.mail.worker_enabled = false;
    })
    .await;
    let receiver = Receiver::start().await;
    let m = a.merchant("ultimate").await;
    let camp = a.campaign(&m.key, json!({})).await;
    let (camp_id, code) =
        (camp["id"].as_str().unwrap().to_string(), camp["trackingCode"].as_str().unwrap().to_string());
    let aff = a.affiliate(&m.key, &camp_id, "wake@partner.test").await;
    let hook = a
        .post(&m.key, "/api/v1/webhooks", json!({ "url": receiver.url, "events": ["conversion.created"] }))
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    let secret = "whsec_wake_test";
    let integration = a
        .post(&m.key, "/api/v1/integrations", json!({ "provider": "stripe", "webhookSecret": secret }))
        .await;
    assert_eq!(integration.status, StatusCode::CREATED, "{}", integration.text);
    // B's listening connection is up well before the writes below (it starts with the server).
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Outbound webhook: a sale through A is delivered by B's worker.
    let sale = a.convert(&m.key, &camp_id, &aff, json!(25), json!({ "orderId": "wake-1" })).await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    let took = within_bound("outbound webhook", || async { !receiver.received().is_empty() }).await;
    assert_eq!(receiver.received()[0].json()["data"]["orderId"], "wake-1");
    eprintln!("webhook delivered by the other node {took:?} after the sale");

    // Processor inbox: a Stripe delivery received by A becomes a conversion through B's worker.
    let now = crate::processors::now_s();
    let paid = Sale {
        event_id: "evt_wake_1".into(),
        object_id: "in_wake_1".into(),
        amount_minor: 10_000,
        reference: Some(format!("tc_{code}_aff_{aff}_cid_click_fixture")),
        created_unix_s: now,
        ..Sale::default()
    };
    let request = signed_stripe_invoice(&a.client(), &a.url(""), &m.id, secret, now, &paid);
    assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
    let took = within_bound("processor inbox", || async {
        let list = a.get(&m.key, "/api/v1/conversions?limit=100").await;
        list.data().as_array().unwrap().iter().any(|c| c["source"] == "stripe")
    })
    .await;
    eprintln!("processor delivery handled by the other node {took:?} after it was received");

    // Connections: B remembers the merchant's Stripe connection once a delivery used it; the
    // connection removed through A is refused by B as soon as the announcement lands (at the
    // latest when B's one-second memory expires), never accepted for long.
    let deliver_to_b = |n: u32| {
        let paid = Sale {
            event_id: format!("evt_wake_conn_{n}"),
            object_id: format!("in_wake_conn_{n}"),
            amount_minor: 10_000,
            reference: Some(format!("tc_{code}_aff_{aff}_cid_click_fixture")),
            created_unix_s: now,
            ..Sale::default()
        };
        let request = signed_stripe_invoice(&b.client(), &b.url(""), &m.id, secret, now, &paid);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(deliver_to_b(0).await, StatusCode::OK, "B verifies with the connection");
    let integration_id = integration.data()["id"].as_str().unwrap().to_string();
    let removed = a.delete(&m.key, &format!("/api/v1/integrations/{integration_id}")).await;
    assert!(removed.status.is_success(), "{}", removed.text);
    let mut n = 0;
    let took = within_bound("connection removed", || {
        n += 1;
        let status = deliver_to_b(n);
        async move { status.await == StatusCode::NOT_FOUND }
    })
    .await;
    eprintln!("connection removed through one node refused by the other {took:?} later");

    // Mail: an invitation queued through A is delivered by B's mail worker.
    let invitee = "wake-invitee@partner.test";
    let invited =
        a.post(&m.key, "/api/v1/affiliates/invite", json!({ "email": invitee, "campaignId": camp_id })).await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
    let took = within_bound("mail", || async {
        std::fs::read_dir(mail_dir.path())
            .unwrap()
            .flatten()
            .filter(|entry| entry.path().extension().is_some_and(|x| x == "eml"))
            .any(|entry| std::fs::read_to_string(entry.path()).is_ok_and(|eml| eml.contains(invitee)))
    })
    .await;
    eprintln!("invitation mailed by the other node {took:?} after it was queued");

    a.stop().await;
    b.stop().await;
}

//! `/metrics` (issue 17): off by default, behind its bearer token, Prometheus text whose
//! request counters move per route template and whose click, queue and backlog figures follow
//! the traffic.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Mutex;

use crate::{
    engine_tests,
    support::{Engine, TestApp},
};

const TOKEN: &str = "scrape-me-7f3a";

/// The recorder is one per process; gauges are set by whichever server is scraped. These tests
/// scrape one at a time so each reads its own server's figures.
static SCRAPES: Mutex<()> = Mutex::const_new(());

async fn scrape(app: &TestApp) -> String {
    let reply = app.client().get(app.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let content_type = reply.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    reply.text().await.unwrap()
}

/// The value of the sample of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics_are_off_unless_a_token_is_set(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let reply = app.send(reqwest::Method::GET, None, "/metrics", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    app.stop().await;

    let app = TestApp::start_with(&engine, |c| c.metrics_token = Some(TOKEN.into())).await;
    for auth in [None, Some("Bearer wrong"), Some(TOKEN)] {
        let mut request = app.client().get(app.url("/metrics"));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(reply.headers()["www-authenticate"], "Bearer");
    }
    app.stop().await;
}

async fn request_counters_move_per_route_template(engine: Engine) {
    let app = TestApp::start_with(&engine, |c| c.metrics_token = Some(TOKEN.into())).await;
    let m = app.merchant("ultimate").await;
    let _guard = SCRAPES.lock().await;
    let before = scrape(&app).await;
    let me = ["method=\"GET\"", "route=\"/api/v1/me\"", "status=\"200\""];
    let start = sample(&before, "refline_http_requests_total", &me).unwrap_or(0.0);
    for _ in 0..3 {
        assert_eq!(app.get(&m.key, "/api/v1/me").await.status, StatusCode::OK);
    }
    let missing = app.get(&m.key, "/api/v1/campaigns/camp_secretpath123").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let probe = app.send(reqwest::Method::GET, None, "/no/such/path/xyz789", None).await;
    assert_eq!(probe.status, StatusCode::NOT_FOUND);
    // Visitors' links skip the router (`http::fast_lane`) but are counted under the same
    // templates the router would have matched, never their codes.
    let short = app.send(reqwest::Method::GET, None, "/l/shortsecret42", None).await;
    assert_eq!(short.status, StatusCode::NOT_FOUND);
    let hosted = app.send(reqwest::Method::GET, None, "/redirect?tc=a&aff=b", None).await;
    assert_eq!(hosted.status, StatusCode::NOT_FOUND);
    let after = scrape(&app).await;
    for route in ["route=\"/l/{code}\"", "route=\"/redirect\""] {
        let counted = ["method=\"GET\"", route, "status=\"404\""];
        assert!(sample(&after, "refline_http_requests_total", &counted).unwrap_or(0.0) >= 1.0, "{after}");
    }
    assert!(!after.contains("shortsecret42"), "{after}");
    let end = sample(&after, "refline_http_requests_total", &me).unwrap();
    assert!(end - start >= 3.0, "{start} → {end}");
    // Route templates, never raw paths: ids and scanners' paths do not become series.
    let template = ["route=\"/api/v1/campaigns/{id}\"", "status=\"404\""];
    assert!(sample(&after, "refline_http_requests_total", &template).unwrap() >= 1.0, "{after}");
    assert!(!after.contains("camp_secretpath123") && !after.contains("xyz789"), "{after}");
    assert!(sample(&after, "refline_http_requests_total", &["route=\"unmatched\""]).unwrap() >= 1.0);
    // Latency histogram with buckets, per route.
    assert!(
        sample(
            &after,
            "refline_http_request_duration_seconds_bucket",
            &["route=\"/api/v1/me\"", "le=\"+Inf\""]
        )
        .unwrap()
            >= 3.0,
        "{after}"
    );
    for name in [
        "refline_click_queue_depth",
        "refline_processor_inbox_backlog",
        "refline_mail_backlog",
        "refline_build_info",
        "refline_clicks_accepted_total",
    ] {
        assert!(sample(&after, name, &[]).is_some(), "{name} missing:\n{after}");
    }
    assert_eq!(sample(&after, "refline_database_up", &[]), Some(1.0));
    assert!(sample(&after, "refline_db_pool_connections", &["state=\"idle\""]).is_some(), "{after}");
    assert!(sample(&after, "refline_db_pool_max_connections", &[]).unwrap() >= 1.0);
    app.stop().await;
}

/// Deliveries to a receiver that is down: the attempts are counted by outcome and the retries
/// wait in the outbox, which the backlog gauge shows.
async fn webhook_outcomes_and_backlog_are_reported(engine: Engine) {
    // Its own database: the worker claims every due delivery of its database.
    let app = TestApp::start_with(&engine.isolated().await, |c| {
        c.metrics_token = Some(TOKEN.into());
        c.webhooks.allow_private_targets = true;
        c.webhooks.poll_interval = Duration::from_millis(20);
        c.webhooks.timeout = Duration::from_millis(500);
    })
    .await;
    let m = app.merchant("ultimate").await;
    let camp = app.campaign(&m.key, json!({})).await;
    let camp_id = camp["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&m.key, &camp_id, "metrics@partner.test").await;
    // Nothing listens on a port just released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{closed}/hook");
    let hook =
        app.post(&m.key, "/api/v1/webhooks", json!({ "url": url, "events": ["conversion.created"] })).await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);

    let _guard = SCRAPES.lock().await;
    let retry = ["outcome=\"retry\""];
    let start = sample(&scrape(&app).await, "refline_webhook_attempts_total", &retry).unwrap_or(0.0);
    let sale = app.convert(&m.key, &camp_id, &aff, json!(50), json!({ "orderId": "metrics-1" })).await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    let mut last = String::new();
    for _ in 0..200 {
        last = scrape(&app).await;
        let attempts = sample(&last, "refline_webhook_attempts_total", &retry).unwrap_or(0.0);
        let pending = sample(&last, "refline_webhook_backlog", &["state=\"pending\""]).unwrap_or(0.0);
        // The retry is scheduled a minute ahead: pending, not due.
        let due = sample(&last, "refline_webhook_backlog", &["state=\"due\""]);
        if attempts > start && pending >= 1.0 && due == Some(0.0) {
            app.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the failed attempt was never counted:\n{last}");
}

/// The queue figures follow traffic: a click moves the click writer's counters; with no
/// workers and no mail transport, an invitation, a processor delivery and a sale with a webhook
/// endpoint each wait in their backlog, and the gauges count them.
async fn click_and_backlog_figures_follow_traffic(engine: Engine) {
    // Its own database: the backlogs are read from the database, so no other test's work counts.
    let app = TestApp::start_with(&engine.isolated().await, |c| {
        c.metrics_token = Some(TOKEN.into());
        c.webhooks.allow_private_targets = true;
        c.webhooks.worker_enabled = false;
    })
    .await;
    let m = app.merchant("ultimate").await;
    let camp = app.campaign(&m.key, json!({ "targetUrl": "https://shop.example/metrics" })).await;
    let (camp_id, code) =
        (camp["id"].as_str().unwrap().to_string(), camp["trackingCode"].as_str().unwrap().to_string());
    let aff = app.affiliate(&m.key, &camp_id, "queues@partner.test").await;
    let hook = app
        .post(
            &m.key,
            "/api/v1/webhooks",
            json!({ "url": "http://127.0.0.1:9/hook", "events": ["conversion.created"] }),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    let secret = "whsec_metrics_test";
    let integration = app
        .post(&m.key, "/api/v1/integrations", json!({ "provider": "stripe", "webhookSecret": secret }))
        .await;
    assert_eq!(integration.status, StatusCode::CREATED, "{}", integration.text);

    let _guard = SCRAPES.lock().await;
    let before = scrape(&app).await;
    let figure = |text: &str, name: &str, labels: &[&str]| sample(text, name, labels).unwrap_or(0.0);
    for name in ["refline_mail_backlog", "refline_processor_inbox_backlog", "refline_webhook_backlog"] {
        assert!(sample(&before, name, &[]).is_some(), "{name}:\n{before}");
    }

    // The click counters are the server's own, published with `absolute`, which never lowers a
    // counter the process-wide recorder already holds (another test's server may have set it):
    // this server counts one click more than the figure shown before.
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for _ in 0..=(figure(&before, "refline_clicks_accepted_total", &[]) as usize) {
        let click = no_redirects
            .get(app.url(&format!("/redirect?tc={code}&aff={aff}")))
            .header("user-agent", "Mozilla/5.0 Metrics")
            .send()
            .await
            .unwrap();
        assert_eq!(click.status(), StatusCode::FOUND);
    }
    let invited = app
        .post(
            &m.key,
            "/api/v1/affiliates/invite",
            json!({ "email": "invitee@partner.test", "campaignId": camp_id }),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
    let now = crate::processors::now_s();
    let paid = refline_processors::fixtures::Sale {
        event_id: "evt_metrics_1".into(),
        object_id: "in_metrics_1".into(),
        amount_minor: 5_000,
        reference: Some(format!("tc_{code}_aff_{aff}_cid_click_fixture")),
        created_unix_s: now,
        ..Default::default()
    };
    let stripe = refline_processors::fixtures::stripe::invoice_paid(&paid, "subscription_create");
    let (headers, _, body) = refline_processors::fixtures::stripe::delivery(secret, now, stripe);
    let mut request =
        app.client().post(app.url(&format!("/api/webhooks/stripe/merchant/{}", m.id))).body(body);
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
    let sale = app.convert(&m.key, &camp_id, &aff, json!(50), json!({ "orderId": "metrics-queues" })).await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);

    let mut last = String::new();
    for _ in 0..200 {
        last = scrape(&app).await;
        let moved = |name: &str, labels: &[&str]| figure(&last, name, labels) - figure(&before, name, labels);
        if moved("refline_clicks_accepted_total", &[]) >= 1.0
            && moved("refline_clicks_stored_total", &[]) >= 1.0
            && moved("refline_mail_backlog", &[]) == 1.0
            && moved("refline_processor_inbox_backlog", &[]) == 1.0
            && moved("refline_webhook_backlog", &["state=\"due\""]) == 1.0
        {
            app.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the figures did not follow the traffic:\nbefore:\n{before}\nafter:\n{last}");
}

engine_tests!(
    metrics_are_off_unless_a_token_is_set,
    request_counters_move_per_route_template,
    webhook_outcomes_and_backlog_are_reported,
    click_and_backlog_figures_follow_traffic,
);

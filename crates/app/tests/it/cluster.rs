//! Three `refline serve` processes on one PostgreSQL behave as one server: a key's rate limit
//! holds across them, a change made through one (a link's target, the tracking script, a
//! campaign's commission terms) is served by the others within a second, a visitor's clicks
//! count unique once whichever node they reach, each outbound event is delivered once, each
//! processor delivery handled once, a scheduled job runs on one node, and a node killed with
//! `kill -9` while requests to it are in flight loses nothing it acknowledged while the others
//! carry on. PostgreSQL only (SQLite serves one node); skipped with a notice without it.

use std::{
    net::TcpListener as StdListener,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{http::HeaderMap, routing::post, Router};
use refline_processors::fixtures::Sale;
use reqwest::{header, redirect::Policy, StatusCode};
use serde_json::{json, Value};

use crate::{processors::signed_stripe_invoice, support::Engine};

/// One `refline serve` process.
struct Node {
    child: Child,
    base: String,
}

impl Node {
    async fn start(database_url: &str, dir: &std::path::Path, index: usize) -> Node {
        let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(dir.join(format!("node{index}.log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_refline"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("REFLINE_DATABASE_URL", database_url)
            // Every node of a cluster shares the secret key.
            .env("REFLINE_SECRET_KEY_FILE", dir.join("refline.key"))
            .env("REFLINE_MAIL_DIR", dir.join("mail"))
            .env("REFLINE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("REFLINE_RATE_LIMIT_PRO", "40")
            .env("REFLINE_RATE_LIMIT_ULTIMATE", "100000")
            .env("REFLINE_ALLOW_PRIVATE_WEBHOOK_TARGETS", "true")
            .env("REFLINE_WEBHOOK_RETRY_DELAYS", "1,1,1")
            .env_remove("REFLINE_LISTEN")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        // Dropped (killed and reaped) if it never comes up.
        let node = Node { child, base: format!("http://127.0.0.1:{port}") };
        for _ in 0..200 {
            if reqwest::get(format!("{}/healthz", node.base)).await.is_ok_and(|r| r.status().is_success()) {
                return node;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("node {index} did not start; see {}", dir.join(format!("node{index}.log")).display());
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).timeout(Duration::from_secs(30)).build().unwrap()
}

async fn call(
    method: reqwest::Method,
    node: &Node,
    key: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client().request(method, format!("{}{path}", node.base)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn cli_json(database_url: &str, dir: &std::path::Path, args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_refline"))
        .args(args)
        .env("REFLINE_DATABASE_URL", database_url)
        .env("REFLINE_SECRET_KEY_FILE", dir.join("refline.key"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn redirect_target(node: &Node, query: &str, agent: &str) -> String {
    let response = client()
        .get(format!("{}/redirect?{query}", node.base))
        .header(header::USER_AGENT, agent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    response.headers()[header::LOCATION].to_str().unwrap().to_string()
}

async fn tracking_script(node: &Node, merchant_id: &str) -> String {
    let response =
        client().get(format!("{}/api/tracking.js?id={merchant_id}", node.base)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// Waits for a clear minute: the rate-limit part must not straddle a window boundary.
async fn wait_for_fresh_minute() {
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 60;
    if seconds > 45 {
        tokio::time::sleep(Duration::from_secs(61 - seconds)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_on_one_postgresql_act_as_one_server() {
    let Some(engine) = Engine::postgres() else { return };
    let Engine::Postgres(url) = engine.isolated().await else { unreachable!() };
    let dir = tempfile::tempdir().unwrap();
    let created = cli_json(&url, dir.path(), &["merchant", "create", "--name", "Acme", "--json"]);
    let key = created["apiKey"].as_str().unwrap().to_string();
    let small =
        cli_json(&url, dir.path(), &["merchant", "create", "--name", "Small", "--plan", "pro", "--json"]);
    let small_key = small["apiKey"].as_str().unwrap().to_string();

    let mut nodes = Vec::new();
    for i in 0..3 {
        nodes.push(Node::start(&url, dir.path(), i).await);
    }
    use reqwest::Method;

    // A webhook receiver counting deliveries per event id.
    let deliveries: Arc<Mutex<Vec<String>>> = Arc::default();
    let receiver = {
        let deliveries = deliveries.clone();
        Router::new().route(
            "/hook",
            post(move |headers: HeaderMap| {
                let deliveries = deliveries.clone();
                async move {
                    let id =
                        headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    deliveries.lock().unwrap().push(id);
                    "ok"
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    // Set up through node 0.
    let (status, campaign) = call(
        Method::POST,
        &nodes[0],
        &key,
        "/api/v1/campaigns",
        Some(json!({ "name": "Launch", "commissionType": "percentage", "commissionValue": 20,
                     "targetUrl": "https://shop.example/a" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{campaign}");
    let campaign = campaign["data"].clone();
    let (campaign_id, code) = (
        campaign["id"].as_str().unwrap().to_string(),
        campaign["trackingCode"].as_str().unwrap().to_string(),
    );
    let mut affiliates = Vec::new();
    for email in ["ally@affiliates.test", "bo@affiliates.test"] {
        let (status, affiliate) = call(
            Method::POST,
            &nodes[0],
            &key,
            "/api/v1/affiliates",
            Some(json!({ "email": email, "name": "Aff", "campaignId": campaign_id })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{affiliate}");
        affiliates.push(affiliate["data"]["id"].as_str().unwrap().to_string());
    }
    let (status, hook) = call(
        Method::POST,
        &nodes[0],
        &key,
        "/api/v1/webhooks",
        Some(json!({ "url": hook_url, "events": ["conversion.created"] })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");

    // A change made through node 0 is served by nodes 1 and 2 within a second: the link's
    // target and the tracking script (both cached per node, for 10 s without an announcement)
    // and the campaign's commission terms (read from the database by every sale).
    let link = format!("tc={code}&aff={}", affiliates[0]);
    let merchant_id = created["merchantId"].as_str().unwrap().to_string();
    let window = format!("\"{code}\":45");
    for node in &nodes[1..] {
        assert!(redirect_target(node, &link, "Mozilla/5.0 Cache")
            .await
            .starts_with("https://shop.example/a"));
        assert!(!tracking_script(node, &merchant_id).await.contains(&window), "cached before the change");
    }
    let (status, body) = call(
        Method::PATCH,
        &nodes[0],
        &key,
        &format!("/api/v1/campaigns/{campaign_id}"),
        Some(json!({ "targetUrl": "https://shop.example/b", "commissionValue": 30, "cookieWindowDays": 45 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let changed = Instant::now();
    for (i, node) in nodes[1..].iter().enumerate() {
        let (status, sale) = call(
            Method::POST,
            node,
            &key,
            "/api/v1/conversions",
            Some(json!({ "campaignId": campaign_id, "affiliateId": affiliates[0], "amount": 100,
                         "orderId": format!("terms-{i}") })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{sale}");
        assert_eq!(sale["data"]["commission"].to_string(), "30.00", "new terms on {}: {sale}", node.base);
    }
    assert!(changed.elapsed() < Duration::from_secs(1), "terms took {:?}", changed.elapsed());
    for node in &nodes[1..] {
        loop {
            let link_now = redirect_target(node, &link, "Mozilla/5.0 Cache").await;
            let script_now = tracking_script(node, &merchant_id).await;
            if link_now.starts_with("https://shop.example/b") && script_now.contains(&window) {
                break;
            }
            assert!(
                changed.elapsed() < Duration::from_secs(1),
                "node {} still serves the old link or script",
                node.base
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // One visitor's clicks through all three nodes: three clicks, one unique.
    let visitor = format!("tc={code}&aff={}", affiliates[1]);
    for node in &nodes {
        redirect_target(node, &visitor, "Mozilla/5.0 Visitor").await;
    }
    let mut stats = Value::Null;
    for _ in 0..100 {
        let (_, affiliate) =
            call(Method::GET, &nodes[0], &key, &format!("/api/v1/affiliates/{}", affiliates[1]), None).await;
        stats = affiliate["data"]["clickStats"].clone();
        if stats["clicks"] == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stats["clicks"], 3, "{stats}");
    assert_eq!(stats["uniqueClicks"], 1, "a visitor is unique once an hour on every node: {stats}");

    // One key's requests spread over the three nodes meet 429 at the limit (40 a minute).
    wait_for_fresh_minute().await;
    let mut allowed = 0;
    let mut refused_by = [0; 3];
    for i in 0..60 {
        let (status, _) = call(Method::GET, &nodes[i % 3], &small_key, "/api/v1/me", None).await;
        match status {
            StatusCode::OK => allowed += 1,
            StatusCode::TOO_MANY_REQUESTS => refused_by[i % 3] += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(allowed, 40, "exactly the limit across the cluster");
    assert!(refused_by.iter().all(|n| *n > 0), "every node refuses once the window is used: {refused_by:?}");

    // Sales spread over the three nodes: each sale's webhook is delivered exactly once, though
    // every node runs a webhook worker.
    for i in 0..30 {
        let body = json!({ "campaignId": campaign_id, "affiliateId": affiliates[0], "amount": 10,
                           "orderId": format!("spread-{i}") });
        let (status, sale) = call(Method::POST, &nodes[i % 3], &key, "/api/v1/conversions", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{sale}");
    }
    let expected = 32; // and the two terms sales
    let started = Instant::now();
    while deliveries.lock().unwrap().len() < expected && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = deliveries.lock().unwrap().clone();
    let mut unique = got.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), expected, "every sale's event delivered");
    assert_eq!(got.len(), expected, "no event delivered twice");

    // Payment-processor deliveries spread over the nodes, each also redelivered to another
    // node (processors retry): every one becomes its conversion once, whichever node's inbox
    // worker claims it.
    let secret = "whsec_cluster_test";
    let (status, integration) = call(
        Method::POST,
        &nodes[0],
        &key,
        "/api/v1/integrations",
        Some(json!({ "provider": "stripe", "webhookSecret": secret })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{integration}");
    let now = crate::processors::now_s();
    for i in 0..9 {
        let sale = Sale {
            event_id: format!("evt_cluster_{i}"),
            object_id: format!("in_cluster_{i}"),
            amount_minor: 10_000,
            reference: Some(format!("tc_{code}_aff_{}_cid_click_fixture", affiliates[0])),
            created_unix_s: now,
            ..Sale::default()
        };
        for node in [&nodes[i % 3], &nodes[(i + 1) % 3]] {
            let request = signed_stripe_invoice(&client(), &node.base, &merchant_id, secret, now, &sale);
            assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
        }
    }
    let stripe_sales = || async {
        let (_, list) = call(Method::GET, &nodes[0], &key, "/api/v1/conversions?limit=100", None).await;
        list["data"].as_array().unwrap().iter().filter(|c| c["source"] == "stripe").count()
    };
    let started = Instant::now();
    while stripe_sales().await < 9 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stripe_sales().await, 9, "each processor delivery handled once");

    // The hourly click-IP sweep, checked by every node at its start, ran on one of them.
    let ran_on = (0..3)
        .filter(|i| {
            std::fs::read_to_string(dir.path().join(format!("node{i}.log")))
                .unwrap()
                .contains("click_ip_sweep ran")
        })
        .count();
    assert_eq!(ran_on, 1, "a scheduled job runs once across the cluster");

    // Node 2 is killed with SIGKILL while sales stream into all three nodes, requests to it in
    // flight: every sale any node acknowledged (201) is stored, and the other two carry on
    // answering every one of theirs.
    let acknowledged: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut victim = nodes.pop().unwrap();
    let mut streams = tokio::task::JoinSet::new();
    for (n, base) in [&nodes[0].base, &nodes[1].base, &victim.base].into_iter().enumerate() {
        let (base, key, campaign_id, affiliate) =
            (base.clone(), key.clone(), campaign_id.clone(), affiliates[0].clone());
        let (acknowledged, killed) = (acknowledged.clone(), killed.clone());
        let is_victim = n == 2;
        streams.spawn(async move {
            // The victim's stream runs until the node is gone; the others' until they have
            // answered 20 sales after the kill.
            let (mut mine, mut after_kill) = (0, 0);
            while after_kill < 20 && mine < 10_000 {
                let after = killed.load(std::sync::atomic::Ordering::SeqCst);
                let body = json!({ "campaignId": campaign_id, "affiliateId": affiliate, "amount": 10,
                                   "orderId": format!("load-{n}-{mine}") });
                let sent =
                    client().post(format!("{base}/api/v1/conversions")).bearer_auth(&key).json(&body).send();
                let reply = match sent.await {
                    Ok(reply) => reply,
                    Err(_) if is_victim => break,
                    Err(err) => panic!("a surviving node failed a request: {err}"),
                };
                let status = reply.status();
                let Ok(v) = reply.json::<Value>().await else {
                    assert!(is_victim, "a surviving node's answer was cut");
                    break;
                };
                assert_eq!(status, StatusCode::CREATED, "{v}");
                acknowledged.lock().unwrap().push((n, v["data"]["id"].as_str().unwrap().to_string()));
                mine += 1;
                after_kill += usize::from(after);
            }
            (n, mine, after_kill)
        });
    }
    // Kill once the victim is mid-stream (some of its sales answered, the next in flight).
    let started = Instant::now();
    while acknowledged.lock().unwrap().iter().filter(|(n, _)| *n == 2).count() < 10 {
        assert!(started.elapsed() < Duration::from_secs(30), "the stream never got going");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    victim.kill();
    killed.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut answered = [(0, 0); 3];
    while let Some(done) = streams.join_next().await {
        let (n, mine, after_kill) = done.unwrap();
        answered[n] = (mine, after_kill);
    }
    eprintln!("sales answered (all, after the kill) by node 0, node 1, the killed node: {answered:?}");
    assert!(answered[..2].iter().all(|(_, after)| *after == 20), "the others carry on: {answered:?}");
    assert!(answered[2].0 >= 10 && answered[2].0 < 10_000, "the victim died mid-stream: {answered:?}");
    let acknowledged = acknowledged.lock().unwrap().clone();
    for (_, id) in &acknowledged {
        for node in &nodes {
            let (status, _) = call(Method::GET, node, &key, &format!("/api/v1/conversions/{id}"), None).await;
            assert_eq!(status, StatusCode::OK, "{id} was acknowledged and must be stored");
        }
    }
}

//! Benchmark of outbound webhook delivery: events go into the outbox the way the API's writes
//! put them there, a local receiver records when each arrives.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{body::Bytes, extract::State, http::StatusCode, routing::post, Router};
use refline_server::clock::now_ms;
use refline_store::{OutboxEvent, WebhookEndpoint};
use serde_json::json;
use tokio::net::TcpListener;

/// Settings of a run.
pub struct Options {
    /// PostgreSQL server URL, or `None` for SQLite.
    pub postgres: Option<String>,
    /// Events in the throughput run.
    pub events: usize,
    /// Events per second in the latency run.
    pub rate: u64,
    /// Seconds of the latency run.
    pub seconds: u64,
}

/// Arrival latencies (ms after the event was written), in arrival order.
type Arrivals = Arc<Mutex<Vec<i64>>>;

async fn receive(State(arrivals): State<Arrivals>, body: Bytes) -> StatusCode {
    let now = now_ms();
    let value = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
    // Outbox events carry their time in `emittedAtMs`; API conversions in `orderId` "lat-<ms>-<n>".
    let sent = value["data"]["emittedAtMs"]
        .as_i64()
        .or_else(|| value["data"]["orderId"].as_str()?.split('-').nth(1)?.parse().ok())
        .unwrap_or(now);
    if let Ok(mut arrivals) = arrivals.lock() {
        arrivals.push(now - sent);
    }
    StatusCode::NO_CONTENT
}

/// Runs the benchmark and prints a report.
pub async fn run(server_rt: tokio::runtime::Handle, options: Options) -> anyhow::Result<()> {
    crate::database::with_database(options.postgres.clone(), |url| async move {
        measure(server_rt, &url, &options).await
    })
    .await
}

async fn measure(server_rt: tokio::runtime::Handle, url: &str, options: &Options) -> anyhow::Result<()> {
    let arrivals: Arrivals = Arc::default();
    let receiver = TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}/hook", receiver.local_addr()?);
    let app = Router::new().route("/hook", post(receive)).with_state(arrivals.clone());
    tokio::spawn(async move {
        let _ = axum::serve(receiver, app).await;
    });

    let server =
        crate::server::BenchServer::start(&server_rt, url, |c| c.webhooks.allow_private_targets = true)
            .await?;
    let store = server.store.clone();
    let merchant = refline::admin::create_merchant(&store, "Bench", "scale", "usd").await?;
    let now = now_ms();
    store
        .insert_webhook_endpoint(&WebhookEndpoint::new(
            "wh_bench",
            &merchant.merchant_id,
            &hook_url,
            &["conversion.created".to_string(), "conversion.updated".to_string()],
            &"ab".repeat(32),
            now,
        ))
        .await?;
    let event = |n: usize| OutboxEvent {
        merchant_id: merchant.merchant_id.clone(),
        event: "conversion.updated",
        data: json!({ "n": n, "emittedAtMs": now_ms() }),
        at: now_ms(),
    };

    // Throughput: queue everything, time until the receiver has it all.
    let started = Instant::now();
    for chunk in (0..options.events).collect::<Vec<_>>().chunks(1000) {
        store.emit_events(&chunk.iter().map(|n| event(*n)).collect::<Vec<_>>()).await?;
    }
    wait_for(&arrivals, options.events, Duration::from_secs(300)).await?;
    let drain = started.elapsed();
    let throughput = options.events as f64 / drain.as_secs_f64();

    // Latency at a steady rate, from the API write that causes the event to its arrival.
    arrivals.lock().map_err(|_| anyhow::anyhow!("lock"))?.clear();
    let base = server.base.clone();
    let api = crate::api::Api::new(&base, &merchant.api_key);
    let (campaign_id, affiliate_id) = api.campaign_with_affiliate(10).await?;
    let interval = Duration::from_secs_f64(1.0 / options.rate.max(1) as f64);
    let total = usize::try_from(options.rate.saturating_mul(options.seconds)).unwrap_or(usize::MAX);
    let mut posts = tokio::task::JoinSet::new();
    let mut next = Instant::now();
    for n in 0..total {
        let body = json!({ "campaignId": campaign_id, "affiliateId": affiliate_id, "amount": 10,
            "orderId": format!("lat-{}-{n}", now_ms()) });
        let api = api.clone();
        posts.spawn(async move { api.post("/api/v1/conversions", body).await.is_ok() });
        next += interval;
        tokio::time::sleep_until(next.into()).await;
    }
    let sent = posts.join_all().await.into_iter().filter(|ok| *ok).count();
    wait_for(&arrivals, sent, Duration::from_secs(60)).await?;
    let mut latencies = arrivals.lock().map_err(|_| anyhow::anyhow!("lock"))?.clone();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((p / 100.0) * (latencies.len() - 1) as f64).round() as usize];

    server.stop().await?;
    let failed: i64 = store
        .list_deliveries(
            &merchant.merchant_id,
            "wh_bench",
            refline_store::PageRequest { limit: 1, offset: 0, sort: (), descending: true },
        )
        .await?
        .total;
    println!("engine                 {}", store.engine());
    println!("throughput run         {} events delivered in {:.2} s", options.events, drain.as_secs_f64());
    println!("deliveries/s           {throughput:.0}");
    println!("latency run            {sent} conversions via the API at {} /s", options.rate);
    println!("event → delivery p50   {} ms", pct(50.0));
    println!("event → delivery p90   {} ms", pct(90.0));
    println!("event → delivery p99   {} ms", pct(99.0));
    println!("event → delivery max   {} ms", pct(100.0));
    println!("deliveries recorded    {failed}");
    Ok(())
}

async fn wait_for(arrivals: &Arrivals, n: usize, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let got = arrivals.lock().map_err(|_| anyhow::anyhow!("lock"))?.len();
        if got >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(anyhow::anyhow!("only {got} of {n} deliveries arrived"))
                .context("deliveries stalled");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

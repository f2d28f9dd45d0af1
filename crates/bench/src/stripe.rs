//! Benchmark of signed Stripe deliveries through the whole path: verify → inbox (answered) →
//! worker → conversion. Reports how fast deliveries are accepted and how fast they become
//! conversions, and checks every accepted delivery became one. The same requests are first
//! sent to a bare hyper server that answers 200 and stores nothing (the yardstick), and the
//! CPU each side used is reported, since client and server share the machine. On PostgreSQL it
//! also counts the database's transactions per delivery.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use http_body_util::Full;
use hyper::{body::Bytes, Request, StatusCode};
use refline_processors::fixtures::{self, Sale};
use refline_store::{ConversionFilter, ConversionSort, PageRequest};
use serde_json::json;

use crate::{
    api::Api,
    bare::{Answer, BareServer},
    cpu,
    load::{load, Report, RequestFn},
    server::BenchServer,
};

/// The connection's signing secret.
pub const SECRET: &str = "whsec_refline_bench";

/// Settings of a run.
pub struct Options {
    /// PostgreSQL server URL, or `None` for SQLite.
    pub postgres: Option<String>,
    /// Concurrent connections.
    pub connections: usize,
    /// Seconds of load.
    pub seconds: u64,
}

/// Runs the benchmark and prints a report.
pub async fn run(server_rt: tokio::runtime::Handle, options: Options) -> anyhow::Result<()> {
    crate::database::with_database(options.postgres.clone(), |url| async move {
        measure(server_rt, &url, &options).await
    })
    .await
}

fn unix_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

async fn measure(server_rt: tokio::runtime::Handle, url: &str, options: &Options) -> anyhow::Result<()> {
    let server = BenchServer::start(&server_rt, url, |_| {}).await?;
    let (store, base) = (server.store.clone(), server.base.clone());
    let merchant = refline::admin::create_merchant(&store, "Bench", "scale", "usd").await?;
    let api = Api::new(&base, &merchant.api_key);
    let crate::api::Program { code, affiliate_id, .. } = api
        .program(json!({ "name": "Bench", "commissionType": "percentage", "commissionValue": 20 }))
        .await?;
    api.post("/api/v1/integrations", json!({ "provider": "stripe", "webhookSecret": SECRET })).await?;

    let reference = format!("tc_{code}_aff_{affiliate_id}_cid_click_bench");
    let path = format!("/api/webhooks/stripe/merchant/{}", merchant.merchant_id);
    let requests = |base: String| deliveries(format!("{base}{path}"), reference.clone());
    // What building and signing one request costs the client, alone on one thread.
    let build = requests(base.clone());
    let built = Instant::now();
    for n in 0..2_000u64 {
        std::hint::black_box(build(u64::MAX - n));
    }
    let build_us = built.elapsed().as_secs_f64() * 1e6 / 2_000.0;
    let window = Duration::from_secs(options.seconds);

    // The yardstick: the same requests, answered 200 by a server that does nothing else.
    let bare = BareServer::start(&server_rt, Answer::Received).await?;
    let before = cpu::sample();
    let bare_report = load(requests(bare.base.clone()), StatusCode::OK, options.connections, window, 0).await;
    let bare_cpu = before.until(&cpu::sample());
    bare.stop();

    let xacts_before = transactions(url).await?;
    let before = cpu::sample();
    let started = Instant::now();
    let report = load(requests(base.clone()), StatusCode::OK, options.connections, window, 0).await;
    let load_cpu = before.until(&cpu::sample());
    let accepted = i64::try_from(report.ok)?;
    // Then wait until the worker has turned every accepted delivery into a conversion.
    let filter = ConversionFilter::default();
    let page = PageRequest { limit: 1, offset: 0, sort: ConversionSort::CreatedAt, descending: true };
    let mut converted = 0;
    let mut polls = 0u64;
    let deadline = Instant::now() + Duration::from_secs(600);
    while Instant::now() < deadline {
        converted = store.list_conversions(&merchant.merchant_id, &filter, page).await?.total;
        polls += 1;
        if converted >= accepted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let end_to_end = started.elapsed();
    let e2e_cpu = before.until(&cpu::sample());
    server.stop().await?;
    // Closed connections have reported their counts.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let xacts_after = transactions(url).await?;

    println!("engine                  {}", store.engine());
    println!("connections             {}", options.connections);
    println!("client builds+signs     {build_us:.1} us per request (one thread, alone)");
    report_line("bare hyper 200", &bare_report);
    println!("  cpu                   {}", bare_cpu.line());
    report_line("deliveries accepted", &report);
    println!("  cpu                   {}", load_cpu.line());
    println!(
        "accepted vs bare        {:.0} %",
        100.0 * report.throughput() / bare_report.throughput().max(1e-9)
    );
    println!(
        "conversions recorded    {converted} of {accepted} in {:.1} s = {:.0}/s end to end",
        end_to_end.as_secs_f64(),
        converted as f64 / end_to_end.as_secs_f64()
    );
    println!("  cpu (load + drain)    {}", e2e_cpu.line());
    println!(
        "end to end vs bare      {:.0} %",
        100.0 * (converted as f64 / end_to_end.as_secs_f64()) / bare_report.throughput().max(1e-9)
    );
    if let (Some(before), Some(after)) = (xacts_before, xacts_after) {
        // Each poll of the count above is two statements on the server's pool; one more is the
        // first count's own read.
        let server = after - before - 2 * i64::try_from(polls)? - 1;
        println!(
            "postgres transactions   {server} for {accepted} deliveries = {:.2} per delivery (receive + process; {polls} polls and these reads subtracted)",
            server as f64 / accepted.max(1) as f64
        );
    }
    anyhow::ensure!(converted == accepted, "accepted deliveries did not all become conversions");
    println!("complete                every accepted delivery became exactly one conversion");
    Ok(())
}

fn report_line(label: &str, report: &Report) {
    println!(
        "{label:<24}{:.0}/s   p50 {:.2} ms   p99 {:.2} ms   failed {} {:?}",
        report.throughput(),
        report.percentile_ms(50.0),
        report.percentile_ms(99.0),
        report.failed,
        report.failures
    );
}

/// Committed plus rolled-back transactions of the benchmark's PostgreSQL database so far
/// (`pg_stat_database`); `None` on SQLite.
async fn transactions(url: &str) -> anyhow::Result<Option<i64>> {
    use sqlx::Connection;
    if !url.starts_with("postgres") {
        return Ok(None);
    }
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let count: i64 = sqlx::query_scalar(
        "SELECT (xact_commit + xact_rollback)::BIGINT FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    Ok(Some(count))
}

/// Signed `checkout.session.completed` deliveries to `url`, each a new event, payment and
/// customer (as a shop's traffic is) of $99.00 carrying the tracking `reference`.
pub fn deliveries(url: String, reference: String) -> RequestFn {
    Arc::new(move |n| {
        let sale = Sale {
            event_id: format!("evt_bench_{n}"),
            object_id: format!("pi_bench_{n}"),
            customer_id: format!("cus_bench_{n}"),
            amount_minor: 9_900,
            reference: Some(reference.clone()),
            created_unix_s: unix_s(),
            ..Sale::default()
        };
        let (headers, _, body) =
            fixtures::stripe::delivery(SECRET, unix_s(), fixtures::stripe::checkout_completed(&sale));
        let mut request = Request::post(url.as_str());
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request.body(Full::new(Bytes::from(body))).ok()
    })
}

//! Benchmark of `POST /api/v1/conversions`: the seed request with unique order ids.

use std::{sync::Arc, time::Duration};

use hyper::StatusCode;
use rand::{distributions::Alphanumeric, Rng};
use refline_store::{ConversionFilter, ConversionSort, PageRequest};

use crate::load::{post_load, BodyFn};

/// Settings of a run.
pub struct Options {
    /// PostgreSQL server URL, or `None` for SQLite.
    pub postgres: Option<String>,
    /// Concurrent connections.
    pub connections: usize,
    /// Measured seconds.
    pub seconds: u64,
    /// Offered requests per second (0 = unlimited).
    pub rate: u64,
}

/// Runs the benchmark and prints a report.
pub async fn run(server_rt: tokio::runtime::Handle, options: Options) -> anyhow::Result<()> {
    crate::database::with_database(options.postgres.clone(), |url| async move {
        measure(server_rt, &url, &options).await
    })
    .await
}

async fn measure(server_rt: tokio::runtime::Handle, url: &str, options: &Options) -> anyhow::Result<()> {
    let server = crate::server::BenchServer::start(&server_rt, url, |_| {}).await?;
    let (store, base) = (server.store.clone(), server.base.clone());
    let merchant = refline::admin::create_merchant(&store, "Bench", "scale", "usd").await?;
    let (campaign_id, affiliate_id) =
        crate::api::Api::new(&base, &merchant.api_key).campaign_with_affiliate(20).await?;

    let run_id: String = rand::thread_rng().sample_iter(&Alphanumeric).take(6).map(char::from).collect();
    let bodies = |phase: &'static str| -> BodyFn {
        let (campaign_id, affiliate_id, run_id) = (campaign_id.clone(), affiliate_id.clone(), run_id.clone());
        Arc::new(move |n| {
            format!(
                r#"{{"campaignId":"{campaign_id}","affiliateId":"{affiliate_id}","amount":99.00,"orderId":"bench-{run_id}-{phase}-{n}","clickId":"click_123","customerEmail":"customer@example.com"}}"#
            )
            .into_bytes()
        })
    };
    let url = format!("{base}/api/v1/conversions");
    // Warm-up: connections, prepared statements, page cache.
    post_load(
        &url,
        &merchant.api_key,
        bodies("warm"),
        StatusCode::CREATED,
        options.connections,
        Duration::from_secs(2),
        options.rate,
    )
    .await;
    let report = post_load(
        &url,
        &merchant.api_key,
        bodies("run"),
        StatusCode::CREATED,
        options.connections,
        Duration::from_secs(options.seconds),
        options.rate,
    )
    .await;

    server.stop().await?;
    let filter = ConversionFilter::default();
    let page = PageRequest { limit: 1, offset: 0, sort: ConversionSort::CreatedAt, descending: true };
    let stored = store.list_conversions(&merchant.merchant_id, &filter, page).await?.total;
    // Warm-up conversions were acknowledged too; every 201 must be stored.
    let engine = store.engine();
    println!("engine            {engine}");
    println!("connections       {}", options.connections);
    println!(
        "offered rate      {}",
        if options.rate == 0 { "max".to_string() } else { format!("{}/s", options.rate) }
    );
    println!("measured          {:.1} s", report.elapsed.as_secs_f64());
    println!("conversions/s     {:.0}", report.throughput());
    println!("latency p50       {:.2} ms", report.percentile_ms(50.0));
    println!("latency p90       {:.2} ms", report.percentile_ms(90.0));
    println!("latency p99       {:.2} ms", report.percentile_ms(99.0));
    println!("latency max       {:.2} ms", report.percentile_ms(100.0));
    println!("failed requests   {} {:?}", report.failed, report.failures);
    println!("stored rows       {stored} (includes the 2 s warm-up)");
    anyhow::ensure!(
        stored >= i64::try_from(report.ok)?,
        "acknowledged conversions are missing from the database"
    );
    println!("persisted         every acknowledged conversion is in the database");
    Ok(())
}

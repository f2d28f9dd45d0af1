//! Benchmark of signed Stripe deliveries through the whole path: verify → inbox (answered) →
//! worker → conversion. Reports how fast deliveries are accepted and how fast they become
//! conversions, and checks every accepted delivery became one.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use http_body_util::Full;
use hyper::{body::Bytes, Request, StatusCode};
use refline_processors::fixtures::{self, Sale};
use refline_store::{ConversionFilter, ConversionSort, PageRequest};
use serde_json::json;

use crate::{
    api::Api,
    load::{load, RequestFn},
    server::BenchServer,
};

const SECRET: &str = "whsec_refline_bench";

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
    let campaign = api
        .post(
            "/api/v1/campaigns",
            json!({ "name": "Bench", "commissionType": "percentage", "commissionValue": 20 }),
        )
        .await?;
    let campaign_id = campaign["data"]["id"].as_str().context("campaign id")?.to_string();
    let code = campaign["data"]["trackingCode"].as_str().context("tracking code")?.to_string();
    let affiliate = api
        .post("/api/v1/affiliates", json!({ "email": "bench@affiliates.test", "campaignId": campaign_id }))
        .await?;
    let affiliate_id = affiliate["data"]["id"].as_str().context("affiliate id")?.to_string();
    api.post("/api/v1/integrations", json!({ "provider": "stripe", "webhookSecret": SECRET })).await?;

    let reference = format!("tc_{code}_aff_{affiliate_id}_cid_click_bench");
    let url = format!("{base}/api/webhooks/stripe/merchant/{}", merchant.merchant_id);
    let requests: RequestFn = Arc::new(move |n| {
        let sale = Sale {
            event_id: format!("evt_bench_{n}"),
            object_id: format!("pi_bench_{n}"),
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
    });
    let started = Instant::now();
    let report =
        load(requests, StatusCode::OK, options.connections, Duration::from_secs(options.seconds), 0).await;
    let accepted = i64::try_from(report.ok)?;
    // Then wait until the worker has turned every accepted delivery into a conversion.
    let filter = ConversionFilter::default();
    let page = PageRequest { limit: 1, offset: 0, sort: ConversionSort::CreatedAt, descending: true };
    let mut converted = 0;
    let deadline = Instant::now() + Duration::from_secs(600);
    while Instant::now() < deadline {
        converted = store.list_conversions(&merchant.merchant_id, &filter, page).await?.total;
        if converted >= accepted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let end_to_end = started.elapsed();
    server.stop().await?;
    println!("engine                  {}", store.engine());
    println!("connections             {}", options.connections);
    println!(
        "deliveries accepted     {:.0}/s   p50 {:.2} ms   p99 {:.2} ms   failed {} {:?}",
        report.throughput(),
        report.percentile_ms(50.0),
        report.percentile_ms(99.0),
        report.failed,
        report.failures
    );
    println!(
        "conversions recorded    {converted} of {accepted} in {:.1} s = {:.0}/s end to end",
        end_to_end.as_secs_f64(),
        converted as f64 / end_to_end.as_secs_f64()
    );
    anyhow::ensure!(converted == accepted, "accepted deliveries did not all become conversions");
    println!("complete                every accepted delivery became exactly one conversion");
    Ok(())
}

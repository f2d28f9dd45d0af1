//! `conversions --keys N`: `POST /api/v1/conversions` as many merchants' integrations send it,
//! against a minimal durable JSON-POST server (`durable.rs`) measured in the same run.
//!
//! N Scale-plan merchants, each with its own key, campaign and affiliate; every key sends at 95 %
//! of its plan's real rate limit (the limit is not lifted, so the limiter's state is on the path
//! as in production), the keys' requests interleaved over the connections. The offered total is
//! N × 95 % of the limit per minute: with enough keys it is more than the server can take and
//! the figure is the server's; otherwise the run says it was offer-bound.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use http_body_util::Full;
use hyper::{body::Bytes, Request, StatusCode};
use rand::{distributions::Alphanumeric, Rng};
use refline_domain::Plan;
use refline_store::{ConversionFilter, ConversionSort, PageRequest};
use tokio::task::JoinSet;

use crate::load::{load, Report, RequestFn};

/// Settings of a run.
pub struct Options {
    /// PostgreSQL server URL, or `None` for SQLite.
    pub postgres: Option<String>,
    /// Merchants (keys).
    pub keys: usize,
    /// Concurrent connections (both servers).
    pub connections: usize,
    /// Measured seconds of each phase.
    pub seconds: u64,
}

/// Share of its rate limit each key sends.
const SHARE: f64 = 0.95;

/// One merchant's key and ids.
struct Sender {
    merchant_id: String,
    auth: String,
    campaign_id: String,
    affiliate_id: String,
}

/// Runs the baseline, then Refline, and prints both and their ratio.
pub async fn run(server_rt: tokio::runtime::Handle, options: Options) -> anyhow::Result<()> {
    anyhow::ensure!(options.keys > 0, "--keys must be at least 1");
    let baseline = {
        let rt = server_rt.clone();
        let connections = options.connections;
        let seconds = options.seconds;
        let mut result = None;
        crate::database::with_database(options.postgres.clone(), |url| {
            let result = &mut result;
            async move {
                *result = Some(baseline(rt, &url, connections, seconds).await?);
                Ok(())
            }
        })
        .await?;
        result.context("baseline did not run")?
    };
    crate::database::with_database(options.postgres.clone(), |url| async move {
        measure(server_rt, &url, &options, &baseline).await
    })
    .await
}

async fn baseline(
    server_rt: tokio::runtime::Handle,
    url: &str,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<Report> {
    let server = crate::durable::DurableServer::start(&server_rt, url).await?;
    let target = format!("{}/sales", server.base);
    let run_id = run_id();
    let requests = |phase: &'static str| -> RequestFn {
        let (target, run_id) = (target.clone(), run_id.clone());
        Arc::new(move |n| {
            let body = format!(
                r#"{{"campaignId":"camp_bench","affiliateId":"aff_bench","amount":99.00,"orderId":"bench-{run_id}-{phase}-{n}","clickId":"click_123","customerEmail":"customer@example.com"}}"#
            );
            Request::post(target.as_str())
                .header("authorization", "Bearer lj_pk_live_bench")
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .ok()
        })
    };
    load(requests("warm"), StatusCode::CREATED, connections, Duration::from_secs(2), 0).await;
    let report =
        load(requests("run"), StatusCode::CREATED, connections, Duration::from_secs(seconds), 0).await;
    let rows = server.stop().await?;
    anyhow::ensure!(rows >= i64::try_from(report.ok)?, "the baseline lost acknowledged rows");
    Ok(report)
}

async fn measure(
    server_rt: tokio::runtime::Handle,
    url: &str,
    options: &Options,
    baseline: &Report,
) -> anyhow::Result<()> {
    let limit = Plan::Scale.default_rate_limit_per_minute();
    // The plan's real limit: the benchmark's usual lifting is undone.
    let server = crate::server::BenchServer::start(&server_rt, url, |config| {
        config.limits.set_rate(Plan::Scale, limit);
    })
    .await?;
    let (store, base) = (server.store.clone(), server.base.clone());
    let started = std::time::Instant::now();
    let senders = Arc::new(seed(&store, &base, options.keys).await?);
    eprintln!("seeded {} merchants in {:.1} s", options.keys, started.elapsed().as_secs_f64());

    let per_key = f64::from(limit) * SHARE / 60.0;
    let rate = (per_key * options.keys as f64).round().max(1.0) as u64;
    let target = format!("{base}/api/v1/conversions");
    let run_id = run_id();
    let requests = |phase: &'static str| -> RequestFn {
        let (target, run_id, senders) = (target.clone(), run_id.clone(), senders.clone());
        Arc::new(move |n| {
            // Request n goes to key n mod N: the schedule spaces requests evenly, so every key
            // sends rate / N a second, 95 % of its limit.
            let s = &senders[usize::try_from(n).unwrap_or(0) % senders.len()];
            let body = format!(
                r#"{{"campaignId":"{}","affiliateId":"{}","amount":99.00,"orderId":"bench-{run_id}-{phase}-{n}","clickId":"click_123","customerEmail":"customer@example.com"}}"#,
                s.campaign_id, s.affiliate_id
            );
            Request::post(target.as_str())
                .header("authorization", s.auth.as_str())
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .ok()
        })
    };
    let warm =
        load(requests("warm"), StatusCode::CREATED, options.connections, Duration::from_secs(2), rate).await;
    let report = load(
        requests("run"),
        StatusCode::CREATED,
        options.connections,
        Duration::from_secs(options.seconds),
        rate,
    )
    .await;
    server.stop().await?;

    let mut stored = 0;
    let filter = ConversionFilter::default();
    let page = PageRequest { limit: 1, offset: 0, sort: ConversionSort::CreatedAt, descending: true };
    for s in senders.iter() {
        stored += store.list_conversions(&s.merchant_id, &filter, page).await?.total;
    }
    let engine = store.engine();
    let (ours, theirs) = (report.throughput(), baseline.throughput());
    println!("engine              {engine}");
    println!("keys                {} (Scale, {limit}/min each, sending {per_key:.2}/s each)", options.keys);
    println!("connections         {}", options.connections);
    println!("seconds             {}", options.seconds);
    println!(
        "baseline            {theirs:.0}/s  p50 {:.2} ms  p99 {:.2} ms  failed {}",
        baseline.percentile_ms(50.0),
        baseline.percentile_ms(99.0),
        baseline.failed
    );
    println!("offered             {rate}/s");
    println!(
        "refline             {ours:.0}/s  p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  failed {} {:?}",
        report.percentile_ms(50.0),
        report.percentile_ms(90.0),
        report.percentile_ms(99.0),
        report.failed,
        report.failures
    );
    println!("ratio               {:.3}x the baseline", ours / theirs.max(1e-9));
    if ours >= rate as f64 * 0.97 {
        println!(
            "note                Refline kept up with the offer: the ratio is a lower bound (raise --keys)"
        );
    }
    let acknowledged = warm.ok + report.ok;
    println!("stored              {stored} of {acknowledged} acknowledged (warm-up included)");
    anyhow::ensure!(
        stored >= i64::try_from(acknowledged)?,
        "acknowledged conversions are missing from the database"
    );
    Ok(())
}

/// `keys` Scale merchants in USD, each with a 20 % campaign and an approved affiliate.
async fn seed(store: &Arc<dyn refline_store::Store>, base: &str, keys: usize) -> anyhow::Result<Vec<Sender>> {
    let mut senders = Vec::with_capacity(keys);
    // A few at a time: set-up is not measured, but each merchant costs a few writes.
    for start in (0..keys).step_by(32) {
        let mut tasks = JoinSet::new();
        for i in start..(start + 32).min(keys) {
            let (store, base) = (store.clone(), base.to_string());
            tasks.spawn(async move {
                let merchant =
                    refline::admin::create_merchant(&store, &format!("Bench {i}"), "scale", "usd").await?;
                let (campaign_id, affiliate_id) =
                    crate::api::Api::new(&base, &merchant.api_key).campaign_with_affiliate(20).await?;
                let auth = format!("Bearer {}", merchant.api_key);
                anyhow::Ok((i, Sender { merchant_id: merchant.merchant_id, auth, campaign_id, affiliate_id }))
            });
        }
        let mut part: Vec<(usize, Sender)> = tasks.join_all().await.into_iter().collect::<Result<_, _>>()?;
        part.sort_by_key(|(i, _)| *i);
        senders.extend(part.into_iter().map(|(_, s)| s));
    }
    Ok(senders)
}

fn run_id() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(6).map(char::from).collect()
}

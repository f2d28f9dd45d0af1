//! Benchmark of the hosted redirect (`GET /redirect`) and short links (`GET /l/<code>`) against
//! a bare "always 302" hyper server in the same run, then a graceful stop that must leave every
//! answered click in the database.

use std::time::Duration;

use anyhow::Context;
use hyper::StatusCode;
use serde_json::json;

use crate::{
    api::Api,
    bare::{Answer, BareServer},
    load::{get_load, Report},
    server::BenchServer,
};

/// Settings of a run.
pub struct Options {
    /// PostgreSQL server URL, or `None` for SQLite.
    pub postgres: Option<String>,
    /// Concurrent connections.
    pub connections: usize,
    /// Measured seconds per phase.
    pub seconds: u64,
    /// Answer each click only after its batch committed (`refline serve --click-ack committed`).
    pub ack_committed: bool,
}

/// A campaign with a target URL, an affiliate and a short link on `base`: the hosted link
/// (`/redirect?tc=…&aff=…`), the short link and the campaign id.
pub struct Links {
    /// `…/redirect?tc=…&aff=…`
    pub redirect: String,
    /// `…/l/<code>`
    pub short: String,
    /// The campaign's id.
    pub campaign_id: String,
    /// The campaign's tracking code.
    pub code: String,
    /// The affiliate's id.
    pub affiliate_id: String,
}

/// Creates [`Links`] through the API.
pub async fn links(api: &Api, base: &str) -> anyhow::Result<Links> {
    let crate::api::Program { campaign_id, code, affiliate_id } = api
        .program(json!({ "name": "Bench", "commissionType": "percentage", "commissionValue": 20,
                         "targetUrl": "https://shop.example/pricing?plan=pro" }))
        .await?;
    let link =
        api.post("/api/v1/links", json!({ "campaignId": campaign_id, "affiliateId": affiliate_id })).await?;
    let short = link["data"]["url"].as_str().context("short link")?.to_string();
    let redirect = format!("{base}/redirect?tc={code}&aff={affiliate_id}");
    Ok(Links { redirect, short, campaign_id, code, affiliate_id })
}

/// Runs the benchmark and prints a report.
pub async fn run(server_rt: tokio::runtime::Handle, options: Options) -> anyhow::Result<()> {
    crate::database::with_database(options.postgres.clone(), |url| async move {
        measure(server_rt, &url, &options).await
    })
    .await
}

fn line(name: &str, report: &Report) {
    println!(
        "{name:<28} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   failed {}",
        report.throughput(),
        report.percentile_ms(50.0),
        report.percentile_ms(99.0),
        report.failed
    );
}

async fn measure(server_rt: tokio::runtime::Handle, url: &str, options: &Options) -> anyhow::Result<()> {
    let (connections, phase) = (options.connections, Duration::from_secs(options.seconds));
    let warm = Duration::from_secs(1);

    let bare = BareServer::start(&server_rt, Answer::Found).await?;
    let bare_url = format!("{}/redirect", bare.base);
    get_load(&bare_url, StatusCode::FOUND, connections, warm, 0).await;
    let bare_report = get_load(&bare_url, StatusCode::FOUND, connections, phase, 0).await;
    bare.stop();

    let committed = options.ack_committed;
    let server =
        BenchServer::start(&server_rt, url, |config| config.tracking.ack_after_commit = committed).await?;
    let (store, base) = (server.store.clone(), server.base.clone());
    let merchant = refline::admin::create_merchant(&store, "Bench", "scale", "usd").await?;
    let api = Api::new(&base, &merchant.api_key);
    let Links { redirect, short, campaign_id, .. } = links(&api, &base).await?;

    let mut answered = 0;
    let mut run = |report: Report| {
        answered += report.ok;
        report
    };
    run(get_load(&redirect, StatusCode::FOUND, connections, warm, 0).await);
    let redirect_report = run(get_load(&redirect, StatusCode::FOUND, connections, phase, 0).await);
    let short_report = run(get_load(&short, StatusCode::FOUND, connections, phase, 0).await);
    let half = (redirect_report.throughput() / 2.0).max(1.0) as u64;
    let half_report = run(get_load(&redirect, StatusCode::FOUND, connections, phase, half).await);

    server.stop().await?;
    let totals = store.click_totals(&merchant.merchant_id, Some(&campaign_id), None).await?;
    let persisted = u64::try_from(totals.clicks + totals.bot_clicks)?;

    println!("engine                       {}", store.engine());
    println!("connections                  {connections}");
    println!("click ack                    {}", if committed { "committed" } else { "immediate" });
    line("bare hyper 302", &bare_report);
    line("GET /redirect (peak)", &redirect_report);
    line("GET /l/<code> (peak)", &short_report);
    line(&format!("GET /redirect at {half}/s"), &half_report);
    println!(
        "redirect vs bare             {:.0} %",
        100.0 * redirect_report.throughput() / bare_report.throughput().max(1e-9)
    );
    println!(
        "short link vs bare           {:.0} %",
        100.0 * short_report.throughput() / bare_report.throughput().max(1e-9)
    );
    println!("answered (302)               {answered}");
    println!("clicks persisted after stop  {persisted}");
    anyhow::ensure!(persisted == answered, "answered clicks are missing from the database");
    println!("persisted                    100 % of answered clicks");
    Ok(())
}

//! Benchmark of a payout run and its export: `affiliates` affiliates with `per_affiliate`
//! approved commissions each (100,000 of 10,000 by default), all past their hold; one
//! `POST /api/v1/payouts` gathers them into one payout per affiliate, then
//! `GET /api/v1/payouts/export?format=csv` writes the file. The baseline, from the same run, is
//! reading the same commissions alone (the run's first step), so the figures show what the
//! grouping, reservation and checks cost on top of the read.

use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use sqlx::Executor;

/// Settings of a run.
pub struct Options {
    /// PostgreSQL server URL, or `None` for SQLite.
    pub postgres: Option<String>,
    /// Affiliates.
    pub affiliates: usize,
    /// Approved commissions per affiliate.
    pub per_affiliate: usize,
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
    let api = crate::api::Api::new(&base, &merchant.api_key);
    let campaign = api
        .post(
            "/api/v1/campaigns",
            json!({ "name": "Bench", "commissionType": "percentage", "commissionValue": 20 }),
        )
        .await?;
    let campaign_id = campaign["data"]["id"].as_str().context("campaign id")?.to_string();
    api.patch("/api/v1/settings", json!({ "payoutHoldDays": 0, "minimumPayout": "0" })).await?;

    let seeded = Instant::now();
    seed(url, &merchant.merchant_id, &campaign_id, options).await?;
    let commissions = options.affiliates * options.per_affiliate;
    println!(
        "seeded {} affiliates and {commissions} approved commissions in {:.1} s",
        options.affiliates,
        seeded.elapsed().as_secs_f64()
    );

    let read = Instant::now();
    let filter = refline_store::PositionFilter { payable_only: true, ..Default::default() };
    let positions = store.commission_positions(&merchant.merchant_id, &filter).await?;
    let read_s = read.elapsed().as_secs_f64();
    anyhow::ensure!(positions.len() == commissions, "read {} of {commissions} commissions", positions.len());

    let run = Instant::now();
    let made = api.post("/api/v1/payouts", json!({})).await?;
    let run_s = run.elapsed().as_secs_f64();
    let payouts = made["data"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(payouts == options.affiliates, "{payouts} payouts for {} affiliates", options.affiliates);

    let export = Instant::now();
    let file = api.get_text("/api/v1/payouts/export?format=csv").await?;
    let export_s = export.elapsed().as_secs_f64();
    let rows = file.lines().count().saturating_sub(1);
    anyhow::ensure!(rows == options.affiliates, "{rows} rows exported for {} payouts", options.affiliates);

    println!("engine:                   {}", store.engine());
    println!("baseline: read payable    {read_s:>7.2} s  ({commissions} commissions)");
    println!(
        "payout run (POST)         {run_s:>7.2} s  ({payouts} payouts, {:.1}x the read)",
        run_s / read_s
    );
    println!("export (GET csv)          {export_s:>7.2} s  ({rows} rows)");
    server.stop().await
}

/// Writes the affiliates, their approved conversions and accrued ledger entries with a few
/// set-based statements (the API would take minutes; what is measured is the run, not this).
async fn seed(url: &str, merchant: &str, campaign: &str, options: &Options) -> anyhow::Result<()> {
    let affiliates = options.affiliates.saturating_sub(1);
    let conversions = (options.affiliates * options.per_affiliate).saturating_sub(1);
    let per = options.per_affiliate.max(1);
    // Recursive CTEs and `1 = 0` for false read the same on both engines.
    let statements = [
        format!(
            "INSERT INTO affiliates (id, merchant_id, email, name, created_via, created_at) \
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {affiliates}) \
             SELECT 'baff_' || i, '{merchant}', 'a' || i || '@bench.test', NULL, 'api', 0 FROM n"
        ),
        format!(
            "INSERT INTO memberships (campaign_id, affiliate_id, merchant_id, status, joined_at, updated_at) \
             SELECT '{campaign}', id, '{merchant}', 'approved', 0, 0 FROM affiliates WHERE merchant_id = '{merchant}'"
        ),
        format!(
            "INSERT INTO conversions (id, merchant_id, campaign_id, affiliate_id, amount_minor, commission_minor, \
                currency, status, conversion_type, payment_number, source, is_test, created_at, updated_at, \
                approved_at, earned_minor, paid_minor) \
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {conversions}) \
             SELECT 'bconv_' || i, '{merchant}', '{campaign}', 'baff_' || (i / {per}), 10000, 2000, 'usd', \
                'approved', 'one_time', 1, 'api', 1 = 0, i, i, 0, 2000, 0 FROM n"
        ),
        format!(
            "INSERT INTO ledger_entries (merchant_id, affiliate_id, campaign_id, conversion_id, currency, kind, \
                amount_minor, is_test, created_at) \
             SELECT merchant_id, affiliate_id, campaign_id, id, currency, 'accrued', commission_minor, is_test, \
                created_at FROM conversions WHERE merchant_id = '{merchant}'"
        ),
    ];
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        for sql in &statements {
            pool.execute(sql.as_str()).await?;
        }
        pool.execute("ANALYZE").await?;
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        for sql in &statements {
            pool.execute(sql.as_str()).await?;
        }
        pool.execute("ANALYZE").await?;
        pool.close().await;
    }
    Ok(())
}

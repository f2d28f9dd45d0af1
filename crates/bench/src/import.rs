//! Benchmark of an import (`refline import`, docs/MIGRATING.md): `affiliates` affiliates and
//! `commissions` commissions (pending, approved, paid and rejected in turn, so paid history
//! writes its payouts) generated as CSV files and imported through the CSV source, the runner
//! and the core's page operations exactly as `refline import csv` does. Prints the time and
//! rate per entity, and fails unless every row was created; then runs the import again, which
//! must change nothing.

use std::{
    collections::HashMap,
    fmt::Write as _,
    sync::{Arc, Mutex},
    time::Instant,
};

use anyhow::Context;
use refline_core::{clock::SystemClock, effects::DirectEffects, Core};
use refline_import::{
    csv_file::CsvSource, progress::Progress, run_import, runner::import_actor, ImportOptions, Report, Step,
};
use serde_json::json;

/// Settings of a run.
pub struct Options {
    /// PostgreSQL server URL, or `None` for SQLite.
    pub postgres: Option<String>,
    /// Affiliates.
    pub affiliates: usize,
    /// Commissions (spread over the affiliates).
    pub commissions: usize,
}

/// Runs the benchmark and prints a report.
pub async fn run(server_rt: tokio::runtime::Handle, options: Options) -> anyhow::Result<()> {
    crate::database::with_database(options.postgres.clone(), |url| async move {
        measure(server_rt, &url, &options).await
    })
    .await
}

/// When each step started and ended.
#[derive(Default)]
struct Timer {
    steps: Mutex<HashMap<Step, (Instant, Option<f64>)>>,
    marks: Mutex<HashMap<Step, (Instant, u64)>>,
}

impl Progress for Timer {
    fn started(&self, step: Step, _done: u64) {
        if let Ok(mut steps) = self.steps.lock() {
            steps.insert(step, (Instant::now(), None));
        }
    }

    /// Prints each further 10,000 objects with the rate of that stretch, so a rate that falls as
    /// the database grows shows (it would mean a read whose cost grows with the history).
    fn page(&self, step: Step, done: u64, _total: Option<u64>) {
        let Ok(mut marks) = self.marks.lock() else { return };
        let (at, count) = marks.entry(step).or_insert((Instant::now(), 0));
        if done >= *count + 10_000 {
            let rate = (done - *count) as f64 / at.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "  {:<12} {done:>8} done, {rate:>8.0}/s over the last {}",
                step.as_str(),
                done - *count
            );
            *at = Instant::now();
            *count = done;
        }
    }

    fn finished(&self, step: Step, _done: u64) {
        if let Ok(mut steps) = self.steps.lock() {
            if let Some((since, took)) = steps.get_mut(&step) {
                *took = Some(since.elapsed().as_secs_f64());
            }
        }
    }
}

impl Timer {
    fn seconds(&self, step: Step) -> f64 {
        self.steps.lock().ok().and_then(|s| s.get(&step).and_then(|t| t.1)).unwrap_or(0.0)
    }
}

fn files(campaign: &str, options: &Options) -> (Vec<u8>, Vec<u8>) {
    let mut affiliates = String::from("email,name,campaign\n");
    for i in 0..options.affiliates {
        let _ = writeln!(affiliates, "a{i}@bench.test,Affiliate {i},{campaign}");
    }
    let mut commissions = String::from("order_id,affiliate_email,amount,sale_amount,currency,status,date\n");
    let statuses = ["pending", "approved", "paid", "rejected"];
    for i in 0..options.commissions {
        let affiliate = i % options.affiliates.max(1);
        let status = statuses[i % statuses.len()];
        let day = 1 + i % 28;
        let _ =
            writeln!(commissions, "o{i},a{affiliate}@bench.test,12.50,62.50,USD,{status},2026-10-{day:02}");
    }
    (affiliates.into_bytes(), commissions.into_bytes())
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
    let (affiliates, commissions) = files(&campaign_id, options);

    // As `refline import csv` runs it: the command line's core and effects.
    let core = Core::without_sales(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(DirectEffects::new(store.clone())),
        "",
    );
    let actor = import_actor(&core, &merchant.merchant_id, "csv").await?;
    let read = Instant::now();
    let source = CsvSource::new(&affiliates, Some(&commissions), None)?;
    let read_s = read.elapsed().as_secs_f64();
    let timer = Timer::default();
    let whole = Instant::now();
    let report = run_import(&core, &actor, &source, &ImportOptions::default(), &timer).await?;
    let whole_s = whole.elapsed().as_secs_f64();
    check(&report, "affiliate", options.affiliates, |c| c.created)?;
    check(&report, "commission", options.commissions, |c| c.created)?;

    let again = Instant::now();
    let second = run_import(&core, &actor, &source, &ImportOptions::default(), &Timer::default()).await?;
    let again_s = again.elapsed().as_secs_f64();
    check(&second, "commission", options.commissions, |c| c.unchanged)?;

    let rate = |n: usize, s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
    let (aff_s, com_s) = (timer.seconds(Step::Affiliates), timer.seconds(Step::Commissions));
    println!("engine:                {}", store.engine());
    println!("read + map both files  {read_s:>7.2} s");
    println!(
        "affiliates             {aff_s:>7.2} s  ({} created, {:.0}/s)",
        options.affiliates,
        rate(options.affiliates, aff_s)
    );
    println!(
        "commissions            {com_s:>7.2} s  ({} created, {:.0}/s)",
        options.commissions,
        rate(options.commissions, com_s)
    );
    println!("whole import           {whole_s:>7.2} s");
    println!("second run (no change) {again_s:>7.2} s");
    server.stop().await
}

/// Fails unless `entity`'s `count` is `expected`.
fn check(
    report: &Report,
    entity: &str,
    expected: usize,
    count: impl Fn(&refline_import::report::Counts) -> u64,
) -> anyhow::Result<()> {
    let found = report.entities.get(entity).map_or(0, &count);
    anyhow::ensure!(found == expected as u64, "{entity}: {found} of {expected}\n{}", report.to_text());
    Ok(())
}

//! Resident memory of a real `refline serve` process: idle after start, at the peak of each load
//! (redirects, conversions, Stripe deliveries until every one is processed) and idle again after
//! them, read from `/proc/<pid>/status` (`VmRSS`, sampled every 50 ms; `VmHWM`, the kernel's
//! high-water mark). The other benchmarks run the server inside the benchmark's process, whose
//! size includes the client; this one runs the binary operators run, as its own process.
//!
//! Targets (issue 18): under 60 MB idle, under 200 MB under any of the loads. The run prints
//! every figure against its target and fails if one is missed, or if an answered click or an
//! accepted delivery is missing afterwards.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use hyper::StatusCode;
use refline::storage::{open_store, EngineOptions};
use refline_store::{ConversionFilter, ConversionSort, PageRequest, Store};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::{
    api::Api,
    load::{get_load, load, post_load, BodyFn, Report},
    redirects::{links, Links},
};

/// Idle target, bytes.
const IDLE_TARGET: u64 = 60 * 1024 * 1024;
/// Under-load target, bytes.
const LOAD_TARGET: u64 = 200 * 1024 * 1024;

/// Settings of a run.
pub struct Options {
    /// PostgreSQL server URL, or `None` for SQLite.
    pub postgres: Option<String>,
    /// The `refline` binary; `None` for the one next to this benchmark.
    pub refline: Option<PathBuf>,
    /// Seconds of each load.
    pub seconds: u64,
}

/// Runs the benchmark and prints a report.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let binary = match options.refline.clone() {
        Some(path) => path,
        None => std::env::current_exe()?.with_file_name("refline"),
    };
    anyhow::ensure!(
        binary.is_file(),
        "{} not found: build it (cargo build --release -p refline) or pass --refline",
        binary.display()
    );
    crate::database::with_database(options.postgres.clone(), |url| async move {
        measure(&binary, &url, &options).await
    })
    .await
}

/// A `refline serve` child process.
struct Served {
    child: Child,
    pid: u32,
    base: String,
    dir: tempfile::TempDir,
}

impl Served {
    async fn start(binary: &Path, url: &str) -> anyhow::Result<Served> {
        let dir = tempfile::tempdir()?;
        // A free port: bound, read, released; the server binds it a moment later.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let base = format!("http://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("serve.log"))?;
        let child = Command::new(binary)
            .current_dir(dir.path())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--public-url", &base])
            // The benchmarks measure the work, not the per-key limiter.
            .args(["--rate-limit-scale", &u32::MAX.to_string()])
            .args(["--database-url", url])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("refline serve exited at once")?;
        let served = Served { child, pid, base, dir };
        let client = Api::new(&served.base, "");
        let deadline = Instant::now() + Duration::from_secs(60);
        while client.get_text("/readyz").await.is_err() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "refline serve not ready after 60 s: {}",
                served.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(served)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }

    /// A field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), bytes.
    fn status(&self, field: &str) -> anyhow::Result<u64> {
        status_field(self.pid, field)
    }

    /// SIGTERM (a graceful stop: queued clicks are written) and waits up to 60 s.
    async fn stop(mut self) -> anyhow::Result<()> {
        let sent = std::process::Command::new("kill").args(["-TERM", &self.pid.to_string()]).status()?;
        anyhow::ensure!(sent.success(), "kill -TERM {} failed", self.pid);
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .context("refline serve did not stop within 60 s of SIGTERM")??;
        anyhow::ensure!(status.success(), "refline serve exited with {status}: {}", self.log());
        Ok(())
    }
}

fn status_field(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse()?;
    Ok(kib * 1024)
}

/// Samples `VmRSS` every 50 ms while a load runs; the largest sample.
struct Sampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let (peak, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
        let task = tokio::spawn({
            let (peak, stop) = (peak.clone(), stop.clone());
            async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(rss) = status_field(pid, "VmRSS") {
                        peak.fetch_max(rss, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        });
        Sampler { peak, stop, task }
    }

    async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// One line of the report; whether it met `target`.
fn verdict(name: &str, bytes: u64, target: u64, load: &str) -> bool {
    let met = bytes < target;
    println!(
        "{name:<34} {:>7.1} MB   target < {:>3.0} MB   {}   {load}",
        mb(bytes),
        mb(target),
        if met { "met" } else { "NOT MET" }
    );
    met
}

fn rate(report: &Report) -> String {
    format!("{:.0} req/s, failed {}", report.throughput(), report.failed)
}

async fn conversions_stored(store: &dyn Store, merchant_id: &str) -> anyhow::Result<i64> {
    let page = PageRequest { limit: 1, offset: 0, sort: ConversionSort::CreatedAt, descending: true };
    Ok(store.list_conversions(merchant_id, &ConversionFilter::default(), page).await?.total)
}

async fn measure(binary: &Path, url: &str, options: &Options) -> anyhow::Result<()> {
    let seconds = Duration::from_secs(options.seconds);
    // The bench's own handle on the database, for set-up and the checks afterwards; it runs
    // the migrations the server then finds done.
    let store = open_store(url, EngineOptions::default()).await?;
    let merchant = refline::admin::create_merchant(&store, "Bench", "scale", "usd").await?;
    let served = Served::start(binary, url).await?;
    let pid = served.pid;
    let mut all_met = true;

    // Idle: started, migrations run, nothing asked of it yet.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_start = served.status("VmRSS")?;

    let api = Api::new(&served.base, &merchant.api_key);
    let Links { redirect, campaign_id, code, affiliate_id, .. } = links(&api, &served.base).await?;
    api.post("/api/v1/integrations", json!({ "provider": "stripe", "webhookSecret": crate::stripe::SECRET }))
        .await?;

    // Redirects at peak (the `redirects` benchmark's peak phase).
    let sampler = Sampler::start(pid);
    let warm = get_load(&redirect, StatusCode::FOUND, 64, Duration::from_secs(1), 0).await;
    let redirects = get_load(&redirect, StatusCode::FOUND, 64, seconds, 0).await;
    let redirects_peak = sampler.finish().await;
    let mut clicks_answered = warm.ok + redirects.ok;

    // Conversions at peak (the `conversions` benchmark's load).
    let sampler = Sampler::start(pid);
    let (campaign, affiliate) = (campaign_id.clone(), affiliate_id.clone());
    let bodies: BodyFn = Arc::new(move |n| {
        format!(
            r#"{{"campaignId":"{campaign}","affiliateId":"{affiliate}","amount":99.00,"orderId":"memory-{n}","clickId":"click_123","customerEmail":"customer@example.com"}}"#
        )
        .into_bytes()
    });
    let conversions_url = format!("{}/api/v1/conversions", served.base);
    let conversions =
        post_load(&conversions_url, &merchant.api_key, bodies, StatusCode::CREATED, 32, seconds, 0).await;
    let conversions_peak = sampler.finish().await;

    // Stripe deliveries at peak, then until the worker has turned each into a conversion.
    let before = conversions_stored(store.as_ref(), &merchant.merchant_id).await?;
    let sampler = Sampler::start(pid);
    let reference = format!("tc_{code}_aff_{affiliate_id}_cid_click_bench");
    let stripe_url = format!("{}/api/webhooks/stripe/merchant/{}", served.base, merchant.merchant_id);
    let stripe = load(crate::stripe::deliveries(stripe_url, reference), StatusCode::OK, 32, seconds, 0).await;
    let expected = before + i64::try_from(stripe.ok)?;
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut converted = before;
    while converted < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        converted = conversions_stored(store.as_ref(), &merchant.merchant_id).await?;
    }
    let stripe_peak = sampler.finish().await;

    // Idle again: what the loads left behind.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_end = served.status("VmRSS")?;
    let high_water = served.status("VmHWM")?;
    // One more click, answered just before the stop, must be stored too.
    clicks_answered += get_load(&redirect, StatusCode::FOUND, 1, Duration::from_millis(10), 0).await.ok;
    served.stop().await?;
    let totals = store.click_totals(&merchant.merchant_id, Some(&campaign_id), None).await?;
    let clicks_stored = u64::try_from(totals.clicks + totals.bot_clicks)?;

    println!("engine                             {}", store.engine());
    println!("binary                             {}", binary.display());
    all_met &= verdict("idle after start (VmRSS)", idle_start, IDLE_TARGET, "");
    all_met &= verdict("redirects, peak (VmRSS max)", redirects_peak, LOAD_TARGET, &rate(&redirects));
    all_met &= verdict("conversions, peak (VmRSS max)", conversions_peak, LOAD_TARGET, &rate(&conversions));
    all_met &= verdict(
        "stripe, until processed (max)",
        stripe_peak,
        LOAD_TARGET,
        &format!("{}, {} converted", rate(&stripe), converted - before),
    );
    all_met &= verdict("idle after the loads (VmRSS)", idle_end, IDLE_TARGET, "");
    all_met &= verdict("high-water mark (VmHWM)", high_water, LOAD_TARGET, "whole run");
    println!("clicks answered / stored           {clicks_answered} / {clicks_stored}");
    anyhow::ensure!(clicks_stored == clicks_answered, "answered clicks are missing from the database");
    anyhow::ensure!(converted == expected, "accepted deliveries did not all become conversions");
    anyhow::ensure!(all_met, "a memory target was missed");
    Ok(())
}

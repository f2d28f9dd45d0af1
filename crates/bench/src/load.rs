//! A closed-loop (or rate-limited) HTTP load generator with latency percentiles.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, Request, StatusCode};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};

/// Builds the next request body for request number `n`.
pub type BodyFn = Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>;

/// What a run measured.
#[derive(Debug, Default)]
pub struct Report {
    /// Requests answered with the expected status.
    pub ok: u64,
    /// Other answers and transport errors.
    pub failed: u64,
    /// Failure reasons and counts (status codes or transport errors).
    pub failures: std::collections::BTreeMap<String, u64>,
    /// Wall time of the measured window.
    pub elapsed: Duration,
    /// Sorted latencies of successful requests, microseconds.
    pub latencies_us: Vec<u64>,
}

impl Report {
    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Latency percentile in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * (self.latencies_us.len() - 1) as f64).round() as usize;
        self.latencies_us[rank.min(self.latencies_us.len() - 1)] as f64 / 1000.0
    }
}

/// Builds request number `n`.
pub type RequestFn = Arc<dyn Fn(u64) -> Option<Request<Full<Bytes>>> + Send + Sync>;

/// POSTs bodies from `body` to `url` with a bearer `key`; see [`load`].
pub async fn post_load(
    url: &str,
    key: &str,
    body: BodyFn,
    expect: StatusCode,
    connections: usize,
    duration: Duration,
    rate: u64,
) -> Report {
    let (url, auth) = (url.to_string(), format!("Bearer {key}"));
    let requests: RequestFn = Arc::new(move |n| {
        Request::post(url.as_str())
            .header("authorization", auth.as_str())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body(n))))
            .ok()
    });
    load(requests, expect, connections, duration, rate).await
}

/// GETs `url` as a browser would (a desktop user agent); see [`load`].
pub async fn get_load(
    url: &str,
    expect: StatusCode,
    connections: usize,
    duration: Duration,
    rate: u64,
) -> Report {
    let url = url.to_string();
    let requests: RequestFn = Arc::new(move |_| {
        Request::get(url.as_str())
            .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
            .body(Full::new(Bytes::new()))
            .ok()
    });
    load(requests, expect, connections, duration, rate).await
}

/// Sends requests from `requests` on `connections` concurrent keep-alive connections for
/// `duration`; `rate` > 0 spaces requests to that many per second overall.
pub async fn load(
    requests: RequestFn,
    expect: StatusCode,
    connections: usize,
    duration: Duration,
    rate: u64,
) -> Report {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(connections).build(connector);
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let interval = (rate > 0).then(|| Duration::from_secs_f64(connections as f64 / rate as f64));
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..connections {
        let (client, counter, requests) = (client.clone(), counter.clone(), requests.clone());
        workers.spawn(async move {
            let mut report = Report::default();
            // Stagger rate-limited workers so their requests do not arrive in bursts.
            let mut next = interval.map(|i| start + i.mul_f64(worker as f64 / connections as f64));
            while Instant::now() < deadline {
                if let (Some(at), Some(i)) = (next, interval) {
                    tokio::time::sleep_until(at.into()).await;
                    next = Some(at + i);
                }
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests(n) else {
                    report.failed += 1;
                    continue;
                };
                let sent = Instant::now();
                match client.request(request).await {
                    Ok(response) => {
                        let status = response.status();
                        let _ = response.into_body().collect().await;
                        if status == expect {
                            report.ok += 1;
                            report.latencies_us.push(sent.elapsed().as_micros() as u64);
                        } else {
                            report.failed += 1;
                            *report.failures.entry(status.to_string()).or_default() += 1;
                        }
                    }
                    Err(err) => {
                        report.failed += 1;
                        *report.failures.entry(format!("{err:?}").chars().take(80).collect()).or_default() +=
                            1;
                    }
                }
            }
            report
        });
    }
    let mut total = Report::default();
    for report in workers.join_all().await {
        total.ok += report.ok;
        total.failed += report.failed;
        total.latencies_us.extend(report.latencies_us);
        for (reason, n) in report.failures {
            *total.failures.entry(reason).or_default() += n;
        }
    }
    total.elapsed = start.elapsed();
    total.latencies_us.sort_unstable();
    total
}

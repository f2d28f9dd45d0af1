//! `/metrics`: Prometheus text exposition through the `metrics` facade and
//! `metrics-exporter-prometheus`.
//!
//! Off unless `--metrics-token` is set; then `GET /metrics` answers only with
//! `Authorization: Bearer <token>` (401 otherwise), on the server's own listener, so a scraper
//! needs no second port and the public cannot read request volumes. Counters and latencies are
//! recorded as requests and deliveries happen; queue backlogs and pool figures are read when
//! the scraper asks (one small query), so an idle server does no work for metrics.
//!
//! The recorder is process-wide (the facade's global): one server per process in production;
//! the integration tests, which run many servers in one process, share it and only ever check
//! that values move.

use std::{sync::OnceLock, time::Duration};

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use subtle::ConstantTimeEq;

use crate::{error::ApiError, state::AppState};

/// Requests answered, by method, route template and status.
pub const REQUESTS: &str = "refline_http_requests_total";
/// Time to answer, seconds, by method, route template and status.
pub const REQUEST_SECONDS: &str = "refline_http_request_duration_seconds";
/// Outbound webhook attempts by outcome (`delivered`, `retry`, `failed`).
pub const WEBHOOK_ATTEMPTS: &str = "refline_webhook_attempts_total";

/// Latency buckets, seconds: the redirect path answers in well under a millisecond, a page
/// with a month of data in tens of milliseconds; anything past 10 s is a timeout anyway.
const BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once; later calls answer the same handle). `None` when
/// another recorder was installed first (an embedding program's), which then gets the values.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), &BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    gauge!("refline_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(%err, "metrics recorder not installed; /metrics shows nothing");
                    None
                }
            }
        })
        .clone()
}

/// Whether [`install`] ran in this process (its recorder, or an embedding program's that was
/// installed first, takes the values). Without it the facade's no-op recorder would discard
/// them; recording paths ask this first so that a server without `--metrics-token` does not
/// build labels (two `String`s a request on the redirect path, issue 18) for nothing.
pub fn recording() -> bool {
    HANDLE.get().is_some()
}

/// Records one answered request (from `http::request_id::observe`). A request no route matched
/// is labelled `unmatched`, so scanners cannot create a series per path they try. Nothing is
/// built when no recorder is installed ([`recording`]).
pub fn record_request(method: &Method, route: Option<&str>, status: StatusCode, elapsed: Duration) {
    if !recording() {
        return;
    }
    let method = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let route = route.unwrap_or("unmatched").to_string();
    let status = status.as_str().to_string();
    counter!(REQUESTS, "method" => method, "route" => route.clone(), "status" => status.clone()).increment(1);
    histogram!(REQUEST_SECONDS, "method" => method, "route" => route, "status" => status)
        .record(elapsed.as_secs_f64());
}

/// Records one outbound webhook attempt by what happens to its delivery next.
pub fn record_webhook_attempt(delivery_status: &str) {
    if !recording() {
        return;
    }
    let outcome = match delivery_status {
        "delivered" => "delivered",
        "pending" => "retry",
        _ => "failed",
    };
    counter!(WEBHOOK_ATTEMPTS, "outcome" => outcome).increment(1);
}

/// `GET /metrics` (routed only when a token is configured).
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return ApiError::not_found("route").into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
        let mut refused =
            ApiError::unauthorized("/metrics needs the metrics token as a bearer token").into_response();
        refused.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return refused;
    }
    let Some(handle) = install() else {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "metrics_unavailable", "No metrics recorder")
            .into_response();
    };
    refresh_gauges(&state).await;
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))],
        handle.render(),
    )
        .into_response()
}

/// The figures read at scrape time: queues in memory and in the database, pools.
async fn refresh_gauges(state: &AppState) {
    let writer = &state.tracking.writer;
    gauge!("refline_click_queue_depth").set(writer.queue_depth() as f64);
    let clicks = writer.counters();
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    counter!("refline_clicks_accepted_total").absolute(load(&clicks.accepted));
    counter!("refline_clicks_stored_total").absolute(load(&clicks.stored));
    counter!("refline_clicks_lost_total").absolute(load(&clicks.lost));
    counter!("refline_clicks_rejected_total").absolute(load(&clicks.rejected));
    for pool in state.store.pool_stats() {
        let busy = pool.size.saturating_sub(pool.idle);
        gauge!("refline_db_pool_connections", "pool" => pool.name, "state" => "idle")
            .set(f64::from(pool.idle));
        gauge!("refline_db_pool_connections", "pool" => pool.name, "state" => "busy").set(f64::from(busy));
        gauge!("refline_db_pool_max_connections", "pool" => pool.name).set(f64::from(pool.max));
    }
    let read =
        tokio::time::timeout(Duration::from_secs(5), state.store.backlogs(state.config.clock.now())).await;
    match read {
        Ok(Ok(b)) => {
            gauge!("refline_database_up").set(1.0);
            gauge!("refline_webhook_backlog", "state" => "pending").set(b.webhooks_pending as f64);
            gauge!("refline_webhook_backlog", "state" => "due").set(b.webhooks_due as f64);
            gauge!("refline_webhook_backlog", "state" => "held").set(b.webhooks_held as f64);
            gauge!("refline_processor_inbox_backlog").set(b.inbox_pending as f64);
            gauge!("refline_mail_backlog").set(b.mail_pending as f64);
        }
        Ok(Err(err)) => {
            tracing::warn!(%err, "reading queue backlogs for /metrics failed");
            gauge!("refline_database_up").set(0.0);
        }
        Err(_) => {
            tracing::warn!("reading queue backlogs for /metrics timed out");
            gauge!("refline_database_up").set(0.0);
        }
    }
}

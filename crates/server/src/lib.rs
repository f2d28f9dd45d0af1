//! Refline's HTTP server.
//!
//! [`app`] builds the whole router; [`serve`] runs it on a listener until a shutdown signal,
//! then lets in-flight requests finish and drains the audit writer. The binary and the
//! integration tests both go through [`serve`], so tests exercise the real server.

pub mod api;
pub mod cluster;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod http;
pub mod inbound;
pub mod mail;
pub mod mcp;
pub mod metrics;
pub mod outbound;
pub mod portal;
pub mod rails;
pub mod secrets;
pub mod service;
pub mod sign_in;
pub mod state;
pub mod tracking;

// Moved to the core of operations; re-exported so every `crate::clock` / `crate::ids` path
// (and the tests' `refline_server::ids`) keeps working.
pub use refline_core::{clock, ids, terms};

use std::{future::Future, sync::Arc};

use axum::{extract::DefaultBodyLimit, middleware, routing::get, Router};
use refline_core::inbound::worker::ClaimSizes;
use refline_store::Store;
use tokio::{net::TcpListener, sync::Notify};
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;

use crate::{
    config::ServerConfig,
    error::ApiError,
    http::{audit::AuditSink, rate_limit::RateLimiter},
    outbound::{dispatch::Dispatcher, target::TargetPolicy},
    service::conversion_writer::ConversionWriter,
    state::AppState,
    tracking::{cache::LinkCache, click_writer::ClickWriter, Tracking},
};

/// The full router for a state.
pub fn app(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let edge_limits = Arc::new(http::edge::EdgeLimits::of(&state.config));
    let metrics_on = state.config.metrics_token.is_some();
    if metrics_on {
        metrics::install();
    }
    let mut router = Router::new()
        .route("/healthz", get(http::health::healthz))
        .route("/readyz", get(http::health::readyz));
    if metrics_on {
        router = router.route("/metrics", get(metrics::scrape));
    }
    router
        // The contract and its rendering, public (outside /api/v1's key check).
        .merge(api::openapi::router())
        .nest("/api/v1", api::router(state.clone()))
        .merge(dashboard::router(state.clone()))
        .merge(portal::router(state.clone()))
        // Processor receivers take the API's body limit and error envelope.
        .merge(inbound::router(state.clone()))
        // The MCP door: the API's keys, rights and rate limits, tools over the same core.
        .merge(mcp::router(state.clone()))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        // Tracking routes answer the public at volume: they bound their own bodies.
        .merge(tracking::router())
        .layer(CatchPanicLayer::custom(|_| ApiError::handler_panicked()))
        // Outermost: head limits, control characters in paths and queries, body deadlines and
        // the one error envelope, for every route alike.
        .layer(middleware::from_fn_with_state(edge_limits, http::edge::edge))
        // Outermost of all: the request id, the request's log span and its metrics.
        .layer(middleware::from_fn(http::request_id::observe))
        .with_state(state)
}

/// Serves Refline on `listener` until `shutdown` resolves, then finishes in-flight requests and
/// flushes the audit log before returning.
pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (audit, audit_task) = AuditSink::start(store.clone());
    // SQLite has one writer; PostgreSQL benefits from a few batches committing side by side.
    let one_writer = store.engine() == "sqlite";
    let writers = if one_writer { 1 } else { 4 };
    let (writer, writer_tasks) = ConversionWriter::start(store.clone(), writers);
    let targets = TargetPolicy {
        allow_private: config.webhooks.allow_private_targets,
        resolver: config.resolver.clone(),
    };
    if targets.allow_private {
        tracing::warn!("webhook targets may be private or plain http (development setting)");
    }
    let dispatcher = Dispatcher::new(&config.webhooks, targets.clone(), config.clock.clone());
    let webhook_wake = Arc::new(Notify::new());
    let stop_worker = CancellationToken::new();
    let worker = config.webhooks.worker_enabled.then(|| {
        tokio::spawn(outbound::worker::run(
            store.clone(),
            dispatcher.clone(),
            config.webhooks.clone(),
            config.clock.clone(),
            webhook_wake.clone(),
            stop_worker.clone(),
        ))
    });
    let (click_writer, click_task) = ClickWriter::start(store.clone(), &config.tracking);
    let sweeper = config.tracking.sweeper_enabled.then(|| {
        tokio::spawn(tracking::sweeper::run(
            store.clone(),
            config.clock.clone(),
            config.tracking.ip_retention_days,
            stop_worker.clone(),
        ))
    });
    let tracking = Tracking {
        links: Arc::new(LinkCache::new(config.tracking.cache_ttl, 100_000)),
        scripts: Arc::default(),
        writer: click_writer,
        seen: Arc::default(),
    };
    let secrets = Arc::new(secrets::SecretBox::new(config.secret_key));
    let inbox_wake = Arc::new(Notify::new());
    let mail_wake = Arc::new(Notify::new());
    let mail_worker = match mail::MailTransport::from_settings(&config.mail) {
        Ok(Some(transport)) if config.mail.worker_enabled => Some(tokio::spawn(mail::worker::run(
            store.clone(),
            transport,
            config.mail.from.clone(),
            config.clock.clone(),
            mail_wake.clone(),
            config.mail.poll,
            stop_worker.clone(),
        ))),
        Ok(Some(_)) => None,
        Ok(None) => {
            tracing::warn!(
                "no --smtp-url and no --mail-dir: mails wait in the outbox until one is configured"
            );
            None
        }
        Err(err) => return Err(std::io::Error::other(err.to_string())),
    };
    // Several nodes on one PostgreSQL hear of each other's writes; one SQLite node needs not.
    let node = refline_core::ids::new_id("node");
    let multi_node = store.engine() == "postgres";
    let (announcer, announce_task) = if multi_node {
        let (announcer, task) = cluster::Announcer::start(store.clone(), node.clone(), stop_worker.clone());
        (Some(announcer), Some(task))
    } else {
        (None, None)
    };
    let keys = Arc::new(http::key_cache::KeyCache::default());
    let attributions = Arc::new(refline_core::sales::attribution_cache::AttributionCache::default());
    let connections = Arc::new(refline_core::inbound::receive::ConnectionMemory::default());
    let listen_task = multi_node.then(|| {
        let wakes = cluster::LocalWakes {
            keys: keys.clone(),
            attributions: attributions.clone(),
            connections: connections.clone(),
            webhook: webhook_wake.clone(),
            inbox: inbox_wake.clone(),
            mail: mail_wake.clone(),
            tracking: tracking.clone(),
        };
        tokio::spawn(cluster::listen(store.clone(), node.clone(), wakes, stop_worker.clone()))
    });
    let effects = Arc::new(state::NodeEffects {
        audit: audit.clone(),
        webhook_wake: webhook_wake.clone(),
        inbox_wake: inbox_wake.clone(),
        tracking: tracking.clone(),
        keys: keys.clone(),
        attributions: attributions.clone(),
        connections: connections.clone(),
        mail_wake,
        announcer,
    });
    let core = refline_core::Core::new(
        store.clone(),
        config.clock.clone(),
        effects,
        writer.clone(),
        config.limits.clone(),
        &config.public_url,
    )
    .with_unsubscribe_key(&config.secret_key)
    .with_attribution_cache(attributions)
    .with_connection_memory(connections);
    let inbox_worker = config.webhooks.worker_enabled.then(|| {
        let api_policy = inbound::gopay::api_policy(&config);
        let lookup = inbound::gopay::GoPayLookup {
            store: store.clone(),
            secrets: secrets.clone(),
            client: inbound::gopay::client(&api_policy),
            targets: api_policy,
            tokens: Arc::default(),
        };
        let context = refline_core::inbound::InboxContext {
            store: store.clone(),
            writer: writer.clone(),
            limits: config.limits.clone(),
            clock: config.clock.clone(),
            lookup: Arc::new(lookup),
            // The same lease as the webhook worker's: how soon a crashed node's work resumes.
            lease_ms: config.webhooks.lease_ms,
            inbox: core.inbox.clone(),
            claim: if one_writer { ClaimSizes::ONE_WRITER } else { ClaimSizes::PARALLEL_WRITERS },
        };
        tokio::spawn(inbound::worker::run(
            context,
            inbox_wake.clone(),
            config.webhooks.inbox_poll_interval,
            stop_worker.clone(),
        ))
    });
    let digests = config
        .mail
        .worker_enabled
        .then(|| tokio::spawn(mail::digest::run(core.clone(), config.mail.digest_poll, stop_worker.clone())));
    let rail: Arc<dyn refline_core::payouts::stripe::TransferRail> = rails::stripe::StripeTransfers::new(
        &config.payouts.stripe_api_base,
        inbound::gopay::api_policy(&config),
    );
    let scheduler = config.webhooks.worker_enabled.then(|| {
        tokio::spawn(rails::schedule::run(
            core.clone(),
            rail.clone(),
            secrets.clone(),
            config.payouts.clone(),
            stop_worker.clone(),
        ))
    });
    let state = AppState::new(state::Handles {
        rail,
        core,
        store: store.clone(),
        config: Arc::new(config),
        limiter: Arc::new(if multi_node {
            RateLimiter::shared(store.clone())
        } else {
            RateLimiter::default()
        }),
        keys,
        audit,
        writer,
        dispatcher,
        targets,
        webhook_wake,
        inbox_wake,
        secrets,
        tracking,
        imports: crate::dashboard::migrate::Running::default(),
    });
    let connections = state.config.connections.clone();
    let lane = http::fast_lane::FastLane::new(state.clone());
    let router = app(state);
    let served = http::connection::serve(listener, router, Some(lane), &connections, shutdown).await;
    // Deliveries in flight finish (bounded by the webhook timeout); queued ones wait in the
    // outbox for the next start or another node.
    stop_worker.cancel();
    if let Some(worker) = worker {
        if let Err(err) = worker.await {
            tracing::error!(%err, "webhook worker failed");
        }
    }
    // Every handler (and its AuditSink clone) is gone once serve returns: the writer drains
    // what is queued and stops.
    if let Some(inbox_worker) = inbox_worker {
        if let Err(err) = inbox_worker.await {
            tracing::error!(%err, "processor inbox worker failed");
        }
    }
    if let Some(mail_worker) = mail_worker {
        if let Err(err) = mail_worker.await {
            tracing::error!(%err, "mail worker failed");
        }
    }
    if let Some(digests) = digests {
        if let Err(err) = digests.await {
            tracing::error!(%err, "commission digest worker failed");
        }
    }
    if let Some(scheduler) = scheduler {
        if let Err(err) = scheduler.await {
            tracing::error!(%err, "payout scheduler failed");
        }
    }
    for task in [announce_task, listen_task].into_iter().flatten() {
        if let Err(err) = task.await {
            tracing::error!(%err, "cluster announcements failed");
        }
    }
    if let Err(err) = click_task.await {
        tracing::error!(%err, "click writer failed");
    }
    if let Some(sweeper) = sweeper {
        if let Err(err) = sweeper.await {
            tracing::error!(%err, "click IP sweeper failed");
        }
    }
    let mut writer_tasks = writer_tasks;
    while writer_tasks.join_next().await.is_some() {}
    if let Err(err) = audit_task.await {
        tracing::error!(%err, "audit writer failed");
    }
    served
}

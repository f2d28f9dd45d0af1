//! Shared handles of the running server.

use std::sync::Arc;

use refline_core::{
    audit::AuditRecord, effects::audit_entry, sales::attribution_cache::AttributionCache, Core, Effects,
};
use refline_store::Store;
use tokio::sync::Notify;

use crate::{
    cluster::{Announcer, Topic},
    config::ServerConfig,
    http::audit::{fold_into_request, AuditSink},
    http::{key_cache::KeyCache, rate_limit::RateLimiter},
    outbound::{dispatch::Dispatcher, target::TargetPolicy},
    secrets::SecretBox,
    service::conversion_writer::ConversionWriter,
    tracking::Tracking,
};

/// The handles every handler may use, shared behind one `Arc`: axum clones the state for every
/// request (and every extractor that takes it), and one reference count is cheaper than the
/// dozen `Arc`s of these fields (issue 18, the redirect path). Fields read through `Deref`
/// (`state.core`, `state.config`…).
#[derive(Clone)]
pub struct AppState(Arc<Handles>);

impl AppState {
    /// Shares `handles` among the server's handlers.
    pub fn new(handles: Handles) -> AppState {
        AppState(Arc::new(handles))
    }
}

impl std::ops::Deref for AppState {
    type Target = Handles;

    fn deref(&self) -> &Handles {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Handles {
    /// The core of operations: what handlers call.
    pub core: Core,
    /// Stripe transfers for `stripe_connect` payouts.
    pub rail: Arc<dyn refline_core::payouts::stripe::TransferRail>,
    /// The database.
    pub store: Arc<dyn Store>,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// Per-key request counters.
    pub limiter: Arc<RateLimiter>,
    /// API key owners this node read in the last second (`http::key_cache`).
    pub keys: Arc<KeyCache>,
    /// Audit log writer.
    pub audit: AuditSink,
    /// Group-commit writer of conversions.
    pub writer: ConversionWriter,
    /// Sends webhook requests (deliveries and test dispatches).
    pub dispatcher: Dispatcher,
    /// What webhook URLs may be.
    pub targets: TargetPolicy,
    /// Seals and opens payment-processor secrets at rest.
    pub secrets: Arc<SecretBox>,
    /// Wakes the processor inbox worker after a delivery was stored.
    pub inbox_wake: Arc<Notify>,
    /// Link cache, click writer and script state.
    pub tracking: Tracking,
    /// Wakes the webhook worker after a write may have queued deliveries.
    pub webhook_wake: Arc<Notify>,
    /// Imports running in the background on this node (the dashboard's Migrate page).
    pub imports: crate::dashboard::migrate::Running,
}

/// What the core's operations set off on this node: the webhook worker is woken, the link cache
/// and rendered scripts dropped, the audit record folded into its request's entry or queued.
/// Other nodes on the same PostgreSQL hear of it through the [`Announcer`] (`crate::cluster`).
pub struct NodeEffects {
    /// The audit log writer.
    pub audit: AuditSink,
    /// Wakes the webhook worker.
    pub webhook_wake: Arc<Notify>,
    /// Wakes the processor inbox worker.
    pub inbox_wake: Arc<Notify>,
    /// The node's tracking caches.
    pub tracking: Tracking,
    /// The node's remembered API keys.
    pub keys: Arc<KeyCache>,
    /// The node's remembered sale attributions (the core's).
    pub attributions: Arc<AttributionCache>,
    /// The node's remembered processor connections (the core's).
    pub connections: Arc<refline_core::inbound::receive::ConnectionMemory>,
    /// Wakes the mail worker.
    pub mail_wake: Arc<Notify>,
    /// Tells the other nodes on the same database (PostgreSQL); `None` where one node runs.
    pub announcer: Option<Arc<Announcer>>,
}

impl NodeEffects {
    fn announce(&self, topic: Topic) {
        if let Some(announcer) = &self.announcer {
            announcer.announce(topic);
        }
    }
}

#[async_trait::async_trait]
impl Effects for NodeEffects {
    fn outbox_written(&self) {
        self.webhook_wake.notify_one();
        self.announce(Topic::Outbox);
    }

    fn links_changed(&self) {
        self.tracking.invalidate();
        self.attributions.clear();
        self.announce(Topic::Links);
    }

    fn inbox_written(&self) {
        self.inbox_wake.notify_one();
        self.announce(Topic::Inbox);
    }

    fn mail_written(&self) {
        self.mail_wake.notify_one();
        self.announce(Topic::Mail);
    }

    fn keys_changed(&self) {
        self.keys.clear();
        self.connections.clear();
        self.announce(Topic::Keys);
    }

    async fn audited(&self, record: AuditRecord) {
        // An operation run while an HTTP request is answered is part of that request's entry
        // (the request is one line of the log); any other is an entry of its own.
        if let Some(record) = fold_into_request(record) {
            self.audit.record(audit_entry(record)).await;
        }
    }
}

//! The audit log: every write and every failed authentication, recorded off the request path.
//!
//! An HTTP request is one entry. The core operation it runs reports itself through
//! [`refline_core::Effects::audited`]; while a request is being answered that record is held in a
//! task-local slot ([`fold_into_request`]) and becomes the request entry's `operation` and
//! `target_id`. Operations run outside a request (workers, a core used without HTTP) are queued as
//! entries of their own.
//!
//! Entries go through a bounded channel to one writer task that inserts them in batches, so a
//! burst of writes costs one extra statement per batch rather than one per request. On graceful
//! shutdown the channel is closed and the writer drains it before the store closes; a crash can
//! lose the entries of the batch in flight (at most one batch, written every few ms under load).

use std::sync::{Arc, Mutex};

use axum::{
    extract::{OriginalUri, Request, State},
    http::{header, Method, StatusCode},
    middleware::Next,
    response::Response,
};
use refline_core::audit::AuditRecord;
use refline_domain::strip_forbidden;
use refline_store::{write_isolating, AuditEntry, Store, StoreError};
use tokio::{sync::mpsc, task::JoinHandle};

use crate::{error::ErrorCode, http::client_ip::client_ip, state::AppState};

const BATCH: usize = 500;

/// Who made the request, left in the response extensions by authentication.
#[derive(Debug, Clone)]
pub struct AuditActor {
    /// The merchant, when a key identified one.
    pub merchant_id: Option<String>,
    /// The key, when one authenticated.
    pub api_key_id: Option<String>,
    /// The signed-in person (dashboard).
    pub user_id: Option<String>,
}

/// The sending side of the audit writer.
#[derive(Debug, Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<AuditEntry>,
}

impl AuditSink {
    /// Starts the writer task on `store`. The task ends once every sink clone is dropped and the
    /// queue is drained.
    pub fn start(store: Arc<dyn Store>) -> (AuditSink, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(BATCH * 20);
        let task = tokio::spawn(write_batches(store, rx));
        (AuditSink { tx }, task)
    }

    /// Queues an entry; waits when the queue is full rather than dropping it. The entry is made
    /// storable first, whoever built it (see `storable`).
    pub async fn record(&self, entry: AuditEntry) {
        if self.tx.send(storable_entry(entry)).await.is_err() {
            tracing::error!("audit writer stopped; entry lost");
        }
    }
}

async fn write_batches(store: Arc<dyn Store>, mut rx: mpsc::Receiver<AuditEntry>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        // Entries are made storable before they are queued (see `storable`); if the database
        // still refuses one, it fails alone and every other entry of the batch is kept.
        let results =
            write_isolating(&batch, |part: Vec<AuditEntry>| insert_retrying(store.as_ref(), &rx, part)).await;
        for (entry, result) in batch.iter().zip(results) {
            if let Err(err) = result {
                tracing::error!(%err, door = %entry.door, method = ?entry.method, path = ?entry.path, "audit entry not stored");
            }
        }
        batch.clear();
    }
}

/// Inserts `part`, retrying while the database is unreachable: audit entries are never given
/// up for a passing outage while the server runs; at shutdown, after five failed attempts.
async fn insert_retrying(
    store: &dyn Store,
    rx: &mpsc::Receiver<AuditEntry>,
    part: Vec<AuditEntry>,
) -> Result<Vec<()>, StoreError> {
    let mut attempt = 0u64;
    loop {
        match store.insert_audit_entries(&part).await {
            Ok(()) => return Ok(vec![(); part.len()]),
            // Anything but a refused row (which isolation handles) is the database's trouble:
            // retry, for as long as the server runs and five times once it is stopping.
            Err(err) if !(err.is_row_fault() || (rx.is_closed() && attempt >= 5)) => {
                attempt += 1;
                tracing::warn!(%err, attempt, "audit batch failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(100 * attempt.min(50))).await;
            }
            Err(err) => return Err(err),
        }
    }
}

/// An entry every engine can store: hostile text from a path, a header or a URL is kept,
/// defanged, rather than failing the insert of the entry (and, before isolation, its batch).
fn storable_entry(entry: AuditEntry) -> AuditEntry {
    let text = |value: Option<String>, max| value.map(|v| storable(&v, max));
    AuditEntry {
        merchant_id: text(entry.merchant_id, 128),
        api_key_id: text(entry.api_key_id, 128),
        user_id: text(entry.user_id, 128),
        door: storable(&entry.door, 16),
        operation: text(entry.operation, 64),
        target_id: text(entry.target_id, 128),
        method: text(entry.method, 16),
        path: text(entry.path, 2048),
        error_code: text(entry.error_code, 64),
        ip_address: text(entry.ip_address, 64),
        user_agent: text(entry.user_agent, 512),
        ..entry
    }
}

/// Text as the audit log keeps it: no characters a database cannot store, at most `max`
/// characters. The log records what was attempted, so hostile values are kept, defanged.
fn storable(text: &str, max: usize) -> String {
    strip_forbidden(text).chars().take(max).collect()
}

tokio::task_local! {
    /// The operation the request being answered ran, as the core reported it.
    static REQUEST_OPERATION: Arc<Mutex<Option<AuditRecord>>>;
}

/// Keeps `record` for the entry of the request this task is answering; gives it back when no
/// request is being answered here, or when the request's entry already names an operation (a
/// request that ran two), so the caller stores it as an entry of its own and none is lost.
pub fn fold_into_request(record: AuditRecord) -> Option<AuditRecord> {
    let mut record = Some(record);
    // Outside a request's scope `try_with` fails and the record stays with the caller.
    let _ = REQUEST_OPERATION.try_with(|slot| {
        if let Ok(mut slot) = slot.lock() {
            if slot.is_none() {
                *slot = record.take();
            }
        }
    });
    record
}

/// Runs `work` with an operation slot of its own and answers the operation it ran, for a door
/// whose one HTTP request is not one operation (an MCP tool call is audited per call).
pub async fn with_operation_slot<F: std::future::Future>(work: F) -> (F::Output, Option<AuditRecord>) {
    let slot = Arc::new(Mutex::new(None));
    let out = REQUEST_OPERATION.scope(slot.clone(), work).await;
    let operation = slot.lock().ok().and_then(|mut held| held.take());
    (out, operation)
}

/// Middleware of `/api/v1`: after the response is known, records writes and failed
/// authentications, as requests through the `api` door.
pub async fn audit_requests(state: State<AppState>, req: Request, next: Next) -> Response {
    audit_as("api", state, req, next).await
}

/// Middleware of the dashboard's pages: every form post and refused request, through the
/// `dashboard` door, with the signed-in person.
pub async fn audit_pages(state: State<AppState>, req: Request, next: Next) -> Response {
    audit_as("dashboard", state, req, next).await
}

/// Middleware of the affiliate portal and join pages: every form post and refused request,
/// through the `portal` door, with the affiliate person the operation names.
pub async fn audit_portal(state: State<AppState>, req: Request, next: Next) -> Response {
    audit_as("portal", state, req, next).await
}

/// Middleware of the payment processors' receivers: every delivery, through the `processor` door.
pub async fn audit_deliveries(state: State<AppState>, req: Request, next: Next) -> Response {
    audit_as("processor", state, req, next).await
}

async fn audit_as(door: &'static str, State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    // Nested routers see the path without their prefix; the log wants what the client sent.
    let path = storable(
        req.extensions().get::<OriginalUri>().map_or_else(|| req.uri().path(), |o| o.0.path()),
        2048,
    );
    let ip = client_ip(&req, &state.config).map(|ip| ip.to_string());
    let user_agent =
        req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|ua| storable(ua, 512));
    let slot = Arc::new(Mutex::new(None));
    let response = REQUEST_OPERATION.scope(slot.clone(), next.run(req)).await;
    let operation = slot.lock().ok().and_then(|mut held| held.take());
    let status = response.status();
    let is_read = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let failed_auth = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
    if is_read && !failed_auth {
        return response;
    }
    let actor = response.extensions().get::<AuditActor>().cloned();
    // Who acted: as authentication saw it, else as the operation reported it (a login names
    // the person it tried to sign in).
    let reported_user = operation.as_ref().and_then(|o| o.door.user_id().map(str::to_string));
    let reported_merchant = operation.as_ref().and_then(|o| o.merchant_id.clone());
    state
        .audit
        .record(AuditEntry {
            merchant_id: actor.as_ref().and_then(|a| a.merchant_id.clone()).or(reported_merchant),
            api_key_id: actor.as_ref().and_then(|a| a.api_key_id.clone()),
            user_id: actor.and_then(|a| a.user_id).or(reported_user),
            door: door.to_string(),
            operation: operation.as_ref().map(|o| o.operation.to_string()),
            target_id: operation.and_then(|o| o.target_id),
            method: Some(method.to_string()),
            path: Some(path),
            status_code: Some(i64::from(status.as_u16())),
            error_code: response.extensions().get::<ErrorCode>().map(|c| c.0.to_string()),
            ip_address: ip,
            user_agent,
            created_at: state.config.clock.now(),
        })
        .await;
    response
}

//! What an operation sets off besides its own write, so that no door can forget it.
//!
//! The core only says *that* something happened; the runner decides what that means: the server
//! wakes a worker, clears a cache, or queues an audit entry on this node; the command line stores
//! its audit entries directly. Tests use [`NoEffects`] or their own counting effects.

use std::sync::Arc;

use refline_store::{AuditEntry, Store};

use crate::audit::AuditRecord;

/// Side effects of operations, implemented by whoever runs the core.
#[async_trait::async_trait]
pub trait Effects: Send + Sync {
    /// The operation may have queued outbound webhook deliveries: wake the worker now rather
    /// than at its next poll.
    fn outbox_written(&self);
    /// Campaigns, memberships or links changed: cached link resolutions (and rendered tracking
    /// scripts) may be stale.
    fn links_changed(&self);
    /// A processor delivery is due now (stored or requeued): wake the inbox worker rather than
    /// wait for its next poll.
    fn inbox_written(&self);
    /// A mail was queued in the outbox: wake the mail worker rather than wait for its poll.
    fn mail_written(&self) {}
    /// An API key, or what its requests act as (the brand's plan, archive state, name or
    /// currency), or a processor connection changed: remembered key owners and connections
    /// are stale.
    fn keys_changed(&self) {}
    /// A write operation ended: keep `record` in the audit log.
    async fn audited(&self, record: AuditRecord);
    /// Several write operations ended together (a page of an import): keep each record. The
    /// default keeps them one by one; a runner that stores them directly writes them at once.
    async fn audited_many(&self, records: Vec<AuditRecord>) {
        for record in records {
            self.audited(record).await;
        }
    }
}

/// Effects that do nothing: for tests of operations that look at neither workers nor the log.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEffects;

#[async_trait::async_trait]
impl Effects for NoEffects {
    fn outbox_written(&self) {}
    fn links_changed(&self) {}
    fn inbox_written(&self) {}
    async fn audited(&self, _record: AuditRecord) {}
}

/// The effects of a process that runs operations without a server, such as the command line: no
/// worker or cache to tell (a server on the same database polls and its caches expire), and each
/// audit record stored straight away so nothing is lost when the process exits.
pub struct DirectEffects {
    store: Arc<dyn Store>,
}

impl DirectEffects {
    /// Effects that store audit records in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        DirectEffects { store }
    }
}

#[async_trait::async_trait]
impl Effects for DirectEffects {
    fn outbox_written(&self) {}
    fn links_changed(&self) {}
    fn inbox_written(&self) {}
    async fn audited(&self, record: AuditRecord) {
        let entry = audit_entry(record);
        if let Err(err) = self.store.insert_audit_entries(&[entry]).await {
            tracing::error!(%err, "audit entry not stored");
        }
    }

    async fn audited_many(&self, records: Vec<AuditRecord>) {
        let entries: Vec<AuditEntry> = records.into_iter().map(audit_entry).collect();
        if let Err(err) = self.store.insert_audit_entries(&entries).await {
            tracing::error!(%err, "audit entries not stored");
        }
    }
}

/// The row an operation's record becomes when it is stored on its own (not folded into an HTTP
/// request's entry): no method, path or status, since no request carried it.
pub fn audit_entry(record: AuditRecord) -> AuditEntry {
    AuditEntry {
        merchant_id: record.merchant_id,
        api_key_id: record.door.key_id().map(str::to_string),
        user_id: record.door.user_id().map(str::to_string),
        door: record.door.as_str().to_string(),
        operation: Some(record.operation.to_string()),
        target_id: record.target_id,
        method: None,
        path: None,
        status_code: None,
        error_code: record.error_code.map(str::to_string),
        ip_address: None,
        user_agent: None,
        created_at: record.at,
    }
}

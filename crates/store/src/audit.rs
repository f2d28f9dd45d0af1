//! The audit log of API writes and failed authentications.

use crate::{AuditEntry, StoreResult};

/// Audit log.
#[async_trait::async_trait]
pub trait AuditStore {
    /// Appends entries in one statement.
    async fn insert_audit_entries(&self, entries: &[AuditEntry]) -> StoreResult<()>;
    /// A merchant's newest entries; `None` lists entries with no merchant (unknown keys).
    async fn recent_audit_entries(
        &self,
        merchant_id: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>>;
}

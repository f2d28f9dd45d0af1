//! The audit log of API writes and failed authentications.

use sqlx::FromRow;

use crate::StoreResult;

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
    /// A merchant's entries matching `filter`, newest first.
    async fn filtered_audit_entries(
        &self,
        merchant_id: &str,
        filter: &AuditFilter,
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>>;
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this door (`api`, `dashboard`, …).
    pub door: Option<String>,
    /// Only operations starting with this (`campaign.`, `conversion.status`).
    pub operation: Option<String>,
    /// Only refused requests and operations.
    pub failed_only: bool,
    /// Only entries older than this (unix ms), for paging back.
    pub before: Option<i64>,
}

// ---- Rows of this aggregate (read by both engines through `sqlx::FromRow`). ----

/// One line of the audit log: an HTTP request that wrote or failed to authenticate (with the
/// operation it ran, when it reached one), or an operation run through a door without requests
/// (the command line, workers, importers).
#[derive(Debug, Clone, FromRow)]
pub struct AuditEntry {
    /// Merchant, when known.
    pub merchant_id: Option<String>,
    /// Key, when one authenticated.
    pub api_key_id: Option<String>,
    /// The signed-in person, for the dashboard's entries.
    #[sqlx(default)]
    pub user_id: Option<String>,
    /// Which way it came in: `api`, `processor`, `dashboard`, `mcp`, `cli`, `import`.
    pub door: String,
    /// The operation run, `<object>.<verb>` (`campaign.create`…), when one ran.
    pub operation: Option<String>,
    /// The object acted on, when known.
    pub target_id: Option<String>,
    /// HTTP method, for requests.
    pub method: Option<String>,
    /// Request path (no query), for requests.
    pub path: Option<String>,
    /// Response status, for requests.
    pub status_code: Option<i64>,
    /// The error code of the answer, if it was refused.
    pub error_code: Option<String>,
    /// Client IP.
    pub ip_address: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

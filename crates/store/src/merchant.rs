//! Merchants and their API keys.

use refline_domain::{KeyKind, Plan};
use sqlx::FromRow;

use crate::StoreResult;

/// Merchants and API keys.
#[async_trait::async_trait]
pub trait MerchantStore {
    /// Creates a merchant and its first keys in one transaction.
    async fn create_merchant(&self, merchant: &Merchant, keys: &[ApiKey]) -> StoreResult<()>;
    /// A merchant by id.
    async fn get_merchant(&self, id: &str) -> StoreResult<Option<Merchant>>;
    /// Adds a key to an existing merchant.
    async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()>;
    /// Marks a key revoked and answers its merchant; `None` when no such key exists or it was
    /// already revoked.
    async fn revoke_api_key(&self, key_id: &str, now: i64) -> StoreResult<Option<String>>;
    /// The key with this hash and its merchant, revoked or not.
    async fn find_key_owner(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>>;
    /// A merchant's keys, newest first.
    async fn list_api_keys(&self, merchant_id: &str) -> StoreResult<Vec<ApiKey>>;
}

// ---- Rows of this aggregate (read by both engines through `sqlx::FromRow`). ----

/// A merchant account: the tenant every other row belongs to.
#[derive(Debug, Clone, FromRow)]
pub struct Merchant {
    /// `mer_…`
    pub id: String,
    /// Business name.
    pub name: String,
    /// `starter`, `pro`, `ultimate` or `scale`.
    pub plan: Plan,
    /// Default currency for new campaigns (lower-case ISO 4217).
    pub currency: String,
    /// Unix ms.
    pub created_at: i64,
    /// When the tracking script first ran for this merchant (unix ms), if it has.
    #[sqlx(default)]
    pub tracking_seen_at: Option<i64>,
    /// The account that owns the brand; `None` for a merchant made at the command line that no
    /// one has signed in to yet.
    #[sqlx(default)]
    pub account_id: Option<String>,
    /// The business's website.
    #[sqlx(default)]
    pub website: Option<String>,
    /// When the brand was archived (data kept; its keys and pages refuse until reactivated).
    #[sqlx(default)]
    pub archived_at: Option<i64>,
}

/// A stored API key. Only the SHA-256 of the key is kept; `hint` is safe to show.
#[derive(Debug, Clone, FromRow)]
pub struct ApiKey {
    /// `key_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// `live` or `test`.
    pub kind: KeyKind,
    /// Hex SHA-256 of the full key.
    pub key_hash: String,
    /// Prefix and last four characters, e.g. `lj_pk_test_…a1B2`.
    pub hint: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms, when revoked.
    pub revoked_at: Option<i64>,
}

/// An API key joined with its merchant: what authentication needs in one read.
#[derive(Debug, Clone, FromRow)]
pub struct KeyOwner {
    /// Key id.
    pub key_id: String,
    /// `live` or `test`.
    pub kind: KeyKind,
    /// Hex SHA-256 of the key.
    pub key_hash: String,
    /// Unix ms, when revoked.
    pub revoked_at: Option<i64>,
    /// The merchant's id.
    pub merchant_id: String,
    /// The merchant's name.
    pub merchant_name: String,
    /// The merchant's plan.
    pub plan: Plan,
    /// The merchant's default currency.
    pub currency: String,
    /// When the key's brand was archived (its keys are refused meanwhile).
    #[sqlx(default)]
    pub archived_at: Option<i64>,
}

//! Merchants and their API keys.

use crate::{ApiKey, KeyOwner, Merchant, StoreResult};

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

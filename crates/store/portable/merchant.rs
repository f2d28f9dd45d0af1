//! [`refline_store::MerchantStore`]: merchants and their API keys.

use async_trait::async_trait;
use refline_store::{ApiKey, KeyOwner, Merchant, MerchantStore, StoreResult};

use sqlx::Executor;

use crate::{Db, Engine};

/// Inserts one API key, on its own or inside a transaction.
pub(crate) async fn insert_api_key<'e>(
    db: impl Executor<'e, Database = Db>,
    key: &ApiKey,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, merchant_id, kind, key_hash, hint, created_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&key.id)
    .bind(&key.merchant_id)
    .bind(key.kind)
    .bind(&key.key_hash)
    .bind(&key.hint)
    .bind(key.created_at)
    .bind(key.revoked_at)
    .execute(db)
    .await?;
    Ok(())
}

#[async_trait]
impl MerchantStore for Engine {
    async fn create_merchant(&self, merchant: &Merchant, keys: &[ApiKey]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO merchants (id, name, plan, currency, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&merchant.id)
        .bind(&merchant.name)
        .bind(merchant.plan)
        .bind(&merchant.currency)
        .bind(merchant.created_at)
        .execute(&mut *tx)
        .await?;
        for key in keys {
            insert_api_key(&mut *tx, key).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_merchant(&self, id: &str) -> StoreResult<Option<Merchant>> {
        Ok(sqlx::query_as("SELECT * FROM merchants WHERE id = $1")
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        insert_api_key(self.writer(), key).await?;
        Ok(())
    }

    async fn revoke_api_key(&self, key_id: &str, now: i64) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING merchant_id",
        )
        .bind(key_id)
        .bind(now)
        .fetch_optional(self.writer())
        .await?)
    }

    async fn find_key_owner(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>> {
        Ok(sqlx::query_as(
            "SELECT k.id AS key_id, k.kind, k.key_hash, k.revoked_at, m.id AS merchant_id, \
                    m.name AS merchant_name, m.plan, m.currency, m.archived_at \
             FROM api_keys k JOIN merchants m ON m.id = k.merchant_id \
             WHERE k.key_hash = $1",
        )
        .bind(key_hash)
        .fetch_optional(self.reader())
        .await?)
    }

    async fn list_api_keys(&self, merchant_id: &str) -> StoreResult<Vec<ApiKey>> {
        Ok(sqlx::query_as("SELECT * FROM api_keys WHERE merchant_id = $1 ORDER BY created_at DESC, id")
            .bind(merchant_id)
            .fetch_all(self.reader())
            .await?)
    }
}

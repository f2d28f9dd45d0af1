//! PostgreSQL engine: for merchants who run several stateless Refline nodes on one database.

use std::time::Duration;

use refline_store::{Store, StoreError};
use sqlx::{postgres::PgPoolOptions, PgPool, Postgres, Transaction};

/// A Refline store on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` with at most `max_connections` and applies migrations (they take an
    /// advisory lock, so nodes starting together migrate once).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        Ok(Self { pool })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Closes the pool, waiting for open connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

refline_store::impl_portable_store!(PgStore, "FOR UPDATE SKIP LOCKED");

impl Store for PgStore {
    fn engine(&self) -> &'static str {
        "postgres"
    }
}

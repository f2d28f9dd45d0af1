//! Opening the store a database URL names: `sqlite://…` (default) or `postgres://…`.

use std::sync::Arc;

use anyhow::{bail, Context};
use refline_store::Store;
use refline_store_postgres::PgStore;
use refline_store_sqlite::{Durability, SqliteStore};

/// Settings that only matter for one engine.
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    /// SQLite commit durability.
    pub sqlite_durability: Durability,
    /// PostgreSQL pool size.
    pub postgres_max_connections: u32,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { sqlite_durability: Durability::Normal, postgres_max_connections: 16 }
    }
}

/// Opens (and migrates) the store at `url`.
pub async fn open_store(url: &str, options: EngineOptions) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::connect(url, options.sqlite_durability)
            .await
            .with_context(|| format!("opening SQLite database {url}"))?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PgStore::connect(url, options.postgres_max_connections)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(Arc::new(store))
    } else {
        bail!("unsupported database URL {url:?}: use sqlite://path or postgres://…")
    }
}

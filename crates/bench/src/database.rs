//! A throw-away database for one benchmark run.

use anyhow::Context;
use rand::{distributions::Alphanumeric, Rng};
use sqlx::Connection;

/// A SQLite file in a temporary directory, or a fresh PostgreSQL database dropped afterwards.
pub struct BenchDatabase {
    /// Its URL.
    pub url: String,
    _dir: tempfile::TempDir,
    postgres: Option<(sqlx::PgConnection, String)>,
}

impl BenchDatabase {
    /// SQLite when `postgres` is `None`, else a new database on that server.
    pub async fn create(postgres: Option<&str>) -> anyhow::Result<BenchDatabase> {
        let dir = tempfile::tempdir()?;
        let Some(server) = postgres else {
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            return Ok(BenchDatabase { url, _dir: dir, postgres: None });
        };
        let suffix: String = rand::thread_rng().sample_iter(&Alphanumeric).take(8).map(char::from).collect();
        let name = format!("refline_bench_{}", suffix.to_lowercase());
        let mut conn = sqlx::PgConnection::connect(server).await.context("connecting to PostgreSQL")?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await?;
        let (base, _) = server.rsplit_once('/').context("PostgreSQL URL needs a database path")?;
        Ok(BenchDatabase { url: format!("{base}/{name}"), _dir: dir, postgres: Some((conn, name)) })
    }

    /// Drops the PostgreSQL database.
    pub async fn drop(self) -> anyhow::Result<()> {
        if let Some((mut conn, name)) = self.postgres {
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await?;
        }
        Ok(())
    }
}

/// Runs `measure` on a fresh database (SQLite, or a new database on the `postgres` server) and
/// drops that database afterwards, whatever the outcome.
pub async fn with_database<F, Fut>(postgres: Option<String>, measure: F) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let db = BenchDatabase::create(postgres.as_deref()).await?;
    let result = measure(db.url.clone()).await;
    db.drop().await?;
    result
}

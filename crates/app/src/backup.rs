//! `refline backup <file>`: a consistent copy of the SQLite database while the server runs
//! (`refline_store_sqlite::backup`); PostgreSQL has its own tools, which this names.

use std::path::Path;

use anyhow::{bail, Context};

/// What to use instead on PostgreSQL.
const POSTGRES_ADVICE: &str = "refline backup copies SQLite databases. For PostgreSQL use its own tools: \
    `pg_dump --format=custom --file=refline.dump \"$REFLINE_DATABASE_URL\"` for a consistent logical copy \
    (restore with pg_restore), or continuous WAL archiving for point-in-time recovery (PITR, e.g. \
    pgBackRest or your provider's backups); see docs/DEPLOY.md";

/// Runs the command.
pub async fn run(database_url: &str, dest: &Path) -> anyhow::Result<()> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        bail!("{POSTGRES_ADVICE}");
    }
    if !database_url.starts_with("sqlite:") {
        bail!("unsupported database URL {database_url:?}: use sqlite://path");
    }
    if database_url.contains(":memory:") || database_url.contains("mode=memory") {
        bail!("an in-memory database cannot be backed up from another process");
    }
    let report = refline_store_sqlite::backup::backup_into(database_url, dest)
        .await
        .with_context(|| format!("backing up {database_url}"))?;
    if report.integrity != "ok" {
        bail!("the copy at {} failed its integrity check: {}", dest.display(), report.integrity);
    }
    println!("Backed up to {} ({} bytes); integrity check: ok", dest.display(), report.bytes);
    Ok(())
}

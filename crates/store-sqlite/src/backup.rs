//! `refline backup`: a consistent copy of a live SQLite database.
//!
//! `VACUUM INTO` reads the whole database inside one read transaction, so the copy is the
//! database exactly as it was when that transaction started: every write committed before is
//! in it, none that committed later, never half of one. In WAL mode the read transaction does
//! not block the server's writer (it keeps writing to the WAL meanwhile), so the server stays up.

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteConnection},
    ConnectOptions, Connection,
};

/// What a finished backup looked like.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// Size of the copy, bytes.
    pub bytes: u64,
    /// `PRAGMA integrity_check` of the copy: `"ok"` when sound.
    pub integrity: String,
}

/// Why a backup was not taken.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination exists; a backup never overwrites.
    #[error("{0} already exists; a backup never overwrites a file (choose a new name)")]
    Exists(String),
    /// Creating the destination failed.
    #[error("cannot create {path}: {source}")]
    Create {
        /// The destination.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The source or the copy could not be read or written.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Copies the database at `url` (`sqlite://path`) into the new file `dest` and checks the
/// copy's integrity. Refuses an existing `dest`, and a source that does not exist.
pub async fn backup_into(url: &str, dest: &Path) -> Result<BackupReport, BackupError> {
    let shown = dest.display().to_string();
    // Reserve the name atomically: two backups to one name, or a file appearing between a
    // check and the copy, cannot overwrite anything. VACUUM INTO accepts an empty file.
    match std::fs::OpenOptions::new().write(true).create_new(true).open(dest) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(BackupError::Exists(shown))
        }
        Err(source) => return Err(BackupError::Create { path: shown, source }),
    }
    let copied = copy(url, &shown).await;
    if copied.is_err() {
        // Leave no half-written file that looks like a backup.
        let _ = std::fs::remove_file(dest);
    }
    copied?;
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{shown}"))?.read_only(true);
    let mut check = options.connect().await?;
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut check).await?;
    check.close().await?;
    let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport { bytes, integrity: rows.join("; ") })
}

async fn copy(url: &str, dest: &str) -> Result<(), sqlx::Error> {
    // No create_if_missing: a mistyped path must fail, not back up a new empty database.
    let options = SqliteConnectOptions::from_str(url)?.busy_timeout(Duration::from_secs(30));
    let mut source: SqliteConnection = options.connect().await?;
    sqlx::query("VACUUM INTO $1").bind(dest).execute(&mut source).await?;
    source.close().await
}

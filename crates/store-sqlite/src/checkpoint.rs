//! Checkpoints off the commit path.
//!
//! In WAL mode a commit only appends pages to the WAL; a *checkpoint* copies them back into the
//! database file. By default SQLite runs one inside the commit that takes the WAL past 1,000
//! pages, and with `synchronous=NORMAL` that checkpoint fsyncs both files, so every few batches
//! one request waits for it: measured on `refline-bench conversions --keys 1000`, a batch's
//! commit took 3 ms without and 20 ms with the checkpoint, every second batch. The writer
//! connection therefore turns automatic checkpoints off and this task checkpoints from a
//! connection of its own a few times a second, beside the writer (a `PASSIVE` checkpoint never
//! blocks the writer or a reader; it copies what no reader still needs and the writer starts
//! the WAL over once everything was copied).
//!
//! Nothing acknowledged depends on it: a committed page is in the WAL, which a restart after a
//! crash reads back. When the last connection closes, SQLite checkpoints and removes the WAL.

use std::{sync::Arc, time::Duration};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteConnection},
    ConnectOptions, Connection,
};
use tokio::{sync::Notify, task::JoinHandle};

/// How often the WAL is copied back. Short enough that the WAL stays a few megabytes under
/// the heaviest load measured; an idle check costs one read of the WAL index.
const EVERY: Duration = Duration::from_millis(200);

/// The WAL file's size once it is started over (`journal_size_limit`): after a burst it is
/// truncated to this instead of keeping its largest size on disk.
pub(crate) const WAL_SIZE_LIMIT: &str = "67108864";

/// The running checkpoint task.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Arc<Notify>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Starts checkpointing the database `options` open.
    pub(crate) fn start(options: SqliteConnectOptions) -> Checkpointer {
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(run(options, stop.clone()));
        Checkpointer { stop, task: std::sync::Mutex::new(Some(task)) }
    }

    /// Stops the task and closes its connection.
    pub(crate) async fn stop(&self) {
        self.stop.notify_one();
        let task = self.task.lock().map(|mut t| t.take()).unwrap_or(None);
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

impl Drop for Checkpointer {
    /// A store dropped without `close` (its last clone gone) ends the task too, rather than
    /// leaving it checkpointing a database nobody uses.
    fn drop(&mut self) {
        self.stop.notify_one();
    }
}

async fn run(options: SqliteConnectOptions, stop: Arc<Notify>) {
    let mut conn: Option<SqliteConnection> = None;
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.notified() => break,
            _ = tick.tick() => {}
        }
        if conn.is_none() {
            match options.connect().await {
                Ok(c) => conn = Some(c),
                Err(err) => {
                    tracing::warn!(%err, "checkpoint connection failed; retrying");
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut *c).await {
            tracing::warn!(%err, "WAL checkpoint failed; retrying");
            conn = None;
        }
    }
    if let Some(c) = conn {
        let _ = c.close().await;
    }
}

#[cfg(test)]
mod tests {
    use crate::file_store_for_tests;

    /// The writer never checkpoints in a commit, yet the pages it commits reach the database
    /// file within a few ticks (the task copied them), and closing leaves no WAL behind.
    #[tokio::test]
    async fn committed_pages_reach_the_file_without_the_writer_checkpointing() {
        let (dir, path, store) = file_store_for_tests().await;
        let auto: i64 =
            sqlx::query_scalar("PRAGMA wal_autocheckpoint").fetch_one(store.writer()).await.expect("pragma");
        assert_eq!(auto, 0, "the writer must leave checkpoints to the task");
        let before = std::fs::metadata(&path).expect("database file").len();
        sqlx::query("CREATE TABLE filler (body TEXT NOT NULL)").execute(store.writer()).await.expect("table");
        // About 4 MB in many commits: far past the 1,000 pages an automatic checkpoint waits for.
        for _ in 0..64 {
            sqlx::query(
                "INSERT INTO filler (body) SELECT hex(randomblob(512)) FROM \
                 (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 64) SELECT i FROM n)",
            )
            .execute(store.writer())
            .await
            .expect("insert");
        }
        let mut grown = 0;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            grown = std::fs::metadata(&path).expect("database file").len();
            if grown > before + 3_000_000 {
                break;
            }
        }
        assert!(
            grown > before + 3_000_000,
            "database file {before} → {grown} bytes: nothing was checkpointed"
        );
        store.close().await;
        let wal = dir.path().join("refline.db-wal");
        assert!(!wal.exists(), "closing the store leaves a WAL file behind");
    }

    /// A store dropped without `close` ends its checkpoint task: once every connection is
    /// gone the WAL file is removed, which the task's open connection would prevent.
    #[tokio::test]
    async fn dropping_the_store_ends_the_task() {
        let (dir, _, store) = file_store_for_tests().await;
        sqlx::query("CREATE TABLE filler (body TEXT)").execute(store.writer()).await.expect("table");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        drop(store);
        let wal = dir.path().join("refline.db-wal");
        for _ in 0..50 {
            if !wal.exists() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the WAL is still there 5 s after the store was dropped: a connection stayed open");
    }
}

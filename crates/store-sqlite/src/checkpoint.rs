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
//! A passive checkpoint alone never lets the WAL start over under steady load: the writer starts
//! it over only when, at the start of its next transaction, every frame was copied and no reader
//! still reads from the WAL, and with commits every few milliseconds and reads all the time that
//! moment never comes. Measured on `refline-bench conversions --keys 2000`: the WAL grew to 2.2 GB
//! in 14 s, and every commit appended past the end of the file, which the kernel zero-fills page
//! by page (a quarter of the writer thread). So once the WAL is past [`RESTART_PAST_FRAMES`] and
//! a tick's passive checkpoint has copied the bulk, the task takes the writer connection itself
//! — no commit can come in between — and runs a `RESTART` checkpoint there: it copies the frames
//! left, waits (briefly, see [`RESTART_WAIT`]) for readers still in the WAL, and the next commit
//! writes from the WAL's start over pages the file already has.
//!
//! Nothing acknowledged depends on it: a committed page is in the WAL, which a restart after a
//! crash reads back. When the last connection closes, SQLite checkpoints and removes the WAL.

use std::{sync::Arc, time::Duration};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool},
    ConnectOptions, Connection,
};
use tokio::{sync::Notify, task::JoinHandle};

/// How often the WAL is copied back. Short enough that the WAL stays a few megabytes under
/// the heaviest load measured; an idle check costs one read of the WAL index.
const EVERY: Duration = Duration::from_millis(200);

/// How long the writer's `RESTART` checkpoint waits for readers still reading from the WAL
/// before giving up (the writer waits meanwhile, so it is short; a long read — an export, a
/// backup — only postpones the restart, see [`RESTART_BACK_OFF_TICKS`]).
const RESTART_WAIT: &str = "20";

/// Ticks without a restart after one found a reader still in the WAL: about a second.
const RESTART_BACK_OFF_TICKS: u32 = 5;

/// WAL frames (pages) past which a tick also starts the WAL over from the writer: about 192 MB,
/// below `WAL_SIZE_LIMIT`, so the file is reused rather than grown or cut. Each restart holds
/// the writer 40–55 ms whatever the threshold (the frames committed since the passive
/// checkpoint, and two fsyncs that take most of it), so the threshold sets how often sales wait
/// for one: past 12,000 frames (48 MB) it came every quarter second under many merchants'
/// sales (about 9 pages a sale), a sixth of the writer's time; past 48,000 about once a second
/// (measured past 50,000: the sales' p99 fell from 62 to 50–54 ms; issue 18, BENCHMARKS).
const RESTART_PAST_FRAMES: i64 = 48_000;

/// The WAL file's size once it is started over (`journal_size_limit`): after a burst it is
/// truncated to this instead of keeping its largest size on disk. Above the restart threshold,
/// so under steady load the file is reused, never cut and grown again (the kernel zero-fills
/// every page a commit appends past the end).
pub(crate) const WAL_SIZE_LIMIT: &str = "268435456";

/// The running checkpoint task.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Arc<Notify>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Starts checkpointing the database `options` open, whose one writer connection is
    /// `writer`'s.
    pub(crate) fn start(options: SqliteConnectOptions, writer: SqlitePool) -> Checkpointer {
        Checkpointer::start_restarting_past(options, writer, RESTART_PAST_FRAMES)
    }

    /// As `start`, starting the WAL over from the writer once past `restart_past` frames.
    fn start_restarting_past(
        options: SqliteConnectOptions,
        writer: SqlitePool,
        restart_past: i64,
    ) -> Checkpointer {
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(run(options, writer, restart_past, stop.clone()));
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

async fn run(options: SqliteConnectOptions, writer: SqlitePool, restart_past: i64, stop: Arc<Notify>) {
    let mut conn: Option<SqliteConnection> = None;
    // Ticks left before the writer is held for a restart again, after one found a reader.
    let mut quiet_ticks = 0;
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
        // (blocked by the writer, frames in the WAL, frames copied)
        let passive: Result<(i64, i64, i64), _> =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&mut *c).await;
        match passive {
            Ok((_, frames, _)) if frames > restart_past && quiet_ticks == 0 => {
                match restart_from_the_writer(&writer).await {
                    Ok(true) => {}
                    // A long read (an export, a backup) is still in the WAL: the writer is not
                    // held again for it every tick.
                    Ok(false) => quiet_ticks = RESTART_BACK_OFF_TICKS,
                    Err(err) => tracing::warn!(%err, "WAL restart failed; retrying"),
                }
            }
            Ok(_) => quiet_ticks = quiet_ticks.saturating_sub(1),
            Err(err) => {
                tracing::warn!(%err, "WAL checkpoint failed; retrying");
                conn = None;
            }
        }
    }
    if let Some(c) = conn {
        let _ = c.close().await;
    }
}

/// Copies what is left of the WAL and lets the next commit start it over, on the writer
/// connection so that no commit comes in between (see the module's comment). False when a
/// reader was still in the WAL after [`RESTART_WAIT`]: everything was copied, but the WAL goes on.
async fn restart_from_the_writer(writer: &SqlitePool) -> Result<bool, sqlx::Error> {
    let mut w = writer.acquire().await?;
    sqlx::query(&format!("PRAGMA busy_timeout = {RESTART_WAIT}")).execute(&mut *w).await?;
    // (still blocked by a reader, frames in the WAL, frames copied)
    let restart: Result<(i64, i64, i64), _> =
        sqlx::query_as("PRAGMA wal_checkpoint(RESTART)").fetch_one(&mut *w).await;
    // Restored even when the checkpoint failed: every later commit relies on the long timeout.
    // A connection that cannot have it back is closed; the pool opens a new one.
    let usual = crate::BUSY_TIMEOUT.as_millis();
    if let Err(err) = sqlx::query(&format!("PRAGMA busy_timeout = {usual}")).execute(&mut *w).await {
        w.close_on_drop();
        return Err(err);
    }
    restart.map(|(blocked, _, _)| blocked == 0)
}

#[cfg(test)]
mod tests {
    use crate::{file_store_for_tests, SqliteStore};

    /// One commit of `rows` rows of `bytes` random bytes each (twice that in hex) into `filler`.
    async fn insert_filler(store: &SqliteStore, rows: i64, bytes: i64) {
        sqlx::query(
            "INSERT INTO filler (body) SELECT hex(randomblob($1)) FROM \
             (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) SELECT i FROM n)",
        )
        .bind(bytes)
        .bind(rows)
        .execute(store.writer())
        .await
        .expect("insert");
    }

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
            insert_filler(&store, 64, 512).await;
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

    /// Under steady writes with readers always in the WAL, the WAL still starts over instead of
    /// growing with every commit: the restart runs on the writer connection, where no commit can
    /// come between the last copy and the restart. (Here past 256 frames, so the test is small.)
    ///
    /// Seen in the WAL file's header, whose checkpoint sequence number every restart bumps. Reads
    /// are held longer (5 ms) than the gap between commits, so the writer never finds the moment
    /// alone: with the threshold out of reach the test fails every time. It asks for a restart
    /// within 8 s, not by a given size: how soon one succeeds depends on the machine (under
    /// CPU load a restart can find a reader still in after its 20 ms wait and back off a second;
    /// a loaded CI machine once needed ~6,000 frames, which failed the size this test used to ask).
    #[tokio::test]
    async fn the_wal_starts_over_under_steady_writes_and_reads() {
        let (dir, _, store) = file_store_for_tests().await;
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("refline.db"));
        let restarting =
            super::Checkpointer::start_restarting_past(options.clone(), store.writer().clone(), 256);
        sqlx::query("CREATE TABLE filler (body TEXT NOT NULL)").execute(store.writer()).await.expect("table");
        let reading = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let mut readers = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let (pool, reading) = (store.reader().clone(), reading.clone());
            readers.spawn(async move {
                while reading.load(std::sync::atomic::Ordering::Relaxed) {
                    // Short reads, each held longer than the gap between commits: a reader is
                    // always in the WAL, so the writer alone never finds the moment to restart.
                    let Ok(mut c) = pool.acquire().await else { continue };
                    let _ = sqlx::query("BEGIN").execute(&mut *c).await;
                    let _: Result<Option<i64>, _> =
                        sqlx::query_scalar("SELECT length(body) FROM filler ORDER BY rowid DESC LIMIT 1")
                            .fetch_optional(&mut *c)
                            .await;
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    let _ = sqlx::query("COMMIT").execute(&mut *c).await;
                }
            });
        }
        // The readers get going first: before them nothing stops the writer starting over alone.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let wal = dir.path().join("refline.db-wal");
        // The WAL header's checkpoint sequence number (bytes 12..16), which every restart bumps;
        // read from the file so that nothing here touches the WAL the way a reader would.
        let restarts_so_far = || {
            use std::io::Read;
            let mut header = [0_u8; 16];
            let read = std::fs::File::open(&wal).and_then(|mut f| f.read_exact(&mut header));
            read.map(|()| u32::from_be_bytes([header[12], header[13], header[14], header[15]])).unwrap_or(0)
        };
        let (mut first, mut restarted) = (None, false);
        let until = std::time::Instant::now() + std::time::Duration::from_secs(8);
        // Commits of 5 pages or so, until a restart or for 8 s (at most ~50 MB of WAL).
        for commit in 0.. {
            if std::time::Instant::now() > until {
                break;
            }
            insert_filler(&store, 4, 1800).await;
            if commit == 10 {
                first = Some(restarts_so_far());
            } else if first.is_some_and(|first| restarts_so_far() != first) {
                restarted = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        reading.store(false, std::sync::atomic::Ordering::Relaxed);
        while readers.join_next().await.is_some() {}
        restarting.stop().await;
        store.close().await;
        assert!(restarted, "the WAL grew to {size} bytes in 8 s of commits: it was never started over");
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

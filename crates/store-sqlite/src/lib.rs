//! SQLite engine: the embedded default, so `refline serve` works with no setup.
//!
//! One writer connection serialises writes in-process (SQLite allows one writer at a time
//! anyway) and starts every write transaction with `BEGIN IMMEDIATE`, so a transaction never
//! has to upgrade a read lock and fail with "database is locked". Readers use their own pool;
//! in WAL mode they never wait for the writer. `busy_timeout` covers other processes (the CLI)
//! writing to the same file while a server runs.

pub mod backup;
mod checkpoint;

use std::{str::FromStr, sync::Arc, time::Duration};

use refline_store::{Store, StoreError};
use sqlx::{
    migrate::Migrator,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    Sqlite, SqlitePool, Transaction,
};

/// The migrations compiled into the binary.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a connection waits for a lock another process (the CLI) or the checkpoint task holds.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How a write transaction begins: `IMMEDIATE` takes the write lock at once, so a transaction
/// never upgrades a read lock and cannot fail with "database is locked".
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// How durable each commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=NORMAL`: a commit survives a crash of the process; an OS crash or power loss
    /// may lose the last commits. The default: it is what makes thousands of writes a second
    /// possible.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is fsynced before it is acknowledged.
    Full,
}

/// A Refline store on a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    /// Copies the WAL back into the file beside the writer (`checkpoint.rs`); none in memory.
    checkpointer: Option<Arc<checkpoint::Checkpointer>>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path` or `sqlite::memory:`)
    /// and applies migrations.
    pub async fn connect(url: &str, durability: Durability) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Normal => SqliteSynchronous::Normal,
                Durability::Full => SqliteSynchronous::Full,
            })
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // An in-memory database exists once per connection, so it cannot have separate readers
        // (nor a WAL to checkpoint).
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        // On a file the writer never checkpoints inside a commit; `checkpoint.rs` does it beside it.
        let writer_options = if in_memory {
            options.clone()
        } else {
            options
                .clone()
                .pragma("wal_autocheckpoint", "0")
                .pragma("journal_size_limit", checkpoint::WAL_SIZE_LIMIT)
                // Statement journals (what a multi-row statement inside a transaction keeps to
                // undo itself) in memory: on a file they spilled past 64 KiB into a temporary file
                // created, written and deleted per batch — 11 % of the writer thread in a profile
                // of many merchants' sales, and +30 % sales/s once gone (issue 18).
                .pragma("temp_store", "memory")
        };
        // No ping before handing out the writer: it is in this process, so there is no network to
        // have lost, and the ping is one more round trip to the connection's thread on every write
        // (sqlx still pings on release, which also flushes a cancelled statement). With this,
        // and the writer connection given back after each batch of sales (it used to be kept a
        // few ms for the next batch, which made every other writer wait), Stripe deliveries
        // accepted rose from 3,400–4,300/s to 5,000–5,800/s in 7 runs of 8 (BENCHMARKS, issue 18).
        let writer = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(writer_options)
            .await?;
        MIGRATOR.run(&writer).await.map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        if in_memory {
            return Ok(Self { reader: writer.clone(), writer, checkpointer: None });
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(readers())
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let checkpointer = Some(Arc::new(checkpoint::Checkpointer::start(options, writer.clone())));
        Ok(Self { reader, writer, checkpointer })
    }

    /// This binary's migrations (`/readyz` compares them with the database's).
    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    /// The pools, by name, for `/metrics` (one pool when the database is in memory).
    fn named_pools(&self) -> Vec<(&'static str, &SqlitePool)> {
        if self.reader.options().get_max_connections() == 1 {
            return vec![("writer", &self.writer)];
        }
        vec![("writer", &self.writer), ("reader", &self.reader)]
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with(BEGIN_WRITE).await
    }

    /// Closes both pools, waiting for open connections to finish.
    pub async fn close(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.stop().await;
        }
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Reader connections: two per core, at least 4 and at most 16. Each is a thread with its own
/// page and statement caches (about 2 MB once warm), and SQLite reads are CPU work on pages the
/// OS already holds, so more readers than that only add memory: 8 on a 2-core machine left the
/// server at 64 MB after a burst of processor deliveries against 57 MB with 4, at the same
/// throughput (`refline-bench memory`, `docs/BENCHMARKS.md`).
fn readers() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores.saturating_mul(2).clamp(4, 16)).unwrap_or(4)
}

// The shared SQL (`crates/store/portable/`), compiled here against the SQLite driver. It names
// the engine and database through these two aliases and the macro below.
type Engine = SqliteStore;
type Db = Sqlite;

/// Whether statements shaped by a batch's size (`QueryBuilder`) stay prepared on the connection:
/// no on SQLite, where each one is compiled into this process (a 128-row insert is a couple of
/// hundred kilobytes) and sqlx keeps 100 per connection, so every batch size seen became a
/// statement of its own: 45 MB of the server after a burst of processor deliveries. Compiling a
/// batch's statement again costs little next to the batch.
macro_rules! keep_batch_statements {
    () => {
        false
    };
}

/// Whether a `Script` (`portable/script.rs`) sends its statements as one text: yes on SQLite,
/// where sqlx runs them back to back on the connection's thread, one round trip for all.
macro_rules! script_in_one_command {
    () => {
        true
    };
}

/// The clause that locks rows a transaction reads before it decides on them (a payout run
/// checking that the commissions it reserves are still payable): empty: SQLite runs one write transaction at a time anyway.
macro_rules! for_update {
    () => {
        ""
    };
}

/// What refreshes the planner's statistics of the tables an import grows: nothing, as
/// SQLite's plans for the import's reads do not depend on statistics.
macro_rules! import_analyze_statement {
    () => {
        None::<&'static str>
    };
}

/// Pushes `<column> IN (<ids>)` onto a query builder, each id a parameter: SQLite plans it
/// as one key lookup per id.
macro_rules! push_id_list {
    ($q:expr, $column:expr, $ids:expr) => {{
        $q.push($column).push(" IN (");
        let mut list = $q.separated(", ");
        for id in $ids {
            list.push_bind(id);
        }
        $q.push(")");
    }};
}

/// The clause appended to row-claiming subqueries: none, as SQLite serialises writers anyway
/// (one writer connection, `BEGIN IMMEDIATE`). A macro so the statements stay static text.
macro_rules! skip_locked {
    () => {
        ""
    };
}

/// The function taking a lock held until the transaction ends: none, as SQLite runs one write
/// transaction at a time, so what a batch reads cannot change before it commits.
macro_rules! xact_lock_function {
    () => {
        None::<&'static str>
    };
}

#[path = "../../store/portable/mod.rs"]
mod portable;

/// One node serves an SQLite database: there is no one to tell.
#[refline_store::async_trait]
impl refline_store::Broadcast for SqliteStore {
    async fn announce(&self, _payloads: &[String]) -> Result<(), StoreError> {
        Ok(())
    }

    async fn listen(&self) -> Result<Option<Box<dyn refline_store::Subscription>>, StoreError> {
        Ok(None)
    }
}

impl Store for SqliteStore {
    fn engine(&self) -> &'static str {
        "sqlite"
    }
}

/// A store on a fresh file in a temporary directory, for this crate's unit tests: the directory
/// (kept alive by the caller), the database file's path and the store.
#[cfg(test)]
pub(crate) async fn file_store_for_tests() -> (tempfile::TempDir, std::path::PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("refline.db");
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()), Durability::Normal)
        .await
        .expect("open");
    (dir, path, store)
}

#[cfg(test)]
mod tests {
    use super::file_store_for_tests;

    /// The bundled SQLite was compiled as `.cargo/config.toml` asks: without memory statistics
    /// and without the process-wide page cache, the two mutexes every connection shared. A build
    /// that missed the setting (a copy of the sources without `.cargo/`) fails here.
    #[tokio::test]
    async fn sqlite_is_built_without_its_global_mutexes() {
        let (_dir, _, store) = crate::file_store_for_tests().await;
        let options: Vec<String> = sqlx::query_scalar("SELECT compile_options FROM pragma_compile_options")
            .fetch_all(store.reader())
            .await
            .expect("compile options");
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
        assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
        store.close().await;
    }

    /// The writer's statement journals stay in memory (`temp_store=MEMORY`, see `connect`),
    /// while readers keep SQLite's default (a big sort may spill to disk rather than to RAM).
    #[tokio::test]
    async fn the_writer_keeps_statement_journals_in_memory() {
        let (_dir, _, store) = file_store_for_tests().await;
        let writer: i64 =
            sqlx::query_scalar("PRAGMA temp_store").fetch_one(store.writer()).await.expect("writer");
        assert_eq!(writer, 2, "2 is MEMORY");
        let reader: i64 =
            sqlx::query_scalar("PRAGMA temp_store").fetch_one(store.reader()).await.expect("reader");
        assert_eq!(reader, 0, "0 is the default");
        store.close().await;
    }
}

//! PostgreSQL engine: for merchants who run several stateless Refline nodes on one database.

use std::time::Duration;

use refline_store::{Store, StoreError};
use sqlx::{
    migrate::Migrator,
    postgres::{PgListener, PgPoolOptions},
    PgPool, Postgres, Transaction,
};

/// The migrations compiled into the binary.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// A write transaction, READ COMMITTED whatever the server's default: each statement then sees
/// what committed before it started, so a read made after taking a lock (a batch of sales reading
/// an affiliate's volume) includes everything the lock's last holder wrote. Same round trip as a
/// bare `BEGIN`.
const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";

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
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        Ok(Self { pool })
    }

    /// This binary's migrations (`/readyz` compares them with the database's).
    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    /// The pool, by name, for `/metrics`.
    fn named_pools(&self) -> Vec<(&'static str, &PgPool)> {
        vec![("main", &self.pool)]
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin_with(BEGIN_WRITE).await
    }

    /// Closes the pool, waiting for open connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

// The shared SQL (`crates/store/portable/`), compiled here against the PostgreSQL driver. It
// names the engine and database through these two aliases and the macro below.
type Engine = PgStore;
type Db = Postgres;

/// Whether statements shaped by a batch's size (`QueryBuilder`) stay prepared on the connection:
/// yes on PostgreSQL, where the prepared plans live in the server's backends (not in Refline's
/// memory) and an unprepared statement costs sqlx an extra round trip to describe it (Stripe
/// deliveries end to end fell from 2,132/s to about 1,900/s without).
macro_rules! keep_batch_statements {
    () => {
        true
    };
}

/// Whether a `Script` (`portable/script.rs`) sends its statements as one text: no on
/// PostgreSQL, whose extended protocol (the one that carries parameters) takes one statement per
/// message; a script runs its statements one by one.
macro_rules! script_in_one_command {
    () => {
        false
    };
}

/// The clause that locks rows a transaction reads before it decides on them (a payout run
/// checking that the commissions it reserves are still payable): a concurrent refund waits for the run, or the run for it.
macro_rules! for_update {
    () => {
        "FOR UPDATE"
    };
}

/// What refreshes the planner's statistics of the tables an import grows. Without it a
/// prepared page read keeps the generic plan costed while `import_objects` was nearly empty
/// (autovacuum's analyze comes a minute or more later), and a re-run of a 100,000-commission
/// import took two minutes instead of two seconds.
macro_rules! import_analyze_statement {
    () => {
        Some("ANALYZE import_objects, memberships, affiliates, conversions")
    };
}

/// Pushes `<column> = ANY(<ids>)` onto a query builder, the ids one array parameter.
/// PostgreSQL's generic plan for `IN ($4, $5, …)` (chosen after a few runs of a prepared
/// statement, costed while the table was small) probed a composite key by its leading columns
/// only and filtered the rest, 140 ms a page of an import at 30,000 objects; with one array
/// parameter the whole key is the index condition (2 ms), and the statement's text no longer
/// varies with the list's length.
macro_rules! push_id_list {
    ($q:expr, $column:expr, $ids:expr) => {{
        let ids: Vec<String> = $ids.iter().map(|id| id.to_string()).collect();
        $q.push($column).push(" = ANY(").push_bind(ids).push(")");
    }};
}

/// The clause appended to row-claiming subqueries: several nodes claim from one table at once,
/// so each skips rows another has locked instead of waiting for it or claiming them twice. A
/// macro so the statements stay static text.
macro_rules! skip_locked {
    () => {
        "FOR UPDATE SKIP LOCKED"
    };
}

/// The function taking a lock held until the transaction ends, on a key of two 32-bit halves.
/// Several writers commit batches of sales side by side, so a batch locks the affiliate
/// volumes and recurring chains it reads until it commits (`refline_store::batch`). The
/// two-key form keeps these keys apart from single-key advisory locks (the migrator's).
macro_rules! xact_lock_function {
    () => {
        Some("pg_advisory_xact_lock")
    };
}

#[path = "../../store/portable/mod.rs"]
mod portable;

/// Announcements through PostgreSQL's LISTEN/NOTIFY on [`refline_store::cluster::CHANNEL`].
#[refline_store::async_trait]
impl refline_store::Broadcast for PgStore {
    async fn announce(&self, payloads: &[String]) -> Result<(), StoreError> {
        if payloads.is_empty() {
            return Ok(());
        }
        sqlx::query("SELECT pg_notify($1, p) FROM UNNEST($2::text[]) AS p")
            .bind(refline_store::cluster::CHANNEL)
            .bind(payloads)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn listen(&self) -> Result<Option<Box<dyn refline_store::Subscription>>, StoreError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(refline_store::cluster::CHANNEL).await?;
        Ok(Some(Box::new(Notifications(listener))))
    }
}

/// A LISTEN connection; sqlx re-connects it (and re-listens) after it is lost.
struct Notifications(PgListener);

#[refline_store::async_trait]
impl refline_store::Subscription for Notifications {
    async fn next(&mut self) -> Result<Option<String>, StoreError> {
        // `try_recv` answers `None` once when the connection dropped: announcements made
        // meanwhile are lost, which the caller treats as "everything may have changed".
        Ok(self.0.try_recv().await?.map(|n| n.payload().to_string()))
    }
}

impl Store for PgStore {
    fn engine(&self) -> &'static str {
        "postgres"
    }
}

//! The yardstick for `POST /api/v1/conversions`: a minimal durable JSON-POST server. It parses
//! each body, hands one row to a group-commit writer and answers `201` only after the row's
//! transaction committed, on the same engine and durability settings Refline uses (SQLite in WAL
//! with `synchronous=NORMAL` and one writer; PostgreSQL with four writers, as Refline runs). No
//! key, rate limit, audit, idempotency or attribution: what a durable write costs on this
//! machine with this HTTP stack, and nothing else.

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use axum::{body::Bytes, extract::State, http::StatusCode, routing::post, serve::ListenerExt, Router};
use serde_json::Value;
use sqlx::{
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tokio::{
    net::TcpListener,
    runtime::Handle,
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

/// Most rows in one transaction (Refline's conversion writer takes as many).
const MAX_BATCH: usize = 256;

/// One row of the baseline's table.
struct Row {
    campaign: String,
    affiliate: String,
    amount: String,
    order: String,
    reply: oneshot::Sender<bool>,
}

/// Where rows go.
#[derive(Clone)]
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A running baseline server.
pub struct DurableServer {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pool: Pool,
    task: JoinHandle<()>,
}

impl DurableServer {
    /// Opens `url` (a `sqlite://` file or a `postgres://` database), creates its table and
    /// serves on a free port of `runtime`.
    pub async fn start(runtime: &Handle, url: &str) -> anyhow::Result<DurableServer> {
        let url = url.to_string();
        let pool = runtime.spawn(async move { open(&url).await }).await??;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let base = format!("http://{}", listener.local_addr()?);
        let task = runtime.spawn({
            let pool = pool.clone();
            async move {
                let writers = match pool {
                    Pool::Sqlite(_) => 1,
                    Pool::Postgres(_) => 4,
                };
                let queues: Vec<mpsc::Sender<Row>> = (0..writers)
                    .map(|_| {
                        let (tx, rx) = mpsc::channel(MAX_BATCH * 8);
                        tokio::spawn(write_batches(pool.clone(), rx));
                        tx
                    })
                    .collect();
                let state = Queues(std::sync::Arc::new((queues, std::sync::atomic::AtomicUsize::new(0))));
                let app = Router::new().route("/sales", post(accept)).with_state(state);
                let Ok(listener) = TcpListener::from_std(listener) else { return };
                let listener = listener.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                let _ = axum::serve(listener, app).await;
            }
        });
        Ok(DurableServer { base, pool, task })
    }

    /// Stops the server; the number of rows its table holds.
    pub async fn stop(self) -> anyhow::Result<i64> {
        self.task.abort();
        let rows = match &self.pool {
            Pool::Sqlite(p) => sqlx::query_scalar("SELECT COUNT(*) FROM sales").fetch_one(p).await?,
            Pool::Postgres(p) => sqlx::query_scalar("SELECT COUNT(*) FROM sales").fetch_one(p).await?,
        };
        match self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
        Ok(rows)
    }
}

async fn open(url: &str) -> anyhow::Result<Pool> {
    const TABLE: &str = "CREATE TABLE sales (id BIGINT PRIMARY KEY, campaign_id TEXT NOT NULL, \
        affiliate_id TEXT NOT NULL, amount TEXT NOT NULL, order_id TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL)";
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        sqlx::query(TABLE).execute(&pool).await?;
        Ok(Pool::Sqlite(pool))
    } else {
        let pool = PgPoolOptions::new().max_connections(8).connect(url).await.context("baseline database")?;
        sqlx::query(TABLE).execute(&pool).await?;
        Ok(Pool::Postgres(pool))
    }
}

#[derive(Clone)]
struct Queues(std::sync::Arc<(Vec<mpsc::Sender<Row>>, std::sync::atomic::AtomicUsize)>);

/// Parses the body, queues its row and answers once it is committed.
async fn accept(State(queues): State<Queues>, body: Bytes) -> (StatusCode, &'static str) {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, r#"{"error":"invalid_body"}"#);
    };
    let text = |key: &str| map.get(key).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
    let (Some(campaign), Some(affiliate), Some(amount), Some(order)) =
        (text("campaignId"), text("affiliateId"), text("amount"), text("orderId"))
    else {
        return (StatusCode::BAD_REQUEST, r#"{"error":"missing_field"}"#);
    };
    let (reply, committed) = oneshot::channel();
    let (senders, next) = &*queues.0;
    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % senders.len();
    if senders[i].send(Row { campaign, affiliate, amount, order, reply }).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, r#"{"error":"stopped"}"#);
    }
    match committed.await {
        Ok(true) => (StatusCode::CREATED, r#"{"data":{"status":"pending"}}"#),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, r#"{"error":"not_stored"}"#),
    }
}

/// Takes what is queued (up to [`MAX_BATCH`]), inserts it in one transaction, commits, answers.
async fn write_batches(pool: Pool, mut rx: mpsc::Receiver<Row>) {
    let mut rows = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut rows, MAX_BATCH).await > 0 {
        let ok = insert(&pool, &rows).await.map_err(|err| eprintln!("baseline batch failed: {err}")).is_ok();
        for row in rows.drain(..) {
            let _ = row.reply.send(ok);
        }
    }
}

static NEXT_ID: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1);

macro_rules! insert_rows {
    ($pool:expr, $rows:expr) => {{
        let mut tx = $pool.begin().await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO sales (id, campaign_id, affiliate_id, amount, order_id, created_at) ",
        );
        query.push_values($rows, |mut b, r| {
            b.push_bind(NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                .push_bind(r.campaign.as_str())
                .push_bind(r.affiliate.as_str())
                .push_bind(r.amount.as_str())
                .push_bind(r.order.as_str())
                .push_bind(now);
        });
        query.build().execute(&mut *tx).await?;
        tx.commit().await?;
    }};
}

async fn insert(pool: &Pool, rows: &[Row]) -> Result<(), sqlx::Error> {
    match pool {
        Pool::Sqlite(p) => insert_rows!(p, rows),
        Pool::Postgres(p) => insert_rows!(p, rows),
    }
    Ok(())
}

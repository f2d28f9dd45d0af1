//! Test support: start the real server on port 0 against SQLite (a fresh file per test) or
//! PostgreSQL (one fresh database per test run, named `refline_test_<random>`, tenants isolate
//! the tests inside it), and speak HTTP to it.

#![allow(dead_code)]

use std::{
    io::Write,
    sync::{Arc, OnceLock},
    time::Duration,
};

use rand::{distributions::Alphanumeric, Rng};
use refline::storage::{open_store, EngineOptions};
use refline_server::config::ServerConfig;
use refline_store::Store;
use reqwest::{header::HeaderMap, Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// Environment variable naming a PostgreSQL server for the Postgres half of the suite.
pub const POSTGRES_ENV: &str = "REFLINE_TEST_POSTGRES_URL";

/// Which database engine a test runs on.
#[derive(Debug, Clone)]
pub enum Engine {
    /// A fresh SQLite file.
    Sqlite,
    /// The run's PostgreSQL database.
    Postgres(String),
}

impl Engine {
    /// The run's PostgreSQL database, created on first use; `None` (with a notice on stderr,
    /// printed once) when `REFLINE_TEST_POSTGRES_URL` is not set.
    pub fn postgres() -> Option<Engine> {
        static DATABASE: OnceLock<Option<String>> = OnceLock::new();
        DATABASE.get_or_init(create_run_database).clone().map(Engine::Postgres)
    }

    /// This engine with a database of its own (a new PostgreSQL database; SQLite files are
    /// per app anyway), for tests whose background work must not meet other tests' data.
    pub async fn isolated(&self) -> Engine {
        match self {
            Engine::Sqlite => Engine::Sqlite,
            Engine::Postgres(_) => {
                let server = std::env::var(POSTGRES_ENV).expect("PostgreSQL URL");
                Engine::Postgres(create_database(&server).await)
            }
        }
    }

    /// A database URL for a new test app on this engine, and a directory to keep alive.
    fn database_url(&self) -> (String, Option<tempfile::TempDir>) {
        match self {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("refline.db").display());
                (url, Some(dir))
            }
            Engine::Postgres(url) => (url.clone(), None),
        }
    }
}

/// A store of its own on `engine`, opened without a server (for tests of the core's operations),
/// and the directory that must outlive it.
pub async fn fresh_store(engine: &Engine) -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    let (url, dir) = engine.database_url();
    let options = EngineOptions { postgres_max_connections: 5, ..EngineOptions::default() };
    (open_store(&url, options).await.expect("open store"), dir)
}

/// Creates `refline_test_<random>` on the server and returns its URL.
async fn create_database(server: &str) -> String {
    let suffix: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(10)
        .map(char::from)
        .collect::<String>()
        .to_lowercase();
    let name = format!("refline_test_{suffix}");
    let mut conn = sqlx::PgConnection::connect(server).await.expect("connect to test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    let (base, _) = server.rsplit_once('/').expect("postgres URL with a database path");
    format!("{base}/{name}")
}

fn create_run_database() -> Option<String> {
    let Ok(server) = std::env::var(POSTGRES_ENV) else {
        // Written straight to stderr so the test harness does not capture it.
        let _ = writeln!(
            std::io::stderr(),
            "NOTICE: {POSTGRES_ENV} is not set; PostgreSQL tests are SKIPPED (SQLite tests run)."
        );
        return None;
    };
    // Own runtime on its own thread: this runs once, inside whichever test's runtime came first.
    let url = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(create_database(&server))
    })
    .join()
    .expect("database creation thread");
    let _ =
        writeln!(std::io::stderr(), "PostgreSQL tests use database {}", url.rsplit('/').next().unwrap_or(""));
    Some(url)
}

/// Declares each listed `async fn name(engine: Engine)` as a test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! engine_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Engine::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(engine) = $crate::support::Engine::postgres() {
                        super::$name(engine).await
                    }
                }
            )*
        }
    };
}

/// A merchant created for a test, with its keys in plaintext.
#[derive(Debug, Clone)]
pub struct TestMerchant {
    /// Merchant id.
    pub id: String,
    /// Live key.
    pub key: String,
    /// Test key.
    pub test_key: String,
}

/// An answer from the server.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body as JSON (`Null` when empty or not JSON).
    pub body: Value,
    /// Body as text.
    pub text: String,
}

impl Reply {
    /// `body.error.code`.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// `body.data`.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// The database URL it runs on.
    pub database_url: String,
    /// The store, for fixtures and checks the API cannot express.
    pub store: Arc<dyn Store>,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    /// Starts a server with default settings.
    pub async fn start(engine: &Engine) -> TestApp {
        TestApp::start_with(engine, |_| {}).await
    }

    /// Starts a server after `configure` adjusted its settings.
    pub async fn start_with(engine: &Engine, configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
        let (database_url, dir) = engine.database_url();
        TestApp::start_on(database_url, dir, configure).await
    }

    /// Starts a server on an existing database URL.
    pub async fn start_on(
        database_url: String,
        dir: Option<tempfile::TempDir>,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestApp {
        let options = EngineOptions { postgres_max_connections: 5, ..EngineOptions::default() };
        let store = open_store(&database_url, options).await.expect("open store");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let mut config = ServerConfig { public_url: base.clone(), ..ServerConfig::default() };
        // No automatic payout runs and no housekeeping sweeps unless a test asks: on PostgreSQL
        // a run's tests share one database and so its `scheduled_runs` rows, and a server whose
        // manual clock is days ahead would take a run for every merchant there (and put the next
        // out of reach of the test waiting for it) or sweep away other tests' current rate
        // windows and unique visits.
        config.payouts.automatic_interval = None;
        config.tracking.sweeper_enabled = false;
        configure(&mut config);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(refline_server::serve(listener, store.clone(), config, async {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
        TestApp { base, database_url, store, client, shutdown: Some(tx), task: Some(task), _dir: dir }
    }

    /// Stops the server gracefully and waits for it (in-flight requests finish, audit drains).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server result");
        }
    }

    /// A new merchant on `plan` with a live and a test key.
    pub async fn merchant(&self, plan: &str) -> TestMerchant {
        let created = refline::admin::create_merchant(&self.store, "Test Merchant", plan, "usd")
            .await
            .expect("merchant");
        TestMerchant { id: created.merchant_id, key: created.api_key, test_key: created.test_api_key }
    }

    /// Sends a request with an optional bearer key and optional JSON body.
    pub async fn send(&self, method: Method, key: Option<&str>, path: &str, body: Option<&Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Reply::from(request.send().await.expect("request")).await
    }

    /// Sends raw bytes as the body with extra headers.
    pub async fn send_raw(
        &self,
        method: Method,
        key: &str,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request =
            self.client.request(method, format!("{}{path}", self.base)).bearer_auth(key).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::from(request.send().await.expect("request")).await
    }

    /// A clone of the HTTP client, for requests sent from spawned tasks.
    pub fn client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// `GET path` with a `Cookie` header and no redirects followed; answers the body.
    pub async fn client_get_with_cookie(&self, cookie: &str, path: &str) -> String {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response =
            client.get(self.url(path)).header(reqwest::header::COOKIE, cookie).send().await.unwrap();
        response.text().await.unwrap()
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET with a key.
    pub async fn get(&self, key: &str, path: &str) -> Reply {
        self.send(Method::GET, Some(key), path, None).await
    }

    /// POST JSON with a key.
    pub async fn post(&self, key: &str, path: &str, body: Value) -> Reply {
        self.send(Method::POST, Some(key), path, Some(&body)).await
    }

    /// PATCH JSON with a key.
    pub async fn patch(&self, key: &str, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, Some(key), path, Some(&body)).await
    }

    /// DELETE with a key.
    pub async fn delete(&self, key: &str, path: &str) -> Reply {
        self.send(Method::DELETE, Some(key), path, None).await
    }

    /// Creates a campaign from `body` (defaults: 20 % commission) and returns its object.
    pub async fn campaign(&self, key: &str, overrides: Value) -> Value {
        let mut body = json!({ "name": "Launch", "commissionType": "percentage", "commissionValue": 20 });
        if let (Some(b), Some(o)) = (body.as_object_mut(), overrides.as_object()) {
            for (k, v) in o {
                b.insert(k.clone(), v.clone());
            }
        }
        let reply = self.post(key, "/api/v1/campaigns", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "campaign: {}", reply.text);
        reply.data().clone()
    }

    /// Creates an approved API affiliate on a campaign and returns its id.
    pub async fn affiliate(&self, key: &str, campaign_id: &str, email: &str) -> String {
        let reply = self
            .post(
                key,
                "/api/v1/affiliates",
                json!({ "email": email, "name": "Aff", "campaignId": campaign_id }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "affiliate: {}", reply.text);
        reply.data()["id"].as_str().expect("id").to_string()
    }

    /// Posts a conversion for `amount` with extra fields.
    pub async fn convert(
        &self,
        key: &str,
        campaign: &str,
        affiliate: &str,
        amount: Value,
        extra: Value,
    ) -> Reply {
        let mut body = json!({ "campaignId": campaign, "affiliateId": affiliate, "amount": amount });
        if let (Some(b), Some(o)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in o {
                b.insert(k.clone(), v.clone());
            }
        }
        self.post(key, "/api/v1/conversions", body).await
    }

    /// The newest 1,000 entries of `merchant`'s audit log (or of none), read every 50 ms until
    /// `done` accepts them or 5 s have passed (the audit writer stores entries in the
    /// background); the last read either way.
    async fn poll_audit(
        &self,
        merchant: Option<&str>,
        done: impl Fn(&[refline_store::AuditEntry]) -> bool,
    ) -> Vec<refline_store::AuditEntry> {
        for _ in 0..100 {
            let entries = self.store.recent_audit_entries(merchant, 1000).await.expect("audit");
            if done(&entries) {
                return entries;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.store.recent_audit_entries(merchant, 1000).await.expect("audit")
    }

    /// Waits (up to 5 s) until the audit log of `merchant` holds at least `n` entries.
    pub async fn audit_entries(&self, merchant: Option<&str>, n: usize) -> Vec<refline_store::AuditEntry> {
        self.poll_audit(merchant, |entries| entries.len() >= n).await
    }

    /// The newest audit entry of `merchant` (or of none) that `wanted` accepts, waiting up to 5 s
    /// for the audit writer to store it. On PostgreSQL the tests of a run share one database, so
    /// "at least n entries" can be met by other tests' entries before this one is written: a
    /// check of one entry waits for that entry.
    pub async fn audit_entry(
        &self,
        merchant: Option<&str>,
        wanted: impl Fn(&refline_store::AuditEntry) -> bool,
    ) -> refline_store::AuditEntry {
        let entries = self.poll_audit(merchant, |entries| entries.iter().any(&wanted)).await;
        let found = entries.iter().find(|e| wanted(e)).cloned();
        found.unwrap_or_else(|| panic!("no such audit entry after 5 s among {entries:?}"))
    }

    /// Like [`Self::audit_entries`], counting only the entries of HTTP requests (the test's
    /// merchant was created through the command line, which is audited too).
    pub async fn request_audit_entries(
        &self,
        merchant: Option<&str>,
        n: usize,
    ) -> Vec<refline_store::AuditEntry> {
        let is_request = |e: &refline_store::AuditEntry| e.method.is_some();
        let entries =
            self.poll_audit(merchant, |entries| entries.iter().filter(|e| is_request(e)).count() >= n).await;
        entries.into_iter().filter(is_request).collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Reply {
    /// Reads a response.
    pub async fn from(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
    }
}

/// A click row for storage-level fixtures.
pub fn test_click(
    id: &str,
    merchant: &str,
    campaign: &str,
    affiliate: &str,
    ip: Option<&str>,
    device: Option<&str>,
    at: i64,
) -> refline_store::Click {
    refline_store::Click {
        id: id.into(),
        merchant_id: merchant.into(),
        campaign_id: campaign.into(),
        affiliate_id: affiliate.into(),
        ip: ip.map(str::to_string),
        device_hash: device.map(str::to_string),
        created_at: at,
        link_id: None,
        source: "redirect".into(),
        kind: "human".into(),
        is_unique: true,
        landing_url: None,
        referrer: None,
    }
}

/// The overview's rollups of `merchant`'s live conversions equal a recount of the conversions: per day and currency, and
/// per affiliate and currency in each month.
pub async fn rollups_match(store: &dyn refline_store::Store, merchant: &str) -> Result<(), String> {
    let rows = store
        .recent_conversions(merchant, refline_domain::Mode::Live, 100_000)
        .await
        .map_err(|e| e.to_string())?;
    type Sums = (i64, i64, i64);
    let mut days: std::collections::BTreeMap<(i64, String), Sums> = std::collections::BTreeMap::new();
    let mut months: std::collections::BTreeMap<i64, std::collections::BTreeMap<(String, String), Sums>> =
        std::collections::BTreeMap::new();
    for c in rows.iter().filter(|c| refline_store::rollup::counts(c.status)) {
        let add = |s: &mut Sums| *s = (s.0 + c.amount_minor, s.1 + c.commission_minor, s.2 + 1);
        add(days.entry((c.created_at / 86_400_000, c.currency.clone())).or_default());
        add(months
            .entry(refline_domain::month_start(c.created_at))
            .or_default()
            .entry((c.affiliate_id.clone(), c.currency.clone()))
            .or_default());
    }
    let (first, last) =
        match (rows.iter().map(|c| c.created_at).min(), rows.iter().map(|c| c.created_at).max()) {
            (Some(first), Some(last)) => (first, last),
            _ => return Ok(()),
        };
    let read = store
        .daily_conversions(merchant, refline_domain::Mode::Live, first, last + 1)
        .await
        .map_err(|e| e.to_string())?;
    let read: std::collections::BTreeMap<(i64, String), Sums> = read
        .into_iter()
        .map(|r| ((r.day, r.currency), (r.revenue_minor, r.commissions_minor, r.conversions)))
        .collect();
    if read != days {
        return Err(format!("day rollups {read:?} but a recount says {days:?}"));
    }
    for (month, want) in months {
        let top = store
            .top_affiliates(merchant, refline_domain::Mode::Live, month, 1000)
            .await
            .map_err(|e| e.to_string())?;
        let got: std::collections::BTreeMap<(String, String), Sums> = top
            .into_iter()
            .map(|t| ((t.affiliate_id, t.currency), (t.revenue_minor, t.commissions_minor, t.conversions)))
            .collect();
        if got != want {
            return Err(format!("affiliate-month rollups of {month} {got:?} but a recount says {want:?}"));
        }
    }
    Ok(())
}

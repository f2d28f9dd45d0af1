//! Benchmark of the dashboard's pages with a big brand: 100,000 conversions this month (by
//! default) over 1,000 affiliates and 5 campaigns, 100,000 human clicks, then every page fetched
//! `--rounds` times with a signed-in session. Reports each page's median and 95th-percentile time
//! on loopback (the server's time plus a loopback round trip), beside the baseline of the same
//! run: `GET /readyz`, one trivial database read through the same server (`/healthz` reads
//! nothing since issue 17).

use std::time::{Duration, Instant};

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use refline_domain::{month_start, ordered_time_prefix, Role};
use refline_store::{Account, Session, TeamMember, User};
use serde_json::json;
use sqlx::Executor;

/// Settings of a run.
pub struct Options {
    /// PostgreSQL server URL, or `None` for SQLite.
    pub postgres: Option<String>,
    /// Conversions this month.
    pub conversions: usize,
    /// Times each page is fetched.
    pub rounds: usize,
}

/// Runs the benchmark and prints a report.
pub async fn run(server_rt: tokio::runtime::Handle, options: Options) -> anyhow::Result<()> {
    crate::database::with_database(options.postgres.clone(), |url| async move {
        measure(server_rt, &url, &options).await
    })
    .await
}

async fn measure(server_rt: tokio::runtime::Handle, url: &str, options: &Options) -> anyhow::Result<()> {
    let server = crate::server::BenchServer::start(&server_rt, url, |_| {}).await?;
    let (store, base) = (server.store.clone(), server.base.clone());
    let merchant = refline::admin::create_merchant(&store, "Bench", "ultimate", "usd").await?;
    let api = crate::api::Api::new(&base, &merchant.api_key);
    let mut campaigns = Vec::new();
    for n in 0..5 {
        let made = api
            .post("/api/v1/campaigns", json!({ "name": format!("Campaign {n}"), "commissionType": "percentage", "commissionValue": 20 }))
            .await?;
        campaigns.push(made["data"]["id"].as_str().context("campaign id")?.to_string());
    }
    let seeded = Instant::now();
    let now = refline_server::clock::now_ms();
    seed(url, &merchant.merchant_id, &campaigns, options.conversions, now).await?;
    println!(
        "seeded 1,000 affiliates, {} conversions and 100,000 clicks this month in {:.1} s",
        options.conversions,
        seeded.elapsed().as_secs_f64()
    );
    let cookie = session(&store, &merchant.merchant_id, now).await?;

    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let fetch = |path: String| {
        let client = client.clone();
        let request = hyper::Request::get(format!("{base}{path}"))
            .header("cookie", cookie.clone())
            .body(Full::new(Bytes::new()));
        async move {
            let started = Instant::now();
            let response = client.request(request?).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::ensure!(status.is_success(), "{path}: {status}: {}", String::from_utf8_lossy(&body));
            Ok::<Duration, anyhow::Error>(started.elapsed())
        }
    };
    let campaign = &campaigns[0];
    let pages = [
        "/readyz".to_string(),
        "/merchant".into(),
        "/merchant/campaigns".into(),
        format!("/merchant/campaigns/{campaign}"),
        "/merchant/affiliates".into(),
        "/merchant/affiliates/baff_7".into(),
        "/merchant/affiliates?q=a7".into(),
        "/merchant/commissions".into(),
        "/merchant/commissions?status=approved".into(),
        "/merchant/payouts".into(),
        "/merchant/payouts/settings".into(),
        "/merchant/campaigns/new".into(),
        "/merchant/affiliates/new".into(),
        "/merchant/integrations".into(),
        "/merchant/webhooks".into(),
        "/merchant/api-keys".into(),
        "/merchant/audit".into(),
        "/merchant/settings".into(),
        "/merchant/team".into(),
    ];
    println!("engine: {}  ({} rounds per page)", store.engine(), options.rounds);
    println!("{:<40} {:>10} {:>10} {:>8}", "page", "median ms", "p95 ms", "× base");
    let mut baseline = None;
    for path in pages {
        fetch(path.clone()).await?; // warm: caches, prepared statements
        let mut times = Vec::with_capacity(options.rounds);
        for _ in 0..options.rounds {
            times.push(fetch(path.clone()).await?);
        }
        times.sort();
        let median = times[times.len() / 2].as_secs_f64() * 1000.0;
        let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)].as_secs_f64() * 1000.0;
        let base_ms = *baseline.get_or_insert(median);
        println!("{path:<40} {median:>10.1} {p95:>10.1} {:>8.1}", median / base_ms);
    }
    server.stop().await
}

/// A login on the brand and a session for it, written directly (the password is not what is
/// measured); answers the `Cookie` header.
async fn session(
    store: &std::sync::Arc<dyn refline_store::Store>,
    merchant: &str,
    now: i64,
) -> anyhow::Result<String> {
    let user = User {
        id: "usr_bench".into(),
        email: "owner@bench.test".into(),
        name: "Owner".into(),
        password_hash: None,
        created_at: now,
    };
    let account = Account { id: "acc_bench".into(), owner_user_id: user.id.clone(), created_at: now };
    let member = TeamMember {
        merchant_id: merchant.to_string(),
        user_id: user.id.clone(),
        role: Role::Owner,
        manage_payouts: true,
        manage_keys: true,
        invited_by: None,
        created_at: now,
        accepted_at: Some(now),
    };
    store.attach_user(&user, Some(&account), &member, None).await?;
    let token = "bench-session-token-0123456789abcdefghijkl";
    let session = Session {
        id_hash: refline_server::ids::sha256_hex(token.as_bytes()),
        user_id: user.id,
        merchant_id: Some(merchant.to_string()),
        csrf_token: "bench".into(),
        ip_address: None,
        user_agent: None,
        created_at: now,
        last_seen_at: now,
        expires_at: now + 86_400_000,
        revoked_at: None,
    };
    store.insert_session(&session).await?;
    Ok(format!("refline_session={token}"))
}

/// Affiliates, memberships, this month's conversions (mostly approved, every tenth pending and
/// flagged, every twentieth rejected) with their ledger entries, and human clicks, written with
/// set-based statements.
async fn seed(
    url: &str,
    merchant: &str,
    campaigns: &[String],
    conversions: usize,
    now: i64,
) -> anyhow::Result<()> {
    let start = month_start(now);
    let last = conversions.saturating_sub(1);
    let span = (now - start).max(1);
    let step = (span / conversions.max(1) as i64).max(1);
    let sqlite = url.starts_with("sqlite");
    let pad = if sqlite { "substr('000000000000' || i, -12)" } else { "lpad(i::text, 12, '0')" };
    let prefix = ordered_time_prefix(now - 60_000);
    let campaign_of = |expr: &str| {
        let mut case = String::from("CASE");
        for (n, id) in campaigns.iter().enumerate() {
            case.push_str(&format!(" WHEN {expr} % {} = {n} THEN '{id}'", campaigns.len()));
        }
        case + " END"
    };
    let campaign_by_i = campaign_of("i");
    let statements = [
        format!(
            "INSERT INTO affiliates (id, merchant_id, email, name, created_via, created_at) \
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999) \
             SELECT 'baff_' || i, '{merchant}', 'a' || i || '@bench.test', 'Affiliate ' || i, 'api', {start} FROM n"
        ),
        format!(
            "INSERT INTO memberships (campaign_id, affiliate_id, merchant_id, status, joined_at, updated_at) \
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999) \
             SELECT {campaign_by_i}, 'baff_' || i, '{merchant}', 'approved', {start}, {start} FROM n"
        ),
        format!(
            "INSERT INTO conversions (id, merchant_id, campaign_id, affiliate_id, amount_minor, commission_minor, \
                currency, status, conversion_type, payment_number, source, is_test, created_at, updated_at, \
                approved_at, earned_minor, paid_minor) \
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
             SELECT 'bconv_' || i, '{merchant}', {campaign}, 'baff_' || (i % 1000), 10000, 2000, 'usd', \
                CASE WHEN i % 10 = 0 THEN 'pending' WHEN i % 20 = 5 THEN 'rejected' ELSE 'approved' END, \
                'one_time', 1, 'api', 1 = 0, {start} + i * {step}, {start} + i * {step}, \
                CASE WHEN i % 10 = 0 OR i % 20 = 5 THEN NULL ELSE {start} + i * {step} END, \
                CASE WHEN i % 10 = 0 OR i % 20 = 5 THEN 0 ELSE 2000 END, 0 FROM n",
            campaign = campaign_of("(i % 1000)")
        ),
        format!(
            "INSERT INTO ledger_entries (merchant_id, affiliate_id, campaign_id, conversion_id, currency, kind, \
                amount_minor, is_test, created_at) \
             SELECT merchant_id, affiliate_id, campaign_id, id, currency, 'accrued', commission_minor, is_test, \
                created_at FROM conversions WHERE merchant_id = '{merchant}' AND status = 'approved'"
        ),
        format!(
            "INSERT INTO clicks (merchant_id, id, campaign_id, affiliate_id, link_id, source, kind, is_unique, \
                created_at) \
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999) \
             SELECT '{merchant}', 'click_{prefix}' || {pad}, {campaign_by_i}, 'baff_' || (i % 1000), NULL, \
                'redirect', 'human', i % 3 = 0, {now} - 60000 FROM n"
        ),
        // The overview's rollups, as the writers keep them (every seeded row is this month's).
        format!(
            "INSERT INTO conversion_days (merchant_id, is_test, day, currency, shard, revenue_hi, revenue_lo,                 commission_hi, commission_lo, conversions)              SELECT merchant_id, is_test, created_at / 86400000, currency, 0, SUM(amount_minor / 1000000000),                 SUM(amount_minor % 1000000000), SUM(commission_minor / 1000000000),                 SUM(commission_minor % 1000000000), COUNT(*)              FROM conversions WHERE merchant_id = '{merchant}' AND status NOT IN ('rejected', 'refunded')              GROUP BY merchant_id, is_test, created_at / 86400000, currency"
        ),
        format!(
            "INSERT INTO affiliate_months (merchant_id, is_test, month, affiliate_id, currency, shard, revenue_hi,                 revenue_lo, commission_hi, commission_lo, conversions)              SELECT merchant_id, is_test, {start}, affiliate_id, currency, 0, SUM(amount_minor / 1000000000),                 SUM(amount_minor % 1000000000), SUM(commission_minor / 1000000000),                 SUM(commission_minor % 1000000000), COUNT(*)              FROM conversions WHERE merchant_id = '{merchant}' AND status NOT IN ('rejected', 'refunded')              GROUP BY merchant_id, is_test, affiliate_id, currency"
        ),
        format!(
            "INSERT INTO click_days (merchant_id, day, clicks, unique_clicks)              SELECT merchant_id, created_at / 86400000, COUNT(*), SUM(CASE WHEN is_unique THEN 1 ELSE 0 END)              FROM clicks WHERE merchant_id = '{merchant}' AND kind = 'human' GROUP BY merchant_id, created_at / 86400000"
        ),
    ];
    if sqlite {
        let pool = sqlx::SqlitePool::connect(url).await?;
        for sql in &statements {
            pool.execute(sql.as_str()).await?;
        }
        pool.execute("ANALYZE").await?;
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        for sql in &statements {
            pool.execute(sql.as_str()).await?;
        }
        // What autovacuum does soon after a bulk load in production: statistics, and the visibility
        // map that lets index-only scans skip the table.
        pool.execute("VACUUM ANALYZE").await?;
        pool.close().await;
    }
    Ok(())
}

//! `/healthz`, `/readyz` and the request id (issue 17): probes answer what they promise, and
//! every answer names its request.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;

use crate::{
    engine_tests,
    support::{Engine, TestApp},
};

/// Runs `sql` on the app's database directly (what an operator or a half-finished upgrade
/// could leave behind).
async fn execute(database_url: &str, sql: &str) {
    if database_url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}

async fn healthz_is_alive_and_readyz_checks_the_schema(engine: Engine) {
    // Its own database: this test takes the schema apart.
    let app = TestApp::start(&engine.isolated().await).await;
    let health = app.send(reqwest::Method::GET, None, "/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.text);
    assert_eq!(health.body["status"], "ok");

    let ready = app.send(reqwest::Method::GET, None, "/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.body["status"], "ready");
    let expected = ready.body["migrations"]["expected"].as_u64().unwrap();
    assert!(expected >= 14, "{}", ready.text);
    assert_eq!(ready.body["migrations"]["applied"].as_u64(), Some(expected));

    // A database that lacks this binary's newest migration (an older schema): not ready.
    let newest: i64 = {
        let url = &app.database_url;
        if url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
                .fetch_one(&mut conn)
                .await
                .unwrap()
        } else {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
    };
    execute(&app.database_url, &format!("DELETE FROM _sqlx_migrations WHERE version = {newest}")).await;
    let stale = app.send(reqwest::Method::GET, None, "/readyz", None).await;
    assert_eq!(stale.status, StatusCode::SERVICE_UNAVAILABLE, "{}", stale.text);
    assert_eq!(stale.code(), "not_ready");
    assert_eq!(stale.body["error"]["details"]["reason"], "migrations_pending");
    assert_eq!(stale.body["error"]["details"]["missing"], json!([newest]));
    // Liveness does not depend on the database.
    let health = app.send(reqwest::Method::GET, None, "/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);

    // A database that cannot be queried: not ready, with the reason.
    execute(&app.database_url, "DROP TABLE _sqlx_migrations").await;
    let broken = app.send(reqwest::Method::GET, None, "/readyz", None).await;
    assert_eq!(broken.status, StatusCode::SERVICE_UNAVAILABLE, "{}", broken.text);
    assert_eq!(broken.body["error"]["details"]["reason"], "database_error");
    assert_eq!(app.send(reqwest::Method::GET, None, "/healthz", None).await.status, StatusCode::OK);
    app.stop().await;
}

async fn every_answer_names_its_request(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;

    // A made-up id on success and on an error, the same in the header and the envelope.
    let ok = app.get(&m.key, "/api/v1/me").await;
    assert_eq!(ok.status, StatusCode::OK);
    let made = ok.header("x-request-id").unwrap().to_string();
    assert!(made.starts_with("req_") && made.len() > 10, "{made}");
    let refused = app.send(reqwest::Method::GET, None, "/api/v1/me", None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let id = refused.header("x-request-id").unwrap().to_string();
    assert_ne!(id, made, "each request its own id");
    assert_eq!(refused.body["error"]["requestId"], id.as_str(), "{}", refused.text);
    assert_eq!(refused.code(), "unauthorized", "the envelope keeps its fields");

    // A sane incoming id is kept; a hostile one is replaced, never echoed.
    let client = app.client();
    let kept = client
        .get(app.url("/api/v1/campaigns/camp_missing"))
        .bearer_auth(&m.key)
        .header("x-request-id", "trace-4bf92f3577b34da6.a3ce929d")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), StatusCode::NOT_FOUND);
    assert_eq!(kept.headers()["x-request-id"], "trace-4bf92f3577b34da6.a3ce929d");
    let body: serde_json::Value = kept.json().await.unwrap();
    assert_eq!(body["error"]["requestId"], "trace-4bf92f3577b34da6.a3ce929d");
    for hostile in ["<script>alert(1)</script>", "two words", &"x".repeat(200)] {
        let replaced =
            client.get(app.url("/api/v1/nope")).header("x-request-id", hostile).send().await.unwrap();
        let echoed = replaced.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(echoed.starts_with("req_"), "{hostile:?} → {echoed}");
        let text = replaced.text().await.unwrap();
        assert!(!text.contains(hostile), "{text}");
    }
    // Errors produced before any route (the edge's limits) carry it too.
    let long =
        app.send(reqwest::Method::GET, None, &format!("/api/v1/me?q={}", "a".repeat(9000)), None).await;
    assert_eq!(long.status, StatusCode::URI_TOO_LONG);
    assert_eq!(long.body["error"]["requestId"], long.header("x-request-id").unwrap());
    app.stop().await;
}

engine_tests!(healthz_is_alive_and_readyz_checks_the_schema, every_answer_names_its_request);

/// `--log-format json`: one JSON object per line, and the lines written while a request was
/// answered carry its id (the binary itself, as an operator runs it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_refline"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--log-format", "json"])
        .env("REFLINE_DATABASE_URL", format!("sqlite://{}", dir.path().join("logs.db").display()))
        .env("REFLINE_SECRET_KEY_FILE", dir.path().join("refline.key"))
        .env("REFLINE_MAIL_DIR", dir.path().join("mail"))
        .env("RUST_LOG", "info,refline_server::http::request_id=debug")
        .env_remove("REFLINE_LISTEN")
        .env_remove("REFLINE_LOG_FORMAT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut answered = None;
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/readyz")).header("x-request-id", "log-probe-7").send().await
        {
            answered = Some(r.status());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(answered, Some(StatusCode::OK), "server did not start");
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}")))
        .collect();
    assert!(lines.iter().any(|l| l["fields"]["message"] == "refline listening"), "{stderr}");
    let line = lines
        .iter()
        .find(|l| l["span"]["request_id"] == "log-probe-7")
        .unwrap_or_else(|| panic!("no line of the request: {stderr}"));
    assert_eq!(line["fields"]["message"], "answered");
    assert_eq!(line["span"]["route"], "/readyz");
    assert_eq!(line["fields"]["status"], 200);
}

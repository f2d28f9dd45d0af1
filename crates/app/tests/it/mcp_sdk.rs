//! The MCP door as real clients speak it: the official MCP Python SDK (`mcp` 2.x from PyPI, in
//! the virtualenv `scripts/install-mcp-client.sh` makes, or `$REFLINE_MCP_PYTHON`; skipped with a
//! notice without it) against a `refline serve` process runs the seed's flow over Streamable HTTP
//! in protocol 2026-07-28 (the SDK's default, `server/discover` then stateless requests) and
//! 2025-06-18 (the `initialize` handshake, pinned), with a read-only key, another merchant's ids,
//! a test key and no key, and over stdio through `refline mcp` as its stdio client spawns it, in
//! both revisions; and the `refline mcp` binary relays stdio to a running server as a desktop
//! client would use it.

use std::{path::PathBuf, process::Stdio, time::Duration};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::{
    engine_tests,
    mcp::seed_fixture_in,
    support::{Engine, TestApp},
};

const PYTHON_ENV: &str = "REFLINE_MCP_PYTHON";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interpreter with the `mcp` package, or `None` (with a notice).
fn mcp_python() -> Option<PathBuf> {
    let python = std::env::var_os(PYTHON_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/mcp-venv/bin/python"));
    if python.exists() {
        Some(python)
    } else {
        eprintln!(
            "NOTICE: the MCP Python SDK is not installed ({} missing; run scripts/install-mcp-client.sh or set {PYTHON_ENV}); MCP SDK test skipped",
            python.display()
        );
        None
    }
}

/// A `refline serve` process on `database_url`, stopped (SIGTERM, then killed) when dropped.
struct Served {
    child: tokio::process::Child,
    base: String,
}

impl Served {
    async fn start(database_url: &str, dir: &std::path::Path) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_refline"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--public-url", &base])
            .env("REFLINE_DATABASE_URL", database_url)
            .env("REFLINE_SECRET_KEY_FILE", dir.join("refline.key"))
            // Mails go to the temp dir, never to `refline-mail/` in the source tree.
            .env("REFLINE_MAIL_DIR", dir.join("mail"))
            .env_remove("REFLINE_LISTEN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("refline serve starts");
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return Served { child, base };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("refline serve did not answer /healthz");
    }

    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().await;
        }
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await;
        assert!(status.is_ok_and(|s| s.is_ok_and(|s| s.success())), "refline serve exits cleanly");
    }
}

async fn python_sdk_runs_the_seed_flow(engine: Engine) {
    let Some(python) = mcp_python() else { return };
    // A real `refline serve` on a database of its own, holding two merchants and the seed's
    // fixture (written before the server opens it).
    let dir = tempfile::tempdir().unwrap();
    let database_url = match engine.isolated().await {
        Engine::Sqlite => format!("sqlite://{}", dir.path().join("mcp.db").display()),
        Engine::Postgres(url) => url,
    };
    let (m, pro) = {
        let store = refline::storage::open_store(&database_url, Default::default()).await.unwrap();
        let m = refline::admin::create_merchant(&store, "Seed", "ultimate", "usd").await.unwrap();
        let pro = refline::admin::create_merchant(&store, "Reader", "pro", "usd").await.unwrap();
        seed_fixture_in(store.as_ref(), &m.merchant_id).await;
        (m, pro)
    };
    let server = Served::start(&database_url, dir.path()).await;
    let seed = repo_root().join("crates/app/tests/fixtures/seed-conversion.json");
    let output = tokio::process::Command::new(python)
        .arg(repo_root().join("scripts/mcp_client.py"))
        .args([&server.base, &m.api_key, &pro.api_key])
        .arg(seed)
        .args([&m.test_api_key, env!("CARGO_BIN_EXE_refline")])
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "mcp_client.py failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    let tools = refline_server::mcp::tool_names().len();
    assert_eq!(seen["ok"], true);
    assert_eq!(seen["server"], "refline");
    // The seed's flow in both revisions, over HTTP and over stdio.
    for protocol in ["2026-07-28", "2025-06-18"] {
        assert_eq!(seen[format!("tools@{protocol}")], tools, "{seen}");
        assert_eq!(seen[format!("commission@{protocol}")], "19.80", "{seen}");
        assert_eq!(seen[format!("duplicate@{protocol}")], "duplicate", "{seen}");
        assert_eq!(seen[format!("stdioTools@{protocol}")], tools, "{seen}");
        assert_eq!(seen[format!("stdioCampaign@{protocol}")], "camp_abc", "{seen}");
    }
    assert_eq!(seen["readOnly"], "insufficient_permissions");
    assert_eq!(seen["otherMerchant"], "not_found");
    assert_eq!(seen["testConversion"], true);
    assert_eq!(seen["keylessTools"], 3);
    server.stop().await;
}

async fn stdio_relay_speaks_to_a_server(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    app.campaign(&m.key, json!({ "name": "Over stdio" })).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_refline"))
        .args(["mcp", "--api-key", &m.key, "--url", &app.base])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("refline mcp starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = async |message: Value| {
        stdin.write_all(format!("{message}\n").as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    };
    send(json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": { "name": "desktop", "version": "1" } } }))
    .await;
    send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).await;
    send(json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" })).await;
    send(json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": { "name": "list_campaigns", "arguments": {} } }))
    .await;
    let mut answers = std::collections::HashMap::new();
    while answers.len() < 3 {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("an answer in time")
            .unwrap()
            .expect("a line");
        let message: Value = serde_json::from_str(&line).expect("stdout carries only JSON-RPC");
        answers.insert(message["id"].as_i64().unwrap(), message);
    }
    assert_eq!(answers[&1]["result"]["protocolVersion"], "2025-06-18");
    let tools = answers[&2]["result"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), refline_server::mcp::tool_names().len());
    assert_eq!(answers[&3]["result"]["structuredContent"]["data"][0]["name"], "Over stdio");
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.unwrap().unwrap();
    assert!(status.success());

    // A wrong key: the relay answers the request with the server's refusal, on stdout.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_refline"))
        .args(["mcp", "--api-key", "lj_pk_wrong_key_0000000000000000", "--url", &format!("{}/mcp", app.base)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\"}\n").await.unwrap();
    drop(stdin);
    let output =
        tokio::time::timeout(Duration::from_secs(20), child.wait_with_output()).await.unwrap().unwrap();
    let answer: Value = serde_json::from_slice(&output.stdout).expect("a JSON-RPC error");
    assert_eq!(answer["id"], 9);
    assert!(answer["error"]["message"].as_str().unwrap().contains("401"), "{answer}");

    // No key at all: the three no-account tools, as LinkJolt's relay without a key.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_refline"))
        .args(["mcp", "--url", &app.base])
        .env_remove("REFLINE_API_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\"}\n").await.unwrap();
    drop(stdin);
    let output =
        tokio::time::timeout(Duration::from_secs(20), child.wait_with_output()).await.unwrap().unwrap();
    let answer: Value = serde_json::from_slice(&output.stdout).expect("a JSON-RPC answer");
    assert_eq!(answer["result"]["tools"].as_array().map(Vec::len), Some(3), "{answer}");
    app.stop().await;
}

engine_tests!(python_sdk_runs_the_seed_flow, stdio_relay_speaks_to_a_server);

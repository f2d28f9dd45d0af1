//! The `refline` binary itself: the administrative commands and graceful shutdown of `serve`.

use std::{
    net::TcpListener as StdListener,
    process::{Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{Engine, TestApp},
};

fn refline(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_refline"))
        .args(args)
        .env("REFLINE_DATABASE_URL", database_url)
        .env_remove("REFLINE_LISTEN")
        .output()
        .expect("run refline")
}

fn json_stdout(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert_eq!(text.trim().lines().count(), 1, "exactly one JSON object: {text}");
    serde_json::from_str(text.trim()).expect("JSON")
}

/// CLI commands against the same database as a running server.
async fn admin_commands_work_beside_a_running_server(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let url = app.database_url.clone();
    let created = tokio::task::spawn_blocking({
        let url = url.clone();
        move || json_stdout(&refline(&url, &["merchant", "create", "--name", "Acme", "--json"]))
    })
    .await
    .unwrap();
    let keys: Vec<&str> = created.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["merchantId", "apiKey", "testApiKey"]);
    let key = created["apiKey"].as_str().unwrap();
    assert!(key.starts_with("lj_pk_") && !key.starts_with("lj_pk_test_"));
    assert!(created["testApiKey"].as_str().unwrap().starts_with("lj_pk_test_"));
    let me = app.get(key, "/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "the server sees a merchant made by the CLI");
    assert_eq!(me.data()["plan"], "ultimate");
    assert_eq!(me.data()["merchant"]["currency"], "usd");

    let merchant = created["merchantId"].as_str().unwrap().to_string();
    let (url2, m2) = (url.clone(), merchant.clone());
    let made = tokio::task::spawn_blocking(move || {
        json_stdout(&refline(&url2, &["key", "create", "--merchant", &m2, "--test", "--json"]))
    })
    .await
    .unwrap();
    assert_eq!(made.as_object().unwrap().keys().collect::<Vec<_>>(), ["apiKey"]);
    let test_key = made["apiKey"].as_str().unwrap().to_string();
    assert!(test_key.starts_with("lj_pk_test_"));
    let me = app.get(&test_key, "/api/v1/me").await;
    assert_eq!(me.data()["keyType"], "test");

    let key_id = me.data()["keyId"].as_str().unwrap().to_string();
    let listed = refline(&url, &["key", "list", "--merchant", &merchant]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&key_id), "key list shows the id");
    let url3 = url.clone();
    let revoked =
        tokio::task::spawn_blocking(move || refline(&url3, &["key", "revoke", &key_id])).await.unwrap();
    assert!(revoked.status.success());
    // The server remembers a key it read for a second (`http::key_cache`); another process's
    // revocation reaches it when that memory expires, not on the next request.
    let started = std::time::Instant::now();
    loop {
        let status = app.get(&test_key, "/api/v1/me").await.status;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(started.elapsed() < Duration::from_millis(2_500), "the revoked key still works");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let bad = tokio::task::spawn_blocking(move || {
        refline(&url, &["merchant", "create", "--name", "X", "--plan", "gold"])
    })
    .await
    .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--plan"));
    let pro = refline(&app.database_url, &["merchant", "create", "--name", "P", "--plan", "pro", "--json"]);
    let pro_key = json_stdout(&pro)["apiKey"].as_str().unwrap().to_string();
    assert_eq!(app.get(&pro_key, "/api/v1/me").await.data()["permissions"], json!(["read"]));
}

/// SIGTERM while requests are in flight: every acknowledged conversion is in the database.
async fn sigterm_finishes_in_flight_requests(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    // A database of its own: this server's workers must not deliver other tests' mails.
    let url = match engine.isolated().await {
        Engine::Sqlite => format!("sqlite://{}", dir.path().join("shutdown.db").display()),
        Engine::Postgres(url) => url,
    };
    let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let created =
        json_stdout(&refline(&url, &["merchant", "create", "--name", "Shut", "--plan", "scale", "--json"]));
    let key = created["apiKey"].as_str().unwrap().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_refline"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("REFLINE_DATABASE_URL", &url)
        .env("REFLINE_SECRET_KEY_FILE", dir.path().join("refline.key"))
        // Mails go to the temp dir, never to `refline-mail/` in the source tree.
        .env("REFLINE_MAIL_DIR", dir.path().join("mail"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "server did not start");
    let post =
        |path: &str, body: Value| client.post(format!("{base}{path}")).bearer_auth(&key).json(&body).send();
    let camp: Value = post(
        "/api/v1/campaigns",
        json!({ "name": "Shut", "commissionType": "percentage", "commissionValue": 10 }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let camp_id = camp["data"]["id"].as_str().unwrap().to_string();
    let aff: Value =
        post("/api/v1/affiliates", json!({ "email": "s@affiliates.test", "campaignId": camp_id }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let aff_id = aff["data"]["id"].as_str().unwrap().to_string();

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        let body =
            json!({ "campaignId": camp_id, "affiliateId": aff_id, "amount": 1, "orderId": format!("o-{i}") });
        tasks.spawn(async move {
            let r =
                client.post(format!("{base}/api/v1/conversions")).bearer_auth(key).json(&body).send().await;
            match r {
                Ok(r) if r.status() == StatusCode::CREATED => {
                    let v: Value = r.json().await.unwrap();
                    Some(v["data"]["id"].as_str().unwrap().to_string())
                }
                _ => None,
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let acknowledged: Vec<String> = tasks.join_all().await.into_iter().flatten().collect();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(status.success(), "graceful exit: {status:?}");
    assert!(!acknowledged.is_empty(), "some requests were answered before shutdown");

    let store = refline::storage::open_store(&url, Default::default()).await.unwrap();
    for id in &acknowledged {
        assert!(
            store.get_conversion(created["merchantId"].as_str().unwrap(), id).await.unwrap().is_some(),
            "{id} lost"
        );
    }
}

engine_tests!(admin_commands_work_beside_a_running_server, sigterm_finishes_in_flight_requests);

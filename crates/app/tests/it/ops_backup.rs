//! `refline backup` (issue 17): a copy taken from a running server under write load holds every
//! sale acknowledged before it started, passes SQLite's integrity check, and serves again when
//! restored; it never overwrites; on PostgreSQL it points to pg_dump / PITR.

use std::{
    collections::HashSet,
    process::{Command, Output},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;

use crate::support::{Engine, TestApp};

fn backup(database_url: &str, dest: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_refline"))
        .args(["--database-url", database_url, "backup", dest])
        .env_remove("REFLINE_CONFIG")
        .output()
        .expect("run refline backup")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_holds_every_acknowledged_sale() {
    // The load is not throttled: a fast machine posts more than the plan's 600 a minute.
    let app = TestApp::start_with(&Engine::Sqlite, |c| {
        c.limits.set_rate(refline_domain::Plan::Scale, 1_000_000);
    })
    .await;
    let m = app.merchant("scale").await;
    let camp = app.campaign(&m.key, json!({})).await;
    let camp_id = camp["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&m.key, &camp_id, "backup@partner.test").await;

    // Writers post sales until told to stop, noting each one the server acknowledged (201).
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..4 {
        let (client, url, key, camp_id, aff) =
            (app.client(), app.url("/api/v1/conversions"), m.key.clone(), camp_id.clone(), aff.clone());
        let (acked, stop) = (acked.clone(), stop.clone());
        writers.spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let order = format!("load-{w}-{n}");
                let body =
                    json!({ "campaignId": camp_id, "affiliateId": aff, "amount": 10, "orderId": order });
                let reply = client.post(&url).bearer_auth(&key).json(&body).send().await.unwrap();
                assert_eq!(reply.status(), StatusCode::CREATED);
                let id = reply.json::<serde_json::Value>().await.unwrap()["data"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                acked.lock().unwrap().push((order, id));
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("copy.db");
    let dest_text = dest.to_str().unwrap().to_string();
    // Everything acknowledged before the command starts must be in the copy.
    let before: Vec<(String, String)> = acked.lock().unwrap().clone();
    let (url, target) = (app.database_url.clone(), dest_text.clone());
    let out = tokio::task::spawn_blocking(move || backup(&url, &target)).await.unwrap();
    let during = acked.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("integrity check: ok"), "{stdout}");
    let total = acked.lock().unwrap().len();
    assert!(before.len() >= 20, "load too light: {}", before.len());
    assert!(total > during, "the server kept taking writes after the backup: {during} → {total}");

    // The copy, opened on its own: sound, and every sale acknowledged before it is there.
    let copy_url = format!("sqlite://{dest_text}");
    {
        let mut conn = sqlx::SqliteConnection::connect(&copy_url).await.unwrap();
        let integrity: String =
            sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.unwrap();
        assert_eq!(integrity, "ok");
        let orders: HashSet<String> = sqlx::query_scalar(
            "SELECT order_id FROM conversions WHERE merchant_id = $1 AND order_id IS NOT NULL",
        )
        .bind(&m.id)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .collect();
        let lost: Vec<&String> = before.iter().map(|(o, _)| o).filter(|o| !orders.contains(*o)).collect();
        assert!(lost.is_empty(), "{} acknowledged sales missing from the backup: {lost:?}", lost.len());
        assert!(orders.len() <= total, "nothing in the copy the server did not acknowledge");
        conn.close().await.unwrap();
    }

    // Never overwrites, even its own earlier copy.
    let size = std::fs::metadata(&dest).unwrap().len();
    let (url, target) = (app.database_url.clone(), dest_text.clone());
    let again = tokio::task::spawn_blocking(move || backup(&url, &target)).await.unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), size);
    app.stop().await;

    // Restored: a server on the copy answers for the acknowledged sales.
    let restored = TestApp::start_on(copy_url, None, |_| {}).await;
    assert_eq!(restored.send(reqwest::Method::GET, None, "/readyz", None).await.status, StatusCode::OK);
    for (order, id) in before.iter().step_by(before.len() / 5 + 1) {
        let got = restored.get(&m.key, &format!("/api/v1/conversions/{id}")).await;
        assert_eq!(got.status, StatusCode::OK, "{order}: {}", got.text);
        assert_eq!(got.data()["orderId"], order.as_str());
    }
    restored.stop().await;
}

#[test]
fn backup_refuses_postgres_and_missing_sources() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("x.db");
    let out = backup("postgres://refline@127.0.0.1:1/refline", dest.to_str().unwrap());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pg_dump") && stderr.contains("PITR"), "{stderr}");
    let missing = format!("sqlite://{}", dir.path().join("nope.db").display());
    let out = backup(&missing, dest.to_str().unwrap());
    assert!(!out.status.success(), "a missing database is an error, not an empty backup");
    assert!(!dest.exists(), "no file left behind");
    assert!(!dir.path().join("nope.db").exists(), "the source is not created");
}

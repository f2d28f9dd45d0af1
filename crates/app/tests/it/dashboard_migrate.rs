//! The dashboard's Migrate page (`/merchant/migrate`) on both engines: the sources come from
//! `refline_import::SOURCES`; a Rewardful import (against the loopback fake) and a CSV upload
//! run in the background and show their progress and report; a second start of a running
//! import is refused; the API key is never stored nor shown; CSRF, owner/admin rights and
//! tenant isolation hold.

use std::time::Duration;

use refline_core::{team::users::NewUser, Door};
use refline_domain::Role;
use reqwest::{header, StatusCode};

use crate::{
    dashboard_support::{csrf_of, Answer, Browser, PASSWORD},
    engine_tests,
    import_fake_rewardful::{program, FakeRewardful},
    support::{Engine, TestApp},
};

engine_tests!(migrate_page_runs_imports_in_the_background);

const KEY: &str = "rw_dashboard_secret_key_123";

/// Posts a multipart form (text fields and files) with the page's CSRF token, as a browser
/// sends a form with file inputs.
async fn upload(browser: &Browser, fields: &[(&str, &str)], files: &[(&str, &[u8])], token: bool) -> Answer {
    // The token from any page of the session (the layout's brand switcher carries it).
    let page = browser.get("/merchant").await;
    let csrf = csrf_of(&page.html).unwrap_or_default();
    let boundary = "----refline-test-boundary";
    let mut body = Vec::new();
    let mut part = |name: &str, filename: Option<&str>, value: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n")
                    .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    };
    if token {
        part("csrf_token", None, csrf.as_bytes());
    }
    for (name, value) in fields {
        part(name, None, value.as_bytes());
    }
    for (name, bytes) in files {
        part(name, Some("file.csv"), bytes);
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let response = browser
        .client
        .post(format!("{}/merchant/migrate", browser.base))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    Answer { status, html: response.text().await.unwrap(), location }
}

/// Waits until the brand's newest run of `source` is no longer running; answers its id.
async fn finished_run(app: &TestApp, merchant: &str, source: &str) -> String {
    for _ in 0..300 {
        let runs = app.store.list_import_runs(merchant, 10).await.unwrap();
        if let Some(run) = runs.iter().find(|r| r.source == source && r.status != "running") {
            return run.id.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the {source} import did not finish");
}

async fn migrate_page_runs_imports_in_the_background(engine: Engine) {
    let mut fake_state = program(KEY, 50);
    // Two throttled answers keep the run going for two seconds: long enough to start it twice.
    fake_state.throttle_at = vec![2, 3];
    let fake = FakeRewardful::start(fake_state).await;
    let base = fake.base.clone();
    let app = TestApp::start_with(&engine, |c| c.import_base_url = Some(base)).await;
    let unique = || refline_server::ids::new_id("m").to_lowercase();
    let owner_email = format!("{}@shop.test", unique());
    let (browser, merchant) = Browser::sign_up(&app, &owner_email, "Shop").await;

    let page = browser.get("/merchant/migrate").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    for source in refline_import::SOURCES {
        assert!(page.html.contains(&format!("<option value=\"{source}\">")), "{source}: {}", page.html);
    }
    assert!(page.html.contains("href=\"/merchant/migrate\""), "in the navigation");

    // Without the CSRF token nothing starts.
    let forged = upload(&browser, &[("source", "rewardful"), ("apiKey", KEY)], &[], false).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.html);
    assert!(app.store.list_import_runs(&merchant, 10).await.unwrap().is_empty());

    let started = upload(&browser, &[("source", "rewardful"), ("apiKey", KEY)], &[], true).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.html);
    assert_eq!(started.location.as_deref(), Some("/merchant/migrate?notice=started"));
    let again = upload(&browser, &[("source", "rewardful"), ("apiKey", KEY)], &[], true).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.html);
    assert!(again.html.contains("already running"), "{}", again.html);
    let going = browser.get("/merchant/migrate").await;
    assert!(going.html.contains("http-equiv=\"refresh\""), "a running import refreshes the page");

    let id = finished_run(&app, &merchant, "rewardful").await;
    let run = app.store.import_run(&merchant, &id).await.unwrap().unwrap();
    assert_eq!(run.status, "finished", "{run:?}");
    let shown = browser.get(&format!("/merchant/migrate/runs/{id}")).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.html);
    assert!(shown.html.contains(">finished<"), "{}", shown.html);
    assert!(shown.html.contains("<td>commission</td>"), "{}", shown.html);
    assert!(shown.html.contains("invalid_email"), "skips with their reasons: {}", shown.html);
    assert!(!shown.html.contains("http-equiv=\"refresh\""));
    assert!(!format!("{run:?}").contains(KEY), "the key is never stored");
    assert!(!shown.html.contains(KEY) && !browser.get("/merchant/migrate").await.html.contains(KEY));
    let imported = app.store.find_imported(&merchant, "rewardful", "campaign", "camp-pct").await.unwrap();
    assert!(imported.is_some(), "the program came across");
    let audit = browser.get("/merchant/audit").await;
    assert!(audit.html.contains("import.start"), "{}", audit.html);

    // A CSV upload onto one of the brand's campaigns.
    let key = browser.api_key("live").await;
    let campaign = app.campaign(&key, serde_json::json!({})).await["id"].as_str().unwrap().to_string();
    let affiliates = b"email;name;status\nzed@partner.test;Zed;approved\nbad-email;X;approved\n";
    let commissions = b"order_id,affiliate_email,amount,currency,status,date\nz-1,zed@partner.test,4.20,USD,due,2026-11-02\n";
    let csv = upload(
        &browser,
        &[("source", "csv"), ("campaign", &campaign)],
        &[("affiliates", affiliates), ("commissions", commissions)],
        true,
    )
    .await;
    assert_eq!(csv.status, StatusCode::SEE_OTHER, "{}", csv.html);
    let csv_run = finished_run(&app, &merchant, "csv").await;
    let shown = browser.get(&format!("/merchant/migrate/runs/{csv_run}")).await;
    assert!(shown.html.contains(">finished<"), "{}", shown.html);
    assert!(shown.html.contains("line 3:"), "a bad row names its line: {}", shown.html);
    let zed = app.store.find_imported(&merchant, "csv", "commission", "z-1").await.unwrap();
    assert!(zed.is_some());
    let no_file = upload(&browser, &[("source", "csv")], &[], true).await;
    assert_eq!(no_file.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", no_file.html);
    assert!(no_file.html.contains("affiliates CSV"), "{}", no_file.html);

    // Another brand's run is not found.
    let (stranger, _) = Browser::sign_up(&app, &format!("{}@other.test", unique()), "Other").await;
    let peek = stranger.get(&format!("/merchant/migrate/runs/{id}")).await;
    assert_eq!(peek.status, StatusCode::NOT_FOUND, "{}", peek.html);

    // A member may not migrate.
    let member_email = format!("{}@team.test", unique());
    let core = refline::admin::cli_core(&app.store);
    let input = NewUser {
        email: member_email.clone(),
        merchant_id: merchant.clone(),
        role: Role::Member,
        password: Some(PASSWORD.to_string()),
    };
    core.create_user(&Door::Cli, input).await.unwrap();
    let member = Browser::new(&app);
    assert_eq!(member.log_in(&member_email, PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(member.get("/merchant/migrate").await.status, StatusCode::FORBIDDEN);
    let refused = upload(&member, &[("source", "rewardful"), ("apiKey", KEY)], &[], true).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    app.stop().await;
}

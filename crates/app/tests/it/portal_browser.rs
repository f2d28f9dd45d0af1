//! The affiliate side in a real browser (headless Chromium, the dashboard browser tests'
//! session): a person applies on a join page → pending → the merchant approves over the API →
//! the affiliate logs in and sees the program with its tracking link, at phone width too; a click
//! on the link and a sale recorded through the API show on the performance page.
//! Skipped without Chromium; SQLite only (the engines are covered over HTTP).

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    dashboard_browser::Session,
    dashboard_support::{last_mail_to, link_in, PASSWORD},
    portal_join::{address, join_path, shop},
    support::{Engine, TestApp},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_get_approved_log_in_and_see_the_program() {
    let Some(browser) = Session::start().await else { return };
    let app = TestApp::start(&Engine::Sqlite).await;
    let (_, _, key) = shop(&app, "Browser Brand").await;
    let campaign = app
        .campaign(
            &key,
            json!({
                "name": "Launch Partners",
                "description": "Tell your readers about us",
                "targetUrl": "https://shop.example/"
            }),
        )
        .await;
    let campaign_id = campaign["id"].as_str().unwrap().to_string();
    let email = address("chromium");

    // Apply on the join page, as a person types it.
    browser.open(&app, &join_path(&app, &campaign)).await;
    assert!(browser.text("h1").await.contains("Browser Brand"));
    assert!(browser.source().await.contains("Tell your readers about us"));
    browser.fill("#f-name", "<b>Chrome</b> Reader").await;
    browser.fill("#f-email", &email).await;
    browser.fill("#f-password", PASSWORD).await;
    browser.submit("button[type=submit]").await;
    assert_eq!(browser.path().await, "/portal", "{}", browser.source().await);
    assert!(browser.text(".program").await.contains("pending"));
    assert!(browser.cookie("refline_portal").await.is_some());
    assert!(browser.cookie("refline_session").await.is_none(), "no dashboard session");

    // Log out by keyboard-reachable button.
    browser.submit("form[action='/portal/logout'] button").await;
    assert_eq!(browser.path().await, "/portal/login");

    // The merchant approves over the API.
    let list = app.get(&key, &format!("/api/v1/affiliates?campaignId={campaign_id}&status=pending")).await;
    let affiliate = list.data()[0]["id"].as_str().unwrap().to_string();
    let approved = app
        .patch(
            &key,
            &format!("/api/v1/affiliates/{affiliate}"),
            json!({ "campaignId": campaign_id, "status": "approved" }),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);

    // The affiliate logs in and sees the program, approved, with the link, at 360 px too.
    browser.fill("#f-email", &email).await;
    browser.fill("#f-password", PASSWORD).await;
    browser.submit("button[type=submit]").await;
    assert_eq!(browser.path().await, "/portal", "{}", browser.source().await);
    let program = browser.text(".program").await;
    assert!(program.contains("Launch Partners") && program.contains("approved"), "{program}");
    let link = browser.client.find(fantoccini::Locator::Css(".tracking-link")).await.unwrap();
    let value = link.prop("value").await.unwrap().unwrap_or_default();
    assert!(value.ends_with(&format!("aff={affiliate}")), "{value}");
    browser.client.set_window_size(360, 800).await.unwrap();
    browser.open(&app, "/portal").await;
    let wide = browser
        .client
        .execute(
            "var out = []; document.querySelectorAll('body *').forEach(function (e) { \
               var r = e.getBoundingClientRect(); \
               if (r.right > window.innerWidth + 1) out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right)); }); \
             return out.slice(0, 5).join(', ')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, serde_json::Value::String(String::new()), "the portal fits 360 px");

    // A click on the tracking link (a visitor's browser) and a sale recorded through the API
    // show in the portal's numbers.
    let visitor = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) PortalVisitor/1.0")
        .build()
        .unwrap();
    visitor.get(&value).send().await.unwrap();
    for _ in 0..100 {
        let detail = app.get(&key, &format!("/api/v1/affiliates/{affiliate}")).await;
        if detail.data()["clicks"].as_i64().unwrap_or(0) >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let sale = app
        .convert(&key, &campaign_id, &affiliate, json!(80), json!({ "customerEmail": "reader@example.org" }))
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    browser.client.set_window_size(1024, 800).await.unwrap();
    browser.open(&app, "/portal/performance").await;
    let programs = browser.text("table.programs tbody").await;
    assert!(programs.contains("Launch Partners"), "{programs}");
    assert!(programs.contains("16.00 USD"), "20% of 80: {programs}");
    let cells: Vec<&str> = programs.split_whitespace().collect();
    assert!(cells.windows(3).any(|w| w == ["1", "1", "1"]), "1 click, 1 unique, 1 conversion: {programs}");
    assert!(browser.text("table.commissions").await.contains("r***@example.org"));

    // Every page fits 360 px (wide tables scroll inside their own box).
    browser.client.set_window_size(360, 800).await.unwrap();
    for path in ["/portal/links", "/portal/performance", "/portal/payouts", "/portal/account"] {
        browser.open(&app, path).await;
        let wide = browser
            .client
            .execute(
                "var out = []; document.querySelectorAll('body *').forEach(function (e) { \
                   if (e.closest('.table-wrap')) return; \
                   var r = e.getBoundingClientRect(); \
                   if (r.right > window.innerWidth + 1) out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right)); }); \
                 return out.slice(0, 5).join(', ')",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(wide, serde_json::Value::String(String::new()), "{path} fits 360 px");
    }
    browser.close().await;
    app.stop().await;
}

/// An invitation leaves through a local SMTP sink; its link, opened in the browser, takes the
/// person's name and password, makes the login and puts them on the campaign, approved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_from_the_smtp_sink_is_accepted_in_the_browser() {
    let Some(browser) = Session::start().await else { return };
    let (url, received) = crate::dashboard_auth::fake_smtp().await;
    let app = TestApp::start_with(&Engine::Sqlite, |config| {
        config.mail.smtp_url = Some(url.clone());
        config.mail.poll = std::time::Duration::from_millis(100);
    })
    .await;
    let (_, _, key) = shop(&app, "Sink Brand").await;
    let campaign = app.campaign(&key, json!({ "name": "Invited Partners" })).await;
    let campaign_id = campaign["id"].as_str().unwrap().to_string();
    let email = address("chromium-invitee");
    let sent = app
        .post(&key, "/api/v1/affiliates/invite", json!({ "email": email, "campaignId": campaign_id }))
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text);
    let mut data = String::new();
    for _ in 0..100 {
        if let Some(found) = received.lock().unwrap().clone() {
            data = found;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(data.contains(&format!("RCPT TO:<{email}>")), "the invitation reached the SMTP sink: {data}");

    let link = link_in(&last_mail_to(app.store.as_ref(), &email).await.body_text, &app.url(""));
    browser.open(&app, link.trim_start_matches(&app.url(""))).await;
    assert!(browser.text("h1").await.contains("Sink Brand"));
    browser.fill("#f-name", "Invited Reader").await;
    browser.fill("#f-password", PASSWORD).await;
    browser.submit("button[type=submit]").await;
    assert_eq!(browser.path().await, "/portal", "{}", browser.source().await);
    let program = browser.text(".program").await;
    assert!(program.contains("Invited Partners") && program.contains("approved"), "{program}");
    let list = app.get(&key, &format!("/api/v1/affiliates?campaignId={campaign_id}")).await;
    assert_eq!(list.data()[0]["email"], email.as_str());
    assert_eq!(list.data()[0]["status"], "approved");
    app.stop().await;
}

//! The affiliate side in a real browser (headless Chromium, the dashboard browser tests'
//! session): a person applies on a join page → pending → the merchant approves over the API →
//! the affiliate logs in and sees the program with its tracking link, at phone width too; a click
//! on the link and a sale recorded through the API show on the performance page.
//! An invitation read from a local SMTP sink is accepted in the browser. An affiliate of two
//! merchants sees both programs and nothing else of either; another affiliate's ids, typed in the
//! address bar or slipped into a form, answer 404.
//! Skipped without Chromium; SQLite only (the engines are covered over HTTP).

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    dashboard_browser::Session,
    dashboard_support::{link_in, Browser, PASSWORD},
    portal_join::{address, join_new, join_path, membership, shop},
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

    // The links page's Copy button puts the tracking link on the clipboard (what it writes is
    // noted on the way: reading the clipboard back needs a permission headless Chromium denies).
    browser.open(&app, "/portal/links").await;
    let spy = "var write = navigator.clipboard.writeText.bind(navigator.clipboard); \
               navigator.clipboard.writeText = function (text) { window.__copied = text; return write(text); };";
    browser.client.execute(spy, vec![]).await.unwrap();
    browser.click("button[data-copy='track-1']").await;
    let mut copied = String::new();
    for _ in 0..100 {
        copied = browser.text("button[data-copy='track-1']").await;
        if copied == "Copied" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(copied, "Copied", "the clipboard took the text");
    let written = browser.client.execute("return window.__copied", vec![]).await.unwrap();
    assert_eq!(written.as_str(), Some(value.as_str()), "the tracking link was copied");

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

    // The link as the sink received it (quoted-printable soft line breaks undone).
    let message = data.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let link = link_in(&message, &app.url(""));
    assert!(link.starts_with("/portal/invite/"), "{link}");
    browser.open(&app, &link).await;
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

/// The status the browser gets for `path` with its own cookies (a `fetch` from the page).
async fn status_in_browser(browser: &Session, path: &str) -> i64 {
    let script = "var done = arguments[arguments.length - 1]; \
                  fetch(arguments[0], { credentials: 'same-origin', redirect: 'manual' }).then(function (r) { done(r.status); });";
    let status = browser.client.execute_async(script, vec![json!(path)]).await.unwrap();
    status.as_i64().unwrap_or_default()
}

/// Sets the hidden field `name` of the first form posting to `action`, then submits that form
/// with its button, as someone editing the page would.
async fn tamper_and_submit(browser: &Session, action: &str, name: &str, value: &str) {
    let set = format!(
        "document.querySelector(\"form[action='{action}'] input[name='{name}']\").value = arguments[0];"
    );
    browser.client.execute(&set, vec![json!(value)]).await.unwrap();
    browser.submit(&format!("form[action='{action}'] button[type=submit]")).await;
}

/// One person on a campaign of each of two merchants, in the browser: the programs page shows
/// both, with each business's name, and no page shows anything of either merchant's other
/// campaigns or affiliates. Another affiliate's ids answer 404, opened from the address bar or
/// slipped into the payout details and short link forms, and change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_affiliate_of_two_merchants_sees_both_and_nothing_else_in_the_browser() {
    let Some(browser) = Session::start().await else { return };
    let app = TestApp::start(&Engine::Sqlite).await;
    let (_, _, key_a) = shop(&app, "Alpha Browser").await;
    let (_, _, key_b) = shop(&app, "Beta Browser").await;
    let auto = |name: &str| json!({ "name": name, "targetUrl": "https://shop.example/", "autoApproveAffiliates": true });
    let a = app.campaign(&key_a, auto("Alpha Main")).await;
    let secret = app.campaign(&key_a, auto("Alpha Secret")).await;
    let b = app.campaign(&key_b, json!({ "name": "Beta Main" })).await;
    let secret_id = secret["id"].as_str().unwrap().to_string();

    // Another affiliate of Alpha, on its other campaign, with a sale.
    let other_email = address("other-affiliate");
    join_new(&Browser::new(&app), &join_path(&app, &secret), "Other Person", &other_email).await;
    let (other_id, _) = membership(&app, &key_a, &secret_id, &other_email).await.unwrap();
    let sale = app
        .convert(
            &key_a,
            &secret_id,
            &other_id,
            json!(99),
            json!({ "customerEmail": "secret.buyer@example.net" }),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);

    // The person signs up on Alpha's join page and logs out. On Beta's join page they log in
    // through its link, come back to it, and apply with one button.
    let email = address("two-shops");
    browser.open(&app, &join_path(&app, &a)).await;
    browser.fill("#f-name", "Two Shops").await;
    browser.fill("#f-email", &email).await;
    browser.fill("#f-password", PASSWORD).await;
    browser.submit("button[type=submit]").await;
    assert_eq!(browser.path().await, "/portal", "{}", browser.source().await);
    browser.submit("form[action='/portal/logout'] button").await;
    let b_path = join_path(&app, &b);
    browser.open(&app, &b_path).await;
    browser.click(&format!("a[href='/portal/login?next={b_path}']")).await;
    // A link click may return before its page has loaded: wait for the login form.
    for _ in 0..100 {
        if browser.path().await == "/portal/login"
            && browser.client.find(fantoccini::Locator::Css("#f-email")).await.is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(browser.path().await, "/portal/login");
    browser.fill("#f-email", &email).await;
    browser.fill("#f-password", PASSWORD).await;
    browser.submit("button[type=submit]").await;
    assert_eq!(browser.path().await, b_path, "back on the join page");
    assert!(browser.text("form").await.contains(&email), "signed in, one button");
    browser.submit("form button[type=submit]").await;
    assert_eq!(browser.path().await, "/portal", "{}", browser.source().await);
    let (mine_a, _) = membership(&app, &key_a, a["id"].as_str().unwrap(), &email).await.unwrap();

    let programs = browser.text("main").await;
    for shown in ["Alpha Main", "Alpha Browser", "Beta Main", "Beta Browser"] {
        assert!(programs.contains(shown), "{shown}: {programs}");
    }
    assert_eq!(browser.client.find_all(fantoccini::Locator::Css(".program")).await.unwrap().len(), 2);
    // Nothing else of either merchant on any page: not the other campaign, not the other
    // affiliate, their id, their customer or their commission.
    for path in ["/portal", "/portal/links", "/portal/performance", "/portal/payouts", "/portal/account"] {
        browser.open(&app, path).await;
        let source = browser.source().await;
        for hidden in [
            "Alpha Secret",
            "Other Person",
            other_email.as_str(),
            other_id.as_str(),
            "s***@example.net",
            "19.80",
        ] {
            assert!(!source.contains(hidden), "{path} shows {hidden}");
        }
    }

    // Another affiliate's ids from the address bar: 404, a "Not found" page.
    for path in [format!("/portal/commissions/{secret_id}"), format!("/portal/payouts/{other_id}/history")] {
        assert_eq!(status_in_browser(&browser, &path).await, 404, "{path}");
        browser.open(&app, &path).await;
        assert_eq!(browser.text("h1").await, "Not found", "{path}");
        assert!(!browser.source().await.contains("19.80"));
    }
    // The person's own ids answer.
    assert_eq!(status_in_browser(&browser, &format!("/portal/payouts/{mine_a}/history")).await, 200);

    // Slipped into the payout details form: 404, and the other affiliate's details stay unset.
    browser.open(&app, "/portal/payouts").await;
    browser
        .client
        .find(fantoccini::Locator::Css("#type-1"))
        .await
        .unwrap()
        .select_by_value("paypal")
        .await
        .unwrap();
    browser
        .fill("form[action='/portal/payouts/method'] input[name='paypal_email']", "thief@example.com")
        .await;
    tamper_and_submit(&browser, "/portal/payouts/method", "affiliate_id", &other_id).await;
    assert_eq!(browser.text("h1").await, "Not found", "{}", browser.source().await);
    let theirs = app.get(&key_a, &format!("/api/v1/affiliates/{other_id}")).await;
    assert_eq!(theirs.data()["payoutMethod"], serde_json::Value::Null, "{}", theirs.text);

    // Slipped into the short link form: 404, and no link is made on that campaign.
    browser.open(&app, "/portal/links").await;
    browser.fill("form[action='/portal/links'] input[name='code']", "not-mine").await;
    tamper_and_submit(&browser, "/portal/links", "campaign_id", &secret_id).await;
    assert_eq!(browser.text("h1").await, "Not found", "{}", browser.source().await);
    let links = app.get(&key_a, "/api/v1/links").await;
    assert!(!links.text.contains("not-mine"), "{}", links.text);
    browser.close().await;
    app.stop().await;
}

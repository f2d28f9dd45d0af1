//! The affiliate side over HTTP: join pages (pending, auto-approve, rejected cannot apply
//! again, unknown / paused / private campaigns), the portal login (logout, CSRF, separate
//! cookies, password reset), and an affiliate of two merchants seeing both programs and nothing
//! else. Both engines.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    dashboard_support::{csrf_of, field_error, last_mail_to, link_in, Browser, PASSWORD},
    engine_tests,
    support::{Engine, TestApp},
};

/// A unique address.
pub fn address(tag: &str) -> String {
    format!("{tag}-{}@example.com", refline_server::ids::new_id("u").to_lowercase())
}

/// A merchant with an owner login: the owner's browser, their email and a live key.
pub async fn shop(app: &TestApp, name: &str) -> (Browser, String, String) {
    let owner = address("owner");
    let (browser, _) = Browser::sign_up(app, &owner, name).await;
    let key = browser.api_key("live").await;
    (browser, owner, key)
}

/// The path of a campaign's join page (from its `joinUrl`).
pub fn join_path(app: &TestApp, campaign: &Value) -> String {
    let url = campaign["joinUrl"].as_str().unwrap();
    url.strip_prefix(&app.url("")).unwrap().to_string()
}

/// Signs up on a join page as a new affiliate; answers the response.
pub async fn join_new(
    browser: &Browser,
    path: &str,
    name: &str,
    email: &str,
) -> crate::dashboard_support::Answer {
    browser.submit(path, path, &[("name", name), ("email", email), ("password", PASSWORD)]).await
}

/// The affiliate id of `email` at the key's merchant, with its status on `campaign`.
pub async fn membership(app: &TestApp, key: &str, campaign: &str, email: &str) -> Option<(String, String)> {
    let list = app.get(key, &format!("/api/v1/affiliates?campaignId={campaign}")).await;
    list.data()
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == email)
        .map(|a| (a["id"].as_str().unwrap().to_string(), a["status"].as_str().unwrap().to_string()))
}

async fn join_applies_pending_and_rejection_is_final(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (_, owner, key) = shop(&app, "Acme <Tools>").await;
    let campaign =
        app.campaign(&key, json!({ "name": "Spring", "description": "Promote our <b>tools</b>" })).await;
    let id = campaign["id"].as_str().unwrap().to_string();
    let path = join_path(&app, &campaign);

    // The page shows the business, the description and the terms, escaped.
    let visitor = Browser::new(&app);
    let shown = visitor.get(&path).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.html.contains("Acme &#60;Tools&#62;"), "{}", shown.html);
    assert!(shown.html.contains("Promote our &#60;b&#62;tools&#60;/b&#62;"));
    assert!(shown.html.contains("20% of each sale"));
    for field in ["name", "email", "password", "csrf_token"] {
        assert!(shown.html.contains(&format!(r#"name="{field}""#)), "field {field}");
    }

    // Bad entries are refused next to each field, nothing is created.
    let refused = visitor
        .submit(&path, &path, &[("name", " "), ("email", "not-an-email"), ("password", "short")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&refused.html, "name").is_some());
    assert_eq!(field_error(&refused.html, "email").as_deref(), Some("enter a valid email address"));
    assert!(field_error(&refused.html, "password").unwrap().contains("at least 10"));

    // Without the form's token: refused.
    let forged = visitor
        .post_raw(&path, &[("name", "X"), ("email", &address("forged")), ("password", PASSWORD)])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // A new affiliate applies: pending, signed in, told so; the owner gets a mail.
    let email = address("aff");
    let applied = join_new(&visitor, &path, "<script>alert(1)</script> Jo", &email.to_uppercase()).await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.html);
    assert_eq!(applied.location.as_deref(), Some("/portal?notice=pending"));
    let portal = visitor.get("/portal?notice=pending").await;
    assert_eq!(portal.status, StatusCode::OK);
    assert!(portal.html.contains("Spring") && portal.html.contains("pending"), "{}", portal.html);
    assert!(portal.html.contains("Your application was sent"));
    assert!(portal.html.contains("Commission: 20% of each sale."), "the terms: {}", portal.html);
    let (affiliate, status) = membership(&app, &key, &id, &email).await.expect("affiliate listed");
    assert_eq!(status, "pending");
    let detail = app.get(&key, &format!("/api/v1/affiliates/{affiliate}")).await;
    assert_eq!(detail.data()["createdVia"], "portal");
    let told = last_mail_to(app.store.as_ref(), &owner).await;
    assert_eq!(told.kind, "affiliate_application");
    assert!(told.body_text.contains("Spring") && told.body_text.contains(&email));
    assert!(told.body_text.contains(&format!("/merchant/affiliates/{affiliate}")));
    assert!(!told.body_html.clone().unwrap().contains("<script>"), "the name is escaped in HTML");

    // Applying again to the same campaign: refused, clearly.
    let again = visitor.submit(&path, &format!("{path}/apply"), &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.html.contains("already on this campaign"), "{}", again.html);

    // The merchant rejects: the person cannot apply again.
    let rejected = app
        .patch(
            &key,
            &format!("/api/v1/affiliates/{affiliate}"),
            json!({ "campaignId": id, "status": "rejected" }),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    let barred = visitor.submit(&path, &format!("{path}/apply"), &[]).await;
    assert_eq!(barred.status, StatusCode::CONFLICT);
    assert!(barred.html.contains("cannot apply again"), "{}", barred.html);
    assert_eq!(membership(&app, &key, &id, &email).await.unwrap().1, "rejected");
    // No rejection mail: the merchant did not ask for them (the default).
    let mails = app.store.recent_mail(Some(&email), 10).await.unwrap();
    assert!(mails.iter().all(|m| m.kind != "affiliate_rejected"), "{mails:?}");
    // The portal shows the rejection without a link.
    let portal = visitor.get("/portal").await;
    assert!(portal.html.contains("rejected") && !portal.html.contains("tracking-link"));

    // An auto-approving campaign approves at once and mails the link.
    let auto = app.campaign(&key, json!({ "name": "Instant", "autoApproveAffiliates": true })).await;
    let auto_path = join_path(&app, &auto);
    let joined = visitor.submit(&auto_path, &format!("{auto_path}/apply"), &[]).await;
    assert_eq!(joined.location.as_deref(), Some("/portal?notice=approved"), "{}", joined.html);
    let auto_id = auto["id"].as_str().unwrap();
    assert_eq!(membership(&app, &key, auto_id, &email).await.unwrap().1, "approved");
    let welcome = last_mail_to(app.store.as_ref(), &email).await;
    assert_eq!(welcome.kind, "affiliate_approved");
    assert_eq!(welcome.from_name.as_deref(), Some("Acme <Tools>"));
    let link = format!("/redirect?tc={}&aff={affiliate}", auto["trackingCode"].as_str().unwrap());
    assert!(welcome.body_text.contains(&link), "{}", welcome.body_text);
    assert!(welcome.body_html.unwrap().contains("<a href="));
    app.stop().await;
}

async fn unknown_paused_and_private_campaigns_have_no_join_page(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (_, _, key) = shop(&app, "Hidden").await;
    let paused = app.campaign(&key, json!({ "name": "Paused" })).await;
    let private = app.campaign(&key, json!({ "name": "Private", "isPublic": false })).await;
    let done = app
        .patch(
            &key,
            &format!("/api/v1/campaigns/{}", paused["id"].as_str().unwrap()),
            json!({ "status": "inactive" }),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let visitor = Browser::new(&app);
    for path in [join_path(&app, &paused), join_path(&app, &private), "/join/NOSUCHCODE".to_string()] {
        let page = visitor.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.html.contains("Not found"));
    }
    let hostile = visitor.get("/join/%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(hostile.status, StatusCode::NOT_FOUND);
    assert!(!hostile.html.contains("<script>"));
    // Applying to a paused campaign is refused the same way, and creates nobody.
    let path = join_path(&app, &paused);
    let token = csrf_of(&visitor.get("/portal/login").await.html).unwrap();
    let email = address("late");
    let refused = visitor
        .post_raw(
            &path,
            &[("csrf_token", &token), ("name", "Late"), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(app.store.find_person_by_email(&email).await.unwrap().is_none());
    app.stop().await;
}

async fn portal_login_logout_csrf_and_reset(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (owner_browser, owner, key) = shop(&app, "Login Shop").await;
    let campaign = app.campaign(&key, json!({ "name": "Main" })).await;
    let email = address("person");
    let first = Browser::new(&app);
    assert_eq!(
        join_new(&first, &join_path(&app, &campaign), "Pat", &email).await.status,
        StatusCode::SEE_OTHER
    );

    // Signed out, the portal sends you to its own login and back.
    let stranger = Browser::new(&app);
    let bounced = stranger.get("/portal").await;
    assert_eq!(bounced.status, StatusCode::SEE_OTHER);
    assert_eq!(bounced.location.as_deref(), Some("/portal/login?next=%2Fportal"));

    // The merchant's login does not open the portal, nor an affiliate's the dashboard.
    assert_eq!(owner_browser.get("/portal").await.status, StatusCode::SEE_OTHER);
    assert_eq!(first.get("/merchant").await.status, StatusCode::SEE_OTHER);
    let owner_as_affiliate =
        stranger.submit("/portal/login", "/portal/login", &[("email", &owner), ("password", PASSWORD)]).await;
    assert_eq!(owner_as_affiliate.status, StatusCode::UNAUTHORIZED);

    // Wrong password and unknown email: the same refusal. No token: 403.
    let wrong = stranger
        .submit("/portal/login", "/portal/login", &[("email", &email), ("password", "not the password!")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html.contains("Wrong email or password"));
    let unknown = stranger
        .submit("/portal/login", "/portal/login", &[("email", &address("nobody")), ("password", PASSWORD)])
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let forged = stranger.post_raw("/portal/login", &[("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let stale = stranger
        .post_raw(
            "/portal/login",
            &[("csrf_token", "0".repeat(64).as_str()), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);

    // A good login: a portal cookie (HttpOnly, SameSite=Lax), not the dashboard's; the next page.
    let page = stranger.get("/portal/login?next=/portal").await;
    let token = csrf_of(&page.html).unwrap();
    let response = stranger
        .client
        .post(format!("{}/portal/login", stranger.base))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("next", "https://evil.test/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/portal", "no open redirect");
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("refline_portal="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let home = stranger.get("/portal").await;
    assert!(home.html.contains("Main") && home.html.contains(&email));

    // Logout needs the session's token; then the session is gone.
    assert_eq!(stranger.post_raw("/portal/logout", &[]).await.status, StatusCode::FORBIDDEN);
    let out = stranger.submit("/portal", "/portal/logout", &[]).await;
    assert_eq!(out.location.as_deref(), Some("/portal/login?notice=logged_out"));
    assert_eq!(stranger.get("/portal").await.status, StatusCode::SEE_OTHER);

    // Both logins are in the merchant-independent audit trail under door `portal`.
    let logged = |entries: &[refline_store::AuditEntry]| {
        let portal: Vec<_> = entries.iter().filter(|e| e.door == "portal").collect();
        let op = |name: &str, code: Option<&str>| {
            portal.iter().any(|e| e.operation.as_deref() == Some(name) && e.error_code.as_deref() == code)
        };
        op("portal.login", None)
            && op("portal.login", Some("invalid_credentials"))
            && op("portal.logout", None)
    };
    let mut found = false;
    for _ in 0..100 {
        if logged(&app.store.recent_audit_entries(None, 1000).await.unwrap()) {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(found, "portal logins, a failed login, a forged form and the logout are audited");

    // Password reset by mail: the same answer for unknown emails; the link works once.
    let asked = stranger.submit("/portal/reset", "/portal/reset", &[("email", &address("ghost"))]).await;
    assert!(asked.html.contains("If this email has an affiliate login"));
    stranger.submit("/portal/reset", "/portal/reset", &[("email", &email)]).await;
    let mail = last_mail_to(app.store.as_ref(), &email).await;
    assert_eq!(mail.kind, "affiliate_password_reset");
    let link = link_in(&mail.body_text, &app.url(""));
    assert!(link.starts_with("/portal/reset/"));
    let short = stranger.submit(&link, &link, &[("password", "short")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let new_password = "a brand new portal password";
    let changed = stranger.submit(&link, &link, &[("password", new_password)]).await;
    assert_eq!(changed.location.as_deref(), Some("/portal/login?notice=password_reset"));
    assert_eq!(stranger.get(&link).await.status, StatusCode::NOT_FOUND);
    // The session opened by joining ended with the reset.
    assert_eq!(first.get("/portal").await.status, StatusCode::SEE_OTHER);
    let old =
        stranger.submit("/portal/login", "/portal/login", &[("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = stranger
        .submit("/portal/login", "/portal/login", &[("email", &email), ("password", new_password)])
        .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
    app.stop().await;
}

async fn an_affiliate_of_two_merchants_sees_both_and_nothing_else(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (_, _, key_a) = shop(&app, "Alpha Shop").await;
    let (_, _, key_b) = shop(&app, "Beta Shop").await;
    let a = app.campaign(&key_a, json!({ "name": "Alpha Main" })).await;
    let a_other = app.campaign(&key_a, json!({ "name": "Alpha Secret" })).await;
    let b = app.campaign(&key_b, json!({ "name": "Beta Main", "autoApproveAffiliates": true })).await;
    // Someone else on Alpha's other campaign.
    let other = Browser::new(&app);
    let other_email = address("other");
    join_new(&other, &join_path(&app, &a_other), "Other", &other_email).await;

    let email = address("both");
    let me = Browser::new(&app);
    assert_eq!(join_new(&me, &join_path(&app, &a), "Both", &email).await.status, StatusCode::SEE_OTHER);
    let b_path = join_path(&app, &b);
    // Signed in, the join page offers to apply with one button.
    let page = me.get(&b_path).await;
    assert!(page.html.contains(&format!(r#"action="{b_path}/apply""#)) && page.html.contains(&email));
    let joined = me.submit(&b_path, &format!("{b_path}/apply"), &[]).await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.html);

    let home = me.get("/portal").await;
    assert!(home.html.contains("Alpha Main") && home.html.contains("Alpha Shop"));
    assert!(home.html.contains("Beta Main") && home.html.contains("Beta Shop"));
    assert!(!home.html.contains("Alpha Secret"), "a campaign they are not on");
    assert!(!home.html.contains(&other_email));

    // One person, one row per merchant; each merchant sees only its own row.
    let (id_a, _) = membership(&app, &key_a, a["id"].as_str().unwrap(), &email).await.unwrap();
    let (id_b, _) = membership(&app, &key_b, b["id"].as_str().unwrap(), &email).await.unwrap();
    assert_ne!(id_a, id_b);
    assert_eq!(app.get(&key_b, &format!("/api/v1/affiliates/{id_a}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&key_a, &format!("/api/v1/affiliates/{id_b}")).await.status, StatusCode::NOT_FOUND);

    // Applying for a second login with the same email is refused: log in instead.
    let twin = Browser::new(&app);
    let again = join_new(&twin, &join_path(&app, &a_other), "Twin", &email).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(field_error(&again.html, "email").unwrap().contains("log in"), "{}", again.html);

    // An address a business created through its API is not handed to whoever signs up with it:
    // they are told to ask for an invitation, and no login is made.
    let listed = address("listed");
    app.affiliate(&key_b, b["id"].as_str().unwrap(), &listed).await;
    let claimer = Browser::new(&app);
    let claimed = join_new(&claimer, &b_path, "Claimer", &listed).await;
    assert_eq!(claimed.status, StatusCode::CONFLICT);
    assert!(claimed.html.contains("ask it for an invitation"), "{}", claimed.html);
    assert!(app.store.find_person_by_email(&listed).await.unwrap().is_none());
    // Control characters in a name are refused next to the field.
    let bell = claimer
        .submit(
            &b_path,
            &b_path,
            &[("name", "bad\u{7}name"), ("email", &address("bell")), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(bell.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&bell.html, "name").is_some(), "{}", bell.html);
    app.stop().await;
}

async fn joins_are_announced_throttled_and_mailed_in_the_brands_name(engine: Engine) {
    let mail_dir = tempfile::tempdir().unwrap();
    let dir = mail_dir.path().to_path_buf();
    let app = TestApp::start_with(&engine, move |c| {
        c.webhooks.allow_private_targets = true;
        c.mail.mail_dir = Some(dir);
    })
    .await;
    let (owner_browser, _, key) = shop(&app, "Hooked Shop").await;
    let hook = app
        .post(
            &key,
            "/api/v1/webhooks",
            json!({ "url": "http://127.0.0.1:9/hook", "events": ["affiliate.joined", "affiliate.approved", "affiliate.rejected"] }),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    let campaign = app.campaign(&key, json!({ "name": "Hooked" })).await;
    let id = campaign["id"].as_str().unwrap().to_string();
    let email = address("hooked");
    let browser = Browser::new(&app);
    join_new(&browser, &join_path(&app, &campaign), "Hook", &email).await;

    // `affiliate.joined`, pending, from the same operation as the API's affiliates.
    let path = format!("/api/v1/webhooks/{}/deliveries", hook.data()["id"].as_str().unwrap());
    let mut joined = None;
    for _ in 0..100 {
        let list = app.get(&key, &path).await;
        joined = list.data().as_array().unwrap().iter().find(|d| d["event"] == "affiliate.joined").cloned();
        if joined.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let joined = joined.expect("affiliate.joined announced");
    let data = &joined["payload"]["data"];
    assert_eq!(data["email"], email.as_str());
    assert_eq!(data["status"], "pending");
    assert_eq!(data["campaignId"], id.as_str());

    // The merchant asks for rejection mails, then rejects: the applicant is told.
    let settings = owner_browser
        .submit("/merchant/affiliates/new", "/merchant/affiliates/mail-settings", &[("rejectedMail", "on")])
        .await;
    assert_eq!(settings.status, StatusCode::SEE_OTHER, "{}", settings.html);
    assert!(owner_browser.get("/merchant/affiliates/new").await.html.contains("value=\"on\" checked"));
    let (affiliate, _) = membership(&app, &key, &id, &email).await.unwrap();
    let test_key = owner_browser.api_key("test").await;
    let second = app.campaign(&key, json!({ "name": "Second" })).await;
    let second_id = second["id"].as_str().unwrap().to_string();
    browser.submit(&join_path(&app, &second), &format!("{}/apply", join_path(&app, &second)), &[]).await;
    // A test key's decision mails nobody.
    let by_test = app
        .patch(
            &test_key,
            &format!("/api/v1/affiliates/{affiliate}"),
            json!({ "campaignId": second_id, "status": "rejected" }),
        )
        .await;
    assert_eq!(by_test.status, StatusCode::OK, "{}", by_test.text);
    assert!(app
        .store
        .recent_mail(Some(&email), 10)
        .await
        .unwrap()
        .iter()
        .all(|m| m.kind != "affiliate_rejected"));
    app.patch(
        &key,
        &format!("/api/v1/affiliates/{affiliate}"),
        json!({ "campaignId": id, "status": "rejected" }),
    )
    .await;
    let told = last_mail_to(app.store.as_ref(), &email).await;
    assert_eq!(told.kind, "affiliate_rejected");
    assert!(told.body_text.contains("Hooked"));

    // The mail leaves as text and HTML alternatives, from the brand's name.
    let mut eml = String::new();
    for _ in 0..100 {
        let files: Vec<_> =
            std::fs::read_dir(mail_dir.path()).map(|d| d.flatten().collect()).unwrap_or_default();
        if let Some(text) = files
            .iter()
            .filter(|f| f.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|f| std::fs::read_to_string(f.path()).ok())
            .find(|t| t.contains("Your application to Hooked"))
        {
            eml = text;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(eml.contains("multipart/alternative"), "{eml}");
    assert!(eml.contains("text/html") && eml.contains("text/plain"));
    let from = eml.lines().find(|l| l.starts_with("From: ")).unwrap();
    assert!(from.contains("Hooked Shop") && from.contains("<no-reply@localhost>"), "{from}");

    // Five wrong passwords pause the account's portal login, for the right password too.
    let guesser = Browser::new(&app);
    for _ in 0..5 {
        let wrong = guesser
            .submit("/portal/login", "/portal/login", &[("email", &email), ("password", "wrong password!")])
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let paused =
        guesser.submit("/portal/login", "/portal/login", &[("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(paused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(paused.html.contains("Too many failed logins"));
    app.stop().await;
}

/// The portal session records the affiliate's own IP and device: a sale whose click came from
/// the same machine is flagged as a likely self-referral, with no `ipAddress` sent by the API.
/// The same holds at a second business the signed-in person applies to, and at a third whose
/// invitation they accept while signed in (their rows there are new; no new login happens). A
/// click from another browser on the same address matches on IP only.
async fn portal_sessions_feed_the_self_referral_check(engine: Engine) {
    const AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) PortalTest/1.0";
    let app = TestApp::start(&engine).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(AGENT)
        .build()
        .unwrap();
    let me = Browser { client: client.clone(), base: app.url("") };
    let email = address("self");
    let watched =
        json!({ "name": "Watched", "targetUrl": "https://shop.example/", "autoApproveAffiliates": true });

    // A click from `client` on the affiliate's link, then a sale naming it: its fraud signals.
    let self_sale = |client: reqwest::Client, key: String, campaign: Value, affiliate: String| {
        let app = &app;
        async move {
            let code = campaign["trackingCode"].as_str().unwrap();
            let click =
                client.get(app.url(&format!("/redirect?tc={code}&aff={affiliate}"))).send().await.unwrap();
            let location = click.headers()["location"].to_str().unwrap().to_string();
            let cid = location.split("cid=").nth(1).unwrap().split('&').next().unwrap().to_string();
            let before = app.get(&key, &format!("/api/v1/affiliates/{affiliate}")).await.data()["clicks"]
                .as_i64()
                .unwrap_or(0);
            for _ in 0..100 {
                let detail = app.get(&key, &format!("/api/v1/affiliates/{affiliate}")).await;
                if detail.data()["clicks"].as_i64().unwrap_or(0) > before {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            let id = campaign["id"].as_str().unwrap();
            let sale = app
                .convert(
                    &key,
                    id,
                    &affiliate,
                    json!(50),
                    json!({ "clickId": cid, "customerEmail": "buyer@example.org" }),
                )
                .await;
            assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
            sale.data()["fraud"]["signals"].clone()
        }
    };

    // Signing up on the first business's join page opens the session.
    let (_, _, key) = shop(&app, "Fraud Watch").await;
    let campaign = app.campaign(&key, watched.clone()).await;
    assert_eq!(
        join_new(&me, &join_path(&app, &campaign), "Self", &email).await.status,
        StatusCode::SEE_OTHER
    );
    let (affiliate, _) = membership(&app, &key, campaign["id"].as_str().unwrap(), &email).await.unwrap();
    let signals = self_sale(client.clone(), key.clone(), campaign.clone(), affiliate.clone()).await;
    assert_eq!(signals, json!(["ip_match", "device_match"]));

    // Another browser on the same address: the IP matches, the device does not.
    let other_browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (Macintosh) SomeoneElse/2.0")
        .build()
        .unwrap();
    let signals = self_sale(other_browser, key.clone(), campaign.clone(), affiliate).await;
    assert_eq!(signals, json!(["ip_match"]));

    // Still signed in, the person applies to a second business: that new row has the session.
    let (_, _, key_b) = shop(&app, "Second Watch").await;
    let campaign_b = app.campaign(&key_b, watched.clone()).await;
    let path_b = join_path(&app, &campaign_b);
    assert_eq!(me.submit(&path_b, &format!("{path_b}/apply"), &[]).await.status, StatusCode::SEE_OTHER);
    let (affiliate_b, _) =
        membership(&app, &key_b, campaign_b["id"].as_str().unwrap(), &email).await.unwrap();
    let signals = self_sale(client.clone(), key_b, campaign_b, affiliate_b).await;
    assert_eq!(signals, json!(["ip_match", "device_match"]), "the second business's row");

    // A third business invites them; they accept while signed in.
    let (_, _, key_c) = shop(&app, "Third Watch").await;
    let campaign_c =
        app.campaign(&key_c, json!({ "name": "Invited", "targetUrl": "https://shop.example/" })).await;
    let invited = app
        .post(&key_c, "/api/v1/affiliates/invite", json!({ "email": email, "campaignId": campaign_c["id"] }))
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
    let link = link_in(&last_mail_to(app.store.as_ref(), &email).await.body_text, &app.url(""));
    assert_eq!(me.submit(&link, &link, &[]).await.status, StatusCode::SEE_OTHER);
    let (affiliate_c, status) =
        membership(&app, &key_c, campaign_c["id"].as_str().unwrap(), &email).await.unwrap();
    assert_eq!(status, "approved");
    let signals = self_sale(client, key_c, campaign_c, affiliate_c).await;
    assert_eq!(signals, json!(["ip_match", "device_match"]), "the invited business's row");
    app.stop().await;
}

/// Approving a pending applicant mails their tracking link and the coupon they were given;
/// links that never existed answer 404 without echoing anything.
async fn approval_mails_the_link_and_the_coupon(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (_, _, key) = shop(&app, "Coupon Shop").await;
    let campaign = app.campaign(&key, json!({ "name": "Coupons" })).await;
    let id = campaign["id"].as_str().unwrap().to_string();
    let email = address("couponed");
    let me = Browser::new(&app);
    join_new(&me, &join_path(&app, &campaign), "Cou Pon", &email).await;
    let (affiliate, status) = membership(&app, &key, &id, &email).await.unwrap();
    assert_eq!(status, "pending");
    let coupon = app
        .post(
            &key,
            "/api/v1/coupons",
            json!({ "code": "COUPON20", "campaignId": id, "affiliateId": affiliate }),
        )
        .await;
    assert_eq!(coupon.status, StatusCode::CREATED, "{}", coupon.text);
    let approved = app
        .patch(
            &key,
            &format!("/api/v1/affiliates/{affiliate}"),
            json!({ "campaignId": id, "status": "approved" }),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let mail = last_mail_to(app.store.as_ref(), &email).await;
    assert_eq!(mail.kind, "affiliate_approved");
    assert!(mail.body_text.contains("COUPON20"), "{}", mail.body_text);
    assert!(mail.body_text.contains(&format!("aff={affiliate}")));
    assert_eq!(mail.from_name.as_deref(), Some("Coupon Shop"));
    // Approving again is a no-op: no second mail.
    app.patch(
        &key,
        &format!("/api/v1/affiliates/{affiliate}"),
        json!({ "campaignId": id, "status": "approved" }),
    )
    .await;
    let approvals = app.store.recent_mail(Some(&email), 10).await.unwrap();
    assert_eq!(approvals.iter().filter(|m| m.kind == "affiliate_approved").count(), 1);

    for path in ["/portal/invite/nonsense", "/portal/reset/nonsense", "/portal/invite/%3Cscript%3E"] {
        let page = me.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.html.contains("<script>"));
    }
    app.stop().await;
}

engine_tests!(
    approval_mails_the_link_and_the_coupon,
    portal_sessions_feed_the_self_referral_check,
    joins_are_announced_throttled_and_mailed_in_the_brands_name,
    join_applies_pending_and_rejection_is_final,
    unknown_paused_and_private_campaigns_have_no_join_page,
    portal_login_logout_csrf_and_reset,
    an_affiliate_of_two_merchants_sees_both_and_nothing_else,
);

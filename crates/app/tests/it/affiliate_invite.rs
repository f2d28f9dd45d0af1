//! `POST /api/v1/affiliates/invite` and the invitation's life: the mail (plain text and HTML,
//! in the brand's name), accepting it (a new login; an API-created affiliate linked to one),
//! validation and hostile input, duplicates, 10 a minute per key, expiry, revocation, test keys,
//! the dashboard's invite form, other tenants' ids. Both engines.

use std::sync::Arc;

use refline_core::clock::{Clock, ManualClock};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{
    dashboard_support::{field_error, last_mail_to, link_in, Browser, PASSWORD},
    engine_tests,
    portal_join::{address, shop},
    support::{Engine, TestApp},
};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

async fn invite(app: &TestApp, key: &str, email: &str, campaign: &str) -> crate::support::Reply {
    app.post(key, "/api/v1/affiliates/invite", json!({ "email": email, "campaignId": campaign })).await
}

async fn invitation_mails_and_accepting_makes_a_login(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (_, _, key) = shop(&app, "Brand & Co").await;
    let first = app.campaign(&key, json!({ "name": "First" })).await["id"].as_str().unwrap().to_string();
    let second = app
        .campaign(&key, json!({ "name": "Second", "description": "Our <i>best</i> deal", "commissionType": "fixed", "commissionValue": 30 }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // An API-created affiliate has no login; an invitation gives it one.
    let email = address("api-made");
    let affiliate = app.affiliate(&key, &first, &email).await;

    let sent = app
        .post(
            &key,
            "/api/v1/affiliates/invite",
            json!({ "email": email.to_uppercase(), "campaignId": second, "name": "Sam <b>" }),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text);
    let data = sent.data();
    assert_eq!(data["email"], email.as_str());
    assert_eq!(data["status"], "pending");
    assert_eq!(data["emailSent"], true);
    assert!(data["id"].as_str().unwrap().starts_with("inv_"));
    assert!(data.get("token").is_none());
    assert!(sent.header("x-ratelimit-limit").is_some());

    let mail = last_mail_to(app.store.as_ref(), &email).await;
    assert_eq!(mail.kind, "affiliate_invite");
    assert_eq!(mail.from_name.as_deref(), Some("Brand & Co"));
    assert!(mail.subject.contains("Brand & Co"));
    assert!(mail.body_text.starts_with("Hello Sam <b>,"));
    assert!(mail.body_text.contains("30.00 USD per sale") && mail.body_text.contains("Our <i>best</i> deal"));
    let html = mail.body_html.clone().unwrap();
    assert!(html.contains("Sam &lt;b&gt;") && !html.contains("<i>"), "{html}");
    let link = link_in(&mail.body_text, &app.url(""));
    assert!(link.starts_with("/portal/invite/"), "{link}");
    assert!(html.contains(&format!("<a href=\"{}{link}\">", app.url(""))));

    // The link's page; a weak password is refused, a good one accepts and signs in.
    let person = Browser::new(&app);
    let page = person.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Brand &#38; Co") && page.html.contains("Second"));
    let weak = person.submit(&link, &link, &[("name", "Sam"), ("password", "short")]).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&weak.html, "password").is_some());
    let accepted = person.submit(&link, &link, &[("name", "Sam"), ("password", PASSWORD)]).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.html);
    assert_eq!(accepted.location.as_deref(), Some("/portal?notice=approved"));

    // The same row, now on both campaigns, approved; the portal shows both (the API-made one too).
    let detail = app.get(&key, &format!("/api/v1/affiliates/{affiliate}")).await;
    let memberships = detail.data()["memberships"].as_array().unwrap().clone();
    assert_eq!(memberships.len(), 2, "{}", detail.text);
    assert!(memberships.iter().all(|m| m["status"] == "approved"));
    assert_eq!(detail.data()["createdVia"], "api");
    let home = person.get("/portal").await;
    assert!(home.html.contains("First") && home.html.contains("Second"), "{}", home.html);
    let approved = last_mail_to(app.store.as_ref(), &email).await;
    assert_eq!(approved.kind, "affiliate_approved");
    assert!(approved.body_text.contains(&format!("aff={affiliate}")));

    // The invitation is accepted; its link is spent.
    let id = data["id"].as_str().unwrap();
    let read = app.get(&key, &format!("/api/v1/affiliates/invite/{id}")).await;
    assert_eq!(read.data()["status"], "accepted");
    assert!(read.data()["acceptedAt"].is_string());
    assert_eq!(person.get(&link).await.status, StatusCode::NOT_FOUND);

    // The person is on the campaign now: inviting again is a duplicate with the affiliate's id.
    let again = invite(&app, &key, &email, &second).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "duplicate");
    assert_eq!(again.body["error"]["details"]["affiliateId"], affiliate.as_str());

    // A person with a login accepts while signed in; a stranger's browser is told to log in.
    let third = app.campaign(&key, json!({ "name": "Third" })).await["id"].as_str().unwrap().to_string();
    invite(&app, &key, &email, &third).await;
    let link = link_in(&last_mail_to(app.store.as_ref(), &email).await.body_text, &app.url(""));
    let stranger = Browser::new(&app);
    let shown = stranger.get(&link).await;
    assert!(shown.html.contains(&format!("/portal/login?next={link}")), "{}", shown.html);
    let token = crate::dashboard_support::csrf_of(&stranger.get("/portal/login").await.html).unwrap();
    let refused = stranger.post_raw(&link, &[("csrf_token", &token), ("password", PASSWORD)]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let one_click = person.submit(&link, &link, &[]).await;
    assert_eq!(one_click.status, StatusCode::SEE_OTHER, "{}", one_click.html);
    assert!(person.get("/portal").await.html.contains("Third"));
    app.stop().await;
}

async fn invite_validation_duplicates_and_tenants(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (_, _, key) = shop(&app, "Rules").await;
    let (_, _, other_key) = shop(&app, "Other").await;
    let camp = app.campaign(&key, json!({ "name": "Camp" })).await["id"].as_str().unwrap().to_string();
    let foreign =
        app.campaign(&other_key, json!({ "name": "Foreign" })).await["id"].as_str().unwrap().to_string();

    let missing = app.post(&key, "/api/v1/affiliates/invite", json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    assert_eq!(missing.code(), "validation_error");
    let bad = app
        .post(&key, "/api/v1/affiliates/invite", json!({ "email": "nope", "campaignId": camp, "name": 7 }))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let text = bad.text.clone();
    assert!(text.contains("email") && text.contains("name"), "{text}");
    let hostile = app
        .post(
            &key,
            "/api/v1/affiliates/invite",
            json!({ "email": "a@b.test", "campaignId": camp, "name": "bad\u{0}name" }),
        )
        .await;
    assert_eq!(hostile.status, StatusCode::BAD_REQUEST, "{}", hostile.text);
    let not_json = app
        .send_raw(
            Method::POST,
            &key,
            "/api/v1/affiliates/invite",
            b"{oops".to_vec(),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(invite(&app, &key, "x@y.test", "camp_nope").await.status, StatusCode::NOT_FOUND);
    // Another merchant's campaign is no campaign at all.
    assert_eq!(invite(&app, &key, "x@y.test", &foreign).await.status, StatusCode::NOT_FOUND);

    let email = address("dup");
    let first = invite(&app, &key, &email, &camp).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = invite(&app, &key, &email.to_uppercase(), &camp).await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.code(), "duplicate");
    // Another merchant's invitation id answers 404, to read and to revoke.
    let id = first.data()["id"].as_str().unwrap();
    let path = format!("/api/v1/affiliates/invite/{id}");
    assert_eq!(app.get(&other_key, &path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.send(Method::DELETE, Some(&other_key), &path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&key, &path).await.data()["status"], "pending");
    app.stop().await;
}

async fn ten_invitations_a_minute_per_key(engine: Engine) {
    let clock = Arc::new(ManualClock::new());
    let shared = clock.clone();
    let app = TestApp::start_with(&engine, move |c| c.clock = shared).await;
    let (_, _, key) = shop(&app, "Busy").await;
    let (_, _, other_key) = shop(&app, "Calm").await;
    let camp = app.campaign(&key, json!({ "name": "Camp" })).await["id"].as_str().unwrap().to_string();
    let other_camp =
        app.campaign(&other_key, json!({ "name": "Camp" })).await["id"].as_str().unwrap().to_string();
    // Start at the beginning of a minute so the window cannot turn over mid-test.
    clock.advance(60_000 - clock.now() % 60_000 + 10);
    for i in 0..10 {
        let sent = invite(&app, &key, &address(&format!("n{i}")), &camp).await;
        assert_eq!(sent.status, StatusCode::CREATED, "invite {i}: {}", sent.text);
    }
    let limited = invite(&app, &key, &address("eleventh"), &camp).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.text);
    assert_eq!(limited.code(), "rate_limit_exceeded");
    assert_eq!(limited.header("x-ratelimit-limit"), Some("10"));
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    let reset: i64 = limited.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert_eq!(reset, clock.now() / 60_000 * 60 + 60);
    assert!(limited.header("retry-after").is_some());
    // Other endpoints of the key, and other keys, are not held back.
    assert_eq!(app.get(&key, "/api/v1/campaigns").await.status, StatusCode::OK);
    assert_eq!(invite(&app, &other_key, &address("calm"), &other_camp).await.status, StatusCode::CREATED);
    // The next minute, invitations go again.
    clock.advance(60_000);
    assert_eq!(invite(&app, &key, &address("later"), &camp).await.status, StatusCode::CREATED);
    app.stop().await;
}

async fn invitations_expire_and_can_be_revoked(engine: Engine) {
    let clock = Arc::new(ManualClock::new());
    let shared = clock.clone();
    let app = TestApp::start_with(&engine, move |c| c.clock = shared).await;
    let (_, _, key) = shop(&app, "Timely").await;
    let camp = app.campaign(&key, json!({ "name": "Camp" })).await["id"].as_str().unwrap().to_string();

    // Revocation: the link stops working; a second revocation is refused; a new invitation may go.
    let email = address("revoked");
    let sent = invite(&app, &key, &email, &camp).await;
    let id = sent.data()["id"].as_str().unwrap().to_string();
    let link = link_in(&last_mail_to(app.store.as_ref(), &email).await.body_text, &app.url(""));
    let path = format!("/api/v1/affiliates/invite/{id}");
    let revoked = app.send(Method::DELETE, Some(&key), &path, None).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.data()["status"], "revoked");
    let browser = Browser::new(&app);
    assert_eq!(browser.get(&link).await.status, StatusCode::NOT_FOUND);
    let again = app.send(Method::DELETE, Some(&key), &path, None).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "invalid_transition");
    assert_eq!(invite(&app, &key, &email, &camp).await.status, StatusCode::CREATED);

    // Expiry after 14 days: the link is dead, the status says so, a new invitation may go.
    let email = address("expires");
    let sent = invite(&app, &key, &email, &camp).await;
    let id = sent.data()["id"].as_str().unwrap().to_string();
    let link = link_in(&last_mail_to(app.store.as_ref(), &email).await.body_text, &app.url(""));
    clock.advance(13 * DAY_MS);
    assert_eq!(browser.get(&link).await.status, StatusCode::OK);
    clock.advance(DAY_MS + 60_000);
    assert_eq!(browser.get(&link).await.status, StatusCode::NOT_FOUND);
    let accepted = browser.submit("/portal/login", &link, &[("password", PASSWORD)]).await;
    assert_eq!(accepted.status, StatusCode::NOT_FOUND);
    let read = app.get(&key, &format!("/api/v1/affiliates/invite/{id}")).await;
    assert_eq!(read.data()["status"], "expired");
    let expired_revoke =
        app.send(Method::DELETE, Some(&key), &format!("/api/v1/affiliates/invite/{id}"), None).await;
    assert_eq!(expired_revoke.status, StatusCode::CONFLICT);
    assert_eq!(invite(&app, &key, &email, &camp).await.status, StatusCode::CREATED);
    assert!(app.store.find_person_by_email(&email).await.unwrap().is_none());
    app.stop().await;
}

async fn test_keys_record_invitations_without_mail(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, _, key) = shop(&app, "Tester").await;
    let test_key = browser.api_key("test").await;
    let camp = app.campaign(&key, json!({ "name": "Camp" })).await["id"].as_str().unwrap().to_string();
    let email = address("test-mode");
    let sent = invite(&app, &test_key, &email, &camp).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text);
    assert_eq!(sent.data()["emailSent"], false);
    assert!(app.store.recent_mail(Some(&email), 5).await.unwrap().is_empty(), "no mail for test keys");
    let id = sent.data()["id"].as_str().unwrap();
    // Test and live invitations are apart: each mode sees its own, duplicates count per mode.
    let path = format!("/api/v1/affiliates/invite/{id}");
    assert_eq!(app.get(&test_key, &path).await.data()["status"], "pending");
    assert_eq!(app.get(&key, &path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(invite(&app, &test_key, &email, &camp).await.status, StatusCode::CONFLICT);
    assert_eq!(invite(&app, &key, &email, &camp).await.status, StatusCode::CREATED);
    assert_eq!(app.store.recent_mail(Some(&email), 5).await.unwrap().len(), 1);
    app.stop().await;
}

async fn the_dashboard_invites_through_the_same_operation(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, _, key) = shop(&app, "Dash").await;
    let camp = app.campaign(&key, json!({ "name": "Dash Camp" })).await["id"].as_str().unwrap().to_string();
    let refused = browser
        .submit(
            "/merchant/affiliates/new",
            "/merchant/affiliates/invite",
            &[("email", "not-an-email"), ("name", "<script>alert(1)</script>"), ("campaignId", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
    assert!(refused.html.contains(r#"id="ie-email""#) && refused.html.contains(r#"id="ie-campaignId""#));
    assert!(!refused.html.contains("<script>alert"));
    let email = address("dash");
    let sent = browser
        .submit(
            "/merchant/affiliates/new",
            "/merchant/affiliates/invite",
            &[("email", &email), ("name", ""), ("campaignId", &camp)],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
    assert_eq!(sent.location.as_deref(), Some("/merchant/affiliates?notice=invited"));
    let mail = last_mail_to(app.store.as_ref(), &email).await;
    assert_eq!(mail.kind, "affiliate_invite");
    assert!(mail.body_text.starts_with("Hello,"));
    let duplicate = browser
        .submit(
            "/merchant/affiliates/new",
            "/merchant/affiliates/invite",
            &[("email", &email), ("campaignId", &camp)],
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert!(duplicate.html.contains("pending invitation"), "{}", duplicate.html);
    app.stop().await;
}

/// An invitation leaves over SMTP (text and HTML, in the brand's name), and its link puts the
/// person on the campaign.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_arrives_over_smtp_and_its_link_works() {
    let (url, received) = crate::dashboard_auth::fake_smtp().await;
    let app = TestApp::start_with(&Engine::Sqlite, |config| {
        config.mail.smtp_url = Some(url.clone());
        config.mail.poll = std::time::Duration::from_millis(100);
    })
    .await;
    let (_, _, key) = shop(&app, "Sink Shop").await;
    let camp = app.campaign(&key, json!({ "name": "Sunk" })).await["id"].as_str().unwrap().to_string();
    let email = address("smtp-invitee");
    assert_eq!(invite(&app, &key, &email, &camp).await.status, StatusCode::CREATED);
    let mut data = String::new();
    for _ in 0..100 {
        if let Some(found) = received.lock().unwrap().clone() {
            data = found;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(data.contains(&format!("RCPT TO:<{email}>")), "{data}");
    assert!(data.contains("Subject: Sink Shop invites you to its affiliate program"), "{data}");
    assert!(data.contains("multipart/alternative") && data.contains("text/html"), "{data}");
    let from = data.lines().find(|l| l.starts_with("From: ")).unwrap_or_default();
    assert!(from.contains("Sink Shop"), "{from}");
    // The link as the sink received it (quoted-printable soft line breaks undone).
    let message = data.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let link = link_in(&message, &app.url(""));
    assert!(link.starts_with("/portal/invite/"), "{link}");
    let person = Browser::new(&app);
    let accepted = person.submit(&link, &link, &[("name", "Sunk"), ("password", PASSWORD)]).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.html);
    let list = app.get(&key, &format!("/api/v1/affiliates?campaignId={camp}")).await;
    assert_eq!(list.data()[0]["email"], email.as_str());
    assert_eq!(list.data()[0]["status"], "approved");
    app.stop().await;
}

engine_tests!(
    invitation_mails_and_accepting_makes_a_login,
    invite_validation_duplicates_and_tenants,
    ten_invitations_a_minute_per_key,
    invitations_expire_and_can_be_revoked,
    test_keys_record_invitations_without_mail,
    the_dashboard_invites_through_the_same_operation,
);

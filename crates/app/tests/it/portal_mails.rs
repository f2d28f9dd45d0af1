//! The affiliate mails of issue 14's second part, over HTTP on both engines: the hourly "new
//! commission credited" digest (live sales only, both parts, List-Unsubscribe headers in the
//! delivered message), one-click unsubscribe (RFC 8058) and resubscribing on the account page,
//! the approved / rejected mails written in the status change's own transaction, and the
//! portal's paged commissions and payout history.

use std::{sync::Arc, time::Duration};

use refline_core::clock::ManualClock;
use refline_store::OutgoingMail;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    dashboard_support::{brand_of, Browser},
    engine_tests,
    portal_join::{address, join_new, join_path, membership, shop},
    support::{Engine, TestApp},
};

/// The digests in the outbox to `email`, newest first.
async fn digests(app: &TestApp, email: &str) -> Vec<OutgoingMail> {
    let all = app.store.recent_mail(Some(email), 50).await.unwrap();
    all.into_iter().filter(|m| m.kind == "commission_credited").collect()
}

/// Waits (up to 10 s) until `email` has `n` digests; answers them, newest first.
async fn wait_digests(app: &TestApp, email: &str, n: usize) -> Vec<OutgoingMail> {
    for _ in 0..200 {
        let found = digests(app, email).await;
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{email} did not get {n} digests: {:?}", digests(app, email).await);
}

/// Waits (up to 10 s) until nothing waits for the affiliate's next digest.
async fn wait_dropped(app: &TestApp, merchant: &str, affiliate: &str) {
    for _ in 0..200 {
        if app.store.commission_digest_items(merchant, affiliate).await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the digest step never handled {affiliate}'s waiting sales");
}

/// The delivered `.eml` of mail `id` in `dir` (waits up to 10 s for the mail worker).
async fn delivered(dir: &std::path::Path, id: &str) -> String {
    for _ in 0..200 {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                // Only the finished file: the mail worker writes `.<name>.partial` first.
                if name.contains(id) && name.ends_with(".eml") && !name.starts_with('.') {
                    return std::fs::read_to_string(entry.path()).unwrap();
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("mail {id} was not delivered to {}", dir.display());
}

/// A server on its own database (no other test's digest worker may write this one's digests)
/// with a clock the test moves, quick polls and a mail directory.
async fn digest_app(engine: &Engine, clock: Arc<ManualClock>, dir: &std::path::Path) -> TestApp {
    let engine = engine.isolated().await;
    TestApp::start_with(&engine, |c| {
        c.clock = clock;
        c.mail.digest_poll = Duration::from_millis(100);
        c.mail.poll = Duration::from_millis(100);
        c.mail.mail_dir = Some(dir.to_path_buf());
    })
    .await
}

const MINUTE: i64 = 60 * 1000;
const HOUR: i64 = 60 * MINUTE;

async fn commission_digest_is_hourly_live_only_and_unsubscribable(engine: Engine) {
    let clock = Arc::new(ManualClock::new());
    let dir = tempfile::tempdir().unwrap();
    let app = digest_app(&engine, clock.clone(), dir.path()).await;
    let (owner_browser, owner, key) = shop(&app, "Digest <Shop>").await;
    let merchant = brand_of(app.store.as_ref(), &owner).await;
    let test_key = owner_browser.api_key("test").await;
    let campaign = app.campaign(&key, json!({ "name": "Spring <b>", "autoApproveAffiliates": true })).await;
    let id = campaign["id"].as_str().unwrap().to_string();
    let email = address("digest");
    let me = Browser::new(&app);
    let joined = join_new(&me, &join_path(&app, &campaign), "Dee Gest", &email).await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.html);
    let (affiliate, status) = membership(&app, &key, &id, &email).await.unwrap();
    assert_eq!(status, "approved");
    let sale = |amount: i64, key: String| {
        let (app, id, affiliate) = (&app, id.clone(), affiliate.clone());
        async move {
            let reply = app.convert(&key, &id, &affiliate, json!(amount), json!({})).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        }
    };

    // A live sale: its digest waits a minute (a burst makes one mail), then goes out.
    sale(50, key.clone()).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(digests(&app, &email).await.is_empty(), "not before a minute");
    clock.advance(MINUTE + 1000);
    let first = wait_digests(&app, &email, 1).await.remove(0);
    assert_eq!(first.from_name.as_deref(), Some("Digest <Shop>"));
    assert!(first.body_text.contains("\"Spring <b>\": 1 sale, 10.00 USD commission"), "{}", first.body_text);
    assert!(first.body_text.contains(&app.url("/portal/performance")), "{}", first.body_text);
    let html = first.body_html.clone().expect("an HTML part");
    assert!(html.contains("Spring &lt;b&gt;") && !html.contains("<b>"), "{html}");
    assert!(first.subject.contains("10.00 USD"), "{}", first.subject);
    let url = first.unsubscribe_url.clone().expect("an unsubscribe link");
    assert!(url.starts_with(&app.url("/portal/unsubscribe/")), "{url}");
    assert!(first.body_text.contains(&url), "the link is in the text too");
    // As delivered: both parts, the RFC 8058 headers, the brand as sender name.
    let eml = delivered(dir.path(), &first.id).await;
    let unfolded = eml.replace("\r\n ", " ").replace("\r\n\t", " ");
    assert!(unfolded.contains(&format!("List-Unsubscribe: <{url}>")), "{eml}");
    assert!(unfolded.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{eml}");
    assert!(unfolded.contains("multipart/alternative") && unfolded.contains("text/html"), "{eml}");

    // A second sale within the hour, and a test-key sale: no mail now.
    sale(100, key.clone()).await;
    sale(200, test_key.clone()).await;
    clock.advance(2 * MINUTE);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(digests(&app, &email).await.len(), 1, "at most one an hour");
    // An hour after the first: the next digest has the live sale, not the test one.
    clock.advance(HOUR);
    let second = wait_digests(&app, &email, 2).await.remove(0);
    assert!(second.body_text.contains("1 sale, 20.00 USD commission"), "{}", second.body_text);
    assert!(!second.body_text.contains("40.00"), "test-key sales are never mailed");

    // The link's page shows a button and changes nothing.
    let path = url.strip_prefix(&app.url("")).unwrap().to_string();
    let stranger = Browser::new(&app);
    let shown = stranger.get(&path).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.html);
    assert!(shown.html.contains("Digest &#60;Shop&#62;") && shown.html.contains(">Unsubscribe</button>"));
    assert!(!app
        .store
        .mail_unsubscribed(&person_of(&app, &merchant, &affiliate).await, &merchant, "commission_credited")
        .await
        .unwrap());
    // A plain POST without the page's token is refused; forged links are unknown.
    assert_eq!(stranger.post_raw(&path, &[]).await.status, StatusCode::FORBIDDEN);
    let (payload, signature) = path.rsplit_once('.').unwrap();
    let mut flipped = signature.to_string();
    let last = flipped.pop().unwrap();
    flipped.push(if last == 'A' { 'B' } else { 'A' });
    for forged in
        [format!("{payload}.{flipped}"), format!("{payload}x.{signature}"), "/portal/unsubscribe/nope".into()]
    {
        let answer = stranger.get(&forged).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{forged}");
    }
    // Someone else's person in a validly shaped link: refused (the signature covers the person).
    let other = base64_url(&format!("per_other\n{merchant}\ncommission_credited"));
    assert_eq!(
        stranger.get(&format!("/portal/unsubscribe/{other}.{signature}")).await.status,
        StatusCode::NOT_FOUND
    );

    // RFC 8058 one-click: a mail client's POST, no cookie, no token.
    let one_click = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), StatusCode::OK);
    assert!(one_click.text().await.unwrap().contains("You are unsubscribed"));
    let unsubscribed = |e: &refline_store::AuditEntry| {
        e.operation.as_deref() == Some("portal.unsubscribe")
            && e.door == "portal"
            && e.status_code == Some(200)
    };
    let mut audited = false;
    for _ in 0..100 {
        let entries = app.store.recent_audit_entries(Some(&merchant), 1000).await.unwrap();
        audited = entries.iter().any(unsubscribed);
        if audited {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(audited, "the unsubscribe is audited");
    // The next hour's sale sends nothing.
    sale(30, key.clone()).await;
    clock.advance(HOUR + MINUTE);
    // The digest step drops what waited (no mail): wait until it has, rather than for a fixed
    // time, so resubscribing below cannot overtake it on a loaded machine.
    wait_dropped(&app, &merchant, &affiliate).await;
    assert_eq!(digests(&app, &email).await.len(), 2, "unsubscribed: no digest");

    // The account page shows it off and turns it on again; another business's id is 404.
    let account = me.get("/portal/account").await;
    assert!(account.html.contains("Get it again"), "{}", account.html);
    let fields = [("merchant_id", merchant.as_str()), ("kind", "commission_credited"), ("subscribed", "on")];
    let back = me.submit("/portal/account", "/portal/account/mails", &fields).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.html);
    let foreign = [("merchant_id", "mer_not_mine"), ("kind", "commission_credited"), ("subscribed", "on")];
    assert_eq!(
        me.submit("/portal/account", "/portal/account/mails", &foreign).await.status,
        StatusCode::NOT_FOUND
    );
    let essential = [("merchant_id", merchant.as_str()), ("kind", "payout_sent"), ("subscribed", "off")];
    assert_eq!(
        me.submit("/portal/account", "/portal/account/mails", &essential).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    sale(70, key.clone()).await;
    clock.advance(HOUR + MINUTE);
    let third = wait_digests(&app, &email, 3).await.remove(0);
    assert!(third.body_text.contains("14.00 USD"), "{}", third.body_text);
    app.stop().await;
}

/// The person behind an affiliate row.
async fn person_of(app: &TestApp, merchant: &str, affiliate: &str) -> String {
    app.store.person_of_affiliate(merchant, affiliate).await.unwrap().expect("a person").id
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// Approved and rejected mails are in the outbox the moment the API call returns (written in
/// the status change's transaction); the rejected one is unsubscribable, the approved one not,
/// and goes only to affiliates with a portal login.
async fn membership_mails_commit_with_the_change(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (owner_browser, owner, key) = shop(&app, "Txn Shop").await;
    let merchant = brand_of(app.store.as_ref(), &owner).await;
    let campaign = app.campaign(&key, json!({ "name": "Reviewed" })).await;
    let id = campaign["id"].as_str().unwrap().to_string();
    let (yes, no) = (address("yes"), address("no"));
    for (email, name) in [(&yes, "Yes Person"), (&no, "No Person")] {
        join_new(&Browser::new(&app), &join_path(&app, &campaign), name, email).await;
    }
    let settings = owner_browser
        .submit("/merchant/affiliates/new", "/merchant/affiliates/mail-settings", &[("rejectedMail", "on")])
        .await;
    assert_eq!(settings.status, StatusCode::SEE_OTHER, "{}", settings.html);
    // An affiliate the business made through its API has no login to hold the unsubscribe
    // choice (and never applied): rejecting it mails nothing, so every rejection mail that goes
    // can be stopped.
    let api_made = address("api-made");
    let api_id = app.affiliate(&key, &id, &api_made).await;
    let rejected = app
        .patch(
            &key,
            &format!("/api/v1/affiliates/{api_id}"),
            json!({ "campaignId": id, "status": "rejected" }),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert!(app.store.recent_mail(Some(&api_made), 10).await.unwrap().is_empty());
    for (email, status, kind) in
        [(&yes, "approved", "affiliate_approved"), (&no, "rejected", "affiliate_rejected")]
    {
        let (affiliate, _) = membership(&app, &key, &id, email).await.unwrap();
        let changed = app
            .patch(
                &key,
                &format!("/api/v1/affiliates/{affiliate}"),
                json!({ "campaignId": id, "status": status }),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
        // No waiting: the row is there as soon as the answer is.
        let mails = app.store.recent_mail(Some(email), 10).await.unwrap();
        let mail =
            mails.iter().find(|m| m.kind == kind).unwrap_or_else(|| panic!("{kind} queued: {mails:?}"));
        assert_eq!(mail.from_name.as_deref(), Some("Txn Shop"));
        match status {
            "approved" => assert!(mail.unsubscribe_url.is_none(), "essential"),
            _ => {
                let url = mail.unsubscribe_url.clone().expect("rejected mails can be stopped");
                assert!(mail.body_text.contains(&url));
                // Stopped, the next rejection of this business mails nothing.
                let one_click = reqwest::Client::new()
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("List-Unsubscribe=One-Click")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(one_click.status(), StatusCode::OK);
                let person = person_of(&app, &merchant, &affiliate).await;
                assert!(app.store.mail_unsubscribed(&person, &merchant, "affiliate_rejected").await.unwrap());
                let other = app.campaign(&key, json!({ "name": "Other" })).await;
                let other_id = other["id"].as_str().unwrap().to_string();
                let me = Browser::new(&app);
                let login = me
                    .submit(
                        "/portal/login",
                        "/portal/login",
                        &[("email", email), ("password", crate::dashboard_support::PASSWORD)],
                    )
                    .await;
                assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.html);
                me.submit(&join_path(&app, &other), &format!("{}/apply", join_path(&app, &other)), &[]).await;
                let again = app
                    .patch(
                        &key,
                        &format!("/api/v1/affiliates/{affiliate}"),
                        json!({ "campaignId": other_id, "status": "rejected" }),
                    )
                    .await;
                assert_eq!(again.status, StatusCode::OK, "{}", again.text);
                let rejected = app.store.recent_mail(Some(email), 10).await.unwrap();
                assert_eq!(rejected.iter().filter(|m| m.kind == kind).count(), 1, "no second rejection mail");
            }
        }
    }
    app.stop().await;
}

/// 55 commissions: the performance page shows the latest 50 and links to the rest; the paged
/// list shows 50 then 5; the payout history pages too; someone else's ids answer 404.
async fn portal_lists_page_commissions_and_payouts(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (_, _, key) = shop(&app, "Paged Shop").await;
    let campaign = app.campaign(&key, json!({ "name": "Paged", "autoApproveAffiliates": true })).await;
    let id = campaign["id"].as_str().unwrap().to_string();
    let email = address("paged");
    let me = Browser::new(&app);
    join_new(&me, &join_path(&app, &campaign), "Pa Ged", &email).await;
    let (affiliate, _) = membership(&app, &key, &id, &email).await.unwrap();
    for i in 0..55 {
        let reply = app.convert(&key, &id, &affiliate, json!(10 + i), json!({})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let rows = |html: &str| html.matches("<span class=\"status status-").count();
    let performance = me.get("/portal/performance").await;
    assert_eq!(rows(&performance.html), 50, "the latest 50");
    // The month's figures are grouped in the database, every sale counted: 20 % of 10..=64.
    assert!(
        performance.html.contains(r#"<td class="num">55</td><td class="num">407.00 USD</td>"#),
        "{}",
        performance.html
    );
    let older = format!("/portal/commissions/{id}?page=2");
    assert!(
        performance.html.contains(&older) && performance.html.contains("55 in all"),
        "{}",
        performance.html
    );
    let page_one = me.get(&format!("/portal/commissions/{id}")).await;
    assert_eq!(page_one.status, StatusCode::OK, "{}", page_one.html);
    assert_eq!(rows(&page_one.html), 50);
    assert!(page_one.html.contains("Page 1 of 2") && page_one.html.contains(&older));
    // Newest first: the last sale (64 → 12.80 commission) opens page one.
    assert!(page_one.html.find("12.80 USD") < page_one.html.find("12.60 USD"));
    let page_two = me.get(&older).await;
    assert_eq!(rows(&page_two.html), 5, "{}", page_two.html);
    assert!(page_two.html.contains("Page 2 of 2") && page_two.html.contains("2.00 USD"));
    for odd in ["?page=abc", "?page=-4", "?page=99999999999999999999"] {
        let shown = me.get(&format!("/portal/commissions/{id}{odd}")).await;
        assert_eq!(shown.status, StatusCode::OK, "{odd}");
    }
    let history = me.get(&format!("/portal/payouts/{affiliate}/history")).await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.html);
    assert!(history.html.contains("Page 1 of 1") && history.html.contains("No payouts on this page."));

    let stranger = Browser::new(&app);
    let (_, _, other_key) = shop(&app, "Other Shop").await;
    let theirs = app.campaign(&other_key, json!({ "name": "Theirs", "autoApproveAffiliates": true })).await;
    join_new(&stranger, &join_path(&app, &theirs), "Stran Ger", &address("stranger")).await;
    assert_eq!(stranger.get(&format!("/portal/commissions/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        stranger.get(&format!("/portal/payouts/{affiliate}/history")).await.status,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

engine_tests!(
    commission_digest_is_hourly_live_only_and_unsubscribable,
    membership_mails_commit_with_the_change,
    portal_lists_page_commissions_and_payouts,
);

//! Settings, team and audit pages: business details (validation errors next to the fields,
//! nothing saved), brands (create, switch, archive → keys refused, reactivate), the team
//! (invite mailed through the outbox, accepted in a second browser, rights enforced, seats),
//! and the audit log (dashboard writes with the person, filters, paging back).

use std::time::Duration;

use refline_store::{AuditEntry, AuditFilter};
use reqwest::StatusCode;

use crate::{
    core_support::CoreWorld,
    dashboard_support::{field_error, last_mail_to, link_in, Browser, PASSWORD},
    engine_tests,
    support::{Engine, TestApp},
};

const HOSTILE: &str = "<script>alert(1)</script>";
/// How askama writes [`HOSTILE`].
const ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;";

async fn business_details_are_checked_and_saved(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, merchant) = Browser::sign_up(&app, "biz@shop.test", "Biz Shop").await;
    let shown = browser.get("/merchant/settings").await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.html.contains("Plan: <strong>ultimate</strong>"), "{}", shown.html);

    let refused = browser
        .submit(
            "/merchant/settings",
            "/merchant/settings",
            &[("businessName", " "), ("website", "ftp://shop.test"), ("currency", "zzz")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
    for field in ["businessName", "website", "currency"] {
        assert!(field_error(&refused.html, field).is_some(), "{field}: {}", refused.html);
    }
    assert!(refused.html.contains(r#"value="ftp://shop.test""#), "what was sent is shown again");
    let unchanged = app.store.get_merchant(&merchant).await.unwrap().unwrap();
    assert_eq!(
        (unchanged.name.as_str(), unchanged.currency.as_str(), unchanged.website),
        ("Biz Shop", "usd", None)
    );

    let saved = browser
        .submit(
            "/merchant/settings",
            "/merchant/settings",
            &[("businessName", HOSTILE), ("website", "https://shop.test"), ("currency", "eur")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let stored = app.store.get_merchant(&merchant).await.unwrap().unwrap();
    assert_eq!((stored.name.as_str(), stored.currency.as_str()), (HOSTILE, "eur"));
    assert_eq!(stored.website.as_deref(), Some("https://shop.test"));
    let page = browser.get("/merchant/settings?notice=saved").await;
    assert!(page.html.contains("business details were saved"));
    assert!(page.html.contains(ESCAPED) && !page.html.contains(HOSTILE), "escaped everywhere");
    app.stop().await;
}

async fn brands_are_added_switched_archived_and_reactivated(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, first) = Browser::sign_up(&app, "brands@shop.test", "First Brand").await;
    let first_key = browser.api_key("live").await;

    let refused = browser
        .submit("/merchant/settings", "/merchant/settings/brands", &[("name", ""), ("currency", "eur")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&refused.html, "name").is_some(), "{}", refused.html);
    let made = browser
        .submit("/merchant/settings", "/merchant/settings/brands", &[("name", HOSTILE), ("currency", "eur")])
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let page = browser.get("/merchant/settings").await;
    assert!(page.html.contains(ESCAPED) && !page.html.contains(HOSTILE));

    let user = app.store.find_user_by_email("brands@shop.test").await.unwrap().unwrap();
    let brands = app.store.brands_of_user(&user.id).await.unwrap();
    let second = brands.iter().map(|b| b.merchant.id.clone()).find(|id| *id != first).expect("second brand");
    let switched =
        browser.submit("/merchant/settings", "/merchant/brand", &[("merchantId", second.as_str())]).await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    let page = browser.get("/merchant/settings").await;
    assert!(page.html.contains(&format!("<code>{second}</code>")), "viewing the second brand");
    let second_key = browser.api_key("live").await;
    assert_eq!(app.get(&second_key, "/api/v1/me").await.status, StatusCode::OK);

    let archived = browser.submit("/merchant/settings", "/merchant/settings/archive", &[]).await;
    assert_eq!(archived.status, StatusCode::SEE_OTHER);
    let refused = app.get(&second_key, "/api/v1/me").await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "brand_archived"));
    assert_eq!(
        app.get(&first_key, "/api/v1/me").await.status,
        StatusCode::OK,
        "the other brand is untouched"
    );
    assert!(browser.get("/merchant/settings").await.html.contains("Reactivate this brand"));
    let back = browser.submit("/merchant/settings", "/merchant/settings/reactivate", &[]).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&second_key, "/api/v1/me").await.status, StatusCode::OK);

    // Another account's brand cannot be switched to.
    let (_, foreign) = Browser::sign_up(&app, "other@shop.test", "Other").await;
    let answer =
        browser.submit("/merchant/settings", "/merchant/brand", &[("merchantId", foreign.as_str())]).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn team_invitations_rights_and_seats(engine: Engine) {
    // Ultimate (what sign-up gives here) includes one seat in this test.
    let app = TestApp::start_with(&engine, |c| c.limits.seats = Some([0, 2, 1, 1])).await;
    let (owner, _) = Browser::sign_up(&app, "owner@team.test", "Team Shop").await;
    let page = owner.get("/merchant/team").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("0 of 1 team seats used"), "{}", page.html);

    let bad = owner
        .submit("/merchant/team", "/merchant/team", &[("email", "not-an-email"), ("role", "member")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&bad.html, "email").is_some(), "{}", bad.html);
    let invited = owner
        .submit(
            "/merchant/team",
            "/merchant/team",
            &[("email", "member@team.test"), ("role", "member"), ("managePayouts", "on")],
        )
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.html);
    let page = owner.get("/merchant/team").await;
    assert!(page.html.contains("member@team.test") && page.html.contains("Revoke invitation"));
    let full = owner
        .submit("/merchant/team", "/merchant/team", &[("email", "extra@team.test"), ("role", "admin")])
        .await;
    assert_eq!(full.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(full.html.contains("team seats, all taken"), "{}", full.html);

    // The invitation is in the outbox; a second browser accepts it and lands on the brand.
    let mail = last_mail_to(app.store.as_ref(), "member@team.test").await;
    let link = link_in(&mail.body_text, &app.base);
    let member = Browser::new(&app);
    let accepted = member.submit(&link, &link, &[("password", PASSWORD)]).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.html);
    let home = member.get("/merchant").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.html.contains("Team Shop"));

    // Without "manage API keys" the member cannot make keys, nor invite.
    let refused = member.submit("/merchant", "/merchant/api-keys", &[("kind", "live")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    let refused =
        member.submit("/merchant", "/merchant/team", &[("email", "x@team.test"), ("role", "member")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);

    // The owner grants it; then it works.
    let member_id = app.store.find_user_by_email("member@team.test").await.unwrap().unwrap().id;
    let granted = owner
        .submit(
            "/merchant/team",
            &format!("/merchant/team/{member_id}"),
            &[("role", "member"), ("manageKeys", "on")],
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.html);
    let made = member.submit("/merchant", "/merchant/api-keys", &[("kind", "live")]).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.html);

    // The owner's place is fixed; the member is removed and sees the brand no more.
    let owner_id = app.store.find_user_by_email("owner@team.test").await.unwrap().unwrap().id;
    let fixed = owner.submit("/merchant/team", &format!("/merchant/team/{owner_id}/remove"), &[]).await;
    assert_eq!(fixed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let removed = owner.submit("/merchant/team", &format!("/merchant/team/{member_id}/remove"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(member.get("/merchant").await.status, StatusCode::FORBIDDEN);
    assert!(owner.get("/merchant/team").await.html.contains("0 of 1 team seats used"));
    app.stop().await;
}

/// The audit page of `browser` at `query` once it contains `wanted` (entries are written off
/// the request path).
async fn audit_page_with(browser: &Browser, query: &str, wanted: &str) -> String {
    let mut html = String::new();
    for _ in 0..200 {
        html = browser.get(&format!("/merchant/audit{query}")).await.html;
        if html.contains(wanted) {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{wanted} not on /merchant/audit{query}: {html}");
}

async fn audit_log_lists_writes_with_their_person_and_filters(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, _) = Browser::sign_up(&app, "audit@shop.test", "Audit Shop").await;
    let saved = browser
        .submit(
            "/merchant/settings",
            "/merchant/settings",
            &[("businessName", "Audit Shop 2"), ("website", ""), ("currency", "usd")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let refused = browser
        .submit(
            "/merchant/settings",
            "/merchant/settings",
            &[("businessName", ""), ("website", ""), ("currency", "usd")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let key = browser.api_key("live").await;
    app.campaign(&key, serde_json::json!({})).await;

    let all = audit_page_with(&browser, "", "campaign.create").await;
    assert!(all.contains("business.update") && all.contains("audit@shop.test"), "{all}");
    assert!(all.contains("POST /merchant/settings"));

    let api = audit_page_with(&browser, "?door=api", "campaign.create").await;
    assert!(!api.contains("business.update"), "door filter");
    let business = audit_page_with(&browser, "?operation=business.", "business.update").await;
    assert!(!business.contains("campaign.create"), "operation filter");
    let failed = audit_page_with(&browser, "?failed=on", "business.update").await;
    assert!(failed.contains("validation") && !failed.contains("campaign.create"), "failed filter: {failed}");
    let failed_rows = failed.matches("<code>business.update</code>").count();
    let business_rows = business.matches("<code>business.update</code>").count();
    assert!(failed_rows == 1 && business_rows == 2, "{failed_rows} refused of {business_rows}");

    // Paging back: nothing older than the first second of 1970; hostile filter text escaped.
    let old = browser.get("/merchant/audit?before=1").await;
    assert!(old.html.contains("No entries older than these"));
    let hostile = browser.get(&format!("/merchant/audit?operation={}", urlencode(HOSTILE))).await;
    assert!(hostile.html.contains(ESCAPED) && !hostile.html.contains(HOSTILE));
    app.stop().await;
}

/// An audit entry of `merchant` through `door` running `operation` at `at`.
fn entry(merchant: &str, door: &str, operation: &str, error: Option<&str>, at: i64) -> AuditEntry {
    AuditEntry {
        merchant_id: Some(merchant.into()),
        api_key_id: None,
        user_id: None,
        door: door.into(),
        operation: Some(operation.into()),
        target_id: None,
        method: None,
        path: None,
        status_code: None,
        error_code: error.map(str::to_string),
        ip_address: None,
        user_agent: None,
        created_at: at,
    }
}

/// `Core::audit_log`, the read behind the page: the actor's brand only, blank filters filter
/// nothing, each filter narrows, `before` pages back, the limit is kept within 1..=200.
async fn the_core_reads_the_audit_log_of_the_actors_brand(engine: Engine) {
    let w = CoreWorld::new(&engine).await;
    let entries = [
        entry(&w.merchant, "api", "campaign.create", None, 1_000),
        entry(&w.merchant, "dashboard", "business.update", Some("validation_error"), 2_000),
        entry(&w.merchant, "dashboard", "team.invite", None, 3_000),
        entry(&w.stranger, "dashboard", "team.invite", None, 4_000),
    ];
    w.store.insert_audit_entries(&entries).await.unwrap();
    // The world's own entries (its creation) are newer than these: page back from before them.
    let base = || AuditFilter { before: Some(10_000), ..AuditFilter::default() };
    let read = |filter: AuditFilter, limit: i64| {
        let core = &w.core;
        let actor = w.owner();
        async move {
            let found = core.audit_log(&actor, &filter, limit).await.unwrap();
            found.iter().map(|e| e.operation.clone().unwrap_or_default()).collect::<Vec<_>>()
        }
    };
    let blank = AuditFilter { door: Some(" ".into()), operation: Some(String::new()), ..base() };
    assert_eq!(read(blank, 50).await, ["team.invite", "business.update", "campaign.create"]);
    let dashboard = AuditFilter { door: Some("dashboard".into()), ..base() };
    assert_eq!(read(dashboard, 50).await, ["team.invite", "business.update"]);
    let prefix = AuditFilter { operation: Some("campaign.".into()), ..base() };
    assert_eq!(read(prefix, 50).await, ["campaign.create"]);
    let failed = AuditFilter { failed_only: true, ..base() };
    assert_eq!(read(failed, 50).await, ["business.update"]);
    let older = AuditFilter { before: Some(3_000), ..base() };
    assert_eq!(read(older, 50).await, ["business.update", "campaign.create"]);
    assert_eq!(read(base(), 0).await.len(), 1, "at least one");
    assert_eq!(read(base(), 10_000).await.len(), 3);
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

engine_tests!(
    business_details_are_checked_and_saved,
    brands_are_added_switched_archived_and_reactivated,
    team_invitations_rights_and_seats,
    audit_log_lists_writes_with_their_person_and_filters,
    the_core_reads_the_audit_log_of_the_actors_brand,
);

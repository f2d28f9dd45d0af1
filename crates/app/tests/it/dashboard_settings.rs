//! Settings, team and audit pages: business details (validation errors next to the fields,
//! nothing saved), brands (create, switch, archive → keys refused, reactivate), the team
//! (invite mailed through the outbox, accepted in a second browser, rights enforced, seats),
//! and the audit log (dashboard writes with the person, filters, paging back).

use std::time::Duration;

use reqwest::StatusCode;

use crate::{
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

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

engine_tests!(
    business_details_are_checked_and_saved,
    brands_are_added_switched_archived_and_reactivated,
    team_invitations_rights_and_seats,
    audit_log_lists_writes_with_their_person_and_filters,
);

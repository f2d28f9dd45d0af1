//! The affiliate pages: the list's search and filters, approve / reject / remove one membership
//! and in bulk (each showing through the API), the affiliate's page, the add form's refusals,
//! another brand's affiliate not found, and names escaped.

use refline_domain::MembershipStatus;
use refline_store::Membership;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    dashboard_support::{field_error, Browser},
    engine_tests,
    support::{Engine, TestApp},
};

const SCRIPT: &str = "<script>alert(1)</script>";

/// A login email of its own (PostgreSQL tests share one database per run).
fn login(name: &str) -> String {
    format!("{name}-{}@shop.test", refline_core::ids::new_id("t")).to_lowercase()
}

async fn new_affiliate(app: &TestApp, key: &str, email: &str, name: &str, campaign: &str) -> String {
    let r = app
        .post(key, "/api/v1/affiliates", json!({ "email": email, "name": name, "campaignId": campaign }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.data()["id"].as_str().unwrap().to_string()
}

async fn pending_on(app: &TestApp, merchant: &str, campaign: &str, affiliate: &str) {
    let now = refline_server::clock::now_ms();
    let membership = Membership {
        campaign_id: campaign.into(),
        affiliate_id: affiliate.into(),
        merchant_id: merchant.into(),
        status: MembershipStatus::Pending,
        joined_at: now,
        updated_at: now,
    };
    app.store.insert_membership(&membership).await.unwrap();
}

/// The status of `affiliate`'s membership on `campaign` as the API shows it.
async fn status_on(app: &TestApp, key: &str, affiliate: &str, campaign: &str) -> Option<String> {
    let r = app.get(key, &format!("/api/v1/affiliates/{affiliate}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.data()["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["campaignId"] == campaign)
        .and_then(|m| m["status"].as_str().map(str::to_string))
}

fn rows(html: &str) -> usize {
    html.matches(r#"name="selected""#).count()
}

async fn list_actions_and_bulk(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, merchant) = Browser::sign_up(&app, &login("owner"), "Shop").await;
    let key = browser.api_key("live").await;
    let a = app.campaign(&key, json!({ "name": "Alpha" })).await["id"].as_str().unwrap().to_string();
    let b = app.campaign(&key, json!({ "name": SCRIPT })).await["id"].as_str().unwrap().to_string();
    let x = new_affiliate(&app, &key, "xavier@aff.test", SCRIPT, &a).await;
    let y = new_affiliate(&app, &key, "yolanda@aff.test", "Yolanda", &a).await;
    let z = new_affiliate(&app, &key, "zed@aff.test", "Zed 100%", &a).await;
    for aff in [&x, &y, &z] {
        pending_on(&app, &merchant, &b, aff).await;
    }

    // The list, escaped.
    let list = browser.get("/merchant/affiliates").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.html.contains("<script>alert"), "{}", list.html);
    assert!(list.html.contains("&lt;script&gt;") || list.html.contains("&#60;script&#62;"));
    assert_eq!(rows(&list.html), 6);

    // Search (email or name, case-insensitive, wildcards literal) and filters.
    let found = browser.get("/merchant/affiliates?q=YOLANDA").await;
    assert_eq!(rows(&found.html), 2);
    assert!(found.html.contains("yolanda@aff.test") && !found.html.contains("zed@aff.test"));
    assert_eq!(rows(&browser.get("/merchant/affiliates?q=zed").await.html), 2, "by name");
    assert_eq!(rows(&browser.get("/merchant/affiliates?q=100%25").await.html), 2, "% is literal");
    assert_eq!(rows(&browser.get("/merchant/affiliates?q=%25").await.html), 2, "% matches only itself");
    assert_eq!(rows(&browser.get("/merchant/affiliates?q=nobody").await.html), 0);
    let pending = browser.get(&format!("/merchant/affiliates?status=pending&campaign={b}")).await;
    assert_eq!(rows(&pending.html), 3);
    assert!(pending.html.contains(r#"<option value="pending" selected>"#));
    assert_eq!(rows(&browser.get("/merchant/affiliates?status=approved").await.html), 3);
    assert_eq!(rows(&browser.get(&format!("/merchant/affiliates?q=zed&campaign={a}")).await.html), 1);

    // One approve from the list.
    let approved = browser
        .submit(
            "/merchant/affiliates",
            &format!("/merchant/affiliates/{x}/campaigns/{b}/approve"),
            &[("from", "list")],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.html);
    assert_eq!(approved.location.as_deref(), Some("/merchant/affiliates?notice=approved"));
    assert_eq!(status_on(&app, &key, &x, &b).await.as_deref(), Some("approved"));

    // Bulk: nothing selected, then reject two.
    let none =
        browser.submit("/merchant/affiliates", "/merchant/affiliates/bulk", &[("action", "reject")]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.html.contains("Select at least one affiliate."));
    let y_b = format!("{y}:{b}");
    let z_b = format!("{z}:{b}");
    let rejected = browser
        .submit(
            "/merchant/affiliates",
            "/merchant/affiliates/bulk",
            &[("from", "list"), ("selected", &y_b), ("selected", &z_b), ("action", "reject")],
        )
        .await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER, "{}", rejected.html);
    assert_eq!(rejected.location.as_deref(), Some("/merchant/affiliates?notice=bulk_rejected"));
    assert_eq!(status_on(&app, &key, &y, &b).await.as_deref(), Some("rejected"));
    assert_eq!(status_on(&app, &key, &z, &b).await.as_deref(), Some("rejected"));
    let api: Value = app.get(&key, &format!("/api/v1/affiliates?status=rejected&campaignId={b}")).await.body;
    assert_eq!(api["pagination"]["total"], 2);

    // Bulk approve: the rejected one is refused (final), the other one is approved.
    let x_a = format!("{x}:{a}");
    let mixed = browser
        .submit(
            "/merchant/affiliates",
            "/merchant/affiliates/bulk",
            &[("selected", &y_b), ("selected", &x_a), ("action", "approve")],
        )
        .await;
    assert!(mixed.status.is_client_error(), "{}", mixed.status);
    assert!(mixed.html.contains("1 of 2 changed"), "{}", mixed.html);
    assert!(mixed.html.contains("yolanda@aff.test on &#60;script&#62;"), "named, escaped: {}", mixed.html);
    assert_eq!(status_on(&app, &key, &y, &b).await.as_deref(), Some("rejected"));

    // The affiliate's page, then remove from a campaign.
    let link = app.post(&key, "/api/v1/links", json!({ "campaignId": a, "affiliateId": x })).await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text);
    let page = format!("/merchant/affiliates/{x}");
    let detail = browser.get(&page).await;
    assert!(detail.html.contains(link.data()["url"].as_str().unwrap()), "short link shown");
    assert_eq!(detail.status, StatusCode::OK);
    assert!(!detail.html.contains("<script>alert"), "{}", detail.html);
    assert!(detail.html.contains("xavier@aff.test"));
    assert!(detail.html.contains("/redirect?tc="), "tracking links shown");
    assert!(detail.html.contains("Payout details"));
    let removed = browser.submit(&page, &format!("{page}/campaigns/{b}/remove"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.html);
    assert_eq!(removed.location.as_deref(), Some(format!("{page}?notice=removed").as_str()));
    assert_eq!(status_on(&app, &key, &x, &b).await, None);
    assert_eq!(status_on(&app, &key, &x, &a).await.as_deref(), Some("approved"));
    let reject_one = browser.submit(&page, &format!("{page}/campaigns/{a}/reject"), &[]).await;
    assert_eq!(reject_one.status, StatusCode::SEE_OTHER);
    assert_eq!(status_on(&app, &key, &x, &a).await.as_deref(), Some("rejected"));
    app.stop().await;
}

async fn add_form_refuses_and_adds(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, _) = Browser::sign_up(&app, &login("owner"), "Shop").await;
    let key = browser.api_key("live").await;
    let camp = app.campaign(&key, json!({ "name": "Alpha" })).await["id"].as_str().unwrap().to_string();

    let form = browser.get("/merchant/affiliates/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.html.contains("sends no mail"));
    assert!(form.html.contains(r#"action="/merchant/affiliates/invite""#));

    let refused = browser
        .submit(
            "/merchant/affiliates/new",
            "/merchant/affiliates",
            &[("email", "not-an-email"), ("name", SCRIPT), ("campaignId", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
    assert!(field_error(&refused.html, "email").is_some(), "{}", refused.html);
    assert!(field_error(&refused.html, "campaignId").is_some());
    assert!(!refused.html.contains("<script>alert"), "entered name escaped");
    assert_eq!(app.get(&key, "/api/v1/affiliates").await.body["pagination"]["total"], 0);

    let added = browser
        .submit(
            "/merchant/affiliates/new",
            "/merchant/affiliates",
            &[("email", "New@Aff.test"), ("name", SCRIPT), ("campaignId", &camp)],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let location = added.location.unwrap();
    let id = location.strip_prefix("/merchant/affiliates/").unwrap().split('?').next().unwrap().to_string();
    assert_eq!(status_on(&app, &key, &id, &camp).await.as_deref(), Some("approved"));
    let shown = browser.get(&location).await;
    assert!(!shown.html.contains("<script>alert"));
    assert!(shown.html.contains("new@aff.test"));

    let duplicate = browser
        .submit(
            "/merchant/affiliates/new",
            "/merchant/affiliates",
            &[("email", "new@aff.test"), ("campaignId", &camp)],
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT, "{}", duplicate.html);
    assert!(duplicate.html.contains("already exists"));
    assert_eq!(app.get(&key, "/api/v1/affiliates").await.body["pagination"]["total"], 1);
    app.stop().await;
}

async fn another_brands_affiliate_is_not_found(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (mine, _) = Browser::sign_up(&app, &login("a"), "Shop A").await;
    let (theirs, their_merchant) = Browser::sign_up(&app, &login("b"), "Shop B").await;
    let their_key = theirs.api_key("live").await;
    let camp =
        app.campaign(&their_key, json!({ "name": "Theirs" })).await["id"].as_str().unwrap().to_string();
    let other =
        app.campaign(&their_key, json!({ "name": "Other" })).await["id"].as_str().unwrap().to_string();
    let aff = new_affiliate(&app, &their_key, "theirs@aff.test", "Theirs", &camp).await;
    pending_on(&app, &their_merchant, &other, &aff).await;

    assert_eq!(mine.get(&format!("/merchant/affiliates/{aff}")).await.status, StatusCode::NOT_FOUND);
    for action in ["approve", "reject", "remove"] {
        let r = mine
            .submit(
                "/merchant/affiliates",
                &format!("/merchant/affiliates/{aff}/campaigns/{other}/{action}"),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
    }
    let key = format!("{aff}:{other}");
    let bulk = mine
        .submit(
            "/merchant/affiliates",
            "/merchant/affiliates/bulk",
            &[("selected", &key), ("action", "approve")],
        )
        .await;
    assert_eq!(bulk.status, StatusCode::NOT_FOUND);
    let add = mine
        .submit(
            "/merchant/affiliates/new",
            "/merchant/affiliates",
            &[("email", "x@aff.test"), ("campaignId", &camp)],
        )
        .await;
    assert_eq!(add.status, StatusCode::NOT_FOUND);
    assert_eq!(status_on(&app, &their_key, &aff, &other).await.as_deref(), Some("pending"));
    assert!(!mine.get("/merchant/affiliates").await.html.contains("theirs@aff.test"));
    assert!(!mine
        .get(&format!("/merchant/affiliates?campaign={camp}"))
        .await
        .html
        .contains("theirs@aff.test"));
    app.stop().await;
}

engine_tests!(list_actions_and_bulk, add_form_refuses_and_adds, another_brands_affiliate_is_not_found);

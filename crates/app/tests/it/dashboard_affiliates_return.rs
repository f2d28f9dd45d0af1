//! The affiliates list keeps its search, filters and page across approve / reject (one or in
//! bulk): the list's forms carry a hidden `return_to`, which only ever leads back to
//! `/merchant/affiliates` (never an open redirect), over HTTP on both engines.

use refline_domain::MembershipStatus;
use refline_store::Membership;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    dashboard_support::Browser,
    engine_tests,
    support::{Engine, TestApp},
};

/// The hidden `return_to` of a list page, as a browser would send it back.
fn return_to(html: &str) -> String {
    let marker = r#"name="return_to" value=""#;
    let at = html.find(marker).unwrap_or_else(|| panic!("no return_to: {html}"));
    let raw = html[at + marker.len()..].split('"').next().unwrap();
    raw.replace("&#38;", "&").replace("&amp;", "&").replace("&#43;", "+").replace("&#61;", "=")
}

async fn approvals_return_to_the_filtered_list(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let email = format!("{}@shop.test", refline_core::ids::new_id("r")).to_lowercase();
    let (browser, merchant) = Browser::sign_up(&app, &email, "Shop").await;
    let key = browser.api_key("live").await;
    let home = app.campaign(&key, json!({ "name": "Home" })).await["id"].as_str().unwrap().to_string();
    let camp = app.campaign(&key, json!({ "name": "Promo" })).await["id"].as_str().unwrap().to_string();
    let mut affiliates = Vec::new();
    for name in ["ann", "anna", "annie", "bob"] {
        let r = app
            .post(
                &key,
                "/api/v1/affiliates",
                json!({ "email": format!("{name}@aff.test"), "campaignId": home }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.data()["id"].as_str().unwrap().to_string();
        let now = refline_server::clock::now_ms();
        let membership = Membership {
            campaign_id: camp.clone(),
            affiliate_id: id.clone(),
            merchant_id: merchant.clone(),
            status: MembershipStatus::Pending,
            joined_at: now,
            updated_at: now,
        };
        app.store.insert_membership(&membership).await.unwrap();
        affiliates.push(id);
    }

    let filtered = format!("/merchant/affiliates?q=ann&status=pending&campaign={camp}");
    let list = browser.get(&filtered).await;
    assert_eq!(list.status, StatusCode::OK);
    let back = return_to(&list.html);
    assert_eq!(back, filtered, "the page's own address");

    // One approval from the filtered list comes back to it.
    let approved = browser
        .submit(
            &filtered,
            &format!("/merchant/affiliates/{}/campaigns/{camp}/approve", affiliates[0]),
            &[("from", "list"), ("return_to", &back)],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.html);
    assert_eq!(approved.location, Some(format!("{filtered}&notice=approved")));
    let again = browser.get(approved.location.as_deref().unwrap()).await;
    assert!(again.html.contains("approved on the campaign"), "{}", again.html);
    assert!(again.html.contains(r#"<option value="pending" selected>"#));

    // Bulk reject from page 2 of a search keeps the search and the page.
    let paged = format!("/merchant/affiliates?q=ann&campaign={camp}&page=2");
    let back = return_to(&browser.get(&paged).await.html);
    assert_eq!(back, paged);
    let selected = format!("{}:{camp}", affiliates[1]);
    let rejected = browser
        .submit(
            &paged,
            "/merchant/affiliates/bulk",
            &[("from", "list"), ("selected", &selected), ("action", "reject"), ("return_to", &back)],
        )
        .await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER, "{}", rejected.html);
    assert_eq!(rejected.location, Some(format!("{paged}&notice=bulk_rejected")));
    let r = app.get(&key, &format!("/api/v1/affiliates/{}", affiliates[1])).await;
    let on_camp =
        r.data()["memberships"].as_array().unwrap().iter().find(|m| m["campaignId"] == camp).cloned();
    assert_eq!(on_camp.unwrap()["status"], "rejected");

    // A refused bulk action shows the filtered list again, not the whole one.
    let none = browser
        .submit(&filtered, "/merchant/affiliates/bulk", &[("action", "approve"), ("return_to", &filtered)])
        .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.html.contains("Select at least one affiliate."));
    assert!(none.html.contains(r#"<option value="pending" selected>"#), "{}", none.html);
    assert!(!none.html.contains("bob@aff.test"), "still filtered");

    // Hostile return_to values lead to the plain list, never elsewhere.
    let selected = format!("{}:{camp}", affiliates[2]);
    for hostile in [
        "https://evil.example/merchant/affiliates",
        "//evil.example/merchant/affiliates?q=ann",
        "/\\evil.example",
        "/merchant/affiliates/../../auth/logout",
        "/merchant/affiliatesx?q=1",
        "/merchant/affiliates?q=%0d%0aSet-Cookie:%20x=1",
        "javascript:alert(1)",
    ] {
        let answered = browser
            .submit(
                &filtered,
                &format!("/merchant/affiliates/{}/campaigns/{camp}/approve", affiliates[2]),
                &[("from", "list"), ("return_to", hostile)],
            )
            .await;
        assert_eq!(answered.status, StatusCode::SEE_OTHER, "{hostile}: {}", answered.html);
        let location = answered.location.unwrap();
        assert!(location.starts_with("/merchant/affiliates?"), "{hostile} → {location}");
        assert!(
            !location.contains("evil") && !location.contains('\r') && !location.contains('\n'),
            "{location}"
        );
        let bulk = browser
            .submit(
                &filtered,
                "/merchant/affiliates/bulk",
                &[("selected", &selected), ("action", "approve"), ("return_to", hostile)],
            )
            .await;
        let location = bulk.location.unwrap_or_default();
        assert!(location.starts_with("/merchant/affiliates?"), "{hostile} → {location}");
        assert!(!location.contains("evil"), "{location}");
    }
}

engine_tests!(approvals_return_to_the_filtered_list);

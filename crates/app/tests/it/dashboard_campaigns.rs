//! The campaign pages: forms refuse what the API refuses (errors next to the fields, nothing
//! saved), create / edit / pause show through the API, another brand's campaign is not found,
//! and names are escaped.

use reqwest::StatusCode;
use serde_json::json;

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

fn id_from(location: &str) -> String {
    let rest = location.strip_prefix("/merchant/campaigns/").expect("campaign location");
    rest.split('?').next().unwrap().to_string()
}

async fn campaign_forms_create_edit_and_pause(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, _) = Browser::sign_up(&app, &login("owner"), "Shop").await;
    let key = browser.api_key("live").await;

    let list = browser.get("/merchant/campaigns").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html.contains(r#"href="/merchant/campaigns/new""#));
    assert_eq!(browser.get("/merchant/campaigns/new").await.status, StatusCode::OK);

    // Refused: every problem next to its field, nothing saved.
    let refused = browser
        .submit(
            "/merchant/campaigns/new",
            "/merchant/campaigns",
            &[
                ("name", ""),
                ("commissionType", "percentage"),
                ("commissionValue", "abc"),
                ("cookieWindowDays", "0"),
                ("targetUrl", "ftp://shop.test"),
                ("tierBasis", "minSales"),
                ("tierMin", "0"),
                ("tierValue", "25"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
    for field in ["name", "commissionValue", "cookieWindowDays", "targetUrl", "tiers"] {
        assert!(field_error(&refused.html, field).is_some(), "no error for {field}: {}", refused.html);
    }
    assert!(refused.html.contains(r#"value="ftp://shop.test""#), "entered values are kept");
    assert_eq!(app.get(&key, "/api/v1/campaigns").await.body["pagination"]["total"], 0);

    // Created with a name that must be escaped, fixed commission, a tier, auto-approve.
    let created = browser
        .submit(
            "/merchant/campaigns/new",
            "/merchant/campaigns",
            &[
                ("name", SCRIPT),
                ("currency", "USD"),
                ("status", "active"),
                ("commissionType", "fixed"),
                ("commissionValue", "12.50"),
                ("cookieWindowDays", "45"),
                ("holdDays", ""),
                ("targetUrl", "https://shop.test/landing"),
                ("description", "Spring sale"),
                ("autoApproveAffiliates", "true"),
                ("recurringCommissionMode", "duration"),
                ("recurringCommissionType", "same"),
                ("tierBasis", "minSales"),
                ("tierMin", "10"),
                ("tierValue", "15"),
                ("tierBasis", "minSales"),
                ("tierMin", ""),
                ("tierValue", ""),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    let location = created.location.unwrap();
    assert!(location.ends_with("?notice=created"), "{location}");
    let id = id_from(&location);
    let path = format!("/api/v1/campaigns/{id}");
    let api = app.get(&key, &path).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text);
    let c = api.data();
    assert_eq!(c["name"], SCRIPT);
    assert_eq!(c["commissionType"], "fixed");
    assert_eq!(c["commissionValue"], "12.50");
    assert_eq!(c["cookieWindowDays"], 45);
    assert_eq!(c["targetUrl"], "https://shop.test/landing");
    assert_eq!(c["description"], "Spring sale");
    assert_eq!(c["autoApproveAffiliates"], true);
    assert_eq!(c["isPublic"], false);
    assert_eq!(c["status"], "active");
    assert_eq!(c["tiers"], json!([{ "minSales": 10, "commissionValue": "15.00" }]));

    // The page: escaped name, the join link, the values in the form.
    let shown = browser.get(&format!("/merchant/campaigns/{id}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(!shown.html.contains("<script>alert"), "{}", shown.html);
    assert!(
        shown.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
            || shown.html.contains("&#60;script&#62;")
    );
    assert!(shown.html.contains(c["joinUrl"].as_str().unwrap()), "join link shown");
    assert!(shown.html.contains(r#"value="12.50""#));
    let listed = browser.get("/merchant/campaigns").await;
    assert!(!listed.html.contains("<script>alert"));
    assert!(listed.html.contains(&format!("/merchant/campaigns/{id}")));

    // Edit refused: nothing changes.
    let page = format!("/merchant/campaigns/{id}");
    let refused = browser
        .submit(
            &page,
            &page,
            &[
                ("name", "Spring"),
                ("commissionType", "percentage"),
                ("commissionValue", "150"),
                ("cookieWindowDays", "400"),
                ("recurringCommissionType", "custom"),
                ("recurringCommissionValue", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
    for field in ["commissionValue", "cookieWindowDays", "recurringCommissionValue"] {
        assert!(field_error(&refused.html, field).is_some(), "no error for {field}");
    }
    assert!(refused.html.contains(r#"value="Spring""#), "entered values are kept");
    let same = app.get(&key, &path).await;
    assert_eq!(
        (same.data()["name"].as_str(), same.data()["commissionType"].as_str()),
        (Some(SCRIPT), Some("fixed"))
    );

    // Edit saved: every kind of field, checkboxes left out are false, tiers cleared.
    let saved = browser
        .submit(
            &page,
            &page,
            &[
                ("name", "Spring"),
                ("commissionType", "percentage"),
                ("commissionValue", "30"),
                ("cookieWindowDays", "60"),
                ("holdDays", "14"),
                ("targetUrl", ""),
                ("description", "Spring sale"),
                ("isPublic", "true"),
                ("recurringCommissionEnabled", "true"),
                ("recurringCommissionMode", "payments"),
                ("recurringCommissionCount", "6"),
                ("recurringCommissionDuration", ""),
                ("recurringCommissionType", "custom"),
                ("recurringCommissionValue", "10"),
                ("tierBasis", "minSales"),
                ("tierMin", ""),
                ("tierValue", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    assert!(saved.location.unwrap().ends_with("?notice=saved"));
    let c = app.get(&key, &path).await.data().clone();
    assert_eq!(c["name"], "Spring");
    assert_eq!(c["commissionType"], "percentage");
    assert!(c["commissionValue"].as_str().unwrap().starts_with("30"), "{c}");
    assert_eq!(c["cookieWindowDays"], 60);
    assert_eq!(c["holdDays"], 14);
    assert_eq!(c["targetUrl"], json!(null));
    assert_eq!(c["isPublic"], true);
    assert_eq!(c["autoApproveAffiliates"], false);
    assert_eq!(c["recurringCommissionEnabled"], true);
    assert_eq!(c["recurringCommissionMode"], "payments");
    assert_eq!(c["recurringCommissionCount"], 6);
    assert_eq!(c["recurringCommissionType"], "custom");
    assert!(c["recurringCommissionValue"].as_str().unwrap().starts_with("10"), "{c}");
    assert_eq!(c["tiers"], json!([]));

    // Pause, then activate.
    let paused = browser.submit(&page, &format!("{page}/status"), &[("status", "inactive")]).await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER, "{}", paused.html);
    assert_eq!(app.get(&key, &path).await.data()["status"], "inactive");
    assert!(browser.get(&page).await.html.contains("Activate campaign"));
    let active = browser.submit(&page, &format!("{page}/status"), &[("status", "active")]).await;
    assert_eq!(active.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&key, &path).await.data()["status"], "active");
    let bad = browser.submit(&page, &format!("{page}/status"), &[("status", "archived")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

async fn another_brands_campaign_is_not_found(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (mine, _) = Browser::sign_up(&app, &login("a"), "Shop A").await;
    let (theirs, _) = Browser::sign_up(&app, &login("b"), "Shop B").await;
    let their_key = theirs.api_key("live").await;
    let campaign = app.campaign(&their_key, json!({ "name": "Theirs" })).await;
    let id = campaign["id"].as_str().unwrap();
    let page = format!("/merchant/campaigns/{id}");

    assert_eq!(mine.get(&page).await.status, StatusCode::NOT_FOUND);
    let edit = mine
        .submit(
            "/merchant/campaigns/new",
            &page,
            &[
                ("name", "Mine now"),
                ("commissionType", "percentage"),
                ("commissionValue", "5"),
                ("cookieWindowDays", "30"),
            ],
        )
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND, "{}", edit.html);
    let pause =
        mine.submit("/merchant/campaigns/new", &format!("{page}/status"), &[("status", "inactive")]).await;
    assert_eq!(pause.status, StatusCode::NOT_FOUND);
    let still = app.get(&their_key, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(
        (still.data()["name"].as_str(), still.data()["status"].as_str()),
        (Some("Theirs"), Some("active"))
    );
    assert!(!mine.get("/merchant/campaigns").await.html.contains(id), "not listed to another brand");
    app.stop().await;
}

engine_tests!(campaign_forms_create_edit_and_pause, another_brands_campaign_is_not_found);

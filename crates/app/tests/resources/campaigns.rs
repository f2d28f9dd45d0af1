//! `/api/v1/campaigns`: create with every field, validation, reads with computed figures, and
//! partial updates reporting what changed.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{Engine, TestApp},
    util::{assert_error, assert_recent_timestamp, assert_validation, conversion, list_ids},
};

const TRACKING_ALPHABET: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

#[track_caller]
fn assert_tracking_code(app: &TestApp, data: &Value) -> String {
    let code = data["trackingCode"].as_str().expect("trackingCode").to_string();
    assert_eq!(code.len(), 8, "{code}");
    assert!(code.chars().all(|c| TRACKING_ALPHABET.contains(c)), "{code}");
    assert_eq!(data["joinUrl"], Value::from(format!("{}/join/{code}", app.base)));
    code
}

async fn create_with_every_field(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let mut codes = HashSet::new();

    let body = json!({
        "name": "Summer Launch",
        "commissionType": "percentage",
        "commissionValue": 20,
        "currency": "eur",
        "targetUrl": "https://example.com/pricing?ref=1",
        "description": "Our summer programme",
        "isPublic": false,
        "autoApproveAffiliates": true,
        "status": "inactive",
        "cookieWindowDays": 60,
        "recurringCommissionEnabled": true,
        "recurringCommissionMode": "payments",
        "recurringCommissionType": "custom",
        "recurringCommissionValue": "10",
        "recurringCommissionCount": 12,
        "recurringCommissionDuration": 6,
        "tiers": [{ "minSales": 5, "commissionValue": "25" }]
    });
    let reply = app.post(&m.key, "/api/v1/campaigns", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let data = reply.data();
    assert!(data["id"].as_str().expect("id").starts_with("camp_"));
    assert_eq!(data["name"], "Summer Launch");
    assert_eq!(data["commissionType"], "percentage");
    assert_eq!(data["commissionValue"], "20");
    assert_eq!(data["currency"], "eur");
    assert_eq!(data["targetUrl"], "https://example.com/pricing?ref=1");
    assert_eq!(data["description"], "Our summer programme");
    assert_eq!(data["isPublic"], false);
    assert_eq!(data["autoApproveAffiliates"], true);
    assert_eq!(data["status"], "inactive");
    assert_eq!(data["cookieWindowDays"], 60);
    assert_eq!(data["recurringCommissionEnabled"], true);
    assert_eq!(data["recurringCommissionMode"], "payments");
    assert_eq!(data["recurringCommissionType"], "custom");
    assert_eq!(data["recurringCommissionValue"], "10");
    assert_eq!(data["recurringCommissionCount"], 12);
    assert_eq!(data["recurringCommissionDuration"], 6);
    assert_eq!(data["tiers"], json!([{ "minSales": 5, "commissionValue": "25" }]));
    assert_eq!(data["conversions"], 0);
    assert_eq!(data["revenue"], "0.00");
    assert_eq!(data["affiliateCount"], 0);
    assert_recent_timestamp(&data["createdAt"]);
    assert_recent_timestamp(&data["updatedAt"]);
    codes.insert(assert_tracking_code(&app, data));
    // What was created is what is read back.
    let id = data["id"].as_str().expect("id");
    let read = app.get(&m.key, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.data(), data);

    // A numeric string, a fractional percentage, and revenue tiers.
    let body = json!({
        "name": "Fractional",
        "commissionType": "percentage",
        "commissionValue": "12.5",
        "tiers": [{ "minRevenue": "1000.00", "commissionValue": 30 }]
    });
    let reply = app.post(&m.key, "/api/v1/campaigns", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let data = reply.data();
    assert_eq!(data["commissionValue"], "12.5");
    assert_eq!(data["tiers"], json!([{ "minRevenue": "1000.00", "commissionValue": "30" }]));
    // Defaults: the merchant's currency, active, public, manual approval, 30 days, no recurring.
    assert_eq!(data["currency"], "usd");
    assert_eq!(data["status"], "active");
    assert_eq!(data["isPublic"], true);
    assert_eq!(data["autoApproveAffiliates"], false);
    assert_eq!(data["cookieWindowDays"], 30);
    assert_eq!(data["recurringCommissionEnabled"], false);
    assert_eq!(data["recurringCommissionValue"], Value::Null);
    assert_eq!(data["targetUrl"], Value::Null);
    assert_eq!(data["description"], Value::Null);
    codes.insert(assert_tracking_code(&app, data));

    // A fixed amount shows the currency's decimals.
    let body = json!({
        "name": "Flat Fee",
        "commissionType": "fixed",
        "commissionValue": 30,
        "targetUrl": "http://shop.example.com",
        "tiers": [{ "minSales": 10, "commissionValue": "45.5" }, { "minSales": 3, "commissionValue": 35 }]
    });
    let reply = app.post(&m.key, "/api/v1/campaigns", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let data = reply.data();
    assert_eq!(data["commissionType"], "fixed");
    assert_eq!(data["commissionValue"], "30.00");
    assert_eq!(data["targetUrl"], "http://shop.example.com");
    assert_eq!(
        data["tiers"],
        json!([{ "minSales": 3, "commissionValue": "35.00" }, { "minSales": 10, "commissionValue": "45.50" }]),
        "tiers are kept in ascending order"
    );
    codes.insert(assert_tracking_code(&app, data));
    let fixed_text = app
        .post(
            &m.key,
            "/api/v1/campaigns",
            json!({ "name": "Text", "commissionType": "fixed", "commissionValue": "7.5" }),
        )
        .await;
    assert_eq!(fixed_text.data()["commissionValue"], "7.50");
    codes.insert(assert_tracking_code(&app, fixed_text.data()));
    assert_eq!(codes.len(), 4, "tracking codes are unique: {codes:?}");
    app.stop().await;
}

async fn create_validation_names_every_problem(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let post = |body: Value| {
        let app = &app;
        let key = m.key.clone();
        async move { app.post(&key, "/api/v1/campaigns", body).await }
    };
    let base = |extra: Value| {
        let mut body = json!({ "name": "Valid", "commissionType": "percentage", "commissionValue": 20 });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        body
    };

    assert_validation(
        &post(json!({})).await,
        &[json!(["name"]), json!(["commissionType"]), json!(["commissionValue"])],
    );
    let no_name = json!({ "commissionType": "percentage", "commissionValue": 20 });
    assert_validation(&post(no_name).await, &[json!(["name"])]);
    let no_type = json!({ "name": "Valid", "commissionValue": 20 });
    assert_validation(&post(no_type).await, &[json!(["commissionType"])]);
    let no_value = json!({ "name": "Valid", "commissionType": "fixed" });
    assert_validation(&post(no_value).await, &[json!(["commissionValue"])]);
    let bad_type = base(json!({ "commissionType": "bounty" }));
    assert_validation(&post(bad_type).await, &[json!(["commissionType"])]);

    for value in [json!(0), json!(101), json!("0"), json!(-5), json!("abc")] {
        let reply = post(base(json!({ "commissionValue": value }))).await;
        assert_validation(&reply, &[json!(["commissionValue"])]);
    }
    for value in [json!(-5), json!(0), json!(12.345), json!("12.345")] {
        let reply = post(base(json!({ "commissionType": "fixed", "commissionValue": value }))).await;
        assert_validation(&reply, &[json!(["commissionValue"])]);
    }
    assert_validation(&post(base(json!({ "currency": "xyz" }))).await, &[json!(["currency"])]);
    for url in ["ftp://x", "not a url", "https://", "https://exa mple.com"] {
        let reply = post(base(json!({ "targetUrl": url }))).await;
        assert_validation(&reply, &[json!(["targetUrl"])]);
    }
    assert_validation(&post(base(json!({ "status": "paused" }))).await, &[json!(["status"])]);
    assert_validation(&post(base(json!({ "cookieWindowDays": 0 }))).await, &[json!(["cookieWindowDays"])]);
    assert_validation(&post(base(json!({ "isPublic": "yes" }))).await, &[json!(["isPublic"])]);
    assert_validation(&post(base(json!({ "name": "A" }))).await, &[json!(["name"])]);
    let custom_without_value = base(json!({ "recurringCommissionType": "custom" }));
    assert_validation(&post(custom_without_value).await, &[json!(["recurringCommissionValue"])]);

    // Tiers.
    let mixed = base(json!({ "tiers": [
        { "minSales": 5, "commissionValue": 25 },
        { "minRevenue": "1000.00", "commissionValue": 30 }
    ] }));
    assert_validation(&post(mixed).await, &[json!(["tiers", 1])]);
    let duplicate = base(json!({ "tiers": [
        { "minSales": 5, "commissionValue": 25 },
        { "minSales": 5, "commissionValue": 30 }
    ] }));
    assert_validation(&post(duplicate).await, &[json!(["tiers"])]);
    let duplicate_revenue = base(json!({ "tiers": [
        { "minRevenue": "1000", "commissionValue": 25 },
        { "minRevenue": 1000.00, "commissionValue": 30 }
    ] }));
    assert_validation(&post(duplicate_revenue).await, &[json!(["tiers"])]);
    let bad_min = base(json!({ "tiers": [{ "minSales": 0, "commissionValue": 25 }] }));
    assert_validation(&post(bad_min).await, &[json!(["tiers", 0, "minSales"])]);
    let bad_revenue = base(json!({ "tiers": [{ "minRevenue": "-3", "commissionValue": 25 }] }));
    assert_validation(&post(bad_revenue).await, &[json!(["tiers", 0, "minRevenue"])]);
    let bad_value = base(json!({ "tiers": [
        { "minSales": 2, "commissionValue": 25 },
        { "minSales": 3, "commissionValue": 150 }
    ] }));
    assert_validation(&post(bad_value).await, &[json!(["tiers", 1, "commissionValue"])]);
    let neither = base(json!({ "tiers": [{ "commissionValue": 25 }] }));
    assert_validation(&post(neither).await, &[json!(["tiers", 0])]);
    assert_validation(&post(base(json!({ "tiers": "many" }))).await, &[json!(["tiers"])]);

    // Several problems at once: one answer lists them all.
    let many = json!({
        "name": "Valid",
        "commissionType": "percentage",
        "commissionValue": 101,
        "currency": "xyz",
        "targetUrl": "ftp://x",
        "tiers": [{ "minSales": 0, "commissionValue": 25 }]
    });
    assert_validation(
        &post(many).await,
        &[
            json!(["commissionValue"]),
            json!(["currency"]),
            json!(["targetUrl"]),
            json!(["tiers", 0, "minSales"]),
        ],
    );

    // Nothing was created.
    let listed = app.get(&m.key, "/api/v1/campaigns").await;
    assert!(list_ids(&listed).is_empty(), "{}", listed.text);
    assert_eq!(listed.body["pagination"]["total"], 0);
    app.stop().await;
}

async fn reads_carry_computed_figures(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let campaign = app.campaign(&m.key, json!({ "name": "Figures" })).await;
    let id = campaign["id"].as_str().expect("id").to_string();
    let quiet = app.campaign(&m.key, json!({ "name": "Quiet" })).await;
    let affiliate = app.affiliate(&m.key, &id, "figures@partner.test").await;
    conversion(&app, &m.key, &id, &affiliate, json!(10.00)).await;
    conversion(&app, &m.key, &id, &affiliate, json!(15.50)).await;

    let read = app.get(&m.key, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.data()["id"], Value::from(id.clone()));
    assert_eq!(read.data()["name"], "Figures");
    assert_eq!(read.data()["conversions"], 2);
    assert_eq!(read.data()["revenue"], "25.50");
    assert_eq!(read.data()["affiliateCount"], 1);
    assert_eq!(read.data()["trackingCode"], campaign["trackingCode"]);

    let listed = app.get(&m.key, "/api/v1/campaigns").await;
    assert_eq!(listed.body["pagination"]["total"], 2);
    let items = listed.data().as_array().expect("items");
    let item = items.iter().find(|c| c["id"] == id.as_str()).expect("listed");
    assert_eq!(item["conversions"], 2);
    assert_eq!(item["revenue"], "25.50");
    let other = items.iter().find(|c| c["id"] == quiet["id"]).expect("listed");
    assert_eq!((other["conversions"].clone(), other["revenue"].clone()), (json!(0), json!("0.00")));

    // A rejected conversion no longer counts.
    let third = conversion(&app, &m.key, &id, &affiliate, json!(100)).await;
    let rejected =
        app.patch(&m.key, &format!("/api/v1/conversions/{third}"), json!({ "status": "rejected" })).await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    let read = app.get(&m.key, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(
        (read.data()["conversions"].clone(), read.data()["revenue"].clone()),
        (json!(2), json!("25.50"))
    );

    let missing = app.get(&m.key, "/api/v1/campaigns/camp_00000000000000000000").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    app.stop().await;
}

async fn patch_reports_what_changed(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let campaign = app
        .campaign(&m.key, json!({ "name": "Before", "description": "Old", "tiers": [{ "minSales": 5, "commissionValue": 25 }] }))
        .await;
    let id = campaign["id"].as_str().expect("id");
    let path = format!("/api/v1/campaigns/{id}");

    let reply = app
        .patch(&m.key, &path, json!({ "name": "After", "cookieWindowDays": 45, "status": "active" }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let data = reply.data();
    assert_eq!(data["changed"], json!(["name", "cookieWindowDays"]), "status was already active");
    assert_eq!(data["name"], "After");
    assert_eq!(data["cookieWindowDays"], 45);
    assert_eq!(data["id"], campaign["id"]);
    assert_eq!(data["trackingCode"], campaign["trackingCode"]);
    assert_eq!(data["description"], "Old", "fields not sent are kept");
    assert_eq!(data["commissionValue"], "20");
    assert_eq!(data["tiers"], campaign["tiers"]);
    assert_eq!(data["createdAt"], campaign["createdAt"]);

    let again = app.patch(&m.key, &path, json!({ "name": "After", "cookieWindowDays": 45 })).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.data()["changed"], json!([]));
    let same_value_as_text = app.patch(&m.key, &path, json!({ "commissionValue": "20.0" })).await;
    assert_eq!(same_value_as_text.data()["changed"], json!([]));
    let same_tiers =
        app.patch(&m.key, &path, json!({ "tiers": [{ "minSales": 5, "commissionValue": "25" }] })).await;
    assert_eq!(same_tiers.data()["changed"], json!([]));

    let more = app
        .patch(
            &m.key,
            &path,
            json!({ "description": null, "isPublic": false, "commissionValue": 15, "tiers": [] }),
        )
        .await;
    assert_eq!(more.status, StatusCode::OK, "{}", more.text);
    let changed: HashSet<&str> =
        more.data()["changed"].as_array().expect("changed").iter().filter_map(Value::as_str).collect();
    assert_eq!(changed, HashSet::from(["description", "isPublic", "commissionValue", "tiers"]));
    assert_eq!(more.data()["description"], Value::Null);
    assert_eq!(more.data()["commissionValue"], "15");
    assert_eq!(more.data()["tiers"], json!([]));

    // The changes are stored.
    let read = app.get(&m.key, &path).await;
    assert_eq!(read.data()["name"], "After");
    assert_eq!(read.data()["isPublic"], false);
    assert_eq!(read.data()["commissionValue"], "15");
    assert!(read.data().get("changed").is_none(), "`changed` is only in PATCH answers");

    // Currency is fixed at creation; a type change needs its value; test keys cannot edit.
    let by_test_key = app.patch(&m.test_key, &path, json!({ "name": "Test edit" })).await;
    assert_eq!((by_test_key.status, by_test_key.code()), (StatusCode::FORBIDDEN, "live_key_required"));
    let currency = app.patch(&m.key, &path, json!({ "currency": "eur" })).await;
    assert_validation(&currency, &[json!(["currency"])]);
    // Echoing the current currency back (a GET object sent as a PATCH) is not a change.
    let same_currency = app.patch(&m.key, &path, json!({ "currency": "USD" })).await;
    assert_eq!(same_currency.status, StatusCode::OK, "{}", same_currency.text);
    assert_eq!(same_currency.data()["changed"], json!([]));
    let type_only = app.patch(&m.key, &path, json!({ "commissionType": "fixed" })).await;
    assert_validation(&type_only, &[json!(["commissionValue"])]);
    let invalid = app.patch(&m.key, &path, json!({ "name": "Never", "commissionValue": 101 })).await;
    assert_validation(&invalid, &[json!(["commissionValue"])]);
    let read = app.get(&m.key, &path).await;
    assert_eq!(read.data()["name"], "After", "a refused PATCH changes nothing");
    assert_eq!(read.data()["currency"], "usd");
    assert_eq!(read.data()["commissionType"], "percentage");

    let retyped = app.patch(&m.key, &path, json!({ "commissionType": "fixed", "commissionValue": 5 })).await;
    assert_eq!(retyped.status, StatusCode::OK, "{}", retyped.text);
    assert_eq!(retyped.data()["changed"], json!(["commissionType", "commissionValue"]));
    assert_eq!(retyped.data()["commissionValue"], "5.00");

    // Changing the type of a tiered campaign needs the tiers again.
    let tiered = app
        .campaign(&m.key, json!({ "name": "Tiered", "tiers": [{ "minSales": 5, "commissionValue": 25 }] }))
        .await;
    let tiered_path = format!("/api/v1/campaigns/{}", tiered["id"].as_str().expect("id"));
    let reply =
        app.patch(&m.key, &tiered_path, json!({ "commissionType": "fixed", "commissionValue": 5 })).await;
    assert_validation(&reply, &[json!(["tiers"])]);

    let missing =
        app.patch(&m.key, "/api/v1/campaigns/camp_00000000000000000000", json!({ "name": "X1" })).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    app.stop().await;
}

engine_tests!(
    create_with_every_field,
    create_validation_names_every_problem,
    reads_carry_computed_figures,
    patch_reports_what_changed,
);

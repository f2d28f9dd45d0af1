//! `POST/GET/PATCH /api/v1/conversions`: commission, refusals, checks and lifecycle.

use refline_domain::{ConversionStatus, Mode, Plan};
use refline_store::Membership;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{test_click, Engine, TestApp, TestMerchant},
};

/// A merchant with one 20 % campaign and one approved affiliate.
async fn setup(app: &TestApp, plan: &str, campaign: Value) -> (TestMerchant, String, String) {
    let m = app.merchant(plan).await;
    let camp = app.campaign(&m.key, campaign).await;
    let camp_id = camp["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&m.key, &camp_id, "partner@affiliates.test").await;
    (m, camp_id, aff)
}

async fn commission_is_computed_from_the_campaign(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (m, camp, aff) = setup(&app, "ultimate", json!({ "commissionValue": "12.5" })).await;
    // 12.5 % of 10.05 = 1.25625 → half-up 1.26.
    let r = app.convert(&m.key, &camp, &aff, json!(10.05), json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.text.contains(r#""amount":10.05,"commission":1.26"#), "{}", r.text);
    // A whole-number amount still renders with the currency's decimals.
    let r = app.convert(&m.key, &camp, &aff, json!(100), json!({})).await;
    assert!(r.text.contains(r#""amount":100.00,"commission":12.50"#), "{}", r.text);

    let fixed = app.campaign(&m.key, json!({ "commissionType": "fixed", "commissionValue": "30.00" })).await;
    let fixed_id = fixed["id"].as_str().unwrap();
    let aff2 = app.affiliate(&m.key, fixed_id, "fixed@affiliates.test").await;
    let r = app.convert(&m.key, fixed_id, &aff2, json!(49.99), json!({})).await;
    assert!(r.text.contains(r#""amount":49.99,"commission":30.00"#), "{}", r.text);

    // Zero-decimal currencies: JPY amounts are whole yen.
    let yen = app.campaign(&m.key, json!({ "currency": "jpy", "commissionValue": 10 })).await;
    let yen_id = yen["id"].as_str().unwrap();
    let aff3 = app.affiliate(&m.key, yen_id, "yen@affiliates.test").await;
    let r = app.convert(&m.key, yen_id, &aff3, json!(1999), json!({})).await;
    assert!(r.text.contains(r#""amount":1999,"commission":200"#), "{}", r.text);
    assert_eq!(r.data()["currency"], "jpy");
    let r = app.convert(&m.key, yen_id, &aff3, json!(19.5), json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"]["details"][0]["path"], json!(["amount"]));
}

async fn amounts_and_fields_are_validated(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (m, camp, aff) = setup(&app, "ultimate", json!({})).await;
    for (amount, why) in [
        (json!(0), "zero"),
        (json!(-5), "negative"),
        (json!(1.001), "three decimals in usd"),
        (json!("99.00"), "a string"),
        (json!(null), "null"),
        (json!(1e15), "absurdly large"),
    ] {
        let r = app.convert(&m.key, &camp, &aff, amount, json!({})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{why}: {}", r.text);
        assert_eq!(r.code(), "validation_error", "{why}");
        assert_eq!(r.body["error"]["details"][0]["path"], json!(["amount"]), "{why}");
    }
    // Every problem is listed at once.
    let r =
        app.post(&m.key, "/api/v1/conversions", json!({ "campaignId": 1, "customerEmail": "nope" })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let paths: Vec<Value> =
        r.body["error"]["details"].as_array().unwrap().iter().map(|d| d["path"][0].clone()).collect();
    for field in ["campaignId", "affiliateId", "amount", "customerEmail"] {
        assert!(paths.contains(&json!(field)), "{field} missing from {paths:?}");
    }
    let r = app.convert(&m.key, &camp, &aff, json!(10), json!({ "currency": "xyz" })).await;
    assert_eq!(r.body["error"]["details"][0]["path"], json!(["currency"]));
    // Sales are recorded in the campaign's currency (no exchange rates to add euros to dollars).
    let r = app.convert(&m.key, &camp, &aff, json!(10), json!({ "currency": "eur" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "validation_error"));
    assert_eq!(r.body["error"]["details"][0]["path"], json!(["currency"]));
    let r = app.convert(&m.key, &camp, &aff, json!(10), json!({ "currency": "USD" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "the campaign's own currency, any case: {}", r.text);
    assert_eq!(r.data()["currency"], "usd");
    let r = app.convert(&m.key, &camp, &aff, json!(10), json!({ "conversionType": "weekly" })).await;
    assert_eq!(r.body["error"]["details"][0]["path"], json!(["conversionType"]));
    let r = app.convert(&m.key, &camp, &aff, json!(10), json!({ "parentConversionId": "conv_x" })).await;
    assert_eq!(r.body["error"]["details"][0]["path"], json!(["parentConversionId"]));
    // Nothing else was recorded by any of these.
    assert_eq!(app.get(&m.key, "/api/v1/conversions").await.body["pagination"]["total"], 1);
}

async fn refusals_use_the_documented_codes(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (m, camp, aff) = setup(&app, "ultimate", json!({})).await;

    // Not on the campaign, pending, rejected → 400 affiliate_not_approved.
    let other = app.campaign(&m.key, json!({ "name": "Other" })).await;
    let other_id = other["id"].as_str().unwrap();
    let r = app.convert(&m.key, other_id, &aff, json!(10), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "affiliate_not_approved"));
    let now = refline_server::clock::now_ms();
    let pending = Membership {
        campaign_id: other_id.into(),
        affiliate_id: aff.clone(),
        merchant_id: m.id.clone(),
        status: refline_domain::MembershipStatus::Pending,
        joined_at: now,
        updated_at: now,
    };
    app.store.insert_membership(&pending).await.unwrap();
    let r = app.convert(&m.key, other_id, &aff, json!(10), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "affiliate_not_approved"));
    let r = app
        .patch(
            &m.key,
            &format!("/api/v1/affiliates/{aff}"),
            json!({ "campaignId": camp, "status": "rejected" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.convert(&m.key, &camp, &aff, json!(10), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "affiliate_not_approved"));

    // Another merchant's campaign or affiliate → 404, never 403.
    let stranger = app.merchant("ultimate").await;
    let r = app.convert(&stranger.key, &camp, &aff, json!(10), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.convert(&m.key, &camp, "aff_doesnotexist", json!(10), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    // Read-only key → 403 insufficient_permissions.
    let pro = app.merchant("pro").await;
    let r = app.convert(&pro.key, &camp, &aff, json!(10), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "insufficient_permissions"));

    // A paused campaign records nothing.
    let aff2 = app.affiliate(&m.key, other_id, "second@affiliates.test").await;
    app.patch(&m.key, &format!("/api/v1/campaigns/{other_id}"), json!({ "status": "inactive" })).await;
    let r = app.convert(&m.key, other_id, &aff2, json!(10), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "campaign_inactive"));
}

async fn a_retried_order_is_a_duplicate_whatever_changed_since(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (m, camp, aff) = setup(&app, "ultimate", json!({})).await;
    let first = app.convert(&m.key, &camp, &aff, json!(10), json!({ "orderId": "retry-1" })).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let path = format!("/api/v1/affiliates/{aff}");
    app.patch(&m.key, &path, json!({ "campaignId": camp, "status": "rejected" })).await;
    app.patch(&m.key, &format!("/api/v1/campaigns/{camp}"), json!({ "status": "inactive" })).await;
    let retry = app.convert(&m.key, &camp, &aff, json!(10), json!({ "orderId": "retry-1" })).await;
    assert_eq!((retry.status, retry.code()), (StatusCode::CONFLICT, "duplicate"), "{}", retry.text);
    assert_eq!(retry.body["error"]["details"]["conversionId"], first.data()["id"]);
    let fresh = app.convert(&m.key, &camp, &aff, json!(10), json!({ "orderId": "retry-2" })).await;
    assert_eq!(fresh.code(), "affiliate_not_approved");
}

async fn monthly_earnings_cap_blocks_live_conversions(engine: Engine) {
    let app = TestApp::start_with(&engine, |c| c.limits.set_cap(Plan::Ultimate, Some(15_000))).await;
    let (m, camp, aff) = setup(&app, "ultimate", json!({})).await;
    assert_eq!(app.convert(&m.key, &camp, &aff, json!(100), json!({})).await.status, StatusCode::CREATED);
    // 100 tracked < 150: the next sale is still recorded and takes the month past the cap.
    assert_eq!(app.convert(&m.key, &camp, &aff, json!(100), json!({})).await.status, StatusCode::CREATED);
    let r = app.convert(&m.key, &camp, &aff, json!(1), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "earnings_limit_reached"));
    // Test keys skip the cap.
    let r = app.convert(&m.test_key, &camp, &aff, json!(1), json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.data()["isTest"], true);
    // The Scale plan has no cap by default.
    let (scale, scamp, saff) = setup(&app, "scale", json!({})).await;
    let r = app.convert(&scale.key, &scamp, &saff, json!(1_000_000), json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED);
}

async fn default_caps_follow_the_plans(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (m, camp, aff) = setup(&app, "ultimate", json!({})).await;
    assert_eq!(
        app.convert(&m.key, &camp, &aff, json!(49_999.99), json!({})).await.status,
        StatusCode::CREATED
    );
    assert_eq!(app.convert(&m.key, &camp, &aff, json!(0.01), json!({})).await.status, StatusCode::CREATED);
    let r = app.convert(&m.key, &camp, &aff, json!(0.01), json!({})).await;
    assert_eq!(r.code(), "earnings_limit_reached", "$50,000 is Ultimate's cap");
}

async fn tiers_apply_the_band_reached_with_this_sale(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let tiers = json!([{ "minSales": 3, "commissionValue": 30 }, { "minSales": 2, "commissionValue": "25" }]);
    let (m, camp, aff) = setup(&app, "ultimate", json!({ "commissionValue": 20, "tiers": tiers })).await;
    let mut commissions = Vec::new();
    for _ in 0..4 {
        let r = app.convert(&m.key, &camp, &aff, json!(100), json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        commissions.push(r.data()["commission"].to_string());
        // The list below orders by creation time in milliseconds; keep the sales apart.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    assert_eq!(commissions, ["20.00", "25.00", "30.00", "30.00"]);
    // Earlier sales keep their commission (tiers are not retroactive).
    let list = app.get(&m.key, "/api/v1/conversions?sort=createdAt:asc").await;
    assert_eq!(list.data()[0]["commission"], "20.00");

    let revenue = json!([{ "minRevenue": "150.00", "commissionValue": 50 }]);
    let (m2, camp2, aff2) = setup(&app, "ultimate", json!({ "commissionValue": 10, "tiers": revenue })).await;
    let first = app.convert(&m2.key, &camp2, &aff2, json!(100), json!({})).await;
    let second = app.convert(&m2.key, &camp2, &aff2, json!(100), json!({})).await;
    assert_eq!(first.data()["commission"].to_string(), "10.00");
    assert_eq!(second.data()["commission"].to_string(), "50.00", "200 in revenue reaches the 150 band");
}

async fn self_referral_is_scored_and_flagged(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let camp = app.campaign(&m.key, json!({})).await;
    let camp_id = camp["id"].as_str().unwrap();
    let aff = app.affiliate(&m.key, camp_id, "J.Smith+promo@Gmail.com").await;

    // Same person after normalising case, +tag and Gmail dots → 100, flagged.
    let r = app
        .convert(
            &m.key,
            camp_id,
            &aff,
            json!(50),
            json!({ "clickId": "click_1", "customerEmail": "jsmith@gmail.com" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.data()["status"], "pending");
    assert_eq!(r.data()["fraud"]["score"], 100);
    assert_eq!(r.data()["fraud"]["signals"], json!(["email_match"]));
    let id = r.data()["id"].as_str().unwrap().to_string();
    assert_eq!(app.get(&m.key, &format!("/api/v1/conversions/{id}")).await.data()["fraud"]["level"], "high");

    // Without clickId the check does not run (as documented by LinkJolt).
    let r =
        app.convert(&m.key, camp_id, &aff, json!(50), json!({ "customerEmail": "jsmith@gmail.com" })).await;
    assert!(r.data().get("fraud").is_none(), "{}", r.text);
    // Test keys skip it.
    let r = app
        .convert(
            &m.test_key,
            camp_id,
            &aff,
            json!(50),
            json!({ "clickId": "c", "customerEmail": "jsmith@gmail.com" }),
        )
        .await;
    assert!(r.data().get("fraud").is_none(), "{}", r.text);

    // Same company domain alone scores 40 (low); with the affiliate's own IP and device, 100.
    let corp = app.affiliate(&m.key, camp_id, "ann@corp.example").await;
    let now = refline_server::clock::now_ms();
    app.store
        .record_clicks(
            &[test_click("click_same_ip", &m.id, camp_id, &corp, Some("203.0.113.7"), Some("dev-1"), now)],
            &[],
        )
        .await
        .unwrap();
    let r = app
        .convert(
            &m.key,
            camp_id,
            &corp,
            json!(50),
            json!({ "clickId": "click_same_ip", "customerEmail": "bob@corp.example" }),
        )
        .await;
    assert_eq!(r.data()["fraud"]["score"], 40, "{}", r.text);
    assert_eq!(r.data()["fraud"]["level"], "low");
    assert_eq!(r.data()["fraud"]["signals"], json!(["email_domain_match"]));
    assert_eq!(r.data()["status"], "pending", "flagged conversions are still created");
    app.store.record_fingerprint(&corp, "ip", "203.0.113.7", now).await.unwrap();
    app.store.record_fingerprint(&corp, "device", "dev-1", now).await.unwrap();
    let r = app
        .convert(
            &m.key,
            camp_id,
            &corp,
            json!(50),
            json!({ "clickId": "click_same_ip", "customerEmail": "bob@corp.example" }),
        )
        .await;
    assert_eq!(r.data()["fraud"]["score"], 100, "{}", r.text);
    assert_eq!(r.data()["fraud"]["signals"], json!(["email_domain_match", "ip_match", "device_match"]));
}

async fn list_filters_sorts_and_reads(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (m, camp, aff) = setup(&app, "ultimate", json!({})).await;
    let other = app.campaign(&m.key, json!({ "name": "Second" })).await;
    let other_id = other["id"].as_str().unwrap();
    let aff2 = app.affiliate(&m.key, other_id, "two@affiliates.test").await;
    for amount in [30, 10, 20] {
        app.convert(&m.key, &camp, &aff, json!(amount), json!({})).await;
    }
    let c = app.convert(&m.key, other_id, &aff2, json!(5), json!({ "customerName": "Bo" })).await;
    let c_id = c.data()["id"].as_str().unwrap().to_string();
    app.patch(&m.key, &format!("/api/v1/conversions/{c_id}"), json!({ "status": "approved" })).await;

    let all = app.get(&m.key, "/api/v1/conversions").await;
    assert_eq!(all.body["pagination"], json!({ "page": 1, "limit": 25, "total": 4, "totalPages": 1 }));
    let by_campaign = app.get(&m.key, &format!("/api/v1/conversions?campaignId={camp}")).await;
    assert_eq!(by_campaign.body["pagination"]["total"], 3);
    let by_affiliate = app.get(&m.key, &format!("/api/v1/conversions?affiliateId={aff2}")).await;
    assert_eq!(by_affiliate.data()[0]["customerName"], "Bo");
    let approved = app.get(&m.key, "/api/v1/conversions?status=approved").await;
    assert_eq!(approved.body["pagination"]["total"], 1);
    let sorted = app.get(&m.key, &format!("/api/v1/conversions?campaignId={camp}&sort=amount:asc")).await;
    let amounts: Vec<&str> =
        sorted.data().as_array().unwrap().iter().map(|c| c["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, ["10.00", "20.00", "30.00"]);
    let page = app.get(&m.key, "/api/v1/conversions?limit=3&page=2").await;
    assert_eq!(page.data().as_array().unwrap().len(), 1);
    assert_eq!(page.body["pagination"]["totalPages"], 2);
    let today = &refline_domain::format_timestamp(refline_server::clock::now_ms())[..10];
    let in_range = app.get(&m.key, &format!("/api/v1/conversions?from={today}&to={today}")).await;
    assert_eq!(in_range.body["pagination"]["total"], 4, "a bare `to` date covers the whole day");
    let future = app.get(&m.key, "/api/v1/conversions?from=2999-01-01T00:00:00Z").await;
    assert_eq!(future.body["pagination"]["total"], 0);
    for bad in ["from=yesterday", "to=2026-13-01", "status=lost", "sort=orderId:asc"] {
        let r = app.get(&m.key, &format!("/api/v1/conversions?{bad}")).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "validation_error"), "{bad}");
    }
    let one = app.get(&m.key, &format!("/api/v1/conversions/{c_id}")).await;
    assert_eq!(one.data()["status"], "approved");
    assert_eq!(one.data()["amount"], "5.00");
    let missing = app.get(&m.key, "/api/v1/conversions/conv_nope").await;
    assert_eq!((missing.status, missing.code()), (StatusCode::NOT_FOUND, "not_found"));

    let stats = app.get(&m.key, "/api/v1/stats").await;
    assert!(
        stats.text.contains(
            r#""totalRevenue":65.00,"totalCommissions":13.00,"totalConversions":4,"totalAffiliates":2"#
        ),
        "{}",
        stats.text
    );
    let stats = app.get(&m.key, "/api/v1/stats?from=2999-01-01").await;
    assert_eq!(stats.data()["totalConversions"], 0);
}

async fn status_changes_follow_the_lifecycle(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (m, camp, aff) = setup(&app, "ultimate", json!({})).await;
    let id_of = |r: &crate::support::Reply| r.data()["id"].as_str().unwrap().to_string();
    let a = id_of(&app.convert(&m.key, &camp, &aff, json!(10), json!({})).await);
    let path = format!("/api/v1/conversions/{a}");

    let r = app.patch(&m.key, &path, json!({ "status": "approved" })).await;
    assert_eq!((r.status, r.data()["status"].as_str()), (StatusCode::OK, Some("approved")));
    // Idempotent repeat.
    assert_eq!(app.patch(&m.key, &path, json!({ "status": "approved" })).await.status, StatusCode::OK);
    let r = app.patch(&m.key, &path, json!({ "status": "rejected" })).await;
    assert_eq!(r.data()["status"], "rejected");
    let r = app.patch(&m.key, &path, json!({ "status": "approved" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "invalid_transition"));
    for body in
        [json!({ "status": "paid" }), json!({}), json!({ "status": "approved", "confirmAboveSale": "yes" })]
    {
        let r = app.patch(&m.key, &path, body.clone()).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "validation_error"), "{body}");
    }

    // Refunded is terminal.
    let b = id_of(&app.convert(&m.key, &camp, &aff, json!(10), json!({})).await);
    assert!(app
        .store
        .update_conversion_status(
            &m.id,
            &b,
            ConversionStatus::Pending,
            ConversionStatus::Refunded,
            0,
            Mode::Live
        )
        .await
        .unwrap());
    let r = app.patch(&m.key, &format!("/api/v1/conversions/{b}"), json!({ "status": "approved" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "invalid_transition"));

    // A commission over 5x its sale needs confirmation.
    let big = app.campaign(&m.key, json!({ "commissionType": "fixed", "commissionValue": 60 })).await;
    let big_id = big["id"].as_str().unwrap();
    let aff2 = app.affiliate(&m.key, big_id, "big@affiliates.test").await;
    let c = id_of(&app.convert(&m.key, big_id, &aff2, json!(10), json!({})).await);
    let cpath = format!("/api/v1/conversions/{c}");
    let r = app.patch(&m.key, &cpath, json!({ "status": "approved" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "commission_above_sale"));
    assert_eq!(app.get(&m.key, &cpath).await.data()["status"], "pending", "nothing changed");
    let r = app.patch(&m.key, &cpath, json!({ "status": "approved", "confirmAboveSale": true })).await;
    assert_eq!(r.data()["status"], "approved");
    // Exactly 5x is allowed without confirmation.
    let d = id_of(&app.convert(&m.key, big_id, &aff2, json!(12), json!({})).await);
    let r = app.patch(&m.key, &format!("/api/v1/conversions/{d}"), json!({ "status": "approved" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn renewals_follow_the_recurring_settings(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let campaign = json!({
        "recurringCommissionEnabled": true,
        "recurringCommissionMode": "payments",
        "recurringCommissionCount": 3,
        "recurringCommissionType": "custom",
        "recurringCommissionValue": 10,
    });
    let (m, camp, aff) = setup(&app, "ultimate", campaign).await;
    let first = app.convert(&m.key, &camp, &aff, json!(100), json!({ "conversionType": "recurring" })).await;
    assert_eq!(first.data()["commission"].to_string(), "20.00");
    assert_eq!(first.data()["conversionType"], "recurring");
    let parent = first.data()["id"].as_str().unwrap().to_string();
    let renew = json!({ "conversionType": "recurring", "parentConversionId": parent });
    let second = app.convert(&m.key, &camp, &aff, json!(100), renew.clone()).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.data()["commission"].to_string(), "10.00", "custom recurring rate");
    assert_eq!(second.data()["paymentNumber"], 2);
    assert_eq!(second.data()["parentConversionId"], parent.as_str());
    assert_eq!(app.convert(&m.key, &camp, &aff, json!(100), renew.clone()).await.data()["paymentNumber"], 3);
    let fourth = app.convert(&m.key, &camp, &aff, json!(100), renew).await;
    assert_eq!((fourth.status, fourth.code()), (StatusCode::UNPROCESSABLE_ENTITY, "recurring_limit_reached"));

    let (m2, camp2, aff2) = setup(&app, "ultimate", json!({})).await;
    let first = app.convert(&m2.key, &camp2, &aff2, json!(100), json!({})).await;
    let parent = first.data()["id"].as_str().unwrap();
    let r = app
        .convert(
            &m2.key,
            &camp2,
            &aff2,
            json!(100),
            json!({ "conversionType": "recurring", "parentConversionId": parent }),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "recurring_commission_disabled"));
    let r = app
        .convert(
            &m2.key,
            &camp2,
            &aff2,
            json!(100),
            json!({ "conversionType": "recurring", "parentConversionId": "conv_nope" }),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
}

async fn a_type_change_drops_a_recurring_value_in_the_old_unit(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let camp = app
        .campaign(&m.key, json!({ "recurringCommissionType": "same", "recurringCommissionValue": 20 }))
        .await;
    assert_eq!(camp["recurringCommissionValue"], "20");
    let path = format!("/api/v1/campaigns/{}", camp["id"].as_str().unwrap());
    let fixed = app.patch(&m.key, &path, json!({ "commissionType": "fixed", "commissionValue": 5 })).await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text);
    assert_eq!(
        fixed.data()["recurringCommissionValue"],
        Value::Null,
        "20 % must not become a fixed 0.20 or 2,000.00"
    );
    // Switching to a custom recurring rate now needs its value in the new unit.
    let custom = app.patch(&m.key, &path, json!({ "recurringCommissionType": "custom" })).await;
    assert_eq!(custom.status, StatusCode::BAD_REQUEST);
}

async fn concurrent_duplicates_have_one_winner(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (m, camp, aff) = setup(&app, "ultimate", json!({})).await;
    let body = json!({ "campaignId": camp, "affiliateId": aff, "amount": 10, "orderId": "race-1" });
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (client, url, key, body, barrier) =
            (app.client(), app.url("/api/v1/conversions"), m.key.clone(), body.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            let response = client.post(url).bearer_auth(key).json(&body).send().await.unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        });
    }
    let replies = tasks.join_all().await;
    let created: Vec<&Value> =
        replies.iter().filter(|(s, _)| *s == StatusCode::CREATED).map(|(_, b)| b).collect();
    let duplicates: Vec<&Value> = replies
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["error"]["code"] == "duplicate")
        .map(|(_, b)| b)
        .collect();
    assert_eq!((created.len(), duplicates.len()), (1, 49), "{replies:?}");
    let winner = &created[0]["data"]["id"];
    assert!(duplicates.iter().all(|b| &b["error"]["details"]["conversionId"] == winner));
    assert_eq!(app.get(&m.key, "/api/v1/conversions").await.body["pagination"]["total"], 1);
    // Test and live order ids are separate namespaces.
    let r = app.post(&m.test_key, "/api/v1/conversions", body).await;
    assert_eq!(r.status, StatusCode::CREATED);
}

engine_tests!(
    commission_is_computed_from_the_campaign,
    amounts_and_fields_are_validated,
    refusals_use_the_documented_codes,
    a_retried_order_is_a_duplicate_whatever_changed_since,
    monthly_earnings_cap_blocks_live_conversions,
    default_caps_follow_the_plans,
    tiers_apply_the_band_reached_with_this_sale,
    self_referral_is_scored_and_flagged,
    list_filters_sorts_and_reads,
    status_changes_follow_the_lifecycle,
    renewals_follow_the_recurring_settings,
    concurrent_duplicates_have_one_winner,
    a_type_change_drops_a_recurring_value_in_the_old_unit,
);

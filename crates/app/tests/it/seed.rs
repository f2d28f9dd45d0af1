//! The LinkJolt guide "Track a conversion via API", run exactly as written.

use refline_store::{Affiliate, Campaign, Membership};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::{
    engine_tests,
    support::{Engine, TestApp},
};

const SEED_BODY: &str = include_str!("../fixtures/seed-conversion.json");

/// The guide uses the ids `camp_abc` and `aff_xyz`; the API generates ids, so the fixture rows
/// are written through the store with exactly those ids (a 20 % campaign, as in the guide).
async fn seed_fixture(app: &TestApp, merchant_id: &str) {
    let now = refline_server::clock::now_ms();
    let campaign = Campaign {
        name: "Summer Launch".into(),
        target_url: Some("https://example.com/pricing".into()),
        ..Campaign::with_defaults("camp_abc", merchant_id, "SUMMER24", "usd", now)
    };
    app.store.insert_campaign(&campaign).await.expect("campaign");
    let affiliate = Affiliate {
        id: "aff_xyz".into(),
        merchant_id: merchant_id.into(),
        email: "jane@partner.test".into(),
        name: Some("Jane".into()),
        created_via: "api".into(),
        created_at: now,
        payout_method: None,
    };
    let membership = Membership {
        campaign_id: "camp_abc".into(),
        affiliate_id: "aff_xyz".into(),
        merchant_id: merchant_id.into(),
        status: refline_domain::MembershipStatus::Approved,
        joined_at: now,
        updated_at: now,
    };
    app.store.create_affiliate(&affiliate, &membership, refline_domain::Mode::Test).await.expect("affiliate");
}

async fn seed_page_works_exactly(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    seed_fixture(&app, &m.id).await;

    // Step 2: list campaigns, and affiliates in a campaign.
    let campaigns = app.get(&m.key, "/api/v1/campaigns").await;
    assert_eq!(campaigns.status, StatusCode::OK);
    assert_eq!(campaigns.data()[0]["id"], "camp_abc");
    assert_eq!(campaigns.data()[0]["commissionValue"], "20");
    let affiliates = app.get(&m.key, "/api/v1/affiliates?campaignId=camp_abc").await;
    assert_eq!(affiliates.status, StatusCode::OK);
    assert_eq!(affiliates.data()[0]["id"], "aff_xyz");
    assert_eq!(affiliates.data()[0]["status"], "approved");

    // Step 3: the request body of the guide, byte for byte.
    let reply = app
        .send_raw(
            Method::POST,
            &m.key,
            "/api/v1/conversions",
            SEED_BODY.as_bytes().to_vec(),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let data = reply.data().as_object().expect("data object");
    let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "affiliateId",
            "amount",
            "campaignId",
            "commission",
            "conversionType",
            "createdAt",
            "currency",
            "id",
            "orderId",
            "source",
            "status"
        ]
    );
    assert!(data["id"].as_str().unwrap().starts_with("conv_"));
    assert_eq!(data["campaignId"], "camp_abc");
    assert_eq!(data["affiliateId"], "aff_xyz");
    assert_eq!(data["currency"], "usd");
    assert_eq!(data["status"], "pending");
    assert_eq!(data["orderId"], "invoice-2026-001");
    assert_eq!(data["conversionType"], "one_time");
    assert_eq!(data["source"], "api");
    // Money is a JSON number with two decimals, exactly as printed in the guide.
    assert!(reply.text.contains(r#""amount":99.00,"commission":19.80"#), "{}", reply.text);
    let created = data["createdAt"].as_str().unwrap();
    assert_eq!(created.len(), 20, "second precision with Z: {created}");
    assert!(created.ends_with('Z'));

    // Sending the same orderId again: 409 duplicate naming the existing conversion.
    let again =
        app.send_raw(Method::POST, &m.key, "/api/v1/conversions", SEED_BODY.as_bytes().to_vec(), &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "duplicate");
    assert_eq!(again.body["error"]["details"]["conversionId"], data["id"]);

    // In reads, money is a decimal string as in the API reference.
    let listed = app.get(&m.key, "/api/v1/conversions").await;
    assert_eq!(listed.data()[0]["amount"], Value::from("99.00"));
    assert_eq!(listed.data()[0]["commission"], Value::from("19.80"));
    app.stop().await;
}

engine_tests!(seed_page_works_exactly);

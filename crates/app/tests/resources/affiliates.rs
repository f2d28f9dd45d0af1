//! `/api/v1/affiliates`: API-created affiliates, duplicates per merchant, list filters, the
//! detail view with memberships and earnings, and membership approval and rejection.

use refline_store::Membership;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{Engine, TestApp},
    util::{assert_error, assert_recent_timestamp, assert_validation, conversion, list_ids},
};

/// Puts an existing affiliate on another campaign with `status`, as a join form would.
/// Waits a little first, so the new membership is strictly the affiliate's latest.
async fn add_membership(
    app: &TestApp,
    merchant_id: &str,
    campaign_id: &str,
    affiliate_id: &str,
    status: &str,
) {
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let now = refline_server::clock::now_ms();
    let membership = Membership {
        campaign_id: campaign_id.into(),
        affiliate_id: affiliate_id.into(),
        merchant_id: merchant_id.into(),
        status: refline_domain::MembershipStatus::parse(status).expect("a membership status"),
        joined_at: now,
        updated_at: now,
    };
    app.store.insert_membership(&membership).await.expect("membership");
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_string()
}

async fn create_affiliate_through_the_api(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let campaign = app.campaign(&m.key, json!({ "name": "Partner Programme" })).await;
    let campaign_id = id_of(&campaign);
    let body = json!({ "email": "  Jane.Doe@Example.COM ", "name": "Jane Doe", "campaignId": campaign_id });
    let reply = app.post(&m.key, "/api/v1/affiliates", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let data = reply.data();
    let id = id_of(data);
    assert!(id.starts_with("aff_"), "{id}");
    assert_eq!(data["email"], "jane.doe@example.com");
    assert_eq!(data["name"], "Jane Doe");
    assert_eq!(data["status"], "approved");
    assert_eq!(data["createdVia"], "api");
    assert_eq!(data["campaignId"], Value::from(campaign_id.clone()));
    assert_eq!(data["campaignName"], "Partner Programme");
    let code = campaign["trackingCode"].as_str().expect("trackingCode");
    assert_eq!(data["trackingLink"], Value::from(format!("{}/redirect?tc={code}&aff={id}", app.base)));
    assert_recent_timestamp(&data["joinedAt"]);

    // The stored row, and the list, agree.
    let read = app.get(&m.key, &format!("/api/v1/affiliates/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.data()["email"], "jane.doe@example.com");
    assert_eq!(read.data()["createdVia"], "api");
    assert_eq!(read.data()["status"], "approved");
    let listed = app.get(&m.key, "/api/v1/affiliates").await;
    assert_eq!(list_ids(&listed), [id.as_str()]);
    assert_eq!(listed.data()[0]["email"], "jane.doe@example.com");
    assert_eq!(listed.data()[0]["trackingLink"], data["trackingLink"]);
    // The campaign counts its affiliate.
    let campaign = app.get(&m.key, &format!("/api/v1/campaigns/{campaign_id}")).await;
    assert_eq!(campaign.data()["affiliateCount"], 1);

    // The name is optional; the affiliate can be credited at once.
    let reply = app
        .post(&m.key, "/api/v1/affiliates", json!({ "email": "anon@x.test", "campaignId": campaign_id }))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.data()["name"], Value::Null);
    let converted = app.convert(&m.key, &campaign_id, &id, json!(10), json!({})).await;
    assert_eq!(converted.status, StatusCode::CREATED, "{}", converted.text);
    app.stop().await;
}

async fn one_email_per_merchant(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let a = app.merchant("ultimate").await;
    let b = app.merchant("ultimate").await;
    let campaign_a = id_of(&app.campaign(&a.key, json!({})).await);
    let second_a = id_of(&app.campaign(&a.key, json!({ "name": "Second" })).await);
    let first = app.affiliate(&a.key, &campaign_a, "dup@partner.test").await;

    for email in ["dup@partner.test", "DUP@Partner.Test"] {
        for campaign in [&campaign_a, &second_a] {
            let body = json!({ "email": email, "name": "Again", "campaignId": campaign });
            let reply = app.post(&a.key, "/api/v1/affiliates", body).await;
            assert_error(&reply, StatusCode::CONFLICT, "duplicate");
            assert_eq!(
                reply.body["error"]["details"]["affiliateId"],
                Value::from(first.clone()),
                "{}",
                reply.text
            );
        }
    }
    // The refused attempts left nothing behind.
    let listed = app.get(&a.key, "/api/v1/affiliates").await;
    assert_eq!(list_ids(&listed), [first.as_str()]);
    let detail = app.get(&a.key, &format!("/api/v1/affiliates/{first}")).await;
    assert_eq!(detail.data()["name"], "Aff");
    assert_eq!(detail.data()["memberships"].as_array().expect("memberships").len(), 1);

    // Another merchant may have a partner with the same email: a separate affiliate.
    let campaign_b = id_of(&app.campaign(&b.key, json!({ "name": "B Programme" })).await);
    let reply = app
        .post(&b.key, "/api/v1/affiliates", json!({ "email": "Dup@partner.test", "campaignId": campaign_b }))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let other = id_of(reply.data());
    assert_ne!(other, first);
    assert_eq!(reply.data()["campaignId"], Value::from(campaign_b.clone()));
    assert_eq!(reply.data()["campaignName"], "B Programme");
    for leaked in [&a.id, &first, &campaign_a, &second_a] {
        assert!(!reply.text.contains(leaked.as_str()), "B's answer mentions {leaked}: {}", reply.text);
    }
    assert_eq!(list_ids(&app.get(&b.key, "/api/v1/affiliates").await), [other.as_str()]);
    assert_eq!(list_ids(&app.get(&a.key, "/api/v1/affiliates").await), [first]);
    app.stop().await;
}

async fn create_validation(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let other = app.merchant("ultimate").await;
    let campaign = id_of(&app.campaign(&m.key, json!({})).await);
    let foreign = id_of(&app.campaign(&other.key, json!({})).await);

    for email in ["not-an-email", "a@b", "two@@x.test", "sp ace@x.test"] {
        let reply =
            app.post(&m.key, "/api/v1/affiliates", json!({ "email": email, "campaignId": campaign })).await;
        assert_validation(&reply, &[json!(["email"])]);
    }
    let reply = app.post(&m.key, "/api/v1/affiliates", json!({ "email": 42, "campaignId": campaign })).await;
    assert_validation(&reply, &[json!(["email"])]);
    let reply = app.post(&m.key, "/api/v1/affiliates", json!({ "email": "ok@x.test" })).await;
    assert_validation(&reply, &[json!(["campaignId"])]);
    let reply = app.post(&m.key, "/api/v1/affiliates", json!({ "name": "Nobody" })).await;
    assert_validation(&reply, &[json!(["email"]), json!(["campaignId"])]);
    let reply =
        app.post(&m.key, "/api/v1/affiliates", json!({ "email": "ok@x.test", "campaignId": foreign })).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = app
        .post(
            &m.key,
            "/api/v1/affiliates",
            json!({ "email": "ok@x.test", "campaignId": "camp_00000000000000000000" }),
        )
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");

    // Nothing was created, for either merchant; the email is still free.
    assert!(list_ids(&app.get(&m.key, "/api/v1/affiliates").await).is_empty());
    assert!(list_ids(&app.get(&other.key, "/api/v1/affiliates").await).is_empty());
    app.affiliate(&m.key, &campaign, "ok@x.test").await;
    app.stop().await;
}

async fn list_filters_by_campaign_and_status(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let first = id_of(&app.campaign(&m.key, json!({ "name": "First" })).await);
    let second = id_of(&app.campaign(&m.key, json!({ "name": "Second" })).await);
    let xavier = app.affiliate(&m.key, &first, "xavier@partner.test").await;
    let yara = app.affiliate(&m.key, &first, "yara@partner.test").await;
    add_membership(&app, &m.id, &second, &xavier, "pending").await;
    // 100.00 at 20 %: 20.00 for Xavier on the first campaign.
    conversion(&app, &m.key, &first, &xavier, json!(100)).await;

    let all = app.get(&m.key, "/api/v1/affiliates").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.body["pagination"]["total"], 3, "one row per membership: {}", all.text);
    let rows = all.data().as_array().expect("rows");
    let row = |affiliate: &str, campaign: &str| -> Value {
        rows.iter()
            .find(|r| r["id"] == affiliate && r["campaignId"] == campaign)
            .cloned()
            .unwrap_or_else(|| panic!("no row for {affiliate} on {campaign}: {}", all.text))
    };
    let earning = row(&xavier, &first);
    assert_eq!(earning["earnings"], "20.00");
    assert_eq!(earning["clicks"], 0);
    assert_eq!(earning["status"], "approved");
    assert_eq!(earning["campaignName"], "First");
    assert_eq!(earning["email"], "xavier@partner.test");
    let pending = row(&xavier, &second);
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["earnings"], "0.00");
    assert_eq!(pending["campaignName"], "Second");
    assert_eq!(row(&yara, &first)["earnings"], "0.00");
    for r in rows {
        assert!(r["earnings"].is_string(), "earnings is a decimal string: {r}");
        assert!(r["clicks"].is_i64(), "clicks is a number: {r}");
    }

    let on_second = app.get(&m.key, &format!("/api/v1/affiliates?campaignId={second}")).await;
    assert_eq!(list_ids(&on_second), [xavier.as_str()]);
    assert_eq!(on_second.data()[0]["status"], "pending");
    assert_eq!(on_second.body["pagination"]["total"], 1);
    let on_first = app.get(&m.key, &format!("/api/v1/affiliates?campaignId={first}")).await;
    let mut ids = list_ids(&on_first);
    ids.sort();
    let mut expected = vec![xavier.clone(), yara.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let pendings = app.get(&m.key, "/api/v1/affiliates?status=pending").await;
    assert_eq!(list_ids(&pendings), [xavier.as_str()]);
    assert_eq!(pendings.data()[0]["campaignId"], Value::from(second.clone()));
    assert_eq!(pendings.body["pagination"]["total"], 1);
    let approved = app.get(&m.key, "/api/v1/affiliates?status=approved").await;
    assert_eq!(approved.body["pagination"]["total"], 2);
    assert!(approved.data().as_array().expect("rows").iter().all(|r| r["status"] == "approved"));
    let both = app.get(&m.key, &format!("/api/v1/affiliates?campaignId={second}&status=approved")).await;
    assert!(list_ids(&both).is_empty());
    assert_eq!(both.body["pagination"]["total"], 0);
    let rejected = app.get(&m.key, "/api/v1/affiliates?status=rejected").await;
    assert!(list_ids(&rejected).is_empty());
    let unknown = app.get(&m.key, "/api/v1/affiliates?campaignId=camp_00000000000000000000").await;
    assert!(list_ids(&unknown).is_empty());

    let bogus = app.get(&m.key, "/api/v1/affiliates?status=bogus").await;
    assert_validation(&bogus, &[json!(["status"])]);

    // Sorting by email, and paging over membership rows.
    let by_email = app.get(&m.key, "/api/v1/affiliates?sort=email:desc&limit=1").await;
    assert_eq!(list_ids(&by_email), [yara]);
    assert_eq!(by_email.body["pagination"], json!({ "page": 1, "limit": 1, "total": 3, "totalPages": 3 }));
    app.stop().await;
}

async fn detail_shows_memberships_and_earnings(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let first = app.campaign(&m.key, json!({ "name": "First" })).await;
    let second = app
        .campaign(&m.key, json!({ "name": "Second", "commissionType": "fixed", "commissionValue": 7.5 }))
        .await;
    let (first_id, second_id) = (id_of(&first), id_of(&second));
    let affiliate = app.affiliate(&m.key, &first_id, "detail@partner.test").await;
    add_membership(&app, &m.id, &second_id, &affiliate, "approved").await;

    // First: 20 % of 100.00 and of 50.00 (rejected later); second: 7.50 flat.
    conversion(&app, &m.key, &first_id, &affiliate, json!(100)).await;
    let refused = conversion(&app, &m.key, &first_id, &affiliate, json!(50)).await;
    let flat = conversion(&app, &m.key, &second_id, &affiliate, json!(1000)).await;
    let approve =
        app.patch(&m.key, &format!("/api/v1/conversions/{flat}"), json!({ "status": "approved" })).await;
    assert_eq!(approve.status, StatusCode::OK, "{}", approve.text);

    let path = format!("/api/v1/affiliates/{affiliate}");
    let read = app.get(&m.key, &path).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let data = read.data();
    assert_eq!(data["id"], Value::from(affiliate.clone()));
    assert_eq!(data["email"], "detail@partner.test");
    assert_eq!(data["totalEarnings"], "37.50", "20.00 + 10.00 + 7.50: {}", read.text);
    let link = |campaign: &Value| {
        format!(
            "{}/redirect?tc={}&aff={affiliate}",
            app.base,
            campaign["trackingCode"].as_str().expect("code")
        )
    };
    assert_eq!(data["trackingLink"], Value::from(link(&first)));
    let memberships = data["memberships"].as_array().expect("memberships");
    assert_eq!(memberships.len(), 2, "{}", read.text);
    let on = |campaign_id: &str| {
        memberships
            .iter()
            .find(|x| x["campaignId"] == campaign_id)
            .unwrap_or_else(|| panic!("no membership on {campaign_id}"))
    };
    let one = on(&first_id);
    assert_eq!(one["campaignName"], "First");
    assert_eq!(one["status"], "approved");
    assert_eq!(one["earnings"], "30.00");
    assert_eq!(one["trackingLink"], Value::from(link(&first)));
    assert_recent_timestamp(&one["joinedAt"]);
    let two = on(&second_id);
    assert_eq!(two["campaignName"], "Second");
    assert_eq!(two["status"], "approved");
    assert_eq!(two["earnings"], "7.50");
    assert_eq!(two["trackingLink"], Value::from(link(&second)));
    assert_recent_timestamp(&two["joinedAt"]);

    // A rejected conversion earns nothing.
    let reject =
        app.patch(&m.key, &format!("/api/v1/conversions/{refused}"), json!({ "status": "rejected" })).await;
    assert_eq!(reject.status, StatusCode::OK, "{}", reject.text);
    let read = app.get(&m.key, &path).await;
    assert_eq!(read.data()["totalEarnings"], "27.50");
    let first_row = read.data()["memberships"]
        .as_array()
        .expect("memberships")
        .iter()
        .find(|x| x["campaignId"] == first_id.as_str())
        .cloned()
        .expect("first membership");
    assert_eq!(first_row["earnings"], "20.00");

    // Test-mode conversions are only counted for the test key.
    conversion(&app, &m.test_key, &first_id, &affiliate, json!(500)).await;
    assert_eq!(app.get(&m.key, &path).await.data()["totalEarnings"], "27.50");
    assert_eq!(app.get(&m.test_key, &path).await.data()["totalEarnings"], "100.00");

    let missing = app.get(&m.key, "/api/v1/affiliates/aff_00000000000000000000").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    app.stop().await;
}

async fn membership_approval_and_rejection(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let first = id_of(&app.campaign(&m.key, json!({ "name": "First" })).await);
    let second = id_of(&app.campaign(&m.key, json!({ "name": "Second" })).await);
    let elsewhere = id_of(&app.campaign(&m.key, json!({ "name": "Elsewhere" })).await);
    let affiliate = app.affiliate(&m.key, &first, "moves@partner.test").await;
    add_membership(&app, &m.id, &second, &affiliate, "pending").await;
    let path = format!("/api/v1/affiliates/{affiliate}");
    let status_on = |reply: &crate::support::Reply, campaign: &str| -> Value {
        reply.data()["memberships"]
            .as_array()
            .expect("memberships")
            .iter()
            .find(|x| x["campaignId"] == campaign)
            .map(|x| x["status"].clone())
            .unwrap_or(Value::Null)
    };

    // A pending affiliate cannot be credited until approved.
    let early = app.convert(&m.key, &second, &affiliate, json!(10), json!({})).await;
    assert_error(&early, StatusCode::BAD_REQUEST, "affiliate_not_approved");

    let approved = app.patch(&m.key, &path, json!({ "campaignId": second, "status": "approved" })).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.data()["id"], Value::from(affiliate.clone()));
    assert_eq!(status_on(&approved, &second), "approved");
    assert_eq!(status_on(&app.get(&m.key, &path).await, &second), "approved");
    let credited = app.convert(&m.key, &second, &affiliate, json!(10), json!({})).await;
    assert_eq!(credited.status, StatusCode::CREATED, "{}", credited.text);

    // Same status again: a no-op.
    let again = app.patch(&m.key, &path, json!({ "campaignId": second, "status": "approved" })).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(status_on(&again, &second), "approved");

    let rejected = app.patch(&m.key, &path, json!({ "campaignId": second, "status": "rejected" })).await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(status_on(&rejected, &second), "rejected");
    assert_eq!(status_on(&rejected, &first), "approved", "only the named campaign changes");
    let refused = app.convert(&m.key, &second, &affiliate, json!(10), json!({})).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "affiliate_not_approved");

    // Rejection is final.
    let back = app.patch(&m.key, &path, json!({ "campaignId": second, "status": "approved" })).await;
    assert_error(&back, StatusCode::CONFLICT, "invalid_transition");
    assert_eq!(status_on(&app.get(&m.key, &path).await, &second), "rejected");
    let still = app.patch(&m.key, &path, json!({ "campaignId": second, "status": "rejected" })).await;
    assert_eq!(still.status, StatusCode::OK, "{}", still.text);
    assert_eq!(status_on(&still, &second), "rejected");
    let filtered = app.get(&m.key, "/api/v1/affiliates?status=rejected").await;
    assert_eq!(list_ids(&filtered), [affiliate.as_str()]);

    // Bad requests.
    let no_campaign = app.patch(&m.key, &path, json!({ "status": "approved" })).await;
    assert_validation(&no_campaign, &[json!(["campaignId"])]);
    let to_pending = app.patch(&m.key, &path, json!({ "campaignId": first, "status": "pending" })).await;
    assert_validation(&to_pending, &[json!(["status"])]);
    let no_status = app.patch(&m.key, &path, json!({ "campaignId": first })).await;
    assert_validation(&no_status, &[json!(["status"])]);
    let nothing = app.patch(&m.key, &path, json!({})).await;
    assert_validation(&nothing, &[json!(["campaignId"]), json!(["status"])]);
    let not_member = app.patch(&m.key, &path, json!({ "campaignId": elsewhere, "status": "approved" })).await;
    assert_error(&not_member, StatusCode::NOT_FOUND, "not_found");
    let unknown = app
        .patch(
            &m.key,
            "/api/v1/affiliates/aff_00000000000000000000",
            json!({ "campaignId": first, "status": "approved" }),
        )
        .await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
    // None of that changed anything.
    let read = app.get(&m.key, &path).await;
    assert_eq!(status_on(&read, &first), "approved");
    assert_eq!(status_on(&read, &elsewhere), Value::Null);
    assert_eq!(read.data()["memberships"].as_array().expect("memberships").len(), 2);
    app.stop().await;
}

/// Earnings are amounts of the campaign's currency: a yen campaign of a dollar merchant shows
/// whole yen, not hundredths of them.
async fn earnings_use_the_campaign_currency(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let campaign = app
        .campaign(
            &m.key,
            json!({ "name": "Yen", "currency": "jpy", "commissionType": "fixed", "commissionValue": 500 }),
        )
        .await;
    assert_eq!(campaign["commissionValue"], "500");
    let campaign_id = id_of(&campaign);
    let affiliate = app.affiliate(&m.key, &campaign_id, "yen@partner.test").await;
    let sale = app.convert(&m.key, &campaign_id, &affiliate, json!(10000), json!({})).await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    assert!(sale.text.contains(r#""commission":500"#), "{}", sale.text);
    let read = app.get(&m.key, &format!("/api/v1/campaigns/{campaign_id}")).await;
    assert_eq!(read.data()["revenue"], "10000");

    let detail = app.get(&m.key, &format!("/api/v1/affiliates/{affiliate}")).await;
    assert_eq!(detail.data()["memberships"][0]["earnings"], "500", "{}", detail.text);
    let listed = app.get(&m.key, "/api/v1/affiliates").await;
    assert_eq!(listed.data()[0]["earnings"], "500", "{}", listed.text);
    app.stop().await;
}

engine_tests!(
    create_affiliate_through_the_api,
    one_email_per_merchant,
    create_validation,
    list_filters_by_campaign_and_status,
    detail_shows_memberships_and_earnings,
    membership_approval_and_rejection,
    earnings_use_the_campaign_currency,
);

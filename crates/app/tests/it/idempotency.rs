//! `Idempotency-Key` on writes (beyond LinkJolt).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{
    engine_tests,
    support::{Engine, TestApp},
};

async fn same_key_same_body_replays_the_first_answer(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let camp = app.campaign(&m.key, json!({})).await;
    let camp_id = camp["id"].as_str().unwrap();
    let aff = app.affiliate(&m.key, camp_id, "idem@affiliates.test").await;
    let body =
        serde_json::to_vec(&json!({ "campaignId": camp_id, "affiliateId": aff, "amount": 42 })).unwrap();
    let headers = [("idempotency-key", "order-42-attempt"), ("content-type", "application/json")];

    let first = app.send_raw(Method::POST, &m.key, "/api/v1/conversions", body.clone(), &headers).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert!(first.header("idempotent-replayed").is_none());
    let second = app.send_raw(Method::POST, &m.key, "/api/v1/conversions", body.clone(), &headers).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.text, first.text, "the stored answer is replayed byte for byte");
    assert_eq!(app.get(&m.key, "/api/v1/conversions").await.body["pagination"]["total"], 1, "work done once");

    // Same key, different body → 422.
    let other =
        serde_json::to_vec(&json!({ "campaignId": camp_id, "affiliateId": aff, "amount": 43 })).unwrap();
    let r = app.send_raw(Method::POST, &m.key, "/api/v1/conversions", other, &headers).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));

    // Live and test traffic never replay each other's answers.
    let test_body =
        serde_json::to_vec(&json!({ "campaignId": camp_id, "affiliateId": aff, "amount": 42 })).unwrap();
    let r = app.send_raw(Method::POST, &m.test_key, "/api/v1/conversions", test_body, &headers).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.header("idempotent-replayed").is_none());
    assert_eq!(r.data()["isTest"], true);

    // Keys are scoped per merchant: another merchant may use the same key freely.
    let n = app.merchant("ultimate").await;
    let r = app
        .send_raw(
            Method::POST,
            &n.key,
            "/api/v1/campaigns",
            br#"{"name":"Mine","commissionType":"fixed","commissionValue":5}"#.to_vec(),
            &headers,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Error answers are replayed too (the request reached the handler).
    let bad = br#"{"campaignId":"camp_missing","affiliateId":"aff_missing","amount":1}"#.to_vec();
    let h = [("idempotency-key", "bad-one")];
    let r1 = app.send_raw(Method::POST, &m.key, "/api/v1/conversions", bad.clone(), &h).await;
    let r2 = app.send_raw(Method::POST, &m.key, "/api/v1/conversions", bad, &h).await;
    assert_eq!((r1.status, r2.status), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(r2.header("idempotent-replayed"), Some("true"));

    // PATCH takes the header as well; an over-long key is a validation error.
    let long = "k".repeat(300);
    let r =
        app.send_raw(Method::POST, &m.key, "/api/v1/conversions", body, &[("idempotency-key", &long)]).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "validation_error"));
}

async fn writes_and_failed_auth_are_audited(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let camp = app.campaign(&m.key, json!({})).await;
    let camp_id = camp["id"].as_str().unwrap();
    let r = app.convert(&m.key, camp_id, "aff_unknown", json!(1), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.get(&m.key, "/api/v1/campaigns").await;

    let entries = app.request_audit_entries(Some(&m.id), 2).await;
    assert_eq!(entries.len(), 2, "the successful GET is not audited: {entries:?}");
    let failed = &entries[0];
    assert_eq!(
        (failed.method.as_deref(), failed.path.as_deref()),
        (Some("POST"), Some("/api/v1/conversions"))
    );
    assert_eq!((failed.status_code, failed.error_code.as_deref()), (Some(404), Some("not_found")));
    assert_eq!((failed.door.as_str(), failed.operation.as_deref()), ("api", Some("conversion.record")));
    assert_eq!(failed.ip_address.as_deref(), Some("127.0.0.1"));
    assert!(failed.api_key_id.as_deref().is_some_and(|k| k.starts_with("key_")));
    let created = &entries[1];
    assert_eq!(
        (created.path.as_deref(), created.status_code, created.error_code.as_deref()),
        (Some("/api/v1/campaigns"), Some(201), None)
    );
    assert_eq!(
        (created.operation.as_deref(), created.target_id.as_deref()),
        (Some("campaign.create"), Some(camp_id)),
        "the request's entry names the operation it ran and the object it made"
    );
    assert!(created.created_at > 0);

    // A user agent of this test's own: on PostgreSQL other tests' failed keys land in the same log.
    let marker = "idempotency-test/failed-auth";
    let r = app
        .client()
        .get(app.url("/api/v1/me"))
        .bearer_auth("lj_pk_thisKeyDoesNotExist0000000000000000")
        .header("user-agent", marker)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let last = &app.audit_entry(None, |e| e.user_agent.as_deref() == Some(marker)).await;
    assert_eq!(
        (last.status_code, last.error_code.as_deref(), last.api_key_id.as_deref()),
        (Some(401), Some("unauthorized"), None)
    );
    assert_eq!(last.path.as_deref(), Some("/api/v1/me"));
    assert_eq!(last.operation, None, "no operation ran");
}

engine_tests!(same_key_same_body_replays_the_first_answer, writes_and_failed_auth_are_audited);

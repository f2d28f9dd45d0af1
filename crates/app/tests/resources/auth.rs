//! API-wide conventions: authentication, the audit log, plans, rate limits, tenancy, the error
//! envelope for unknown routes and bad bodies, `/me`, test keys and pagination.

use refline_domain::Plan;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{Engine, TestApp},
    util::{
        assert_error, assert_validation, audit_where, conversion, key_id, list_ids, now_secs, rate_headers,
        raw, stored_campaign, unique,
    },
};

/// A well-formed live key that no merchant owns.
fn unknown_key() -> String {
    format!("lj_pk_{}", "Zq7".repeat(11).chars().take(32).collect::<String>())
}

async fn missing_key_is_401_in_the_envelope(engine: Engine) {
    let app = TestApp::start(&engine).await;
    for (method, path) in
        [(Method::GET, "/api/v1/campaigns"), (Method::GET, "/api/v1/me"), (Method::POST, "/api/v1/campaigns")]
    {
        let reply = app.send(method.clone(), None, path, None).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(reply.body["error"].get("details").is_none(), "{}", reply.text);
    }
    // A header that is not a bearer token counts as missing a key.
    let basic =
        raw(&app, Method::GET, "/api/v1/campaigns", &[("authorization", "Basic dXNlcjpwYXNz")], None).await;
    assert_error(&basic, StatusCode::UNAUTHORIZED, "unauthorized");
    app.stop().await;
}

async fn bad_unknown_and_revoked_keys_are_401(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    assert_eq!(app.get(&m.key, "/api/v1/campaigns").await.status, StatusCode::OK);

    let malformed = app.get("nope", "/api/v1/campaigns").await;
    assert_error(&malformed, StatusCode::UNAUTHORIZED, "unauthorized");
    let unknown = unknown_key();
    assert_eq!(unknown.len(), "lj_pk_".len() + 32);
    let reply = app.get(&unknown, "/api/v1/campaigns").await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
    let unknown_test = format!("lj_pk_test_{}", &unknown["lj_pk_".len()..]);
    assert_error(&app.get(&unknown_test, "/api/v1/me").await, StatusCode::UNAUTHORIZED, "unauthorized");
    // A real key with a character changed.
    let mut altered = m.key.clone();
    let last = altered.pop().expect("non-empty key");
    altered.push(if last == 'a' { 'b' } else { 'a' });
    assert_error(&app.get(&altered, "/api/v1/campaigns").await, StatusCode::UNAUTHORIZED, "unauthorized");

    // Revoking the live key locks it out; the merchant's test key still works. This revokes
    // through the command line's core, which does not reach the server's memory of keys
    // (`http::key_cache`): the key stops working within that memory's second.
    let live_id = key_id(&app, &m.id, "live").await;
    refline::admin::revoke_key(&app.store, &live_id).await.expect("revoke");
    let started = std::time::Instant::now();
    while app.get(&m.key, "/api/v1/me").await.status == StatusCode::OK {
        assert!(started.elapsed() < std::time::Duration::from_millis(2_500), "the revoked key still works");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let revoked = app.get(&m.key, "/api/v1/campaigns").await;
    assert_error(&revoked, StatusCode::UNAUTHORIZED, "unauthorized");
    let revoked_write = app.post(&m.key, "/api/v1/campaigns", json!({ "name": "Nope" })).await;
    assert_error(&revoked_write, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(app.get(&m.test_key, "/api/v1/campaigns").await.status, StatusCode::OK);
    app.stop().await;
}

async fn failed_authentications_are_audited(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let agent = unique("audit-probe");
    let no_key = raw(&app, Method::GET, "/api/v1/campaigns", &[("user-agent", &agent)], None).await;
    assert_eq!(no_key.status, StatusCode::UNAUTHORIZED);
    let bad_key = raw(
        &app,
        Method::POST,
        "/api/v1/affiliates",
        &[("user-agent", &agent), ("authorization", "Bearer nope"), ("content-type", "application/json")],
        Some(b"{}"),
    )
    .await;
    assert_eq!(bad_key.status, StatusCode::UNAUTHORIZED);

    let entries = audit_where(&app, None, 2, |e| e.user_agent.as_deref() == Some(agent.as_str())).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    // Newest first.
    let (post, get) = (&entries[0], &entries[1]);
    assert_eq!((get.method.as_deref(), get.path.as_deref()), (Some("GET"), Some("/api/v1/campaigns")));
    assert_eq!((post.method.as_deref(), post.path.as_deref()), (Some("POST"), Some("/api/v1/affiliates")));
    for entry in [get, post] {
        assert_eq!(entry.status_code, Some(401));
        assert_eq!(entry.error_code.as_deref(), Some("unauthorized"));
        assert_eq!(entry.merchant_id, None);
        assert_eq!(entry.api_key_id, None);
        assert_eq!(entry.ip_address.as_deref(), Some("127.0.0.1"));
        assert!(entry.created_at > 0);
    }
    app.stop().await;
}

async fn writes_are_audited_reads_are_not(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let live_id = key_id(&app, &m.id, "live").await;
    assert_eq!(app.get(&m.key, "/api/v1/campaigns").await.status, StatusCode::OK);
    assert_eq!(app.get(&m.key, "/api/v1/me").await.status, StatusCode::OK);
    let campaign = app.campaign(&m.key, json!({})).await;

    // The writer is a FIFO queue: once the POST is in the log, the earlier GETs would be too.
    let entries = audit_where(&app, Some(&m.id), 1, |e| e.method.is_some()).await;
    assert_eq!(entries.len(), 1, "only the POST is audited: {entries:?}");
    let entry = &entries[0];
    assert_eq!(entry.method.as_deref(), Some("POST"));
    assert_eq!(entry.path.as_deref(), Some("/api/v1/campaigns"));
    assert_eq!(entry.status_code, Some(201));
    assert_eq!(entry.error_code, None);
    assert_eq!(entry.merchant_id.as_deref(), Some(m.id.as_str()));
    assert_eq!(entry.api_key_id.as_deref(), Some(live_id.as_str()));

    // A failed write by a known key is audited with its code and key.
    let path = format!("/api/v1/campaigns/{}", campaign["id"].as_str().expect("id"));
    let bad = app.patch(&m.key, &path, json!({ "currency": "eur" })).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let entries = audit_where(&app, Some(&m.id), 2, |e| e.method.is_some()).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0].method.as_deref(), Some("PATCH"));
    assert_eq!(entries[0].path.as_deref(), Some(path.as_str()));
    assert_eq!(entries[0].status_code, Some(400));
    assert_eq!(entries[0].error_code.as_deref(), Some("validation_error"));

    // A known key refused by its plan is a failed authorization: audited, with its merchant.
    let starter = app.merchant("starter").await;
    let starter_id = key_id(&app, &starter.id, "live").await;
    assert_eq!(app.get(&starter.key, "/api/v1/campaigns").await.status, StatusCode::FORBIDDEN);
    let entries = audit_where(&app, Some(&starter.id), 1, |e| e.method.is_some()).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].method.as_deref(), Some("GET"));
    assert_eq!(entries[0].status_code, Some(403));
    assert_eq!(entries[0].error_code.as_deref(), Some("plan_required"));
    assert_eq!(entries[0].api_key_id.as_deref(), Some(starter_id.as_str()));
    app.stop().await;
}

async fn plans_decide_what_a_key_may_do(engine: Engine) {
    let app = TestApp::start(&engine).await;

    let starter = app.merchant("starter").await;
    for path in ["/api/v1/campaigns", "/api/v1/me", "/api/v1/affiliates", "/api/v1/conversions"] {
        assert_error(&app.get(&starter.key, path).await, StatusCode::FORBIDDEN, "plan_required");
    }
    let starter_write = app.post(&starter.key, "/api/v1/campaigns", json!({ "name": "Nope" })).await;
    assert_error(&starter_write, StatusCode::FORBIDDEN, "plan_required");
    assert_error(
        &app.get(&starter.test_key, "/api/v1/campaigns").await,
        StatusCode::FORBIDDEN,
        "plan_required",
    );

    // Pro: read-only.
    let pro = app.merchant("pro").await;
    let existing = stored_campaign(&app, &pro.id, "Pro Campaign").await;
    let listed = app.get(&pro.key, "/api/v1/campaigns").await;
    assert_eq!(list_ids(&listed), [existing.id.as_str()]);
    let path = format!("/api/v1/campaigns/{}", existing.id);
    assert_eq!(app.get(&pro.key, &path).await.status, StatusCode::OK);
    let body = json!({ "name": "Pro Write", "commissionType": "percentage", "commissionValue": 20 });
    let created = app.post(&pro.key, "/api/v1/campaigns", body).await;
    assert_error(&created, StatusCode::FORBIDDEN, "insufficient_permissions");
    let patched = app.patch(&pro.key, &path, json!({ "name": "Renamed" })).await;
    assert_error(&patched, StatusCode::FORBIDDEN, "insufficient_permissions");
    let affiliate = app
        .post(&pro.key, "/api/v1/affiliates", json!({ "email": "a@b.test", "campaignId": existing.id }))
        .await;
    assert_error(&affiliate, StatusCode::FORBIDDEN, "insufficient_permissions");
    let after = app.get(&pro.key, &path).await;
    assert_eq!(after.data()["name"], "Pro Campaign", "nothing was changed");
    assert_eq!(list_ids(&app.get(&pro.key, "/api/v1/campaigns").await).len(), 1, "nothing was created");

    // Ultimate and Scale: read and write.
    for plan in ["ultimate", "scale"] {
        let m = app.merchant(plan).await;
        let body =
            json!({ "name": format!("{plan} launch"), "commissionType": "fixed", "commissionValue": 5 });
        let created = app.post(&m.key, "/api/v1/campaigns", body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{plan}: {}", created.text);
        let path = format!("/api/v1/campaigns/{}", created.data()["id"].as_str().expect("id"));
        let patched = app.patch(&m.key, &path, json!({ "name": "Renamed" })).await;
        assert_eq!(patched.status, StatusCode::OK, "{plan}: {}", patched.text);
        assert_eq!(patched.data()["name"], "Renamed");
        let test_created = app
            .post(&m.test_key, "/api/v1/campaigns", json!({ "name": "T", "commissionType": "fixed" }))
            .await;
        // Campaigns are live-only (LinkJolt); the plan check still comes first.
        assert_eq!(test_created.status, StatusCode::FORBIDDEN, "{plan}: {}", test_created.text);
        assert_eq!(test_created.code(), "live_key_required");
        let test_affiliate = app
            .post(
                &m.test_key,
                "/api/v1/affiliates",
                json!({ "email": "t@partner.test", "campaignId": created.data()["id"] }),
            )
            .await;
        assert_eq!(test_affiliate.status, StatusCode::CREATED, "{plan}: test keys write other resources");
    }
    app.stop().await;
}

async fn every_answer_carries_rate_limit_headers(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;

    let ok = app.get(&m.key, "/api/v1/campaigns").await;
    assert_eq!(ok.status, StatusCode::OK);
    let (limit, first_remaining, _) = rate_headers(&ok);
    assert_eq!(limit, 300);
    let missing = app.get(&m.key, "/api/v1/campaigns/camp_doesnotexist").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    let (limit, remaining, _) = rate_headers(&missing);
    assert_eq!(limit, 300);
    assert!(remaining < first_remaining, "each request is counted: {remaining} after {first_remaining}");
    let no_route = app.get(&m.key, "/api/v1/nope").await;
    assert_error(&no_route, StatusCode::NOT_FOUND, "not_found");
    rate_headers(&no_route);
    let invalid = app.post(&m.key, "/api/v1/campaigns", json!({})).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    rate_headers(&invalid);
    let created = app
        .post(
            &m.key,
            "/api/v1/campaigns",
            json!({ "name": "Hdr", "commissionType": "percentage", "commissionValue": 5 }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    rate_headers(&created);
    let unauthorized = app.send(Method::GET, None, "/api/v1/campaigns", None).await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    rate_headers(&unauthorized);

    // The limit follows the plan.
    for (plan, expected) in [("pro", 60), ("ultimate", 300), ("scale", 600)] {
        let other = app.merchant(plan).await;
        let reply = app.get(&other.key, "/api/v1/me").await;
        assert_eq!(reply.status, StatusCode::OK, "{plan}: {}", reply.text);
        let (limit, remaining, _) = rate_headers(&reply);
        assert_eq!(limit, expected, "{plan}");
        assert_eq!(remaining, expected - 1, "{plan}: a fresh key has used one request");
    }
    // A refused plan still gets the headers of its key.
    let starter = app.merchant("starter").await;
    let refused = app.get(&starter.key, "/api/v1/campaigns").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(rate_headers(&refused).0, 60);
    app.stop().await;
}

async fn exceeding_the_rate_limit_is_429(engine: Engine) {
    let app = TestApp::start_with(&engine, |c| c.limits.set_rate(Plan::Ultimate, 3)).await;
    // Windows are wall-clock minutes: if one rolls over mid-test, start again with a fresh key.
    for attempt in 1..=3 {
        let m = app.merchant("ultimate").await;
        let mut replies = Vec::new();
        for _ in 0..4 {
            replies.push(app.get(&m.key, "/api/v1/campaigns").await);
        }
        let resets: Vec<Option<&str>> = replies.iter().map(|r| r.header("x-ratelimit-reset")).collect();
        if resets.iter().any(|r| *r != resets[0]) && attempt < 3 {
            continue;
        }
        for (i, reply) in replies[..3].iter().enumerate() {
            assert_eq!(reply.status, StatusCode::OK, "request {}: {}", i + 1, reply.text);
            let (limit, remaining, _) = rate_headers(reply);
            assert_eq!((limit, remaining), (3, 2 - i as u64));
        }
        let refused = &replies[3];
        assert_error(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded");
        let (limit, remaining, reset) = rate_headers(refused);
        assert_eq!((limit, remaining), (3, 0));
        let retry_after: i64 =
            refused.header("retry-after").expect("Retry-After").parse().expect("Retry-After in seconds");
        assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
        assert!(
            (reset - now_secs() - retry_after).abs() <= 1,
            "Retry-After {retry_after} points at the reset {reset}"
        );
        // Writes are refused too, and nothing is created.
        let write = app
            .post(
                &m.key,
                "/api/v1/campaigns",
                json!({ "name": "Late", "commissionType": "fixed", "commissionValue": 1 }),
            )
            .await;
        assert_error(&write, StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded");

        // Another merchant's key has its own allowance.
        let other = app.merchant("ultimate").await;
        let fine = app.get(&other.key, "/api/v1/campaigns").await;
        assert_eq!(fine.status, StatusCode::OK, "{}", fine.text);
        let (limit, remaining, _) = rate_headers(&fine);
        assert_eq!((limit, remaining), (3, 2));
        break;
    }
    app.stop().await;
}

async fn other_merchants_objects_are_not_found(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let a = app.merchant("ultimate").await;
    let b = app.merchant("ultimate").await;
    let campaign = app.campaign(&a.key, json!({ "name": "A's campaign" })).await;
    let campaign_id = campaign["id"].as_str().expect("id").to_string();
    let affiliate_id = app.affiliate(&a.key, &campaign_id, "partner@a.test").await;
    let conversion_id = conversion(&app, &a.key, &campaign_id, &affiliate_id, json!(40)).await;
    // B has objects of its own, so its lists are not trivially empty.
    let own_campaign = app.campaign(&b.key, json!({ "name": "B's campaign" })).await;
    let own_campaign_id = own_campaign["id"].as_str().expect("id").to_string();
    let own_affiliate = app.affiliate(&b.key, &own_campaign_id, "partner@b.test").await;
    let own_conversion = conversion(&app, &b.key, &own_campaign_id, &own_affiliate, json!(10)).await;

    let paths = [
        format!("/api/v1/campaigns/{campaign_id}"),
        format!("/api/v1/affiliates/{affiliate_id}"),
        format!("/api/v1/conversions/{conversion_id}"),
    ];
    for path in &paths {
        assert_error(&app.get(&b.key, path).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(&app.get(&b.test_key, path).await, StatusCode::NOT_FOUND, "not_found");
    }
    let patches = [
        json!({ "name": "Hijacked" }),
        json!({ "campaignId": campaign_id, "status": "rejected" }),
        json!({ "status": "approved" }),
    ];
    for (path, body) in paths.iter().zip(patches) {
        let reply = app.patch(&b.key, path, body).await;
        assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    }
    let stolen = app.convert(&b.key, &campaign_id, &affiliate_id, json!(50), json!({})).await;
    assert_error(&stolen, StatusCode::NOT_FOUND, "not_found");
    // Mixing: B's campaign with A's affiliate is not found either.
    let mixed = app.convert(&b.key, &own_campaign_id, &affiliate_id, json!(50), json!({})).await;
    assert_error(&mixed, StatusCode::NOT_FOUND, "not_found");

    // B's lists hold only B's objects, whatever the filter.
    assert_eq!(list_ids(&app.get(&b.key, "/api/v1/campaigns").await), [own_campaign_id.as_str()]);
    assert_eq!(list_ids(&app.get(&b.key, "/api/v1/affiliates").await), [own_affiliate.as_str()]);
    assert_eq!(list_ids(&app.get(&b.key, "/api/v1/conversions").await), [own_conversion.as_str()]);
    let filtered = app.get(&b.key, &format!("/api/v1/affiliates?campaignId={campaign_id}")).await;
    assert!(list_ids(&filtered).is_empty(), "{}", filtered.text);
    let filtered = app.get(&b.key, &format!("/api/v1/conversions?campaignId={campaign_id}")).await;
    assert!(list_ids(&filtered).is_empty(), "{}", filtered.text);
    let filtered = app.get(&b.key, &format!("/api/v1/conversions?affiliateId={affiliate_id}")).await;
    assert!(list_ids(&filtered).is_empty(), "{}", filtered.text);
    for path in ["/api/v1/campaigns", "/api/v1/affiliates", "/api/v1/conversions"] {
        let text = app.get(&b.key, path).await.text;
        for id in [&a.id, &campaign_id, &affiliate_id, &conversion_id] {
            assert!(!text.contains(id.as_str()), "{path} of B mentions {id}: {text}");
        }
    }

    // A's objects are untouched.
    let still = app.get(&a.key, &paths[0]).await;
    assert_eq!(still.data()["name"], "A's campaign");
    assert_eq!(still.data()["conversions"], 1);
    let affiliate = app.get(&a.key, &paths[1]).await;
    assert_eq!(affiliate.data()["memberships"][0]["status"], "approved");
    let converted = app.get(&a.key, &paths[2]).await;
    assert_eq!(converted.data()["status"], "pending");
    app.stop().await;
}

async fn unknown_routes_and_methods_use_the_envelope(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let nope = app.get(&m.key, "/api/v1/nope").await;
    assert_error(&nope, StatusCode::NOT_FOUND, "not_found");
    let nested = app.get(&m.key, "/api/v1/campaigns/x/y").await;
    assert_error(&nested, StatusCode::NOT_FOUND, "not_found");
    let delete = app.send(Method::DELETE, Some(&m.key), "/api/v1/me", None).await;
    assert_error(&delete, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let put = app.send(Method::PUT, Some(&m.key), "/api/v1/campaigns", Some(&json!({}))).await;
    assert_error(&put, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let outside = app.send(Method::GET, None, "/nope", None).await;
    assert_error(&outside, StatusCode::NOT_FOUND, "not_found");
    let outside_with_key = app.get(&m.key, "/nope").await;
    assert_error(&outside_with_key, StatusCode::NOT_FOUND, "not_found");
    app.stop().await;
}

async fn unreadable_bodies_are_400(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let campaign = app.campaign(&m.key, json!({ "name": "Body Test" })).await;
    let campaign_path = format!("/api/v1/campaigns/{}", campaign["id"].as_str().expect("id"));
    let json_type = [("content-type", "application/json")];
    let bodies: [&[u8]; 6] = [b"{not json", b"[1, 2, 3]", b"", b"   \n", b"\"name\"", b"null"];
    for body in bodies {
        for (method, path) in [
            (Method::POST, "/api/v1/campaigns"),
            (Method::PATCH, campaign_path.as_str()),
            (Method::POST, "/api/v1/affiliates"),
            (Method::POST, "/api/v1/conversions"),
        ] {
            let reply = app.send_raw(method.clone(), &m.key, path, body.to_vec(), &json_type).await;
            let shown = String::from_utf8_lossy(body);
            assert_ne!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{method} {path} {shown:?}");
            assert_validation(&reply, &[json!([])]);
        }
    }
    // Nothing was created or changed.
    assert_eq!(list_ids(&app.get(&m.key, "/api/v1/campaigns").await).len(), 1);
    assert_eq!(app.get(&m.key, &campaign_path).await.data()["name"], "Body Test");
    assert!(list_ids(&app.get(&m.key, "/api/v1/affiliates").await).is_empty());
    app.stop().await;
}

async fn oversized_bodies_are_413(engine: Engine) {
    let app = TestApp::start_with(&engine, |c| c.max_body_bytes = 1024).await;
    let m = app.merchant("ultimate").await;
    let big = json!({ "name": "x".repeat(2000), "commissionType": "percentage", "commissionValue": 20 });
    let bytes = serde_json::to_vec(&big).expect("json");
    let reply = app
        .send_raw(Method::POST, &m.key, "/api/v1/campaigns", bytes, &[("content-type", "application/json")])
        .await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(list_ids(&app.get(&m.key, "/api/v1/campaigns").await).is_empty());
    app.stop().await;
}

/// A required text field sent blank is a validation problem of that field, like a missing one.
async fn blank_required_fields_are_400(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let campaign = app.campaign(&m.key, json!({ "name": "Blanks" })).await;
    let campaign_id = campaign["id"].as_str().expect("id").to_string();
    let affiliate = app.affiliate(&m.key, &campaign_id, "blank@partner.test").await;

    let cases = [
        (
            Method::POST,
            "/api/v1/affiliates".to_string(),
            json!({ "email": "", "campaignId": campaign_id }),
            "email",
        ),
        (
            Method::POST,
            "/api/v1/affiliates".to_string(),
            json!({ "email": "b@x.test", "campaignId": "  " }),
            "campaignId",
        ),
        (
            Method::POST,
            "/api/v1/campaigns".to_string(),
            json!({ "name": " ", "commissionType": "percentage", "commissionValue": 20 }),
            "name",
        ),
        (Method::PATCH, format!("/api/v1/campaigns/{campaign_id}"), json!({ "name": "" }), "name"),
        (
            Method::PATCH,
            format!("/api/v1/affiliates/{affiliate}"),
            json!({ "campaignId": "", "status": "approved" }),
            "campaignId",
        ),
        (
            Method::POST,
            "/api/v1/conversions".to_string(),
            json!({ "campaignId": "", "affiliateId": affiliate, "amount": 10 }),
            "campaignId",
        ),
    ];
    for (method, path, body, field) in cases {
        let reply = app.send(method.clone(), Some(&m.key), &path, Some(&body)).await;
        assert_ne!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{method} {path} {body}: {}", reply.text);
        assert_validation(&reply, &[json!([field])]);
    }
    // Nothing nameless was created, and the name was kept.
    let listed = app.get(&m.key, "/api/v1/campaigns").await;
    assert_eq!(list_ids(&listed), [campaign_id.as_str()]);
    assert_eq!(listed.data()[0]["name"], "Blanks");
    app.stop().await;
}

async fn me_describes_the_calling_key(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let live = app.get(&m.key, "/api/v1/me").await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.text);
    let data = live.data();
    assert_eq!(data["keyType"], "live");
    assert_eq!(data["keyId"], Value::from(key_id(&app, &m.id, "live").await));
    assert_eq!(data["permissions"], json!(["read", "write"]));
    assert_eq!(data["plan"], "ultimate");
    assert_eq!(data["merchant"]["id"], Value::from(m.id.clone()));
    assert_eq!(data["merchant"]["currency"], "usd");
    assert_eq!(data["merchant"]["name"], "Test Merchant");
    assert_eq!(data["rateLimit"]["limit"], 300);
    assert_eq!(data["rateLimit"]["remaining"], 299);
    let reset = data["rateLimit"]["reset"].as_i64().expect("reset is a number");
    assert_eq!(live.header("x-ratelimit-reset"), Some(reset.to_string().as_str()));
    assert_eq!(live.header("x-ratelimit-remaining"), Some("299"));
    assert!(reset >= now_secs() && reset <= now_secs() + 60, "reset {reset}");
    // A second call has used one more request.
    assert_eq!(app.get(&m.key, "/api/v1/me").await.data()["rateLimit"]["remaining"], 298);

    let test = app.get(&m.test_key, "/api/v1/me").await;
    assert_eq!(test.status, StatusCode::OK);
    assert_eq!(test.data()["keyType"], "test");
    assert_eq!(test.data()["keyId"], Value::from(key_id(&app, &m.id, "test").await));
    assert_eq!(test.data()["merchant"]["id"], Value::from(m.id.clone()));
    assert_eq!(test.data()["permissions"], json!(["read", "write"]));
    assert_eq!(test.data()["rateLimit"]["remaining"], 299, "the test key counts on its own");

    let pro = app.merchant("pro").await;
    let reply = app.get(&pro.key, "/api/v1/me").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.data()["permissions"], json!(["read"]));
    assert_eq!(reply.data()["plan"], "pro");
    assert_eq!(reply.data()["rateLimit"]["limit"], 60);
    let scale = app.merchant("scale").await;
    let reply = app.get(&scale.key, "/api/v1/me").await;
    assert_eq!(reply.data()["permissions"], json!(["read", "write"]));
    assert_eq!(reply.data()["plan"], "scale");
    assert_eq!(reply.data()["rateLimit"]["limit"], 600);
    app.stop().await;
}

async fn test_key_conversions_stay_out_of_live_data(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let campaign = app.campaign(&m.key, json!({})).await;
    let campaign_id = campaign["id"].as_str().expect("id").to_string();
    let affiliate_id = app.affiliate(&m.key, &campaign_id, "tester@partner.test").await;

    let test = app.convert(&m.test_key, &campaign_id, &affiliate_id, json!(80.00), json!({})).await;
    assert_eq!(test.status, StatusCode::CREATED, "{}", test.text);
    assert_eq!(test.data()["isTest"], true);
    let test_id = test.data()["id"].as_str().expect("id").to_string();
    let live_id = conversion(&app, &m.key, &campaign_id, &affiliate_id, json!(20.00)).await;

    let live_list = app.get(&m.key, "/api/v1/conversions").await;
    assert_eq!(list_ids(&live_list), [live_id.as_str()]);
    assert_eq!(live_list.body["pagination"]["total"], 1);
    assert_eq!(live_list.data()[0]["isTest"], false);
    let test_list = app.get(&m.test_key, "/api/v1/conversions").await;
    assert_eq!(list_ids(&test_list), [test_id.as_str()]);
    assert_eq!(test_list.data()[0]["isTest"], true);
    assert_eq!(test_list.data()[0]["amount"], "80.00");
    let shown = app.get(&m.key, "/api/v1/conversions?isTest=true").await;
    assert_eq!(list_ids(&shown), [test_id.as_str()]);
    let hidden = app.get(&m.test_key, "/api/v1/conversions?isTest=false").await;
    assert_eq!(list_ids(&hidden), [live_id]);
    let bad = app.get(&m.key, "/api/v1/conversions?isTest=maybe").await;
    assert_validation(&bad, &[json!(["isTest"])]);

    // Campaign figures follow the key too.
    let path = format!("/api/v1/campaigns/{campaign_id}");
    let live_view = app.get(&m.key, &path).await;
    assert_eq!(
        (live_view.data()["conversions"].clone(), live_view.data()["revenue"].clone()),
        (json!(1), json!("20.00"))
    );
    let test_view = app.get(&m.test_key, &path).await;
    assert_eq!(
        (test_view.data()["conversions"].clone(), test_view.data()["revenue"].clone()),
        (json!(1), json!("80.00"))
    );
    app.stop().await;
}

async fn bad_pagination_parameters_are_400(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let cases = [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("sort=bogus:asc", "sort"),
        ("sort=createdAt:sideways", "sort"),
        ("sort=bogus", "sort"),
    ];
    for resource in ["campaigns", "affiliates", "conversions"] {
        for (query, param) in cases {
            let reply = app.get(&m.key, &format!("/api/v1/{resource}?{query}")).await;
            assert_validation(&reply, &[json!([param])]);
        }
    }
    // Every bad parameter is named in one answer.
    let all = app.get(&m.key, "/api/v1/campaigns?limit=0&page=abc&sort=x:y").await;
    assert_validation(&all, &[json!(["page"]), json!(["limit"]), json!(["sort"])]);
    // The bounds themselves are fine.
    for query in ["limit=1", "limit=100", "page=1", "sort=createdAt:asc", "sort=name", "sort=name:desc"] {
        let reply = app.get(&m.key, &format!("/api/v1/campaigns?{query}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.text);
    }
    app.stop().await;
}

async fn pages_and_sorting(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let names = ["Echo", "Alpha", "Delta", "Bravo", "Charlie"];
    let mut by_name = std::collections::HashMap::new();
    for name in names {
        let campaign = app.campaign(&m.key, json!({ "name": name })).await;
        by_name.insert(campaign["id"].as_str().expect("id").to_string(), name);
    }

    let first = app.get(&m.key, "/api/v1/campaigns?limit=2").await;
    assert_eq!(list_ids(&first).len(), 2);
    assert_eq!(first.body["pagination"], json!({ "page": 1, "limit": 2, "total": 5, "totalPages": 3 }));
    let second = app.get(&m.key, "/api/v1/campaigns?limit=2&page=2").await;
    assert_eq!(list_ids(&second).len(), 2);
    assert_eq!(second.body["pagination"], json!({ "page": 2, "limit": 2, "total": 5, "totalPages": 3 }));
    let last = app.get(&m.key, "/api/v1/campaigns?page=3&limit=2").await;
    assert_eq!(list_ids(&last).len(), 1);
    assert_eq!(last.body["pagination"], json!({ "page": 3, "limit": 2, "total": 5, "totalPages": 3 }));
    // The pages partition the list.
    let mut seen: Vec<String> = [list_ids(&first), list_ids(&second), list_ids(&last)].concat();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);
    let beyond = app.get(&m.key, "/api/v1/campaigns?page=4&limit=2").await;
    assert!(list_ids(&beyond).is_empty());
    assert_eq!(beyond.body["pagination"]["total"], 5);
    let default = app.get(&m.key, "/api/v1/campaigns").await;
    assert_eq!(default.body["pagination"], json!({ "page": 1, "limit": 25, "total": 5, "totalPages": 1 }));

    let names_of = |ids: Vec<String>| ids.iter().map(|id| by_name[id]).collect::<Vec<_>>();
    let asc = app.get(&m.key, "/api/v1/campaigns?sort=name:asc").await;
    assert_eq!(names_of(list_ids(&asc)), ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]);
    let desc = app.get(&m.key, "/api/v1/campaigns?sort=name:desc").await;
    assert_eq!(names_of(list_ids(&desc)), ["Echo", "Delta", "Charlie", "Bravo", "Alpha"]);
    let paged = app.get(&m.key, "/api/v1/campaigns?sort=name:asc&limit=2&page=2").await;
    assert_eq!(names_of(list_ids(&paged)), ["Charlie", "Delta"]);
    app.stop().await;
}

engine_tests!(
    missing_key_is_401_in_the_envelope,
    bad_unknown_and_revoked_keys_are_401,
    failed_authentications_are_audited,
    writes_are_audited_reads_are_not,
    plans_decide_what_a_key_may_do,
    every_answer_carries_rate_limit_headers,
    exceeding_the_rate_limit_is_429,
    other_merchants_objects_are_not_found,
    unknown_routes_and_methods_use_the_envelope,
    unreadable_bodies_are_400,
    oversized_bodies_are_413,
    me_describes_the_calling_key,
    test_key_conversions_stay_out_of_live_data,
    bad_pagination_parameters_are_400,
    pages_and_sorting,
    blank_required_fields_are_400,
);

//! Helpers shared by the resource tests: envelope assertions, raw requests with chosen headers,
//! fixtures written through the store, and audit-log polling.

use std::time::Duration;

use rand::{distributions::Alphanumeric, Rng};
use refline_store::{AuditEntry, Campaign};
use reqwest::{header::HeaderMap, Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{Reply, TestApp};

/// A random lower-case suffix, to tell this test's rows from other tests' in a shared database.
pub fn unique(prefix: &str) -> String {
    let suffix: String =
        rand::thread_rng().sample_iter(&Alphanumeric).take(12).map(char::from).collect::<String>();
    format!("{prefix}-{}", suffix.to_lowercase())
}

/// Unix seconds now.
pub fn now_secs() -> i64 {
    refline_server::clock::now_ms() / 1000
}

/// Asserts `reply` is an error in the one envelope: exactly `{"error": {"code", "message",
/// "details"?, "requestId"}}` with the given status and code, and a non-empty message
/// (`requestId`, Refline's addition, is the answer's `X-Request-Id`).
#[track_caller]
pub fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "status of {}", reply.text);
    assert_eq!(reply.code(), code, "error.code of {}", reply.text);
    let top = reply.body.as_object().expect("error body is a JSON object");
    assert_eq!(top.keys().collect::<Vec<_>>(), ["error"], "only `error` at the top: {}", reply.text);
    let error = reply.body["error"].as_object().expect("error is an object");
    let message = error.get("message").and_then(Value::as_str).expect("error.message is a string");
    assert!(!message.trim().is_empty(), "error.message is empty: {}", reply.text);
    assert_eq!(
        error.get("requestId").and_then(Value::as_str),
        reply.header("x-request-id"),
        "error.requestId is the X-Request-Id: {}",
        reply.text
    );
    for key in error.keys() {
        assert!(
            ["code", "message", "details", "requestId"].contains(&key.as_str()),
            "unexpected error.{key}: {}",
            reply.text
        );
    }
    let content_type = reply.header("content-type").unwrap_or("");
    assert!(content_type.starts_with("application/json"), "content-type {content_type:?} of {}", reply.text);
}

/// Asserts a 400 `validation_error` and returns the `path` of each entry of its `details`.
#[track_caller]
pub fn validation_paths(reply: &Reply) -> Vec<Value> {
    assert_error(reply, StatusCode::BAD_REQUEST, "validation_error");
    let details = reply.body["error"]["details"].as_array().expect("details is an array");
    assert!(!details.is_empty(), "details is empty: {}", reply.text);
    details
        .iter()
        .map(|d| {
            let message = d["message"].as_str().expect("details[].message is a string");
            assert!(!message.is_empty(), "empty details message: {}", reply.text);
            assert!(d["path"].is_array(), "details[].path is an array: {}", reply.text);
            d["path"].clone()
        })
        .collect()
}

/// Asserts a 400 `validation_error` with a details entry at each of `paths` (and no others).
#[track_caller]
pub fn assert_validation(reply: &Reply, paths: &[Value]) {
    let mut found = validation_paths(reply);
    let mut expected = paths.to_vec();
    let key = |v: &Value| v.to_string();
    found.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(found, expected, "details paths of {}", reply.text);
}

/// Asserts the three `X-RateLimit-*` headers are present and coherent; returns
/// `(limit, remaining, reset)`.
#[track_caller]
pub fn rate_headers(reply: &Reply) -> (u64, u64, i64) {
    let number = |name: &str| -> i64 {
        reply
            .header(name)
            .unwrap_or_else(|| panic!("missing {name} on {} {}", reply.status, reply.text))
            .parse::<i64>()
            .unwrap_or_else(|_| panic!("{name} is not a whole number"))
    };
    let limit = number("x-ratelimit-limit");
    let remaining = number("x-ratelimit-remaining");
    let reset = number("x-ratelimit-reset");
    assert!(limit > 0, "limit {limit}");
    assert!((0..=limit).contains(&remaining), "remaining {remaining} of {limit}");
    let now = now_secs();
    // The window may have rolled over since the answer was made: allow one second of slack below.
    assert!(reset >= now && reset <= now + 60, "reset {reset} is not within the next minute (now {now})");
    (limit.unsigned_abs(), remaining.unsigned_abs(), reset)
}

/// Sends a request with exactly the given headers (no implicit `Authorization`) and body.
pub async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Reply {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    let mut request = client.request(method, format!("{}{path}", app.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body.to_vec());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let headers: HeaderMap = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, body, text }
}

/// Waits (up to 5 s) for at least `n` audit entries of `merchant` (or of no merchant) that
/// `keep` selects; returns the selected entries, newest first.
pub async fn audit_where(
    app: &TestApp,
    merchant: Option<&str>,
    n: usize,
    keep: impl Fn(&AuditEntry) -> bool,
) -> Vec<AuditEntry> {
    let mut found = Vec::new();
    for _ in 0..100 {
        found = app.audit_entries(merchant, 0).await.into_iter().filter(|e| keep(e)).collect::<Vec<_>>();
        if found.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    found
}

/// The id of a merchant's live or test key.
pub async fn key_id(app: &TestApp, merchant_id: &str, kind: &str) -> String {
    let keys = app.store.list_api_keys(merchant_id).await.expect("keys");
    keys.into_iter().find(|k| k.kind.as_str() == kind).map(|k| k.id).expect("a key of that kind")
}

/// A 20 % USD campaign written through the store (for merchants whose key cannot write).
pub async fn stored_campaign(app: &TestApp, merchant_id: &str, name: &str) -> Campaign {
    let now = refline_server::clock::now_ms();
    let campaign = Campaign {
        name: name.into(),
        ..Campaign::with_defaults(
            &refline_server::ids::new_id("camp"),
            merchant_id,
            &refline_server::ids::new_tracking_code(),
            "usd",
            now,
        )
    };
    app.store.insert_campaign(&campaign).await.expect("campaign");
    campaign
}

/// The ids of the items of a list answer (asserting it is a 200 list).
#[track_caller]
pub fn list_ids(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "list: {}", reply.text);
    assert!(reply.body["pagination"].is_object(), "pagination missing: {}", reply.text);
    reply
        .data()
        .as_array()
        .expect("data is an array")
        .iter()
        .map(|item| item["id"].as_str().expect("item id").to_string())
        .collect()
}

/// Asserts an ISO-8601 UTC timestamp with second precision, e.g. `2026-04-15T10:30:00Z`,
/// within a few minutes of now.
#[track_caller]
pub fn assert_recent_timestamp(value: &Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("timestamp is not a string: {value}"));
    assert_eq!(text.len(), 20, "timestamp {text}");
    assert!(text.ends_with('Z') && text.as_bytes()[10] == b'T', "timestamp {text}");
    let ms = refline_domain::parse_timestamp(text, false).unwrap_or_else(|| panic!("unparsable {text}"));
    let now = refline_server::clock::now_ms();
    assert!((now - ms).abs() < 5 * 60 * 1000, "timestamp {text} is not recent");
}

/// `{"campaignId": .., "affiliateId": .., "amount": ..}` posted with `key`, expecting 201;
/// returns the conversion id.
pub async fn conversion(app: &TestApp, key: &str, campaign: &str, affiliate: &str, amount: Value) -> String {
    let reply = app.convert(key, campaign, affiliate, amount, json!({})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "conversion: {}", reply.text);
    reply.data()["id"].as_str().expect("conversion id").to_string()
}

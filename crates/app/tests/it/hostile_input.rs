//! Untrusted input, as an attacker sends it from outside, on both engines: control characters
//! and odd Unicode through every text field, query parameter and path id; one merchant's bad
//! values among other merchants' good ones; slow and idle connections; and the error envelope
//! for answers from every layer.

use std::time::{Duration, Instant};

use refline_domain::Plan;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    engine_tests,
    support::{Engine, TestApp},
};

/// Every ASCII control character and some odd Unicode.
fn hostile_texts() -> Vec<String> {
    let mut texts: Vec<String> = (0u8..0x20).chain([0x7f]).map(|b| format!("x{}y", char::from(b))).collect();
    for odd in [
        "\u{85}",
        "\u{200b}",
        "\u{202e}",
        "\u{feff}",
        "\u{ffff}",
        "\u{fffd}",
        "\u{1f600}",
        "e\u{301}",
        "\u{2028}",
        "\u{10ffff}",
        "\u{0}\u{0}\u{0}",
        "%00",
        "\\u0000",
    ] {
        texts.push(format!("x{odd}y"));
    }
    texts
}

fn forbidden(text: &str) -> bool {
    refline_domain::first_forbidden_char(text).is_some()
}

fn pct(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A server with limits high enough for thousands of requests from one key and one IP.
async fn roomy_app(engine: &Engine) -> TestApp {
    TestApp::start_with(engine, |c| {
        c.limits.set_rate(Plan::Ultimate, 1_000_000);
        c.unauthenticated_per_minute = 1_000_000;
    })
    .await
}

/// Sends `requests` eight at a time and returns (description, status, content type, body).
async fn send_all(
    app: &TestApp,
    key: &str,
    requests: Vec<(Method, String, Option<Value>)>,
) -> Vec<(String, u16, String, String)> {
    let mut out = Vec::new();
    // Redirects are answers to check, not to follow (they lead to hosts that do not exist).
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for chunk in requests.chunks(8) {
        let mut handles = Vec::new();
        for (method, path, body) in chunk.iter().cloned() {
            let client = no_redirects.clone();
            let url = app.url(&path);
            let key = key.to_string();
            handles.push(tokio::spawn(async move {
                let mut request = client.request(method.clone(), url).bearer_auth(key);
                if let Some(body) = &body {
                    request = request.json(body);
                }
                let response = request.send().await.expect("request");
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let text = response.text().await.unwrap_or_default();
                (
                    format!("{method} {path} {}", body.map(|b| b.to_string()).unwrap_or_default()),
                    status,
                    content_type,
                    text,
                )
            }));
        }
        for handle in handles {
            out.push(handle.await.unwrap());
        }
    }
    out
}

/// Each string field of `base` replaced by `text`, one at a time, plus an extra unknown field.
fn variants(base: &Value, text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(map) = base.as_object() {
        for (name, value) in map {
            if value.is_string() {
                let mut body = base.clone();
                body[name] = Value::from(text);
                out.push(body);
            }
        }
        let mut extra = base.clone();
        extra["note"] = json!({ "nested": [text] });
        out.push(extra);
    }
    out
}

async fn control_characters_never_answer_5xx(engine: Engine) {
    let app = roomy_app(&engine).await;
    let merchant = app.merchant("ultimate").await;
    let key = merchant.key.clone();
    let campaign =
        app.campaign(&key, json!({ "targetUrl": "https://shop.test/pricing", "description": "d" })).await;
    let camp = campaign["id"].as_str().unwrap().to_string();
    let tc = campaign["trackingCode"].as_str().unwrap().to_string();
    let aff = app.affiliate(&key, &camp, "first@aff.test").await;
    let conv = app.convert(&key, &camp, &aff, json!(10), json!({ "orderId": "seed-order" })).await;
    assert_eq!(conv.status, 201, "{}", conv.text);
    let conv_id = conv.body["id"].as_str().unwrap_or_else(|| conv.data()["id"].as_str().unwrap()).to_string();
    let hook = app
        .post(
            &key,
            "/api/v1/webhooks",
            json!({ "url": "https://hooks.example.com/in", "events": ["conversion.created"] }),
        )
        .await;
    let hook_id = hook.data()["id"].as_str().unwrap_or("wh_missing").to_string();

    let bodies: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/api/v1/campaigns".into(),
            json!({ "name": "N", "commissionType": "percentage", "commissionValue": 20, "targetUrl": "https://shop.test/", "description": "d", "currency": "usd" }),
        ),
        (
            Method::PATCH,
            format!("/api/v1/campaigns/{camp}"),
            json!({ "name": "N", "targetUrl": "https://shop.test/", "status": "active", "description": "d" }),
        ),
        (
            Method::POST,
            "/api/v1/affiliates".into(),
            json!({ "email": "a@b.test", "name": "A", "campaignId": camp, "ipAddress": "203.0.113.1", "userAgent": "ua" }),
        ),
        (
            Method::PATCH,
            format!("/api/v1/affiliates/{aff}"),
            json!({ "status": "approved", "campaignId": camp, "name": "n" }),
        ),
        (
            Method::POST,
            "/api/v1/conversions".into(),
            json!({ "campaignId": camp, "affiliateId": aff, "amount": 12, "orderId": "o", "customerEmail": "c@d.test", "customerName": "C", "currency": "usd", "clickId": "click_x", "conversionType": "one_time", "parentConversionId": "conv_x", "status": "pending" }),
        ),
        (
            Method::PATCH,
            format!("/api/v1/conversions/{conv_id}"),
            json!({ "status": "approved", "reason": "r" }),
        ),
        (
            Method::POST,
            "/api/v1/links".into(),
            json!({ "campaignId": camp, "affiliateId": aff, "code": "abc" }),
        ),
        (
            Method::POST,
            "/api/v1/webhooks".into(),
            json!({ "url": "https://hooks.example.com/x", "description": "d", "events": ["conversion.created"] }),
        ),
        (
            Method::PATCH,
            format!("/api/v1/webhooks/{hook_id}"),
            json!({ "url": "https://hooks.example.com/y", "status": "active" }),
        ),
        (
            Method::POST,
            "/api/v1/coupons".into(),
            json!({ "code": "SAVE", "campaignId": camp, "affiliateId": aff, "provider": "stripe", "couponId": "co_1", "promotionCodeId": "promo_1" }),
        ),
        (
            Method::POST,
            "/api/v1/integrations".into(),
            json!({ "provider": "stripe", "webhookSecret": "whsec_x", "name": "n" }),
        ),
    ];
    let lists = [
        "campaigns",
        "affiliates",
        "conversions",
        "clicks",
        "links",
        "coupons",
        "webhooks",
        "integrations",
        "stats",
    ];
    let params = [
        "status",
        "campaignId",
        "affiliateId",
        "linkId",
        "kind",
        "unique",
        "from",
        "to",
        "sort",
        "order",
        "limit",
        "page",
        "cursor",
        "email",
        "provider",
        "search",
    ];
    let ids = [
        "campaigns/{}",
        "affiliates/{}",
        "conversions/{}",
        "clicks/{}",
        "links/{}",
        "coupons/{}",
        "webhooks/{}",
        "webhooks/{}/deliveries",
        "integrations/{}/deliveries",
        "affiliates/{}/campaigns/{}",
    ];

    let mut requests = Vec::new();
    let mut must_refuse = Vec::new();
    for text in hostile_texts() {
        for (method, path, base) in &bodies {
            for body in variants(base, &text) {
                must_refuse.push(forbidden(&text));
                requests.push((method.clone(), path.clone(), Some(body)));
            }
        }
        for list in lists {
            for param in params {
                must_refuse.push(forbidden(&text));
                requests.push((Method::GET, format!("/api/v1/{list}?{param}={}", pct(&text)), None));
            }
        }
        for id in ids {
            let path = format!("/api/v1/{}", id.replace("{}", &format!("id{}", pct(&text))));
            for method in [Method::GET, Method::PATCH, Method::DELETE] {
                must_refuse.push(false);
                let body = (method == Method::PATCH).then(|| json!({ "status": "active" }));
                requests.push((method, path.clone(), body));
            }
        }
        // Tracking routes and receivers.
        for path in [
            format!("/redirect?tc={}&aff={aff}", pct(&text)),
            format!("/redirect?tc={tc}&aff={}", pct(&text)),
            format!("/redirect?tc={tc}&aff={aff}&utm_source={}", pct(&text)),
            format!("/l/{}", pct(&text)),
            format!("/api/tracking.js?id={}", pct(&text)),
        ] {
            must_refuse.push(false);
            requests.push((Method::GET, path, None));
        }
        for path in [
            format!("/api/webhooks/{}/merchant/{}", pct(&text), merchant.id),
            format!("/api/webhooks/stripe/merchant/{}", pct(&text)),
            format!("/api/webhooks/lemonsqueezy/merchant/{}{}", merchant.id, pct(&text)),
        ] {
            must_refuse.push(false);
            requests.push((Method::POST, path, Some(json!({ "id": text, "type": "charge.succeeded" }))));
        }
        for field in ["merchantId", "tc", "aff", "url", "referrer", "clickId"] {
            let mut beacon = json!({ "merchantId": merchant.id, "tc": tc, "aff": aff, "url": "https://shop.test/", "referrer": "https://ref.test/" });
            beacon[field] = Value::from(text.clone());
            must_refuse.push(false);
            requests.push((Method::POST, "/api/track/click".into(), Some(beacon)));
        }
    }
    let answers = send_all(&app, &key, requests).await;
    let mut failures = Vec::new();
    for ((what, status, content_type, text), refuse) in answers.iter().zip(must_refuse) {
        if *status >= 500 {
            failures.push(format!("{status} {what}: {text}"));
        } else if refuse && *status != 400 {
            failures.push(format!("expected 400 for a control character, got {status}: {what}: {text}"));
        } else if *status >= 400 && !content_type.starts_with("text/html") {
            let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            if body["error"]["code"].as_str().is_none() {
                failures.push(format!("{status} outside the envelope: {what}: {text}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} failed:\n{}", failures.len(), answers.len(), failures.join("\n"));

    // Beacon URLs with control characters were recorded, stripped of them.
    let clicks = app.get(&key, &format!("/api/v1/clicks?campaignId={camp}&limit=100")).await;
    assert_eq!(clicks.status, 200, "{}", clicks.text);
    for click in clicks.data().as_array().unwrap() {
        for field in ["landingUrl", "referrer"] {
            if let Some(text) = click[field].as_str() {
                assert!(!text.chars().any(char::is_control), "{field}: {text:?}");
            }
        }
    }
    // Nothing hostile reached the audit log unescaped, and the log is still written.
    let entries = app.audit_entries(Some(&merchant.id), 10).await;
    assert!(entries
        .iter()
        .all(|e| e.path.as_deref().is_some_and(|p| refline_domain::first_forbidden_char(p).is_none())));
}

/// One merchant sending U+0000 in conversions while others record theirs: only the bad
/// requests fail, and they fail with 400.
async fn one_merchants_bad_values_do_not_fail_others(engine: Engine) {
    let app = roomy_app(&engine).await;
    let mallory = app.merchant("ultimate").await;
    let mcamp = app.campaign(&mallory.key, json!({})).await["id"].as_str().unwrap().to_string();
    let maff = app.affiliate(&mallory.key, &mcamp, "m@aff.test").await;
    let mut honest = Vec::new();
    for i in 0..3 {
        let m = app.merchant("ultimate").await;
        let camp = app.campaign(&m.key, json!({})).await["id"].as_str().unwrap().to_string();
        let aff = app.affiliate(&m.key, &camp, &format!("h{i}@aff.test")).await;
        honest.push((m, camp, aff));
    }
    let mut handles = Vec::new();
    for i in 0..90 {
        let client = app.client();
        let url = app.url("/api/v1/conversions");
        let (key, body, good) = if i % 4 == 3 {
            (
                mallory.key.clone(),
                json!({ "campaignId": mcamp, "affiliateId": maff, "amount": 5, "orderId": format!("bad\u{0}{i}"), "customerName": "x\u{0}" }),
                false,
            )
        } else {
            let (m, camp, aff) = &honest[i % 3];
            (
                m.key.clone(),
                json!({ "campaignId": camp, "affiliateId": aff, "amount": 5, "orderId": format!("good-{i}") }),
                true,
            )
        };
        handles.push(tokio::spawn(async move {
            let r = client.post(url).bearer_auth(key).json(&body).send().await.unwrap();
            (good, r.status())
        }));
    }
    for handle in handles {
        let (good, status) = handle.await.unwrap();
        if good {
            assert_eq!(status, StatusCode::CREATED);
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
    }
    for (m, _, _) in &honest {
        let list = app.get(&m.key, "/api/v1/conversions?limit=100").await;
        let count = list.data().as_array().map_or(0, Vec::len);
        assert!(count >= 22, "{count}");
    }
}

/// Answers from every layer are in the envelope; early refusals close the connection.
async fn every_error_is_in_the_envelope(engine: Engine) {
    let app = roomy_app(&engine).await;
    let merchant = app.merchant("ultimate").await;
    let check = |reply: &crate::support::Reply, status: u16, code: &str| {
        assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
        assert!(
            reply.header("content-type").unwrap_or("").starts_with("application/json"),
            "{:?}",
            reply.headers
        );
        assert_eq!(reply.code(), code, "{}", reply.text);
    };
    check(&app.send(Method::POST, None, "/redirect", None).await, 405, "method_not_allowed");
    check(&app.send(Method::DELETE, None, "/api/tracking.js", None).await, 405, "method_not_allowed");
    check(&app.get(&merchant.key, "/api/v1/campaigns/%FF%FE").await, 400, "validation_error");
    check(
        &app.send(Method::POST, None, "/api/webhooks/stripe/merchant/%C3%28", None).await,
        400,
        "validation_error",
    );
    // A visitor's malformed link is an unknown link: the page they can read.
    let page = app.send(Method::GET, None, "/l/%C3%28", None).await;
    assert_eq!(page.status, 404);
    assert!(page.text.contains("Link not found"), "{}", page.text);
    check(
        &app.get(&merchant.key, &format!("/api/v1/campaigns?x={}", "a".repeat(9000))).await,
        414,
        "uri_too_long",
    );
    // More than 100 header fields: hyper's own parser refuses the head (its default limit,
    // which parses without allocating) with a bare 431, before any layer of Refline runs, so
    // this one answer is not in the envelope. Fewer fields pass.
    let with_headers = |count: usize| {
        let mut request = app.client().get(app.url("/healthz"));
        for i in 0..count {
            request = request.header(format!("x-h{i}"), "v");
        }
        request
    };
    let many = crate::support::Reply::from(with_headers(150).send().await.unwrap()).await;
    assert_eq!(many.status.as_u16(), 431, "{}", many.text);
    let fewer = crate::support::Reply::from(with_headers(90).send().await.unwrap()).await;
    assert_eq!(fewer.status.as_u16(), 200, "{}", fewer.text);
    let big = app.client().get(app.url("/healthz")).header("x-big", "v".repeat(40_000));
    check(&crate::support::Reply::from(big.send().await.unwrap()).await, 431, "headers_too_large");

    // A declared body over the limit is refused before it is sent, and the connection closed.
    let head = format!(
        "POST /api/v1/conversions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{{",
        merchant.key
    );
    let answer = raw_exchange(&app, head.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert!(answer.contains("\"payload_too_large\""), "{answer}");
    // An early refusal of a request with an unread body says it closes, too.
    let head = "POST /api/v1/conversions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{";
    let answer = raw_exchange(&app, head.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
}

/// Writes `bytes` on a new connection and reads what comes back until the server closes it or
/// `wait` passes.
async fn raw_exchange(app: &TestApp, bytes: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + wait;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A thousand slow connections (half a head, or a head and a trickle of body) do not stop the
/// server answering others promptly, and are closed once their time is up.
async fn slow_connections_do_not_starve_others(engine: Engine) {
    let app = TestApp::start_with(&engine, |c| {
        c.connections.header_read_timeout = Duration::from_secs(3);
        c.connections.body_read_timeout = Duration::from_secs(3);
    })
    .await;
    let merchant = app.merchant("ultimate").await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut slow = Vec::new();
    for i in 0..1000 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        let bytes = if i % 5 == 0 {
            format!(
                "POST /api/v1/conversions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 500\r\n\r\n{{\"a\"",
                merchant.key
            )
        } else {
            "GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: slow".to_string()
        };
        stream.write_all(bytes.as_bytes()).await.unwrap();
        slow.push(stream);
    }
    for _ in 0..5 {
        let started = Instant::now();
        let health = app.send(Method::GET, None, "/healthz", None).await;
        assert_eq!(health.status, 200);
        let me = app.get(&merchant.key, "/api/v1/me").await;
        assert_eq!(me.status, 200, "{}", me.text);
        assert!(started.elapsed() < Duration::from_secs(1), "answers took {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Past the timeouts every slow connection has been answered (408) or closed.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut closed = 0;
    for stream in &mut slow {
        let mut buf = vec![0u8; 4096];
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            closed += 1;
        }
    }
    assert_eq!(closed, 1000, "slow connections still open");
}

/// One rule for email identity: NFC, lower case, no quoted local parts.
async fn emails_have_one_canonical_form(engine: Engine) {
    let app = roomy_app(&engine).await;
    let merchant = app.merchant("ultimate").await;
    let camp = app.campaign(&merchant.key, json!({})).await["id"].as_str().unwrap().to_string();
    let post = |email: &str| json!({ "email": email, "name": "A", "campaignId": camp });
    for quoted in ["\"jane\"@example.com", "\"a b\"@example.com", "a\\b@example.com"] {
        let reply = app.post(&merchant.key, "/api/v1/affiliates", post(quoted)).await;
        assert_eq!(reply.status, 400, "{quoted}: {}", reply.text);
    }
    let first = app.post(&merchant.key, "/api/v1/affiliates", post("Rene\u{301}@Example.com")).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.data()["email"], "ren\u{e9}@example.com");
    let second = app.post(&merchant.key, "/api/v1/affiliates", post("REN\u{c9}@example.com")).await;
    assert_eq!(second.status, 409, "{}", second.text);
    assert_eq!(second.code(), "duplicate");
    let dotted = app.post(&merchant.key, "/api/v1/affiliates", post("\u{130}lker@example.com")).await;
    assert_eq!(dotted.status, 201, "{}", dotted.text);
    assert_eq!(dotted.data()["email"], "\u{130}lker@example.com", "never folded to ASCII");
}

/// Problems found by the door and by the core's operation come back in the resource's field
/// order, as one pass over the fields lists them.
async fn problems_are_listed_in_field_order(engine: Engine) {
    let app = roomy_app(&engine).await;
    let merchant = app.merchant("ultimate").await;
    let paths = |reply: &crate::support::Reply| -> Vec<String> {
        reply.body["error"]["details"].as_array().unwrap().iter().map(|d| d["path"][0].to_string()).collect()
    };
    let long = "n".repeat(201);
    let r = app
        .post(
            &merchant.key,
            "/api/v1/conversions",
            json!({ "campaignId": "camp_x", "affiliateId": "aff_x", "amount": 5, "customerEmail": "bad", "customerName": long }),
        )
        .await;
    assert_eq!(paths(&r), [r#""customerEmail""#, r#""customerName""#], "{}", r.text);
    let r = app
        .post(
            &merchant.key,
            "/api/v1/affiliates",
            json!({ "email": "bad", "name": long, "campaignId": "camp_x" }),
        )
        .await;
    assert_eq!(paths(&r), [r#""email""#, r#""name""#], "{}", r.text);
    let r = app
        .post(
            &merchant.key,
            "/api/v1/campaigns",
            json!({ "name": "A", "commissionType": "percentage", "commissionValue": 20, "cookieWindowDays": 0 }),
        )
        .await;
    assert_eq!(paths(&r), [r#""name""#, r#""cookieWindowDays""#], "{}", r.text);
}

engine_tests!(
    problems_are_listed_in_field_order,
    control_characters_never_answer_5xx,
    one_merchants_bad_values_do_not_fail_others,
    every_error_is_in_the_envelope,
    slow_connections_do_not_starve_others,
    emails_have_one_canonical_form,
);

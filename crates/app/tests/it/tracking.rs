//! Tracking over HTTP: hosted redirects, short links, the beacon, the script, click quality
//! (bots, HEAD, unique visitors), and clicks feeding self-referral checks.

use std::{sync::Arc, time::Duration};

use refline_domain::TrackingReference;
use refline_server::clock::ManualClock;
use reqwest::{header, redirect::Policy, Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{Engine, TestApp, TestMerchant},
};

const BROWSER: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const OTHER_BROWSER: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).timeout(Duration::from_secs(30)).build().unwrap()
}

struct World {
    merchant: TestMerchant,
    campaign: String,
    code: String,
    affiliate: String,
}

async fn world(app: &TestApp, target: &str) -> World {
    let merchant = app.merchant("ultimate").await;
    let c = app.campaign(&merchant.key, json!({ "targetUrl": target })).await;
    let campaign = c["id"].as_str().unwrap().to_string();
    let affiliate = app.affiliate(&merchant.key, &campaign, "ally@affiliates.test").await;
    World { merchant, code: c["trackingCode"].as_str().unwrap().to_string(), campaign, affiliate }
}

/// GETs `path` without following redirects.
async fn visit(app: &TestApp, method: Method, path: &str, agent: Option<&str>) -> reqwest::Response {
    let mut request = no_redirects().request(method, app.url(path));
    if let Some(agent) = agent {
        request = request.header(header::USER_AGENT, agent);
    }
    request.send().await.unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get(header::LOCATION).unwrap().to_str().unwrap().to_string()
}

fn query_of(location: &str) -> Vec<(String, String)> {
    url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

fn param(location: &str, name: &str) -> Option<String> {
    query_of(location).into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Waits until the campaign's click counts (from the API) satisfy `done`.
async fn click_stats_until(app: &TestApp, w: &World, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let stats = app.get(&w.merchant.key, &format!("/api/v1/campaigns/{}", w.campaign)).await.data()
            ["clickStats"]
            .clone();
        if done(&stats) {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let last = app.get(&w.merchant.key, &format!("/api/v1/campaigns/{}", w.campaign)).await.data()
        ["clickStats"]
        .clone();
    panic!("click counts never reached the expected state: {last}");
}

async fn stored_clicks(app: &TestApp, w: &World, query: &str) -> Vec<Value> {
    let reply = app.get(&w.merchant.key, &format!("/api/v1/clicks?{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.data().as_array().unwrap().clone()
}

async fn redirect_records_the_click_and_keeps_the_targets_query(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let w = world(&app, "https://shop.example/pricing?plan=pro&tc=STALE#top").await;
    let response =
        visit(&app, Method::GET, &format!("/redirect?tc={}&aff={}", w.code, w.affiliate), Some(BROWSER))
            .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "private, no-store");
    let to = location(&response);
    assert!(to.starts_with("https://shop.example/pricing?plan=pro&tc="), "{to}");
    assert!(to.ends_with("#top"), "{to}");
    assert_eq!(param(&to, "tc").as_deref(), Some(w.code.as_str()), "the stale tc is replaced");
    assert_eq!(query_of(&to).iter().filter(|(n, _)| n == "tc").count(), 1);
    assert_eq!(param(&to, "aff").as_deref(), Some(w.affiliate.as_str()));
    let cid = param(&to, "cid").unwrap();
    assert!(cid.starts_with("click_"), "{cid}");

    let stats = click_stats_until(&app, &w, |s| s["clicks"] == 1).await;
    assert_eq!(stats, json!({ "clicks": 1, "uniqueClicks": 1, "botClicks": 0, "headRequests": 0 }));
    let click = app.get(&w.merchant.key, &format!("/api/v1/clicks/{cid}")).await;
    assert_eq!(click.status, StatusCode::OK, "{}", click.text);
    let click = click.data();
    assert_eq!(click["source"], "redirect");
    assert_eq!(click["kind"], "human");
    assert_eq!(click["unique"], true);
    assert_eq!(click["campaignId"], w.campaign.as_str());
    assert!(click.get("ip").is_none(), "raw IPs are never shown");
    let affiliate = app.get(&w.merchant.key, &format!("/api/v1/affiliates/{}", w.affiliate)).await;
    assert_eq!(affiliate.data()["clicks"], 1, "{}", affiliate.text);
    assert_eq!(affiliate.data()["clickStats"]["uniqueClicks"], 1);

    // The reference a checkout carries back is the documented format and names this click.
    let reference = TrackingReference {
        tracking_code: w.code.clone(),
        affiliate_id: w.affiliate.clone(),
        click_id: Some(cid.clone()),
    };
    let text = reference.format();
    assert_eq!(text, format!("tc_{}_aff_{}_cid_{cid}", w.code, w.affiliate));
    assert_eq!(TrackingReference::parse(&text), Some(reference));

    // Another merchant cannot read the click.
    let other = app.merchant("ultimate").await;
    assert_eq!(app.get(&other.key, &format!("/api/v1/clicks/{cid}")).await.status, StatusCode::NOT_FOUND);
    assert!(stored_clicks(&app, &World { merchant: other, ..w }, "").await.is_empty());
}

async fn unknown_links_never_fail(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let w = world(&app, "https://shop.example/").await;
    for path in [
        "/redirect".to_string(),
        "/redirect?tc=NOPE&aff=nobody".to_string(),
        format!("/redirect?tc={}&aff=aff_unknown", w.code),
        format!("/redirect?tc={}", w.code),
        "/redirect?tc=%FF%FE&aff=%00".to_string(),
        "/l/unknown-code".to_string(),
        "/l/x".to_string(),
    ] {
        let response = visit(&app, Method::GET, &path, Some(BROWSER)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(response.text().await.unwrap().contains("Link not found"), "{path}");
    }
    let fallback = TestApp::start_with(&engine, |c| {
        c.tracking.fallback_url = Some("https://refline.example/oops".into())
    })
    .await;
    let response = visit(&fallback, Method::GET, "/redirect?tc=NOPE&aff=nobody", Some(BROWSER)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "https://refline.example/oops");
    // A campaign without a landing page has nowhere to send people.
    let bare = app.campaign(&w.merchant.key, json!({ "name": "No target" })).await;
    let aff = app.affiliate(&w.merchant.key, bare["id"].as_str().unwrap(), "b@affiliates.test").await;
    let path = format!("/redirect?tc={}&aff={aff}", bare["trackingCode"].as_str().unwrap());
    assert_eq!(visit(&app, Method::GET, &path, Some(BROWSER)).await.status(), StatusCode::NOT_FOUND);
    let stats = app.get(&w.merchant.key, &format!("/api/v1/campaigns/{}", w.campaign)).await.data()
        ["clickStats"]
        .clone();
    assert_eq!(stats["clicks"], 0);
}

async fn head_requests_and_bots_are_counted_apart(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let w = world(&app, "https://shop.example/").await;
    let path = format!("/redirect?tc={}&aff={}", w.code, w.affiliate);
    let head = visit(&app, Method::HEAD, &path, Some(BROWSER)).await;
    assert_eq!(head.status(), StatusCode::FOUND);
    assert_eq!(param(&location(&head), "cid"), None, "a HEAD request is not a click");
    for bot in [
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "facebookexternalhit/1.1",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "WhatsApp/2.23.20.0",
    ] {
        let response = visit(&app, Method::GET, &path, Some(bot)).await;
        assert_eq!(response.status(), StatusCode::FOUND, "bots still get where the link goes");
    }
    // No user agent at all is a script, not a person.
    visit(&app, Method::GET, &path, None).await;
    visit(&app, Method::GET, &path, Some(BROWSER)).await;
    let stats =
        click_stats_until(&app, &w, |s| s["botClicks"] == 5 && s["clicks"] == 1 && s["headRequests"] == 1)
            .await;
    assert_eq!(stats["uniqueClicks"], 1);
    assert_eq!(stored_clicks(&app, &w, "kind=bot").await.len(), 5);
    let people = stored_clicks(&app, &w, "kind=human").await;
    assert_eq!(people.len(), 1);
    let bad = app.get(&w.merchant.key, "/api/v1/clicks?kind=robot").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn unique_visitors_count_once_per_hour(engine: Engine) {
    let clock = Arc::new(ManualClock::new());
    // Visitors are hashed with a salt of the UTC day, so two hours of this test must not cross
    // midnight (run after 23:00 it did, and the 59-minute visit counted as a new visitor): start
    // a minute into the next day.
    const DAY_MS: i64 = 86_400_000;
    let now = refline_server::clock::Clock::now(clock.as_ref());
    clock.advance(DAY_MS - now.rem_euclid(DAY_MS) + 60_000);
    let shared = clock.clone();
    let app = TestApp::start_with(&engine, move |c| c.clock = shared).await;
    let w = world(&app, "https://shop.example/").await;
    let path = format!("/redirect?tc={}&aff={}", w.code, w.affiliate);
    for _ in 0..3 {
        visit(&app, Method::GET, &path, Some(BROWSER)).await;
    }
    visit(&app, Method::GET, &path, Some(OTHER_BROWSER)).await;
    click_stats_until(&app, &w, |s| s["clicks"] == 4 && s["uniqueClicks"] == 2).await;
    clock.advance(59 * 60 * 1000);
    visit(&app, Method::GET, &path, Some(BROWSER)).await;
    click_stats_until(&app, &w, |s| s["clicks"] == 5 && s["uniqueClicks"] == 2).await;
    clock.advance(61 * 60 * 1000);
    visit(&app, Method::GET, &path, Some(BROWSER)).await;
    let stats = click_stats_until(&app, &w, |s| s["clicks"] == 6).await;
    assert_eq!(stats["uniqueClicks"], 3, "an hour after the last counted visit, it counts again");
    assert_eq!(stored_clicks(&app, &w, "unique=false").await.len(), 3);
}

async fn short_links_resolve_like_the_hosted_link(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let w = world(&app, "https://shop.example/?ref=partner").await;
    let key = &w.merchant.key;
    let created =
        app.post(key, "/api/v1/links", json!({ "campaignId": w.campaign, "affiliateId": w.affiliate })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let link = created.data().clone();
    let code = link["code"].as_str().unwrap();
    assert_eq!(link["url"], app.url(&format!("/l/{code}")));
    assert_eq!(link["trackingCode"], w.code.as_str());

    let response =
        visit(&app, Method::GET, &format!("/l/{code}?utm_source=newsletter&tc=FORGED"), Some(BROWSER)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let to = location(&response);
    assert_eq!(param(&to, "utm_source").as_deref(), Some("newsletter"), "the link's own query is passed on");
    assert_eq!(param(&to, "tc").as_deref(), Some(w.code.as_str()), "but never its tracking parameters");
    assert_eq!(param(&to, "ref").as_deref(), Some("partner"));
    assert_eq!(param(&to, "aff").as_deref(), Some(w.affiliate.as_str()));
    let cid = param(&to, "cid").unwrap();
    click_stats_until(&app, &w, |s| s["clicks"] == 1).await;
    let click = app.get(key, &format!("/api/v1/clicks/{cid}")).await;
    assert_eq!(click.data()["source"], "short_link");
    assert_eq!(click.data()["linkId"], link["id"]);
    let id = link["id"].as_str().unwrap();
    let read = app.get(key, &format!("/api/v1/links/{id}")).await;
    assert_eq!(read.data()["clickStats"]["clicks"], 1, "{}", read.text);
    assert_eq!(stored_clicks(&app, &w, &format!("linkId={id}")).await.len(), 1);

    let custom = app
        .post(
            key,
            "/api/v1/links",
            json!({ "campaignId": w.campaign, "affiliateId": w.affiliate, "code": "ally-summer" }),
        )
        .await;
    assert_eq!(custom.status, StatusCode::CREATED, "{}", custom.text);
    let taken = app
        .post(
            key,
            "/api/v1/links",
            json!({ "campaignId": w.campaign, "affiliateId": w.affiliate, "code": "ally-summer" }),
        )
        .await;
    assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "code_taken"));
    let bad = app
        .post(
            key,
            "/api/v1/links",
            json!({ "campaignId": w.campaign, "affiliateId": w.affiliate, "code": "a/b" }),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (StatusCode::BAD_REQUEST, "validation_error"));
    let missing = app.post(key, "/api/v1/links", json!({ "campaignId": w.campaign })).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let stranger = app
        .post(key, "/api/v1/links", json!({ "campaignId": w.campaign, "affiliateId": "aff_nobody" }))
        .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let listed = app.get(key, &format!("/api/v1/links?affiliateId={}", w.affiliate)).await;
    assert_eq!(listed.data().as_array().unwrap().len(), 2);

    let other = app.merchant("ultimate").await;
    assert_eq!(app.get(&other.key, &format!("/api/v1/links/{id}")).await.status, StatusCode::NOT_FOUND);
    let foreign = app
        .post(&other.key, "/api/v1/links", json!({ "campaignId": w.campaign, "affiliateId": w.affiliate }))
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "another merchant's campaign is invisible");

    let deleted = app.send(Method::DELETE, Some(key), &format!("/api/v1/links/{id}"), None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(
        visit(&app, Method::GET, &format!("/l/{code}"), Some(BROWSER)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(key, &format!("/api/v1/clicks/{cid}")).await.status,
        StatusCode::OK,
        "clicks outlive links"
    );
}

async fn rejected_affiliates_and_inactive_campaigns_are_not_credited(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let w = world(&app, "https://shop.example/").await;
    let key = &w.merchant.key;
    let path = format!("/redirect?tc={}&aff={}", w.code, w.affiliate);
    let r =
        app.patch(key, &format!("/api/v1/campaigns/{}", w.campaign), json!({ "status": "inactive" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let response = visit(&app, Method::GET, &path, Some(BROWSER)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        location(&response),
        "https://shop.example/",
        "the change shows at once: the cache was cleared"
    );
    app.patch(
        key,
        &format!("/api/v1/campaigns/{}", w.campaign),
        json!({ "status": "active", "targetUrl": "https://new.example/" }),
    )
    .await;
    let response = visit(&app, Method::GET, &path, Some(BROWSER)).await;
    assert!(location(&response).starts_with("https://new.example/?tc="));
    let rejected = app
        .patch(
            key,
            &format!("/api/v1/affiliates/{}", w.affiliate),
            json!({ "campaignId": w.campaign, "status": "rejected" }),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    let response = visit(&app, Method::GET, &path, Some(BROWSER)).await;
    assert_eq!(location(&response), "https://new.example/");
    let beacon = beacon(&app, json!({ "merchantId": w.merchant.id, "tc": w.code, "aff": w.affiliate, "url": "https://new.example/" })).await;
    assert_eq!(beacon.2["tracked"], false);
    let stats = click_stats_until(&app, &w, |s| s["clicks"] == 1).await;
    assert_eq!(stats["clicks"], 1, "only the click while active and approved");
}

/// Posts a beacon as the script does (text/plain JSON from another origin).
async fn beacon(app: &TestApp, body: Value) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let response = no_redirects()
        .post(app.url("/api/track/click"))
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .header(header::USER_AGENT, BROWSER)
        .header(header::ORIGIN, "https://shop.example")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.unwrap())
}

async fn the_beacon_records_clicks_across_origins(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let w = world(&app, "https://shop.example/").await;
    let preflight = no_redirects()
        .request(Method::OPTIONS, app.url("/api/track/click"))
        .header(header::ORIGIN, "https://shop.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert!(preflight.headers()[header::ACCESS_CONTROL_ALLOW_METHODS].to_str().unwrap().contains("POST"));

    // What the script proposes: `click_`, 8 characters of time, 12 random.
    let proposed = &refline_server::ids::new_ordered_id("click", refline_server::clock::now_ms());
    let stale = refline_server::ids::new_ordered_id("click", refline_server::clock::now_ms() - 3_600_000);
    let (status, headers, body) = beacon(
        &app,
        json!({ "merchantId": w.merchant.id, "tc": w.code, "aff": w.affiliate, "clickId": proposed,
                "url": "https://shop.example/landing?tc=x", "referrer": "https://blog.example/post" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(body, json!({ "tracked": true, "clickId": proposed, "bot": false }));
    click_stats_until(&app, &w, |s| s["clicks"] == 1).await;
    let click = app.get(&w.merchant.key, &format!("/api/v1/clicks/{proposed}")).await;
    assert_eq!(click.data()["source"], "beacon");
    assert_eq!(click.data()["landingUrl"], "https://shop.example/landing?tc=x");
    assert_eq!(click.data()["referrer"], "https://blog.example/post");

    // A replayed beacon is one click, not two.
    beacon(
        &app,
        json!({ "merchantId": w.merchant.id, "tc": w.code, "aff": w.affiliate, "clickId": proposed }),
    )
    .await;
    // A malformed proposal gets a server id.
    let (_, _, body) = beacon(
        &app,
        json!({ "merchantId": w.merchant.id, "tc": w.code, "aff": w.affiliate, "clickId": "x'; drop" }),
    )
    .await;
    let server_id = body["clickId"].as_str().unwrap();
    assert!(server_id.starts_with("click_") && server_id != "x'; drop");
    // So does a well-formed one made an hour ago (it would file the click out of time order).
    let (_, _, body) = beacon(
        &app,
        json!({ "merchantId": w.merchant.id, "tc": w.code, "aff": w.affiliate, "clickId": stale }),
    )
    .await;
    assert!(body["clickId"].as_str().is_some_and(|id| id != stale), "{body}");
    let stats = click_stats_until(&app, &w, |s| s["clicks"] == 3).await;
    assert_eq!(stats["clicks"], 3);

    for unknown in [
        json!({ "merchantId": w.merchant.id, "tc": "NOPE", "aff": w.affiliate }),
        json!({ "merchantId": "mer_someone_else", "tc": w.code, "aff": w.affiliate }),
        json!({ "merchantId": w.merchant.id, "tc": w.code, "aff": "aff_nobody" }),
    ] {
        let (status, _, body) = beacon(&app, unknown).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({ "tracked": false, "clickId": null }));
    }
    let raw = no_redirects().post(app.url("/api/track/click")).body("not json").send().await.unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    assert_eq!(raw.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let (status, _, _) = beacon(&app, json!({ "tc": w.code })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The first beacon marks tracking as installed.
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = app.get(&w.merchant.key, "/api/v1/me").await.data()["tracking"].clone();
        if seen["scriptSeen"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen["scriptSeen"], true, "{seen}");
    let stats = click_stats_until(&app, &w, |s| s["clicks"] == 3).await;
    assert_eq!(stats["clicks"], 3, "unknown pairs record nothing");
}

async fn the_script_is_small_cacheable_and_configured(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let merchant = app.merchant("ultimate").await;
    let long = app
        .campaign(&merchant.key, json!({ "cookieWindowDays": 60, "targetUrl": "https://shop.example/" }))
        .await;
    let me = app.get(&merchant.key, "/api/v1/me").await;
    assert_eq!(me.data()["tracking"]["scriptSeen"], false);
    let path = format!("/api/tracking.js?id={}", merchant.id);
    let response = visit(&app, Method::GET, &path, Some(BROWSER)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/javascript"));
    assert!(response.headers()[header::CACHE_CONTROL].to_str().unwrap().contains("max-age"));
    let etag = response.headers()[header::ETAG].to_str().unwrap().to_string();
    let body = response.text().await.unwrap();
    assert!(body.len() < 4096, "the script is {} bytes", body.len());
    assert!(body.contains(&merchant.id));
    assert!(
        body.contains(&format!("\"{}\":60", long["trackingCode"].as_str().unwrap())),
        "per-campaign window"
    );
    let again = no_redirects().get(app.url(&path)).header(header::IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        visit(&app, Method::GET, "/api/tracking.js?id=mer_nobody", None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(visit(&app, Method::GET, "/api/tracking.js", None).await.status(), StatusCode::BAD_REQUEST);
    let mut seen = false;
    for _ in 0..100 {
        seen = app.get(&merchant.key, "/api/v1/me").await.data()["tracking"]["scriptSeen"] == true;
        if seen {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen, "loading the script records that tracking is installed");
}

/// The click named by a conversion's clickId gives the customer's IP and device; matching the
/// affiliate's own makes the conversion a likely self-referral.
async fn clicks_feed_self_referral_checks(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let w = world(&app, "https://shop.example/").await;
    let response =
        visit(&app, Method::GET, &format!("/redirect?tc={}&aff={}", w.code, w.affiliate), Some(BROWSER))
            .await;
    let cid = param(&location(&response), "cid").unwrap();
    click_stats_until(&app, &w, |s| s["clicks"] == 1).await;
    // The affiliate was seen on the same machine (the test client: loopback, same browser).
    app.store.record_fingerprint(&w.affiliate, "ip", "127.0.0.1", 1).await.unwrap();
    let device = refline_server::tracking::visitor::device_hash(BROWSER);
    app.store.record_fingerprint(&w.affiliate, "device", &device, 1).await.unwrap();
    let r = app
        .convert(
            &w.merchant.key,
            &w.campaign,
            &w.affiliate,
            json!(50),
            json!({ "clickId": cid, "customerEmail": "buyer@example.org" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.data()["fraud"]["signals"], json!(["ip_match", "device_match"]), "{}", r.text);
}

/// Every answered redirect is stored after a graceful stop.
async fn a_graceful_stop_flushes_every_answered_click(engine: Engine) {
    let engine = engine.isolated().await;
    let app = TestApp::start(&engine).await;
    let w = world(&app, "https://shop.example/").await;
    let path = format!("/redirect?tc={}&aff={}", w.code, w.affiliate);
    let client = no_redirects();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..300 {
        let (client, url) = (client.clone(), app.url(&path));
        tasks.spawn(async move {
            client
                .get(url)
                .header(header::USER_AGENT, BROWSER)
                .send()
                .await
                .map(|r| r.status() == StatusCode::FOUND)
        });
    }
    let mut answered = 0;
    while let Some(done) = tasks.join_next().await {
        if done.unwrap().unwrap_or(false) {
            answered += 1;
        }
    }
    assert_eq!(answered, 300);
    let store = app.store.clone();
    app.stop().await;
    let totals = store.click_totals(&w.merchant.id, Some(&w.campaign), None).await.unwrap();
    assert_eq!(totals.clicks, 300, "every answered click was written before the server stopped");
}

/// With `--click-ack committed` a click is in the database when its 302 arrives, and the answer
/// does not wait for the batch window: with a window of ten minutes, the redirect still answers
/// well within the client's 30 s timeout, and the click is readable at once.
async fn committed_clicks_are_written_without_the_window(engine: Engine) {
    let app = TestApp::start_with(&engine, |config| {
        config.tracking.batch_window = Duration::from_secs(600);
        config.tracking.ack_after_commit = true;
    })
    .await;
    let w = world(&app, "https://shop.example/").await;
    for round in 0..3 {
        let path = format!("/redirect?tc={}&aff={}", w.code, w.affiliate);
        let response = visit(&app, Method::GET, &path, Some(BROWSER)).await;
        assert_eq!(response.status(), StatusCode::FOUND, "round {round}");
        let cid = param(&location(&response), "cid").unwrap();
        let click = app.get(&w.merchant.key, &format!("/api/v1/clicks/{cid}")).await;
        assert_eq!(click.status, StatusCode::OK, "round {round}: stored before the answer: {}", click.text);
    }
    let short = app
        .post(
            &w.merchant.key,
            "/api/v1/links",
            json!({ "campaignId": w.campaign, "affiliateId": w.affiliate }),
        )
        .await;
    let code = short.data()["code"].as_str().unwrap().to_string();
    let response = visit(&app, Method::GET, &format!("/l/{code}"), Some(OTHER_BROWSER)).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let cid = param(&location(&response), "cid").unwrap();
    assert_eq!(app.get(&w.merchant.key, &format!("/api/v1/clicks/{cid}")).await.status, StatusCode::OK);
}

/// Visitors' links are answered without the router (`http::fast_lane`); they must still get
/// everything the router's layers give every route: the request id, the edge's head limits
/// in the error envelope, `Connection: close` after an unread body, and the router's own
/// answers for what the lane does not take.
async fn visitor_links_keep_the_edge_and_the_request_id(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let w = world(&app, "https://shop.example/").await;
    let hosted = format!("/redirect?tc={}&aff={}", w.code, w.affiliate);
    let client = reqwest::Client::builder().redirect(Policy::none()).user_agent(BROWSER).build().unwrap();

    let kept = client.get(app.url(&hosted)).header("x-request-id", "visit-7.a").send().await.unwrap();
    assert_eq!(kept.status(), StatusCode::FOUND);
    assert_eq!(kept.headers()["x-request-id"], "visit-7.a");
    let made = client.get(app.url("/l/unknown-code")).header("x-request-id", "bad id!").send().await.unwrap();
    assert_eq!(made.status(), StatusCode::NOT_FOUND);
    assert!(made.headers()["x-request-id"].to_str().unwrap().starts_with("req_"));

    // Head limits, in the envelope, naming the request.
    let huge = "v".repeat(40 * 1024);
    let refused = client.get(app.url(&hosted)).header("x-filler", huge).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let id = refused.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "headers_too_large");
    assert_eq!(body["error"]["requestId"], id.as_str());
    let long = format!("{hosted}&pad={}", "p".repeat(9 * 1024));
    let refused = client.get(app.url(&long)).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::URI_TOO_LONG);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"]["code"], "uri_too_long");

    // A body nobody reads: the visitor is sent on, and the connection closes behind it.
    let with_body = client.get(app.url(&hosted)).body("stray").send().await.unwrap();
    assert_eq!(with_body.status(), StatusCode::FOUND);
    assert_eq!(with_body.headers()[header::CONNECTION], "close");
    let plain = client.get(app.url(&hosted)).send().await.unwrap();
    assert!(plain.headers().get(header::CONNECTION).is_none());

    // What the lane does not take is the router's: 405 and 404 in the envelope.
    let posted = client.post(app.url(&hosted)).send().await.unwrap();
    assert_eq!(posted.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(posted.json::<Value>().await.unwrap()["error"]["code"], "method_not_allowed");
    let nested = client.get(app.url("/l/abc/def")).send().await.unwrap();
    assert_eq!(nested.status(), StatusCode::NOT_FOUND);
    assert_eq!(nested.json::<Value>().await.unwrap()["error"]["code"], "not_found");

    let stats = click_stats_until(&app, &w, |s| s["clicks"] == 3).await;
    assert_eq!(stats["clicks"], 3, "the three 302s above were clicks: {stats}");
    app.stop().await;
}

engine_tests!(
    visitor_links_keep_the_edge_and_the_request_id,
    committed_clicks_are_written_without_the_window,
    redirect_records_the_click_and_keeps_the_targets_query,
    unknown_links_never_fail,
    head_requests_and_bots_are_counted_apart,
    unique_visitors_count_once_per_hour,
    short_links_resolve_like_the_hosted_link,
    rejected_affiliates_and_inactive_campaigns_are_not_credited,
    the_beacon_records_clicks_across_origins,
    the_script_is_small_cacheable_and_configured,
    clicks_feed_self_referral_checks,
    a_graceful_stop_flushes_every_answered_click,
);

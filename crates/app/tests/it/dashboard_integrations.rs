//! The Integration Hub and the outbound webhooks pages: connecting a processor (the secret
//! entered, never shown back), rotating it, the delivery log; the tracking snippet and whether it
//! was seen; webhook endpoints with their secret shown once, a test event reaching a receiver,
//! the delivery log with replay; another brand's objects answer 404; names are escaped.

use std::time::Duration;

use reqwest::StatusCode;

use crate::{
    dashboard_support::{field_error, Browser},
    engine_tests,
    receiver::Receiver,
    support::{Engine, TestApp},
};

const HOSTILE: &str = "<script>alert(1)</script>";
/// How askama writes [`HOSTILE`].
const ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;";

/// The path of a `303` answer's `Location`, without its `?notice=`.
fn path_of(location: &Option<String>) -> String {
    let location = location.clone().expect("a redirect");
    location.split('?').next().unwrap().to_string()
}

/// The text of the element with `id` (`id="…">text<`).
fn text_of(html: &str, id: &str) -> String {
    let marker = format!(r#"id="{id}">"#);
    let at = html.find(&marker).unwrap_or_else(|| panic!("no #{id} in page"));
    html[at + marker.len()..].split('<').next().unwrap().to_string()
}

async fn hub_connects_stripe_and_rotates_its_secret(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, merchant) = Browser::sign_up(&app, "hub@shop.test", "Hub Shop").await;

    let hub = browser.get("/merchant/integrations").await;
    assert_eq!(hub.status, StatusCode::OK);
    let url = format!("{}/api/webhooks/stripe/merchant/{merchant}", app.base);
    assert_eq!(text_of(&hub.html, "url-stripe"), url);
    let snippet = text_of(&hub.html, "tracking-snippet");
    assert_eq!(
        snippet,
        format!(
            r#"&#60;script src=&#34;{}/api/tracking.js?id={merchant}&#34;&#62;&#60;/script&#62;"#,
            app.base
        )
    );
    assert!(hub.html.contains("Not seen yet"));

    // A missing secret is refused next to its field, nothing connected.
    let refused = browser
        .submit(
            "/merchant/integrations",
            "/merchant/integrations",
            &[("provider", "stripe"), ("label", "x"), ("webhookSecret", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
    assert!(field_error(&refused.html, "webhookSecret").is_some(), "{}", refused.html);

    let secret = "whsec_dashboard_first_secret_AbCd";
    let connected = browser
        .submit(
            "/merchant/integrations",
            "/merchant/integrations",
            &[("provider", "stripe"), ("label", HOSTILE), ("webhookSecret", secret)],
        )
        .await;
    assert_eq!(connected.status, StatusCode::SEE_OTHER, "{}", connected.html);
    let detail_path = path_of(&connected.location);
    let id = detail_path.rsplit('/').next().unwrap().to_string();
    let detail = browser.get(&detail_path).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.html.contains("…AbCd"), "hint shown");
    assert!(!detail.html.contains(secret), "the secret is never shown back");
    assert!(detail.html.contains(ESCAPED) && !detail.html.contains(HOSTILE), "label escaped");
    assert!(detail.html.contains("No deliveries yet"));
    let hub = browser.get("/merchant/integrations").await;
    assert!(hub.html.contains(&format!("/merchant/integrations/{id}")) && !hub.html.contains(secret));

    // The API sees the same connection.
    let key = browser.api_key("live").await;
    let listed = app.get(&key, "/api/v1/integrations").await;
    assert_eq!(listed.status, StatusCode::OK);
    let data = &listed.data()[0];
    assert_eq!((data["id"].as_str(), data["provider"].as_str()), (Some(id.as_str()), Some("stripe")));
    assert_eq!(data["status"], "active");
    assert_eq!(data["secretHint"], "…AbCd");
    assert_eq!(data["label"], HOSTILE);
    assert!(!listed.text.contains(secret));

    // Rotation: an empty field is reported; a new secret keeps the old one as previous.
    let empty =
        browser.submit(&detail_path, &format!("{detail_path}/secret"), &[("webhookSecret", " ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&empty.html, "webhookSecret").is_some());
    let rotated = browser
        .submit(
            &detail_path,
            &format!("{detail_path}/secret"),
            &[("webhookSecret", "whsec_rotated_secret_WxYz")],
        )
        .await;
    assert_eq!(rotated.status, StatusCode::SEE_OTHER, "{}", rotated.html);
    let after = app.get(&key, &format!("/api/v1/integrations/{id}")).await;
    assert_eq!(after.data()["secretHint"], "…WxYz");
    assert_eq!(after.data()["hasPreviousSecret"], true);
    let page = browser.get(&detail_path).await;
    assert!(page.html.contains("previous secret is still accepted") && !page.html.contains("whsec_rotated"));
    let dropped = browser.submit(&detail_path, &format!("{detail_path}/drop-previous"), &[]).await;
    assert_eq!(dropped.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&key, &format!("/api/v1/integrations/{id}")).await.data()["hasPreviousSecret"], false);

    // A signed delivery shows in the log.
    let body = r#"{"id":"evt_dash_1","type":"customer.created","data":{"object":{}}}"#;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let signature = stripe_signature("whsec_rotated_secret_WxYz", stamp, body);
    let sent = app
        .client()
        .post(&url)
        .header("stripe-signature", format!("t={stamp},v1={signature}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success(), "{}", sent.status());
    let mut shown = String::new();
    for _ in 0..200 {
        shown = browser.get(&detail_path).await.html;
        if shown.contains("evt_dash_1") && shown.contains(">Replay<") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(shown.contains("evt_dash_1"), "{shown}");
    let marker = format!("{detail_path}/deliveries/");
    let at = shown.find(&marker).expect("a replay form");
    let delivery = shown[at + marker.len()..].split('/').next().unwrap().to_string();
    let replayed =
        browser.submit(&detail_path, &format!("{detail_path}/deliveries/{delivery}/replay"), &[]).await;
    assert_eq!(replayed.status, StatusCode::SEE_OTHER, "{}", replayed.html);

    // The script seen: the hub says so once a page loaded it.
    let script = app.client().get(app.url(&format!("/api/tracking.js?id={merchant}"))).send().await.unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    let mut seen = false;
    for _ in 0..200 {
        if browser.get("/merchant/integrations").await.html.contains("The script was first loaded") {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(seen, "the hub shows the script as seen");

    // Disconnect.
    let gone = browser.submit(&detail_path, &format!("{detail_path}/delete"), &[]).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get(&detail_path).await.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

/// `v1` of a Stripe signature header.
fn stripe_signature(secret: &str, stamp: u64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{stamp}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn webhook_endpoint_secret_once_test_and_replay(engine: Engine) {
    let app = TestApp::start_with(&engine, |c| c.webhooks.allow_private_targets = true).await;
    let receiver = Receiver::start().await;
    let (browser, _) = Browser::sign_up(&app, "hooks@shop.test", "Hooks Shop").await;

    // Refusals next to their fields: no URL, no event.
    let refused = browser.submit("/merchant/webhooks", "/merchant/webhooks", &[("url", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&refused.html, "url").is_some() && field_error(&refused.html, "events").is_some());

    let made = browser
        .submit(
            "/merchant/webhooks",
            "/merchant/webhooks",
            &[
                ("url", receiver.url.as_str()),
                ("events", "conversion.created"),
                ("events", "payout.completed"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.html);
    let secret = text_of(&made.html, "new-secret-value");
    assert_eq!(secret.len(), 64, "{secret}");
    assert!(text_of(&made.html, "new-secret-standard").starts_with("whsec_"));
    let list = browser.get("/merchant/webhooks").await;
    assert!(!list.html.contains(&secret), "the secret is shown once");
    assert!(list.html.contains("conversion.created, payout.completed"));
    let marker = r#"<a href="/merchant/webhooks/"#;
    let at = list.html.find(marker).expect("endpoint link");
    let id = list.html[at + marker.len()..].split('"').next().unwrap().to_string();
    let detail_path = format!("/merchant/webhooks/{id}");
    assert!(!browser.get(&detail_path).await.html.contains(&secret));

    // Send test: reaches the receiver, the answer shown.
    let tested = browser.submit(&detail_path, &format!("{detail_path}/test"), &[]).await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.html);
    assert!(tested.html.contains("Test event delivered"), "{}", tested.html);
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].json()["event"], "webhook.test");
    assert!(!tested.html.contains(&secret));

    // Events changed; none at all is refused next to the field.
    let none = browser.submit(&detail_path, &format!("{detail_path}/events"), &[]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&none.html, "events").is_some());
    let changed = browser
        .submit(
            &detail_path,
            &format!("{detail_path}/events"),
            &[("events", "affiliate.joined"), ("events", "affiliate.approved")],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    let key = browser.api_key("live").await;
    assert_eq!(
        app.get(&key, &format!("/api/v1/webhooks/{id}")).await.data()["events"],
        serde_json::json!(["affiliate.approved", "affiliate.joined"])
    );

    // A real event: an affiliate joins through the API; the delivery shows and can be replayed.
    let campaign = app.campaign(&key, serde_json::json!({})).await["id"].as_str().unwrap().to_string();
    app.affiliate(&key, &campaign, "partner@aff.test").await;
    receiver.wait_for(2).await;
    let mut shown = String::new();
    for _ in 0..200 {
        shown = browser.get(&detail_path).await.html;
        if shown.contains("<code>affiliate.") && shown.contains("/retry") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let marker = format!("{detail_path}/deliveries/");
    let at = shown.find(&marker).unwrap_or_else(|| panic!("a delivery: {shown}"));
    let delivery = shown[at + marker.len()..].split('/').next().unwrap().to_string();
    let replayed =
        browser.submit(&detail_path, &format!("{detail_path}/deliveries/{delivery}/retry"), &[]).await;
    assert_eq!(replayed.status, StatusCode::SEE_OTHER, "{}", replayed.html);
    receiver.wait_for(3).await;

    // Rotation shows the new secret once.
    let rotated = browser.submit(&detail_path, &format!("{detail_path}/rotate"), &[]).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let new_secret = text_of(&rotated.html, "new-secret-value");
    assert!(new_secret.len() == 64 && new_secret != secret);
    assert!(!browser.get(&detail_path).await.html.contains(&new_secret));

    let deleted = browser.submit(&detail_path, &format!("{detail_path}/delete"), &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get(&detail_path).await.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn another_brands_objects_answer_404(engine: Engine) {
    let app = TestApp::start_with(&engine, |c| c.webhooks.allow_private_targets = true).await;
    let (owner, _) = Browser::sign_up(&app, "first@shop.test", "First Shop").await;
    let (other, _) = Browser::sign_up(&app, "second@shop.test", "Second Shop").await;
    let connected = owner
        .submit(
            "/merchant/integrations",
            "/merchant/integrations",
            &[("provider", "paddle"), ("webhookSecret", "pdl_ntfset_secret_value_1234")],
        )
        .await;
    assert_eq!(connected.status, StatusCode::SEE_OTHER, "{}", connected.html);
    let integration = path_of(&connected.location);
    let made = owner
        .submit(
            "/merchant/webhooks",
            "/merchant/webhooks",
            &[("url", "http://127.0.0.1:9/in"), ("events", "conversion.created")],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.html);
    let marker = r#"<a href="/merchant/webhooks/"#;
    let at = made.html.find(marker).unwrap();
    let endpoint =
        format!("/merchant/webhooks/{}", made.html[at + marker.len()..].split('"').next().unwrap());

    for path in [integration.clone(), endpoint.clone()] {
        assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND, "GET {path}");
    }
    let token_page = "/merchant/webhooks";
    for action in [
        format!("{integration}/secret"),
        format!("{integration}/delete"),
        format!("{integration}/deliveries/x/replay"),
        format!("{endpoint}/test"),
        format!("{endpoint}/rotate"),
        format!("{endpoint}/delete"),
        format!("{endpoint}/deliveries/x/retry"),
    ] {
        let answer =
            other.submit(token_page, &action, &[("webhookSecret", "whsec_other_brand_secret_0000")]).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "POST {action}: {}", answer.html);
    }
    // The owner's objects are untouched.
    assert_eq!(owner.get(&integration).await.status, StatusCode::OK);
    assert_eq!(owner.get(&endpoint).await.status, StatusCode::OK);
    app.stop().await;
}

engine_tests!(
    hub_connects_stripe_and_rotates_its_secret,
    webhook_endpoint_secret_once_test_and_replay,
    another_brands_objects_answer_404,
);

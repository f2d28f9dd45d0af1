//! The overview (`/merchant`) on both engines: this month's figures, the charts' days and the
//! top affiliates come from the rollups the writers keep (a rejected sale leaves them, bot
//! clicks never enter), names are escaped, and another brand sees none of it.

use std::time::Duration;

use reqwest::{header, redirect::Policy, StatusCode};
use serde_json::json;

use crate::{
    dashboard_support::{Browser, Shop},
    engine_tests,
    support::Engine,
};

const SAFARI: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const BOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

fn figure(label: &str, value: &str) -> String {
    format!("<div class=\"muted\">{label}</div><div class=\"value\">{value}</div>")
}

/// The overview once `want` appears on it (clicks reach the database in batches).
async fn overview_showing(browser: &Browser, want: &str) -> String {
    let mut html = String::new();
    for _ in 0..200 {
        let page = browser.get("/merchant").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        html = page.html;
        if html.contains(want) {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the overview never showed {want}: {html}");
}

async fn figures_follow_sales_reviews_and_clicks(engine: Engine) {
    let shop = Shop::open(&engine, "<b>Ann</b>").await;
    let r = shop
        .app
        .patch(
            &shop.key,
            &format!("/api/v1/campaigns/{}", shop.camp),
            json!({ "targetUrl": "https://shop.example/" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let code = shop.app.get(&shop.key, &format!("/api/v1/campaigns/{}", shop.camp)).await.data()
        ["trackingCode"]
        .as_str()
        .unwrap()
        .to_string();
    let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    // Two human clicks of one visitor (one unique) and a bot's.
    for agent in [SAFARI, SAFARI, BOT] {
        let r = client
            .get(shop.app.url(&format!("/redirect?tc={code}&aff={}", shop.aff)))
            .header(header::USER_AGENT, agent)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
    }
    let kept = shop.sale(json!(100), json!({})).await;
    let rejected = shop.sale(json!(50), json!({})).await;
    let r = shop
        .app
        .patch(&shop.key, &format!("/api/v1/conversions/{rejected}"), json!({ "status": "rejected" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let html = overview_showing(&shop.browser, &figure("Clicks (unique)", "2 (1)")).await;
    assert!(html.contains(&figure("Revenue", "100.00 USD")), "{html}");
    assert!(html.contains(&figure("Commissions", "20.00 USD")), "{html}");
    assert!(html.contains(&figure("Conversions", "1")), "the rejected sale is left out: {html}");
    assert!(html.contains(&kept) && html.contains(&rejected), "both are among the recent conversions");
    assert!(html.contains("&#60;b&#62;Ann&#60;/b&#62;"), "the top affiliate, escaped: {html}");
    assert!(!html.contains("<b>Ann</b>"));
    assert!(html.contains("Highest day: 100.00 USD"), "the revenue chart's day: {html}");

    // Approving the kept sale moves nothing; rejecting it empties the month.
    let r = shop
        .app
        .patch(&shop.key, &format!("/api/v1/conversions/{kept}"), json!({ "status": "approved" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let html = shop.browser.get("/merchant").await.html;
    assert!(html.contains(&figure("Revenue", "100.00 USD")), "{html}");
    let r = shop
        .app
        .patch(&shop.key, &format!("/api/v1/conversions/{kept}"), json!({ "status": "rejected" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let html = shop.browser.get("/merchant").await.html;
    assert!(html.contains(&figure("Revenue", "0.00 USD")), "{html}");
    assert!(html.contains(&figure("Conversions", "0")), "{html}");
    assert!(html.contains("No sales yet this month."), "{html}");

    // Another brand on the same server sees nothing of this one.
    let (other, _) = Browser::sign_up(&shop.app, "someone@other-brand.test", "Other").await;
    let html = other.get("/merchant").await.html;
    assert!(html.contains(&figure("Clicks (unique)", "0 (0)")), "{html}");
    assert!(!html.contains(&kept), "{html}");
}

engine_tests!(figures_follow_sales_reviews_and_clicks);

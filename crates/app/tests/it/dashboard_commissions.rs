//! The Commissions page (`/merchant/commissions`) on both engines: the review queue lists what
//! the API recorded (pending and fraud-flagged first, signals shown, names escaped), approve and
//! reject one or in bulk through the same operation as `PATCH /conversions/:id`, the above-sale
//! confirmation, filters with their errors, the CSV export, and another brand's ids.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    dashboard_support::{field_error, Browser, Shop},
    engine_tests,
    support::Engine,
};

fn unique() -> String {
    refline_server::ids::new_id("d").to_lowercase()
}

async fn queue_lists_approves_and_rejects(engine: Engine) {
    let shop = Shop::open(&engine, "<script>alert(1)</script>").await;
    let first =
        shop.sale(json!(100), json!({ "customerEmail": "buyer@example.com", "orderId": "A-1" })).await;
    let second = shop.sale(json!(50), json!({})).await;

    let page = shop.browser.get("/merchant/commissions").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains(&first) && page.html.contains(&second), "{}", page.html);
    assert!(page.html.contains("100.00 USD") && page.html.contains("20.00 USD"), "sale and commission shown");
    assert!(page.html.contains("buyer@example.com"));
    assert!(
        page.html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "the affiliate's name is escaped: {}",
        page.html
    );
    assert!(!page.html.contains("<script>alert(1)</script>"));

    // Approve one through the page: the API sees it approved.
    let done = shop
        .browser
        .submit(
            "/merchant/commissions",
            &format!("/merchant/commissions/{first}/status"),
            &[("status", "approved")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert!(done.location.as_deref().unwrap_or("").contains("notice=approved"));
    assert_eq!(shop.status_of(&first).await, "approved");
    let after = shop.browser.get(done.location.as_deref().unwrap()).await;
    assert!(after.html.contains("The conversion was approved."));

    // Reject the other.
    let done = shop
        .browser
        .submit(
            "/merchant/commissions",
            &format!("/merchant/commissions/{second}/status"),
            &[("status", "rejected")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(shop.status_of(&second).await, "rejected");

    // A move the core refuses (rejected → approved) is shown, nothing changes.
    let refused = shop
        .browser
        .submit(
            "/merchant/commissions",
            &format!("/merchant/commissions/{second}/status"),
            &[("status", "approved")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.html);
    assert!(refused.html.contains("banner error"));
    assert_eq!(shop.status_of(&second).await, "rejected");

    // The filter keeps to a status; the return path keeps the filter.
    let pending_only = shop.browser.get("/merchant/commissions?status=rejected").await;
    assert!(pending_only.html.contains(&second) && !pending_only.html.contains(&first));
    let bad = shop.browser.get("/merchant/commissions?from=yesterday").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&bad.html, "from").is_some(), "{}", bad.html);
}

async fn bulk_actions_and_the_above_sale_confirmation(engine: Engine) {
    let shop = Shop::open(&engine, "Ann").await;
    let a = shop.sale(json!(10), json!({})).await;
    let b = shop.sale(json!(20), json!({})).await;

    // Nothing selected: the error is next to the selection, nothing changes.
    let none = shop
        .browser
        .submit("/merchant/commissions", "/merchant/commissions/bulk", &[("status", "approved")])
        .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", none.html);
    assert!(field_error(&none.html, "conversionIds").is_some(), "{}", none.html);
    assert_eq!(shop.status_of(&a).await, "pending");

    let done = shop
        .browser
        .submit(
            "/merchant/commissions",
            "/merchant/commissions/bulk",
            &[("status", "approved"), ("conversionIds", a.as_str()), ("conversionIds", b.as_str())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!((shop.status_of(&a).await, shop.status_of(&b).await), ("approved".into(), "approved".into()));
    let done = shop
        .browser
        .submit(
            "/merchant/commissions",
            "/merchant/commissions/bulk",
            &[("status", "rejected"), ("conversionIds", a.as_str())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(shop.status_of(&a).await, "rejected");

    // A fixed 60.00 commission on a 10.00 sale needs the confirmation.
    let big = shop
        .app
        .campaign(&shop.key, json!({ "name": "Big", "commissionType": "fixed", "commissionValue": 60 }))
        .await;
    let big_id = big["id"].as_str().unwrap();
    let r = shop
        .app
        .post(
            &shop.key,
            "/api/v1/affiliates",
            json!({ "email": format!("{}@p.test", unique()), "campaignId": big_id }),
        )
        .await;
    let aff2 = r.data()["id"].as_str().unwrap().to_string();
    let c = shop.app.convert(&shop.key, big_id, &aff2, json!(10), json!({})).await.data()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let asked = shop
        .browser
        .submit(
            "/merchant/commissions",
            &format!("/merchant/commissions/{c}/status"),
            &[("status", "approved")],
        )
        .await;
    assert_eq!(asked.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", asked.html);
    assert!(
        asked.html.contains("60.00 USD") && asked.html.contains(r#"name="confirmAboveSale" value="true""#),
        "{}",
        asked.html
    );
    assert_eq!(shop.status_of(&c).await, "pending", "nothing changed before confirming");
    let confirmed = shop
        .browser
        .submit(
            "/merchant/commissions",
            &format!("/merchant/commissions/{c}/status"),
            &[("status", "approved"), ("confirmAboveSale", "true")],
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "{}", confirmed.html);
    assert_eq!(shop.status_of(&c).await, "approved");

    // In bulk: the others are approved, the above-sale one is offered for confirmation.
    let d = shop.app.convert(&shop.key, big_id, &aff2, json!(10), json!({})).await.data()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = shop.sale(json!(30), json!({})).await;
    let report = shop
        .browser
        .submit(
            "/merchant/commissions",
            "/merchant/commissions/bulk",
            &[("status", "approved"), ("conversionIds", d.as_str()), ("conversionIds", e.as_str())],
        )
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.html);
    assert!(report.html.contains("1 of 2 selected conversions were approved"), "{}", report.html);
    assert!(report.html.contains(&format!(r#"name="conversionIds" value="{d}""#)));
    assert_eq!((shop.status_of(&d).await, shop.status_of(&e).await), ("pending".into(), "approved".into()));
    let confirmed = shop
        .browser
        .submit(
            "/merchant/commissions",
            "/merchant/commissions/bulk",
            &[("status", "approved"), ("confirmAboveSale", "true"), ("conversionIds", d.as_str())],
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "{}", confirmed.html);
    assert_eq!(shop.status_of(&d).await, "approved");
}

async fn fraud_flagged_first_and_csv_export(engine: Engine) {
    let shop = Shop::open(&engine, "=HYPERLINK(\"http://evil\")").await;
    let aff_email = shop.aff_email.clone();
    let approved = shop.sale(json!(40), json!({})).await;
    let r = shop
        .app
        .patch(&shop.key, &format!("/api/v1/conversions/{approved}"), json!({ "status": "approved" }))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let flagged = shop.sale(json!(50), json!({ "clickId": "click_1", "customerEmail": aff_email })).await;
    let plain =
        shop.sale(json!(60), json!({ "customerName": "-2+3", "customerEmail": "x@example.com" })).await;

    let page = shop.browser.get("/merchant/commissions").await;
    let at = |id: &str| page.html.find(&format!("<code>{id}</code>")).unwrap_or(usize::MAX);
    assert!(
        at(&flagged) < at(&plain) && at(&plain) < at(&approved),
        "pending flagged, pending, then the rest"
    );
    assert!(page.html.contains("email_match") && page.html.contains("flagged: high (100)"), "{}", page.html);

    let csv = shop.browser.get("/merchant/commissions.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.html.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{}", csv.html);
    assert!(lines[0]
        .starts_with("id,createdAt,status,campaignId,campaignName,affiliateId,affiliateEmail,affiliateName"));
    assert!(lines[1].starts_with(&flagged) && lines[1].contains("email_match"));
    assert!(
        lines[1].contains(r#""'=HYPERLINK(""http://evil"")""#),
        "formula neutralised and quoted: {}",
        lines[1]
    );
    assert!(lines[2].contains(",'-2+3,"), "{}", lines[2]);
    assert!(lines[2].contains(",60.00,12.00,usd,"));

    // The export follows the filter.
    let only = shop.browser.get("/merchant/commissions.csv?status=approved").await;
    let lines: Vec<&str> = only.html.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with(&approved));
}

async fn another_brands_conversion_is_not_found(engine: Engine) {
    let shop = Shop::open(&engine, "Ann").await;
    let theirs = shop.sale(json!(10), json!({})).await;
    let (other, _) = Browser::sign_up(&shop.app, &format!("{}@other.test", unique()), "Other").await;
    let page = other.get("/merchant/commissions").await;
    assert!(!page.html.contains(&theirs));
    let r = other
        .submit(
            "/merchant/commissions",
            &format!("/merchant/commissions/{theirs}/status"),
            &[("status", "approved")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.html);
    assert_eq!(shop.status_of(&theirs).await, "pending");
    let csv = other.get("/merchant/commissions.csv").await;
    assert!(!csv.html.contains(&theirs));
}

engine_tests!(
    queue_lists_approves_and_rejects,
    bulk_actions_and_the_above_sale_confirmation,
    fraud_flagged_first_and_csv_export,
    another_brands_conversion_is_not_found,
);

//! The Payouts page (`/merchant/payouts`) on both engines: balances, a run created on the page
//! is the API's payout, mark paid / failed / cancel, the PayPal export and its completion,
//! validation errors next to fields with nothing saved, the "manage payouts" right, another
//! brand's ids, and names escaped.

use refline_core::{team::users::NewUser, Door};
use refline_domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    dashboard_support::{brand_of, field_error, Browser, Shop, PASSWORD},
    engine_tests,
    support::Engine,
};

fn unique() -> String {
    refline_server::ids::new_id("d").to_lowercase()
}

/// A signed-up brand with payout `settings`, a 20 % campaign and an affiliate whose name is a
/// script tag.
async fn open(engine: &Engine, settings: Value) -> Shop {
    let shop = Shop::open(engine, "<script>alert(1)</script>").await;
    let r = shop.app.patch(&shop.key, "/api/v1/settings", settings).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    shop
}

/// What these tests read of payouts.
trait PayoutsOf {
    async fn payouts(&self) -> Vec<Value>;
    async fn payout(&self, id: &str) -> Value;
    async fn run_on_page(&self) -> String;
}

impl PayoutsOf for Shop {
    async fn payouts(&self) -> Vec<Value> {
        self.app.get(&self.key, "/api/v1/payouts").await.data().as_array().unwrap().clone()
    }

    async fn payout(&self, id: &str) -> Value {
        self.app.get(&self.key, &format!("/api/v1/payouts/{id}")).await.data().clone()
    }

    /// Runs payouts on the page; answers the newest payout's id.
    async fn run_on_page(&self) -> String {
        let done = self.browser.submit("/merchant/payouts", "/merchant/payouts/run", &[]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        assert!(done.location.as_deref().unwrap_or("").contains("notice=run_made"), "{:?}", done.location);
        self.payouts().await[0]["id"].as_str().unwrap().to_string()
    }
}

async fn runs_are_made_and_paid_on_the_page(engine: Engine) {
    let shop = open(&engine, json!({ "payoutHoldDays": 0, "minimumPayout": "0" })).await;
    shop.approved_sale(json!(100)).await;

    let page = shop.browser.get("/merchant/payouts").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("20.00 USD"), "payable balance shown: {}", page.html);
    assert!(
        page.html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            && !page.html.contains("<script>alert(1)")
    );

    let paid = shop.run_on_page().await;
    let listed = shop.payouts().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0]["status"].as_str(), listed[0]["amount"].as_str()),
        (Some("pending"), Some("20.00"))
    );
    let page = shop.browser.get("/merchant/payouts?notice=run_made").await;
    assert!(page.html.contains(&paid) && page.html.contains("The payout run was created"));

    // Nothing left: the run says so.
    let none = shop.browser.submit("/merchant/payouts", "/merchant/payouts/run", &[]).await;
    assert!(none.location.as_deref().unwrap_or("").contains("notice=run_empty"), "{:?}", none.location);

    let done = shop
        .browser
        .submit(
            "/merchant/payouts",
            &format!("/merchant/payouts/{paid}/complete"),
            &[("reference", "PP-123")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let p = shop.payout(&paid).await;
    assert_eq!((p["status"].as_str(), p["reference"].as_str()), (Some("completed"), Some("PP-123")));

    // Cancel and fail.
    shop.approved_sale(json!(50)).await;
    let cancelled = shop.run_on_page().await;
    let done =
        shop.browser.submit("/merchant/payouts", &format!("/merchant/payouts/{cancelled}/cancel"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(shop.payout(&cancelled).await["status"], "cancelled");
    let failed = shop.run_on_page().await;
    assert_ne!(failed, cancelled, "the cancelled payout's commission is payable again");
    let done = shop
        .browser
        .submit("/merchant/payouts", &format!("/merchant/payouts/{failed}/fail"), &[("reason", "bounced")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let p = shop.payout(&failed).await;
    assert_eq!((p["status"].as_str(), p["failureReason"].as_str()), (Some("failed"), Some("bounced")));
}

async fn exports_for_paypal_and_completion(engine: Engine) {
    let settings = json!({ "payoutHoldDays": 0, "minimumPayout": "0", "defaultPayoutMethod": "paypal" });
    let shop = open(&engine, settings).await;
    shop.approved_sale(json!(100)).await;
    let id = shop.run_on_page().await;

    let file =
        shop.browser.submit("/merchant/payouts", "/merchant/payouts/export", &[("format", "paypal")]).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.html);
    assert_eq!(file.html, format!("{},20.00,USD,{id},Affiliate commission,PAYPAL\r\n", shop.aff_email));
    let p = shop.payout(&id).await;
    assert_eq!(p["status"], "processing");
    let export_id = p["exportId"].as_str().unwrap().to_string();

    // An unknown export id is an error next to the field.
    let wrong = shop
        .browser
        .submit("/merchant/payouts", "/merchant/payouts/complete-export", &[("exportId", "exp_nope")])
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND, "{}", wrong.html);
    assert!(field_error(&wrong.html, "exportId").is_some(), "{}", wrong.html);

    let done = shop
        .browser
        .submit(
            "/merchant/payouts",
            "/merchant/payouts/complete-export",
            &[("exportId", export_id.as_str()), ("reference", "BATCH-9")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let p = shop.payout(&id).await;
    assert_eq!((p["status"].as_str(), p["reference"].as_str()), (Some("completed"), Some("BATCH-9")));

    // Wise: affiliates paid by Wise, with the batch template's header.
    let r = shop.app.patch(&shop.key, "/api/v1/settings", json!({ "defaultPayoutMethod": "wise" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    shop.approved_sale(json!(50)).await;
    let wise = shop.run_on_page().await;
    let file =
        shop.browser.submit("/merchant/payouts", "/merchant/payouts/export", &[("format", "wise")]).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.html);
    let lines: Vec<&str> = file.html.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "name,recipientEmail,paymentReference,receiverType,amountCurrency,amount,sourceCurrency,targetCurrency");
    assert!(lines[1].contains(&wise) && lines[1].contains(",10.00,USD,USD"), "{}", lines[1]);
    assert_eq!(shop.payout(&wise).await["status"], "processing");
}

async fn refusals_are_shown_and_nothing_is_saved(engine: Engine) {
    let shop = open(&engine, json!({ "payoutHoldDays": 0, "minimumPayout": "0" })).await;
    shop.approved_sale(json!(100)).await;

    let bad = shop
        .browser
        .submit("/merchant/payouts", "/merchant/payouts/run", &[("currency", "zzz"), ("method", "cash")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.html);
    assert!(field_error(&bad.html, "currency").is_some(), "{}", bad.html);
    assert!(field_error(&bad.html, "method").is_some(), "{}", bad.html);
    assert!(bad.html.contains(r#"value="zzz""#), "the value is shown again");
    assert!(shop.payouts().await.is_empty(), "nothing saved");

    let id = shop.run_on_page().await;
    let long = "x".repeat(600);
    let refused = shop
        .browser
        .submit(
            "/merchant/payouts",
            &format!("/merchant/payouts/{id}/complete"),
            &[("reference", long.as_str())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
    assert!(
        refused.html.contains("banner error") && refused.html.contains("at most 500"),
        "{}",
        refused.html
    );
    assert_eq!(shop.payout(&id).await["status"], "pending");

    // A team member without "manage payouts" sees the page but cannot change payouts.
    let email = format!("{}@team.test", unique());
    let core = refline::admin::cli_core(&shop.app.store);
    let input = NewUser {
        email: email.clone(),
        merchant_id: shop.merchant_id.clone(),
        role: Role::Member,
        password: Some(PASSWORD.to_string()),
    };
    core.create_user(&Door::Cli, input).await.unwrap();
    assert_eq!(brand_of(shop.app.store.as_ref(), &email).await, shop.merchant_id);
    let member = Browser::new(&shop.app);
    assert_eq!(member.log_in(&email, PASSWORD).await.status, StatusCode::SEE_OTHER);
    let page = member.get("/merchant/payouts").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("manage payouts"), "{}", page.html);
    let refused = member.submit("/merchant/payouts", &format!("/merchant/payouts/{id}/complete"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    assert!(refused.html.contains("banner error"));
    let refused = member.submit("/merchant/payouts", "/merchant/payouts/run", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    assert_eq!(shop.payout(&id).await["status"], "pending");
    assert_eq!(shop.payouts().await.len(), 1);
}

async fn another_brands_payout_is_not_found(engine: Engine) {
    let shop = open(&engine, json!({ "payoutHoldDays": 0, "minimumPayout": "0" })).await;
    shop.approved_sale(json!(100)).await;
    let id = shop.run_on_page().await;
    let (other, _) = Browser::sign_up(&shop.app, &format!("{}@other.test", unique()), "Other").await;
    assert!(!other.get("/merchant/payouts").await.html.contains(&id));
    for action in ["complete", "fail", "cancel"] {
        let r = other.submit("/merchant/payouts", &format!("/merchant/payouts/{id}/{action}"), &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}: {}", r.html);
    }
    assert_eq!(shop.payout(&id).await["status"], "pending");
}

engine_tests!(
    runs_are_made_and_paid_on_the_page,
    exports_for_paypal_and_completion,
    refusals_are_shown_and_nothing_is_saved,
    another_brands_payout_is_not_found,
);

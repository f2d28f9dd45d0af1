//! The payout settings page (`/merchant/payouts/settings`, linked from the payouts page) on both
//! engines: it saves through the API's operation (what `GET /api/v1/settings` then shows), with an
//! audit entry; refused values show next to their fields with nothing saved; the Stripe key is
//! write-only; a member without "manage payouts" cannot change anything.

use refline_core::{team::users::NewUser, Door};
use refline_domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    dashboard_support::{field_error, Browser, PASSWORD},
    engine_tests,
    support::{Engine, TestApp},
};

const PAGE: &str = "/merchant/payouts/settings";

fn unique() -> String {
    refline_server::ids::new_id("s").to_lowercase()
}

async fn settings(app: &TestApp, key: &str) -> Value {
    let r = app.get(key, "/api/v1/settings").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.data().clone()
}

async fn payout_settings_form(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (browser, merchant_id) = Browser::sign_up(&app, &format!("{}@shop.test", unique()), "Shop").await;
    let key = browser.api_key("live").await;
    let before = settings(&app, &key).await;

    let payouts = browser.get("/merchant/payouts").await;
    assert!(payouts.html.contains(r#"href="/merchant/payouts/settings""#), "linked from the payouts page");
    let shown = browser.get(PAGE).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.html);
    assert!(shown.html.contains(&format!(r#"value="{}""#, before["payoutHoldDays"])), "{}", shown.html);

    // Refused: each problem next to its field, the values kept, nothing saved.
    let refused = browser
        .submit(
            PAGE,
            PAGE,
            &[
                ("payoutHoldDays", "400"),
                ("minimumPayout", "12.345"),
                ("automaticPayouts", "true"),
                ("defaultPayoutMethod", "cash"),
                ("stripeSecretKey", "pk_live_not_a_secret"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
    for field in ["payoutHoldDays", "minimumPayout", "defaultPayoutMethod", "stripeSecretKey"] {
        assert!(field_error(&refused.html, field).is_some(), "no error for {field}: {}", refused.html);
    }
    assert!(refused.html.contains(r#"value="12.345""#), "the value is shown again");
    assert!(!refused.html.contains("pk_live_not_a_secret"), "a key typed is never shown again");
    assert_eq!(settings(&app, &key).await, before, "nothing saved");
    for (days, minimum) in
        [("abc", "10"), ("-1", "10"), ("", "10"), ("5", ""), ("5", "-3"), ("5", "<b>1</b>")]
    {
        let refused =
            browser.submit(PAGE, PAGE, &[("payoutHoldDays", days), ("minimumPayout", minimum)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{days} {minimum}: {}", refused.html);
        assert!(!refused.html.contains("<b>1</b>"), "escaped");
        assert_eq!(settings(&app, &key).await, before, "{days} {minimum}: nothing saved");
    }

    // Saved: what the API shows, with the key stored but never shown, and an audit entry.
    let saved = browser
        .submit(
            PAGE,
            PAGE,
            &[
                ("payoutHoldDays", "7"),
                ("minimumPayout", "25.50"),
                ("automaticPayouts", "true"),
                ("defaultPayoutMethod", "paypal"),
                ("stripeSecretKey", "sk_test_refline_page_key"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    assert_eq!(saved.location.as_deref(), Some("/merchant/payouts/settings?notice=saved"));
    let now = settings(&app, &key).await;
    assert_eq!(
        (
            &now["payoutHoldDays"],
            &now["minimumPayout"],
            &now["automaticPayouts"],
            &now["defaultPayoutMethod"],
            &now["stripeSecretKeySet"]
        ),
        (
            &Value::from(7),
            &Value::from("25.50"),
            &Value::from(true),
            &Value::from("paypal"),
            &Value::from(true)
        )
    );
    let page = browser.get(&format!("{PAGE}?notice=saved")).await;
    assert!(page.html.contains("The payout settings were saved."));
    assert!(!page.html.contains("sk_test_refline_page_key"), "the key is write-only");
    let audited = |e: &refline_store::AuditEntry| {
        e.operation.as_deref() == Some("settings.update") && e.door == "dashboard"
    };
    let mut found = false;
    for _ in 0..100 {
        if app.audit_entries(Some(&merchant_id), 1).await.iter().any(audited) {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(found, "settings.update audited: {:?}", app.audit_entries(Some(&merchant_id), 1).await);

    // A blank key keeps the stored one; unticked boxes turn off; a blank method clears it.
    let kept = browser.submit(PAGE, PAGE, &[("payoutHoldDays", "7"), ("minimumPayout", "25.50")]).await;
    assert_eq!(kept.status, StatusCode::SEE_OTHER, "{}", kept.html);
    let now = settings(&app, &key).await;
    assert_eq!(
        (&now["stripeSecretKeySet"], &now["automaticPayouts"]),
        (&Value::from(true), &Value::from(false))
    );
    assert!(now["defaultPayoutMethod"].is_null(), "{now}");
    let cleared = browser
        .submit(
            PAGE,
            PAGE,
            &[("payoutHoldDays", "7"), ("minimumPayout", "25.50"), ("clearStripeSecretKey", "true")],
        )
        .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.html);
    assert_eq!(settings(&app, &key).await["stripeSecretKeySet"], false);

    // A team member without "manage payouts": sees the settings, cannot change them.
    let email = format!("{}@team.test", unique());
    let core = refline::admin::cli_core(&app.store);
    let input = NewUser {
        email: email.clone(),
        merchant_id: merchant_id.clone(),
        role: Role::Member,
        password: Some(PASSWORD.to_string()),
    };
    core.create_user(&Door::Cli, input).await.unwrap();
    let member = Browser::new(&app);
    assert_eq!(member.log_in(&email, PASSWORD).await.status, StatusCode::SEE_OTHER);
    let shown = member.get(PAGE).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.html.contains("manage payouts"), "{}", shown.html);
    let before = settings(&app, &key).await;
    let refused = member.submit(PAGE, PAGE, &[("payoutHoldDays", "0"), ("minimumPayout", "0")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    assert!(refused.html.contains("banner error"), "{}", refused.html);
    assert_eq!(settings(&app, &key).await, before, "nothing saved");

    // Without the form's CSRF token nothing is saved either.
    let forged = browser.post_raw(PAGE, &[("payoutHoldDays", "1"), ("minimumPayout", "1")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.html);
    assert_eq!(settings(&app, &key).await, before);
}

engine_tests!(payout_settings_form);

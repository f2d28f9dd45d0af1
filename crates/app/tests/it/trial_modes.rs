//! A campaign's trial mode (`trialMode`, LinkJolt §8.6) with signed processor deliveries over
//! HTTP: `automatic` and `after_trial` record a $0 trial and let the first payment earn;
//! `immediate` records the expected amount and commission (never payable) and the first payment
//! turns that conversion `pending`, or falls back to the $0 trial when the event has no price.
//! Plus the API's reading of the field.

use refline_processors::fixtures::{self, Delivery, Sale};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    dashboard_support::{field_error, Browser},
    engine_tests,
    processors::{now_s, Shop},
    support::{Engine, TestApp},
};

const STRIPE_SECRET: &str = "whsec_refline_trial_modes";
const PADDLE_SECRET: &str = "pdl_ntfset_refline_trial_modes";

fn stripe(body: Vec<u8>) -> Delivery {
    fixtures::stripe::delivery(STRIPE_SECRET, now_s(), body)
}

fn paddle(body: Vec<u8>) -> Delivery {
    fixtures::paddle::delivery(PADDLE_SECRET, now_s(), body)
}

fn conversion_id(delivery: &Value) -> String {
    delivery["conversionId"].as_str().unwrap_or_else(|| panic!("no conversion: {delivery}")).to_string()
}

/// A Stripe (or Paddle) shop whose campaign records trials in `mode`.
async fn shop(engine: &Engine, provider: &str, mode: &str) -> Shop {
    let secret = if provider == "stripe" { STRIPE_SECRET } else { PADDLE_SECRET };
    let shop = Shop::open(engine, json!({ "provider": provider, "webhookSecret": secret })).await;
    let changed = shop
        .app
        .patch(
            &shop.merchant.key,
            &format!("/api/v1/campaigns/{}", shop.campaign),
            json!({ "trialMode": mode }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.data()["trialMode"], mode);
    shop
}

impl Shop {
    /// The affiliate's live balance row in usd.
    async fn usd_balance(&self) -> Value {
        let path = format!("/api/v1/balances?affiliateId={}", self.affiliate);
        let r = self.app.get(&self.merchant.key, &path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.data().as_array().unwrap().iter().find(|b| b["currency"] == "usd").cloned().unwrap_or(json!({}))
    }

    /// `ledger verify` finds nothing for this merchant, and the rollups are a recount.
    async fn ledger_is_right(&self) {
        let core = refline::admin::cli_core(&self.app.store);
        let problems = core.verify_ledger(&self.merchant.id).await.unwrap();
        assert!(problems.is_empty(), "ledger verify: {problems:#?}");
        // And the overview's rollups equal a recount (a converted trial changes its values).
        crate::support::rollups_match(self.app.store.as_ref(), &self.merchant.id).await.unwrap();
    }
}

fn money(c: &Value) -> (Option<&str>, Option<&str>, Option<&str>) {
    (c["status"].as_str(), c["amount"].as_str(), c["commission"].as_str())
}

/// `automatic` (the default) and `after_trial` do the same with a processor's trial: a $0
/// trial, then the first payment as its own conversion with the commission.
async fn automatic_and_after_trial_record_zero_trials(engine: Engine) {
    for mode in ["automatic", "after_trial"] {
        let shop = shop(&engine, "stripe", mode).await;
        let sale = Sale { subscription_id: Some("sub_a".into()), ..shop.sale("evt_a1", "in_a1") };
        let started = shop
            .settle("stripe", &stripe(fixtures::stripe::subscription_trialing(&sale, now_s() + 86_400)))
            .await;
        assert_eq!(started["status"], "processed", "{mode}: {started}");
        let trial_id = conversion_id(&started);
        assert_eq!(
            money(&shop.conversion(&trial_id).await),
            (Some("trial"), Some("0.00"), Some("0.00")),
            "{mode}"
        );
        assert_eq!(shop.usd_balance().await["pending"].as_str().unwrap_or("0.00"), "0.00", "{mode}");

        let paid = Sale { reference: None, event_id: "evt_a2".into(), ..sale };
        let first =
            shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&paid, "subscription_cycle"))).await;
        assert_eq!(first["status"], "processed", "{mode}: {first}");
        let first_id = conversion_id(&first);
        assert_ne!(first_id, trial_id, "{mode}: the payment is a conversion of its own");
        assert_eq!(
            money(&shop.conversion(&first_id).await),
            (Some("pending"), Some("100.00"), Some("20.00"))
        );
        assert_eq!(money(&shop.conversion(&trial_id).await), (Some("trial"), Some("0.00"), Some("0.00")));
        assert_eq!(shop.conversions(false).await.len(), 2, "{mode}");
        shop.ledger_is_right().await;
    }
}

/// `immediate` with Stripe: the expected amount and its commission at trial start, pending (and
/// never payable) nowhere before the payment; the first payment (another amount) turns the same
/// conversion pending with the paid amount; a redelivery credits nothing twice; renewals chain
/// under it.
async fn immediate_trial_is_priced_then_converted(engine: Engine) {
    let shop = shop(&engine, "stripe", "immediate").await;
    let sale =
        Sale { subscription_id: Some("sub_i".into()), amount_minor: 5_000, ..shop.sale("evt_i1", "in_i1") };
    let started = shop
        .settle("stripe", &stripe(fixtures::stripe::subscription_trialing(&sale, now_s() + 86_400)))
        .await;
    assert_eq!(started["status"], "processed", "{started}");
    assert!(started["outcome"].as_str().unwrap().contains("expected"), "{started}");
    let trial_id = conversion_id(&started);
    assert_eq!(money(&shop.conversion(&trial_id).await), (Some("trial"), Some("50.00"), Some("10.00")));
    // Attributed, never payable: it counts as pending, and cannot be approved during the trial.
    let balance = shop.usd_balance().await;
    assert_eq!((balance["pending"].as_str(), balance["payable"].as_str()), (Some("10.00"), Some("0.00")));
    let approve = shop
        .app
        .patch(
            &shop.merchant.key,
            &format!("/api/v1/conversions/{trial_id}"),
            json!({ "status": "approved" }),
        )
        .await;
    assert!(approve.status.is_client_error(), "a trial is not approvable: {}", approve.text);
    assert_eq!(shop.conversion(&trial_id).await["status"], "trial");
    shop.ledger_is_right().await;

    // The first charge, after a discount: 40.00 at the campaign's 20 %.
    let paid = Sale { reference: None, event_id: "evt_i2".into(), amount_minor: 4_000, ..sale.clone() };
    let first =
        shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&paid, "subscription_cycle"))).await;
    assert_eq!(first["status"], "processed", "{first}");
    assert!(first["outcome"].as_str().unwrap().contains("converted"), "{first}");
    assert_eq!(conversion_id(&first), trial_id, "the trial itself becomes the sale");
    let converted = shop.conversion(&trial_id).await;
    assert_eq!(money(&converted), (Some("pending"), Some("40.00"), Some("8.00")));
    assert_eq!(converted["paymentNumber"], 1);
    assert_eq!(shop.conversions(false).await.len(), 1, "no second conversion");
    assert_eq!(shop.usd_balance().await["pending"], "8.00");
    shop.ledger_is_right().await;

    // The same invoice again under another event: already credited, to the converted trial.
    let again = shop
        .settle(
            "stripe",
            &stripe(fixtures::stripe::invoice_paid(
                &Sale { event_id: "evt_i3".into(), ..paid.clone() },
                "subscription_cycle",
            )),
        )
        .await;
    assert_eq!(again["status"], "ignored", "{again}");
    assert_eq!(again["conversionId"], trial_id.as_str());

    // Approved like any sale; the next charge is payment #2 under it.
    let approve = shop
        .app
        .patch(
            &shop.merchant.key,
            &format!("/api/v1/conversions/{trial_id}"),
            json!({ "status": "approved" }),
        )
        .await;
    assert_eq!(approve.status, StatusCode::OK, "{}", approve.text);
    let renewal = Sale { event_id: "evt_i4".into(), object_id: "in_i2".into(), ..paid };
    let second =
        shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&renewal, "subscription_cycle"))).await;
    let second = shop.conversion(&conversion_id(&second)).await;
    assert_eq!(
        (second["paymentNumber"].as_i64(), second["parentConversionId"].as_str()),
        (Some(2), Some(trial_id.as_str()))
    );
    shop.ledger_is_right().await;
}

/// `immediate` without a price on the trial event (a Stripe checkout that started a trial):
/// the $0 trial, said so in the delivery log, and the first payment is a sale of its own.
async fn immediate_without_a_price_falls_back_to_zero(engine: Engine) {
    let shop = shop(&engine, "stripe", "immediate").await;
    let sale = Sale { subscription_id: Some("sub_n".into()), ..shop.sale("evt_n1", "in_n1") };
    let started = shop.settle("stripe", &stripe(fixtures::stripe::checkout_trial(&sale))).await;
    assert_eq!(started["status"], "processed", "{started}");
    assert!(started["outcome"].as_str().unwrap().contains("carries no price"), "{started}");
    let trial_id = conversion_id(&started);
    assert_eq!(money(&shop.conversion(&trial_id).await), (Some("trial"), Some("0.00"), Some("0.00")));
    let paid = Sale { reference: None, event_id: "evt_n2".into(), ..sale };
    let first =
        shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&paid, "subscription_cycle"))).await;
    let first_id = conversion_id(&first);
    assert_ne!(first_id, trial_id);
    assert_eq!(money(&shop.conversion(&first_id).await), (Some("pending"), Some("100.00"), Some("20.00")));
    assert_eq!(shop.conversion(&trial_id).await["status"], "trial");
    shop.ledger_is_right().await;
}

/// `immediate` with Paddle Billing, and a change of mode during a trial: what the first payment
/// does follows the trial as it was recorded (a priced trial is converted even once the campaign
/// is back to `automatic`; a $0 trial stays beside the payment's own conversion).
async fn immediate_paddle_and_a_mode_change_during_the_trial(engine: Engine) {
    let shop = shop(&engine, "paddle", "immediate").await;
    let campaign_path = format!("/api/v1/campaigns/{}", shop.campaign);
    let sale = Sale {
        subscription_id: Some("sub_p".into()),
        customer_id: "ctm_p".into(),
        amount_minor: 2_900,
        ..shop.sale("evt_p1", "txn_p1")
    };
    let started = shop
        .settle("paddle", &paddle(fixtures::paddle::subscription_trialing(&sale, now_s() + 86_400)))
        .await;
    let trial_id = conversion_id(&started);
    assert_eq!(money(&shop.conversion(&trial_id).await), (Some("trial"), Some("29.00"), Some("5.80")));
    let back = shop.app.patch(&shop.merchant.key, &campaign_path, json!({ "trialMode": "automatic" })).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);

    // Another subscription starts its trial under `automatic`, then the campaign goes immediate.
    let other = Sale {
        subscription_id: Some("sub_q".into()),
        customer_id: "ctm_q".into(),
        event_id: "evt_q1".into(),
        object_id: "txn_q1".into(),
        ..sale.clone()
    };
    let started = shop
        .settle("paddle", &paddle(fixtures::paddle::subscription_trialing(&other, now_s() + 86_400)))
        .await;
    let zero_id = conversion_id(&started);
    assert_eq!(money(&shop.conversion(&zero_id).await), (Some("trial"), Some("0.00"), Some("0.00")));
    let again = shop.app.patch(&shop.merchant.key, &campaign_path, json!({ "trialMode": "immediate" })).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);

    let paid = Sale { reference: None, event_id: "evt_p2".into(), ..sale };
    let first = shop
        .settle("paddle", &paddle(fixtures::paddle::transaction_completed(&paid, "subscription_recurring")))
        .await;
    assert_eq!(conversion_id(&first), trial_id, "{first}");
    assert_eq!(money(&shop.conversion(&trial_id).await), (Some("pending"), Some("29.00"), Some("5.80")));

    let paid = Sale { reference: None, event_id: "evt_q2".into(), ..other };
    let first = shop
        .settle("paddle", &paddle(fixtures::paddle::transaction_completed(&paid, "subscription_recurring")))
        .await;
    let first_id = conversion_id(&first);
    assert_ne!(first_id, zero_id);
    assert_eq!(money(&shop.conversion(&zero_id).await), (Some("trial"), Some("0.00"), Some("0.00")));
    assert_eq!(money(&shop.conversion(&first_id).await), (Some("pending"), Some("29.00"), Some("5.80")));
    assert_eq!(shop.conversions(false).await.len(), 3);
    shop.ledger_is_right().await;
}

/// The API reads `trialMode`: defaults to `automatic`, one of three texts, anything else is a
/// validation error naming the field (with the other fields' problems), and nothing is saved.
async fn trial_mode_over_the_api(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let created = app.campaign(&m.key, json!({})).await;
    assert_eq!(created["trialMode"], "automatic");
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/campaigns/{id}");

    for bad in [
        json!("forever"),
        json!("Immediate"),
        json!(""),
        json!(3),
        json!(["immediate"]),
        json!("immediate\u{0}"),
    ] {
        let r = app.patch(&m.key, &path, json!({ "trialMode": bad })).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "validation_error"), "{bad}: {}", r.text);
        assert_eq!(r.body["error"]["details"][0]["path"], json!(["trialMode"]), "{bad}: {}", r.text);
    }
    let both = app.patch(&m.key, &path, json!({ "trialMode": "later", "cookieWindowDays": 0 })).await;
    let paths: Vec<&Value> =
        both.body["error"]["details"].as_array().unwrap().iter().map(|d| &d["path"]).collect();
    assert_eq!(paths, [&json!(["cookieWindowDays"]), &json!(["trialMode"])], "{}", both.text);
    let refused = app
        .post(
            &m.key,
            "/api/v1/campaigns",
            json!({ "name": "Bad", "commissionType": "percentage", "commissionValue": 10, "trialMode": "sometimes" }),
        )
        .await;
    assert_eq!(refused.body["error"]["details"][0]["path"], json!(["trialMode"]), "{}", refused.text);
    assert_eq!(app.get(&m.key, &path).await.data()["trialMode"], "automatic", "nothing saved");

    let changed = app.patch(&m.key, &path, json!({ "trialMode": "immediate" })).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.data()["changed"], json!(["trialMode"]));
    assert_eq!(app.get(&m.key, &path).await.data()["trialMode"], "immediate");
    let made = app
        .post(
            &m.key,
            "/api/v1/campaigns",
            json!({ "name": "After", "commissionType": "fixed", "commissionValue": 5, "trialMode": "after_trial" }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.data()["trialMode"], "after_trial");
    // Another merchant's campaign is not found, whatever the body.
    let other = app.merchant("ultimate").await;
    let foreign = app.patch(&other.key, &path, json!({ "trialMode": "after_trial" })).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&m.key, &path).await.data()["trialMode"], "immediate");
}

/// The campaign form offers the three modes (automatic chosen for a new campaign), saves the
/// one chosen through the API's rules, and shows a bad value next to the field, saving nothing.
async fn trial_mode_on_the_campaign_form(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let email = format!("{}@shop.test", refline_core::ids::new_id("t")).to_lowercase();
    let (browser, _) = Browser::sign_up(&app, &email, "Shop").await;
    let key = browser.api_key("live").await;
    let blank = browser.get("/merchant/campaigns/new").await;
    assert!(blank.html.contains(r#"<option value="automatic" selected>"#), "{}", blank.html);
    assert!(blank.html.contains(r#"<option value="immediate">"#));
    assert!(!blank.html.contains("there is no campaign setting"), "the old note is gone");

    let fields = |mode: &'static str| {
        vec![
            ("name", "Trials"),
            ("currency", "USD"),
            ("status", "active"),
            ("commissionType", "percentage"),
            ("commissionValue", "20"),
            ("cookieWindowDays", "30"),
            ("recurringCommissionMode", "duration"),
            ("recurringCommissionType", "same"),
            ("trialMode", mode),
        ]
    };
    let created =
        browser.submit("/merchant/campaigns/new", "/merchant/campaigns", &fields("immediate")).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    let location = created.location.unwrap();
    let id = location.trim_start_matches("/merchant/campaigns/").split('?').next().unwrap().to_string();
    let api = format!("/api/v1/campaigns/{id}");
    assert_eq!(app.get(&key, &api).await.data()["trialMode"], "immediate");
    let page = format!("/merchant/campaigns/{id}");
    let shown = browser.get(&page).await;
    assert!(shown.html.contains(r#"<option value="immediate" selected>"#), "{}", shown.html);

    for bad in ["forever", "", "<script>alert(1)</script>"] {
        let refused = browser.submit(&page, &page, &fields(bad)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", refused.html);
        let error =
            field_error(&refused.html, "trialMode").unwrap_or_else(|| panic!("{bad}: {}", refused.html));
        assert!(error.contains("trialMode must be one of"), "{error}");
        assert!(!refused.html.contains("<script>alert(1)"), "escaped");
        assert_eq!(app.get(&key, &api).await.data()["trialMode"], "immediate", "{bad}: nothing saved");
    }
    let saved = browser.submit(&page, &page, &fields("after_trial")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    assert_eq!(app.get(&key, &api).await.data()["trialMode"], "after_trial");
}

engine_tests!(
    automatic_and_after_trial_record_zero_trials,
    immediate_trial_is_priced_then_converted,
    immediate_without_a_price_falls_back_to_zero,
    immediate_paddle_and_a_mode_change_during_the_trial,
    trial_mode_over_the_api,
    trial_mode_on_the_campaign_form,
);

//! Payouts and the ledger over HTTP, on both engines: settings, holds with the clock moved,
//! minimums, runs, completion with events, failure and cancellation, refunds and rejections
//! while queued, clawbacks netted, exports column by column, balances, tenancy, and
//! `ledger verify` after every scenario.

use std::{sync::Arc, time::Duration};

use refline_core::clock::ManualClock;
use refline_domain::{refund_effect, RefundEffect};
use refline_store::{CommissionAdjustment, RefundApplication, RefundChange, RefundState};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{Engine, Reply, TestApp, TestMerchant},
};

const DAY_MS: i64 = 86_400_000;

/// A merchant with a 20 % campaign and one approved affiliate, on a server whose clock the
/// test moves, whose webhook worker is off (so queued events can be read back) and which may
/// queue events for a local URL.
struct World {
    app: TestApp,
    clock: Arc<ManualClock>,
    m: TestMerchant,
    camp: String,
    aff: String,
}

impl World {
    async fn new(engine: &Engine) -> World {
        let clock = Arc::new(ManualClock::new());
        let app = TestApp::start_with(engine, |c| {
            c.clock = clock.clone();
            c.webhooks.worker_enabled = false;
            c.webhooks.allow_private_targets = true;
        })
        .await;
        let m = app.merchant("ultimate").await;
        let camp = app.campaign(&m.key, json!({})).await["id"].as_str().unwrap().to_string();
        let aff = app.affiliate(&m.key, &camp, &format!("{}@partner.test", unique())).await;
        World { app, clock, m, camp, aff }
    }

    async fn settings(&self, body: Value) -> Reply {
        self.app.patch(&self.m.key, "/api/v1/settings", body).await
    }

    /// A sale of `amount` for `aff` (20 % commission), approved unless `approve` is false.
    async fn sale_for(&self, aff: &str, amount: &str, approve: bool) -> String {
        let amount: Value = serde_json::from_str(amount).unwrap();
        let r = self.app.convert(&self.m.key, &self.camp, aff, amount, json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.data()["id"].as_str().unwrap().to_string();
        if approve {
            self.set_status(&id, "approved").await;
        }
        id
    }

    async fn sale(&self, amount: &str) -> String {
        self.sale_for(&self.aff.clone(), amount, true).await
    }

    async fn set_status(&self, conversion: &str, status: &str) -> Reply {
        let path = format!("/api/v1/conversions/{conversion}");
        let r = self.app.patch(&self.m.key, &path, json!({ "status": status })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r
    }

    async fn run(&self, body: Value) -> Vec<Value> {
        let r = self.app.post(&self.m.key, "/api/v1/payouts", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.data().as_array().unwrap().clone()
    }

    async fn act(&self, payout: &str, action: &str, body: Value) -> Reply {
        self.app.post(&self.m.key, &format!("/api/v1/payouts/{payout}/{action}"), body).await
    }

    /// The affiliate's balance in usd.
    async fn balance(&self) -> Value {
        let r = self.app.get(&self.m.key, &format!("/api/v1/balances?affiliateId={}", self.aff)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let rows = r.data().as_array().unwrap().clone();
        rows.into_iter().find(|b| b["currency"] == "usd").unwrap_or(json!({}))
    }

    async fn conversion(&self, id: &str) -> Value {
        self.app.get(&self.m.key, &format!("/api/v1/conversions/{id}")).await.data().clone()
    }

    /// What `ledger verify` finds for this merchant (nothing, if all is well).
    async fn verify(&self) {
        let core = refline::admin::cli_core(&self.app.store);
        let problems = core.verify_ledger(&self.m.id).await.unwrap();
        assert!(problems.is_empty(), "ledger verify: {problems:#?}");
    }

    /// A refund of `refunded` (minor units, the sale's total so far) as the processor worker
    /// applies it (the decision of `refline_domain::refund_effect`, written by the store).
    async fn refund(&self, conversion: &str, refunded: i64) {
        let store = self.app.store.as_ref();
        let c = store.get_conversion(&self.m.id, conversion).await.unwrap().unwrap();
        let status = c.status;
        let before = store
            .refund_state(&self.m.id, conversion)
            .await
            .unwrap()
            .unwrap_or(RefundState { refunded_minor: 0, original_commission_minor: c.commission_minor });
        let change = match refund_effect(
            status,
            c.amount_minor,
            before.original_commission_minor,
            before.refunded_minor,
            refunded,
        ) {
            RefundEffect::Reverse => RefundChange::Reverse { from: c.status },
            RefundEffect::Reduce { commission_minor } => RefundChange::SetCommission(commission_minor),
            RefundEffect::Clawback { owed_minor } => RefundChange::Clawback(CommissionAdjustment {
                id: format!("adj_{}_{refunded}", c.id),
                merchant_id: self.m.id.clone(),
                conversion_id: c.id.clone(),
                affiliate_id: c.affiliate_id.clone(),
                amount_minor: -owed_minor,
                currency: c.currency.clone(),
                reason: "test refund".into(),
                mode: refline_domain::Mode::Live,
                created_at: refline_core::clock::Clock::now(self.clock.as_ref()),
            }),
            RefundEffect::Nothing => panic!("the refund changes nothing"),
        };
        let applied = store
            .apply_refund(&RefundApplication {
                merchant_id: &self.m.id,
                provider: "stripe",
                conversion_id: conversion,
                refund_key: None,
                before,
                refunded_after: refunded,
                change,
                now: refline_core::clock::Clock::now(self.clock.as_ref()),
            })
            .await
            .unwrap();
        assert_eq!(applied, refline_store::RefundApplied::Applied);
    }
}

fn unique() -> String {
    refline_server::ids::new_id("p")
}

/// The conversions a payout pays, sorted (sales made in one millisecond have no set order).
fn ids(payout: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        payout["conversionIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

fn sorted<const N: usize>(ids: [&String; N]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

async fn settings_have_defaults_and_are_checked(engine: Engine) {
    let w = World::new(&engine).await;
    let r = w.app.get(&w.m.key, "/api/v1/settings").await;
    assert_eq!(
        r.data(),
        &json!({
            "payoutHoldDays": 30, "minimumPayout": "50.00", "automaticPayouts": false,
            "defaultPayoutMethod": null, "stripeSecretKeySet": false,
        })
    );
    let bad = w
        .settings(json!({ "payoutHoldDays": 400, "minimumPayout": "12.345", "defaultPayoutMethod": "cash", "stripeSecretKey": "pk_test_nope" }))
        .await;
    assert_eq!((bad.status, bad.code()), (StatusCode::BAD_REQUEST, "validation_error"));
    let fields: Vec<&str> = bad.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"][0].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["payoutHoldDays", "minimumPayout", "defaultPayoutMethod", "stripeSecretKey"]);
    let ok = w
        .settings(json!({ "payoutHoldDays": 7, "minimumPayout": 25, "defaultPayoutMethod": "paypal", "stripeSecretKey": "sk_test_abcdefghijkl" }))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(
        ok.data(),
        &json!({
            "payoutHoldDays": 7, "minimumPayout": "25.00", "automaticPayouts": false,
            "defaultPayoutMethod": "paypal", "stripeSecretKeySet": true,
        })
    );
    assert!(!ok.text.contains("sk_test"), "the Stripe key is never shown");
    let cleared = w.settings(json!({ "stripeSecretKey": null, "defaultPayoutMethod": null })).await;
    assert_eq!(
        (cleared.data()["stripeSecretKeySet"].clone(), cleared.data()["defaultPayoutMethod"].clone()),
        (json!(false), Value::Null)
    );
    // Test keys and read-only keys cannot change them.
    let test = w.app.patch(&w.m.test_key, "/api/v1/settings", json!({ "payoutHoldDays": 1 })).await;
    assert_eq!((test.status, test.code()), (StatusCode::FORBIDDEN, "live_key_required"));
    let pro = w.app.merchant("pro").await;
    let ro = w.app.patch(&pro.key, "/api/v1/settings", json!({ "payoutHoldDays": 1 })).await;
    assert_eq!((ro.status, ro.code()), (StatusCode::FORBIDDEN, "insufficient_permissions"));
    w.app.stop().await;
}

async fn approved_commissions_are_paid_after_their_hold(engine: Engine) {
    let w = World::new(&engine).await;
    assert_eq!(w.settings(json!({ "payoutHoldDays": 7 })).await.status, StatusCode::OK);
    let hook = w
        .app
        .post(
            &w.m.key,
            "/api/v1/webhooks",
            json!({ "url": "http://127.0.0.1:9/hook", "events": ["payout.completed", "payout.failed", "conversion.paid", "conversion.updated"] }),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    let pending = w.sale_for(&w.aff.clone(), "100.00", false).await;
    let first = w.sale("300.00").await; // 60.00 commission
    let b = w.balance().await;
    assert_eq!(
        (b["pending"].as_str(), b["onHold"].as_str(), b["payable"].as_str()),
        (Some("20.00"), Some("60.00"), Some("0.00"))
    );

    // Inside the hold nothing is paid.
    assert!(w.run(json!({})).await.is_empty());
    w.clock.advance(7 * DAY_MS);
    assert_eq!(w.balance().await["payable"], "60.00");
    let made = w.run(json!({})).await;
    assert_eq!(made.len(), 1);
    let payout = &made[0];
    assert_eq!(
        (payout["amount"].as_str(), payout["currency"].as_str(), payout["status"].as_str()),
        (Some("60.00"), Some("usd"), Some("pending"))
    );
    assert_eq!(ids(payout), sorted([&first]));
    assert_eq!(payout["method"], "manual", "no details and no default: paid by hand");
    let b = w.balance().await;
    assert_eq!((b["payable"].as_str(), b["inPayout"].as_str()), (Some("0.00"), Some("60.00")));
    // A second run finds nothing: the commission is reserved.
    assert!(w.run(json!({})).await.is_empty());

    let id = payout["id"].as_str().unwrap();
    let got = w.app.get(&w.m.key, &format!("/api/v1/payouts/{id}")).await;
    assert_eq!(got.data()["conversions"], json!([{ "conversionId": first, "amount": "60.00" }]));
    let listed = w.app.get(&w.m.key, &format!("/api/v1/payouts?conversionId={first}")).await;
    assert_eq!(listed.data().as_array().unwrap().len(), 1);
    assert_eq!(listed.body["pagination"]["total"], 1);

    let done = w.act(id, "complete", json!({ "reference": "PAYPAL-BATCH-7" })).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(
        (done.data()["status"].as_str(), done.data()["reference"].as_str()),
        (Some("completed"), Some("PAYPAL-BATCH-7"))
    );
    assert!(done.data()["completedAt"].is_string());
    assert_eq!(w.conversion(&first).await["status"], "paid");
    assert_eq!(w.conversion(&pending).await["status"], "pending");
    let b = w.balance().await;
    assert_eq!(
        (b["inPayout"].as_str(), b["paid"].as_str(), b["pending"].as_str()),
        (Some("0.00"), Some("60.00"), Some("20.00"))
    );
    // The affiliate is told, once, in the business's name.
    let email = w.app.get(&w.m.key, &format!("/api/v1/affiliates/{}", w.aff)).await.data()["email"]
        .as_str()
        .unwrap()
        .to_string();
    let sent =
        |mails: &[refline_store::OutgoingMail]| mails.iter().filter(|m| m.kind == "payout_sent").count();
    let mails = w.app.store.recent_mail(Some(&email), 10).await.unwrap();
    assert_eq!(sent(&mails), 1, "{mails:?}");
    let told = mails.iter().find(|m| m.kind == "payout_sent").unwrap();
    assert!(
        told.body_text.contains("60.00 USD") && told.body_text.contains("PAYPAL-BATCH-7"),
        "{}",
        told.body_text
    );
    assert!(told.body_html.is_some());
    // Completing again is a no-op; cancelling a completed payout is refused.
    assert_eq!(w.act(id, "complete", json!({})).await.status, StatusCode::OK);
    assert_eq!(sent(&w.app.store.recent_mail(Some(&email), 10).await.unwrap()), 1, "no second mail");
    let cancel = w.act(id, "cancel", json!({})).await;
    assert_eq!((cancel.status, cancel.code()), (StatusCode::CONFLICT, "invalid_transition"));

    // The events, with the payout's own rendering and the paid conversion.
    let path = format!("/api/v1/webhooks/{}/deliveries", hook.data()["id"].as_str().unwrap());
    let deliveries = w.app.get(&w.m.key, &path).await.data().as_array().unwrap().clone();
    let events: Vec<&str> = deliveries.iter().map(|d| d["event"].as_str().unwrap()).collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.contains(&"payout.completed") && events.contains(&"conversion.paid"));
    let completed = deliveries.iter().find(|d| d["event"] == "payout.completed").unwrap();
    let data = &completed["payload"]["data"];
    let now = w.app.get(&w.m.key, &format!("/api/v1/payouts/{id}")).await.data().clone();
    assert_eq!(
        (data["id"].clone(), data["amount"].clone(), data["conversionIds"].clone()),
        (now["id"].clone(), now["amount"].clone(), now["conversionIds"].clone())
    );
    assert_eq!(data["status"], "completed");
    let paid = deliveries.iter().find(|d| d["event"] == "conversion.paid").unwrap();
    assert_eq!(
        (paid["payload"]["data"]["conversionId"].as_str(), paid["payload"]["data"]["status"].as_str()),
        (Some(first.as_str()), Some("paid"))
    );
    // The payment bounces: payout.failed carries the payout as it now is.
    let failed = w.act(id, "fail", json!({ "reason": "account closed" })).await;
    assert_eq!(failed.status, StatusCode::OK, "{}", failed.text);
    let deliveries = w.app.get(&w.m.key, &path).await.data().as_array().unwrap().clone();
    let event = deliveries.iter().find(|d| d["event"] == "payout.failed").expect("payout.failed");
    let data = &event["payload"]["data"];
    assert_eq!(
        (
            data["id"].as_str(),
            data["status"].as_str(),
            data["failureReason"].as_str(),
            data["amount"].as_str()
        ),
        (Some(id), Some("failed"), Some("account closed"), Some("60.00"))
    );
    assert_eq!(data, &failed.data().clone(), "the event is the payout as the API shows it");
    assert_eq!(w.balance().await["payable"], "60.00", "the money is owed again");
    let updated = deliveries.iter().find(|d| d["event"] == "conversion.updated").expect("conversion.updated");
    assert_eq!(
        (updated["payload"]["data"]["conversionId"].as_str(), updated["payload"]["data"]["status"].as_str()),
        (Some(first.as_str()), Some("approved")),
        "a returned commission is announced as updated, not as a merchant's approval"
    );
    w.verify().await;
    w.app.stop().await;
}

async fn minimums_campaign_holds_and_methods(engine: Engine) {
    let w = World::new(&engine).await;
    w.settings(json!({ "payoutHoldDays": 0 })).await;
    w.sale("200.00").await; // 40.00: under the 50.00 minimum
    assert!(w.run(json!({})).await.is_empty(), "under the minimum, the payout waits");
    assert_eq!(w.balance().await["payable"], "40.00");
    w.sale("50.00").await; // +10.00
    let made = w.run(json!({})).await;
    assert_eq!((made.len(), made[0]["amount"].as_str()), (1, Some("50.00")));

    // A campaign's own hold wins over the merchant's.
    let held = w.app.campaign(&w.m.key, json!({ "name": "Held", "holdDays": 3 })).await;
    assert_eq!(held["holdDays"], 3);
    let held_id = held["id"].as_str().unwrap();
    let r = w
        .app
        .post(&w.m.key, "/api/v1/affiliates", json!({ "email": w.app_email(), "campaignId": held_id }))
        .await;
    let other = r.data()["id"].as_str().unwrap().to_string();
    let conv = w.app.convert(&w.m.key, held_id, &other, json!(500), json!({})).await;
    w.set_status(conv.data()["id"].as_str().unwrap(), "approved").await;
    assert!(w.run(json!({})).await.is_empty());
    w.clock.advance(3 * DAY_MS);
    // Payout details pick the rail; runs can be limited to one method or affiliate.
    let bad = w
        .app
        .patch(
            &w.m.key,
            &format!("/api/v1/affiliates/{other}"),
            json!({ "payoutMethod": { "type": "paypal", "email": "nope" } }),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["error"]["details"][0]["path"].clone()),
        (StatusCode::BAD_REQUEST, json!(["payoutMethod", "email"]))
    );
    let set = w
        .app
        .patch(
            &w.m.key,
            &format!("/api/v1/affiliates/{other}"),
            json!({ "payoutMethod": { "type": "paypal", "email": "Pay@Partner.test" } }),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.data()["payoutMethod"], json!({ "type": "paypal", "email": "pay@partner.test" }));
    assert!(w.run(json!({ "method": "wise" })).await.is_empty());
    let made = w.run(json!({ "method": "paypal", "affiliateIds": [other] })).await;
    assert_eq!(
        (made.len(), made[0]["method"].as_str(), made[0]["amount"].as_str()),
        (1, Some("paypal"), Some("100.00"))
    );
    assert_eq!(made[0]["destination"], json!({ "type": "paypal", "email": "pay@partner.test" }));
    let bad_run =
        w.app.post(&w.m.key, "/api/v1/payouts", json!({ "currency": "xyz", "method": "cash" })).await;
    assert_eq!(bad_run.status, StatusCode::BAD_REQUEST);
    w.verify().await;
    w.app.stop().await;
}

impl World {
    fn app_email(&self) -> String {
        format!("{}@partner.test", unique())
    }
}

async fn refunds_and_rejections_leave_queued_payouts(engine: Engine) {
    let w = World::new(&engine).await;
    w.settings(json!({ "payoutHoldDays": 0, "minimumPayout": "0" })).await;
    let a = w.sale("100.00").await; // 20.00
    let b = w.sale("200.00").await; // 40.00
    let c = w.sale("300.00").await; // 60.00
    let payout = w.run(json!({})).await.remove(0);
    let id = payout["id"].as_str().unwrap().to_string();
    assert_eq!(payout["amount"], "120.00");

    // Rejecting an approved, queued commission takes it out; the total is recomputed.
    w.set_status(&a, "rejected").await;
    let now = w.app.get(&w.m.key, &format!("/api/v1/payouts/{id}")).await.data().clone();
    assert_eq!((now["amount"].as_str(), now["status"].as_str()), (Some("100.00"), Some("pending")));
    assert_eq!(ids(&now), sorted([&b, &c]));
    // A full refund cancels what was queued for the sale.
    w.refund(&b, 20_000).await;
    let now = w.app.get(&w.m.key, &format!("/api/v1/payouts/{id}")).await.data().clone();
    assert_eq!((now["amount"].as_str(), ids(&now)), (Some("60.00"), vec![c.clone()]));
    // A partial refund changes the commission: it leaves the payout and is payable anew.
    w.refund(&c, 15_000).await; // half: 30.00 commission left
    let now = w.app.get(&w.m.key, &format!("/api/v1/payouts/{id}")).await.data().clone();
    assert_eq!(
        (now["status"].as_str(), now["amount"].as_str()),
        (Some("cancelled"), Some("0.00")),
        "nothing left: cancelled"
    );
    assert_eq!(w.balance().await["payable"], "30.00");
    let again = w.run(json!({})).await;
    assert_eq!((again.len(), again[0]["amount"].as_str()), (1, Some("30.00")));
    w.verify().await;
    w.app.stop().await;
}

async fn clawbacks_are_netted_and_failures_return_money(engine: Engine) {
    let w = World::new(&engine).await;
    w.settings(json!({ "payoutHoldDays": 0, "minimumPayout": "10" })).await;
    let first = w.sale("500.00").await; // 100.00
    let p1 = w.run(json!({})).await.remove(0);
    let p1_id = p1["id"].as_str().unwrap().to_string();
    assert_eq!(w.act(&p1_id, "complete", json!({})).await.status, StatusCode::OK);

    // A refund after payout: the paid commission stays, 25.00 is owed back.
    w.refund(&first, 12_500).await;
    assert_eq!(w.conversion(&first).await["status"], "paid", "a paid commission is never edited");
    let b = w.balance().await;
    assert_eq!((b["owedBack"].as_str(), b["paid"].as_str()), (Some("25.00"), Some("100.00")));
    // The next payout nets it.
    let second = w.sale("250.00").await; // 50.00
    let p2 = w.run(json!({})).await.remove(0);
    assert_eq!(p2["amount"], "25.00", "50.00 earned less 25.00 owed back");
    assert_eq!(p2["clawbacks"], json!([{ "conversionId": first, "amount": "25.00" }]));
    assert_eq!(ids(&p2), sorted([&second]));
    let p2_id = p2["id"].as_str().unwrap().to_string();
    assert_eq!(w.act(&p2_id, "complete", json!({})).await.status, StatusCode::OK);
    let b = w.balance().await;
    assert_eq!(
        (b["owedBack"].as_str(), b["paid"].as_str(), b["payable"].as_str()),
        (Some("0.00"), Some("125.00"), Some("0.00"))
    );

    // A completed payout that fails afterwards returns its money: payable again, never lost.
    let failed = w.act(&p2_id, "fail", json!({ "reason": "bounced" })).await;
    assert_eq!(
        (failed.data()["status"].as_str(), failed.data()["failureReason"].as_str()),
        (Some("failed"), Some("bounced"))
    );
    assert_eq!(w.conversion(&second).await["status"], "approved");
    let b = w.balance().await;
    assert_eq!(
        (b["payable"].as_str(), b["owedBack"].as_str(), b["paid"].as_str()),
        (Some("50.00"), Some("25.00"), Some("100.00"))
    );
    // A pending payout cancelled, then run again: nothing is paid twice.
    let p3 = w.run(json!({})).await.remove(0);
    assert_eq!(p3["amount"], "25.00");
    let p3_id = p3["id"].as_str().unwrap().to_string();
    assert_eq!(w.act(&p3_id, "cancel", json!({})).await.data()["status"], "cancelled");
    let p4 = w.run(json!({})).await.remove(0);
    assert_eq!(p4["amount"], "25.00");
    let fail_open = w.act(p4["id"].as_str().unwrap(), "fail", json!({})).await;
    assert_eq!(fail_open.data()["status"], "failed");
    assert_eq!(w.balance().await["payable"], "50.00");
    w.verify().await;
    w.app.stop().await;
}

async fn exports_hand_payouts_to_the_rails(engine: Engine) {
    let w = World::new(&engine).await;
    w.settings(json!({ "payoutHoldDays": 0, "minimumPayout": "0", "defaultPayoutMethod": "paypal" })).await;
    // A hostile name must not become a spreadsheet formula.
    let evil = w
        .app
        .post(
            &w.m.key,
            "/api/v1/affiliates",
            json!({ "email": "evil@partner.test", "name": "=HYPERLINK(\"http://x\")", "campaignId": w.camp }),
        )
        .await;
    let evil_id = evil.data()["id"].as_str().unwrap().to_string();
    let wise_email = w.app_email().to_lowercase();
    w.app
        .patch(&w.m.key, &format!("/api/v1/affiliates/{evil_id}"), json!({ "payoutMethod": { "type": "wise", "name": "=cmd|' /C calc'!A0", "email": wise_email, "currency": "eur" } }))
        .await;
    w.sale("100.00").await;
    w.sale_for(&evil_id, "50.00", true).await;
    let made = w.run(json!({})).await;
    assert_eq!(made.len(), 2);
    let paypal = made.iter().find(|p| p["method"] == "paypal").unwrap();
    let wise = made.iter().find(|p| p["method"] == "wise").unwrap();

    let r = w.app.get(&w.m.key, "/api/v1/payouts/export?format=paypal").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let export_id = r.header("x-export-id").unwrap().to_string();
    assert_eq!((r.header("x-export-rows"), r.header("x-export-remaining")), (Some("1"), Some("0")));
    let aff_email = w.app.get(&w.m.key, &format!("/api/v1/affiliates/{}", w.aff)).await.data()["email"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        r.text,
        format!("{aff_email},20.00,USD,{},Affiliate commission,PAYPAL\r\n", paypal["id"].as_str().unwrap())
    );
    // Exported payouts are processing; a second export has nothing left.
    let now = w.app.get(&w.m.key, &format!("/api/v1/payouts/{}", paypal["id"].as_str().unwrap())).await;
    assert_eq!(
        (now.data()["status"].as_str(), now.data()["exportId"].as_str()),
        (Some("processing"), Some(export_id.as_str()))
    );
    let empty = w.app.get(&w.m.key, "/api/v1/payouts/export?format=paypal").await;
    assert_eq!((empty.header("x-export-rows"), empty.text.as_str()), (Some("0"), ""));
    // The same file again by its id.
    let again =
        w.app.get(&w.m.key, &format!("/api/v1/payouts/export?format=paypal&exportId={export_id}")).await;
    assert_eq!(again.text, r.text);

    let r = w.app.get(&w.m.key, "/api/v1/payouts/export?format=wise").await;
    let lines: Vec<&str> = r.text.split("\r\n").collect();
    assert_eq!(lines[0], "name,recipientEmail,paymentReference,receiverType,amountCurrency,amount,sourceCurrency,targetCurrency");
    assert_eq!(
        lines[1],
        format!(
            "'=cmd|' /C calc'!A0,{wise_email},{},PERSON,source,10.00,USD,EUR",
            wise["id"].as_str().unwrap()
        )
    );
    let wise_export = r.header("x-export-id").unwrap().to_string();

    let csv = w.app.get(&w.m.key, &format!("/api/v1/payouts/export?format=csv&exportId={wise_export}")).await;
    let lines: Vec<&str> = csv.text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "payoutId,affiliateId,affiliateEmail,affiliateName,method,destination,amount,currency,conversions,createdAt,exportId"
    );
    let wise_now = w
        .app
        .get(&w.m.key, &format!("/api/v1/payouts/{}", wise["id"].as_str().unwrap()))
        .await
        .data()
        .clone();
    let destination = serde_json::to_string(&wise_now["destination"]).unwrap().replace('"', "\"\"");
    assert_eq!(
        lines[1],
        format!(
            "{},{evil_id},evil@partner.test,\"'=HYPERLINK(\"\"http://x\"\")\",wise,\"{destination}\",10.00,usd,{},{},{wise_export}",
            wise["id"].as_str().unwrap(),
            wise_now["conversionIds"][0].as_str().unwrap(),
            wise_now["createdAt"].as_str().unwrap(),
        )
    );
    assert_eq!(lines.len(), 3, "one payout and the final line break");

    // One call completes every payout of a file.
    let done = w
        .app
        .post(&w.m.key, "/api/v1/payouts/complete", json!({ "exportId": export_id, "reference": "PP-1" }))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.data()[0]["status"], "completed");
    let missing = w.app.post(&w.m.key, "/api/v1/payouts/complete", json!({ "exportId": "exp_nope" })).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let bad = w.app.get(&w.m.key, "/api/v1/payouts/export?format=xls").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    w.verify().await;
    w.app.stop().await;
}

async fn payouts_and_balances_are_the_merchants_own(engine: Engine) {
    let w = World::new(&engine).await;
    w.settings(json!({ "payoutHoldDays": 0, "minimumPayout": "0" })).await;
    w.sale("100.00").await;
    // Idempotent runs: the same key replays the first answer.
    let first = w
        .app
        .send_raw(
            Method::POST,
            &w.m.key,
            "/api/v1/payouts",
            b"{}".to_vec(),
            &[("idempotency-key", "run-1"), ("content-type", "application/json")],
        )
        .await;
    let replay = w
        .app
        .send_raw(
            Method::POST,
            &w.m.key,
            "/api/v1/payouts",
            b"{}".to_vec(),
            &[("idempotency-key", "run-1"), ("content-type", "application/json")],
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.body, replay.body);
    let id = first.data()[0]["id"].as_str().unwrap().to_string();

    let other = w.app.merchant("ultimate").await;
    for (method, path) in [
        (Method::GET, format!("/api/v1/payouts/{id}")),
        (Method::POST, format!("/api/v1/payouts/{id}/complete")),
        (Method::POST, format!("/api/v1/payouts/{id}/cancel")),
    ] {
        let r = w.app.send(method, Some(&other.key), &path, Some(&json!({}))).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{path}");
    }
    let theirs = w.app.get(&other.key, "/api/v1/payouts").await;
    assert_eq!(theirs.body["pagination"]["total"], 0);
    let balances = w.app.get(&other.key, &format!("/api/v1/balances?affiliateId={}", w.aff)).await;
    assert_eq!(balances.data(), &json!([]));
    // Test keys see test payouts only.
    let test = w.app.get(&w.m.test_key, &format!("/api/v1/payouts/{id}")).await;
    assert_eq!(test.status, StatusCode::NOT_FOUND);
    // Reads work with a read-only key; runs do not.
    let pro = w.app.merchant("pro").await;
    assert_eq!(w.app.get(&pro.key, "/api/v1/payouts").await.status, StatusCode::OK);
    assert_eq!(w.app.post(&pro.key, "/api/v1/payouts", json!({})).await.status, StatusCode::FORBIDDEN);
    w.verify().await;
    w.app.stop().await;
}

async fn ledger_verify_finds_tampering(engine: Engine) {
    let w = World::new(&engine).await;
    w.settings(json!({ "payoutHoldDays": 0, "minimumPayout": "0" })).await;
    let id = w.sale("100.00").await;
    let payout = w.run(json!({})).await.remove(0);
    w.act(payout["id"].as_str().unwrap(), "complete", json!({})).await;
    let verify = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_refline"))
            .args(["ledger", "verify", "--merchant", &w.m.id])
            .env("REFLINE_DATABASE_URL", &w.app.database_url)
            .output()
            .unwrap()
    };
    let ok = verify();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    // Someone edits a paid commission behind the ledger's back.
    sqlx_exec(
        &w.app.database_url,
        &format!("UPDATE conversions SET commission_minor = 9999 WHERE id = '{id}'"),
    )
    .await;
    let bad = verify();
    let out = String::from_utf8_lossy(&bad.stdout);
    assert!(!bad.status.success());
    assert!(out.contains(&id) && out.contains("difference"), "{out}");
    tokio::time::sleep(Duration::from_millis(1)).await;
    w.app.stop().await;
}

/// Runs one statement on the test's database, outside Refline.
async fn sqlx_exec(url: &str, sql: &str) {
    use sqlx::Executor;
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        pool.execute(sql).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        pool.execute(sql).await.unwrap();
        pool.close().await;
    }
}

/// A request that runs two operations (payout details and a membership change in one PATCH) logs
/// both: the first in the request's entry, the second as an entry of its own.
async fn a_request_with_two_operations_logs_both(engine: Engine) {
    let w = World::new(&engine).await;
    let body = json!({ "payoutMethod": { "type": "manual" }, "campaignId": w.camp, "status": "approved" });
    let r = w.app.patch(&w.m.key, &format!("/api/v1/affiliates/{}", w.aff), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut operations = Vec::new();
    for _ in 0..100 {
        let entries = w.app.audit_entries(Some(&w.m.id), 1).await;
        operations = entries
            .iter()
            .filter(|e| e.target_id.as_deref() == Some(w.aff.as_str()))
            .filter(|e| e.operation.as_deref() != Some("affiliate.create"))
            .filter_map(|e| e.operation.clone().map(|op| (op, e.method.is_some())))
            .collect::<Vec<_>>();
        if operations.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    operations.sort();
    assert_eq!(
        operations,
        [("affiliate.payout_method".to_string(), true), ("membership.status".to_string(), false)],
        "the request's entry names the first; the second is its own entry"
    );
    w.app.stop().await;
}

engine_tests!(
    a_request_with_two_operations_logs_both,
    settings_have_defaults_and_are_checked,
    approved_commissions_are_paid_after_their_hold,
    minimums_campaign_holds_and_methods,
    refunds_and_rejections_leave_queued_payouts,
    clawbacks_are_netted_and_failures_return_money,
    exports_hand_payouts_to_the_rails,
    payouts_and_balances_are_the_merchants_own,
    ledger_verify_finds_tampering,
);

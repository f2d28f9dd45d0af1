//! Stripe Connect payouts against a local fake Stripe that can be told to fail: one transfer per
//! payout with the payout id as Idempotency-Key, completion and failure from Stripe's answer, a
//! retried send that never pays twice, a reversed transfer (the merchant's Stripe webhook) that
//! returns the money, and the automatic schedule, on both engines.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU8, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode as AxumStatus},
    routing::post,
    Json, Router,
};
use refline_processors::fixtures;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::{engine_tests, processors::Shop, support::Engine};

const STRIPE_SECRET: &str = "whsec_refline_test_secret";
const MERCHANT_STRIPE_KEY: &str = "sk_test_merchantKey123456";

/// How the fake answers.
const OK: u8 = 0;
const DECLINE: u8 = 1;
const DOWN: u8 = 2;

/// A transfer request as the fake received it.
#[derive(Debug, Clone)]
struct Seen {
    key: String,
    authorization: String,
    form: HashMap<String, String>,
}

#[derive(Default)]
struct FakeState {
    mode: AtomicU8,
    seen: Mutex<Vec<Seen>>,
    /// Idempotency-Key → the transfer made for it (as Stripe replays the first answer).
    made: Mutex<HashMap<String, String>>,
}

struct FakeStripe {
    url: String,
    state: Arc<FakeState>,
}

impl FakeStripe {
    async fn start() -> FakeStripe {
        let state = Arc::new(FakeState::default());
        let app = Router::new().route("/v1/transfers", post(transfer)).with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeStripe { url, state }
    }

    fn set(&self, mode: u8) {
        self.state.mode.store(mode, Ordering::SeqCst);
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    fn transfers_made(&self) -> usize {
        self.state.made.lock().unwrap().len()
    }
}

async fn transfer(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> (AxumStatus, Json<Value>) {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let key = text("idempotency-key");
    state.seen.lock().unwrap().push(Seen { key: key.clone(), authorization: text("authorization"), form });
    match state.mode.load(Ordering::SeqCst) {
        DECLINE => (
            AxumStatus::BAD_REQUEST,
            Json(
                json!({ "error": { "type": "invalid_request_error", "message": "Insufficient funds in Stripe account" } }),
            ),
        ),
        DOWN => (AxumStatus::INTERNAL_SERVER_ERROR, Json(json!({ "error": { "message": "try again" } }))),
        _ => {
            let mut made = state.made.lock().unwrap();
            let next = format!("tr_{}", made.len() + 1);
            let id = made.entry(key).or_insert(next).clone();
            (AxumStatus::OK, Json(json!({ "id": id, "object": "transfer" })))
        }
    }
}

/// A Stripe shop whose payouts go to `fake`, paid without hold or minimum, with the merchant's
/// Stripe key stored and its affiliate paid through Stripe Connect.
async fn shop(engine: &Engine, fake: &FakeStripe, automatic_every: Option<Duration>) -> Shop {
    let base = fake.url.clone();
    let shop =
        Shop::open_with(engine, json!({ "provider": "stripe", "webhookSecret": STRIPE_SECRET }), move |c| {
            c.allow_private_processor_api = true;
            c.payouts.stripe_api_base = base;
            c.payouts.automatic_interval = automatic_every;
            c.payouts.schedule_poll = Duration::from_millis(50);
        })
        .await;
    let key = &shop.merchant.key;
    let set =
        shop.app.patch(key, "/api/v1/settings", json!({ "payoutHoldDays": 0, "minimumPayout": "0" })).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let method = json!({ "payoutMethod": { "type": "stripe_connect", "accountId": "acct_1Partner" } });
    let r = shop.app.patch(key, &format!("/api/v1/affiliates/{}", shop.affiliate), method).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    shop
}

impl Shop {
    async fn approved_sale(&self, amount: i64) -> String {
        let key = &self.merchant.key;
        let r = self.app.convert(key, &self.campaign, &self.affiliate, json!(amount), json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.data()["id"].as_str().unwrap().to_string();
        let ok =
            self.app.patch(key, &format!("/api/v1/conversions/{id}"), json!({ "status": "approved" })).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
        id
    }

    async fn payout(&self, id: &str) -> Value {
        self.app.get(&self.merchant.key, &format!("/api/v1/payouts/{id}")).await.data().clone()
    }

    async fn payable(&self) -> String {
        let r = self
            .app
            .get(&self.merchant.key, &format!("/api/v1/balances?affiliateId={}", self.affiliate))
            .await;
        r.data()[0]["payable"].as_str().unwrap_or("none").to_string()
    }

    async fn verify(&self) {
        let problems =
            refline::admin::cli_core(&self.app.store).verify_ledger(&self.merchant.id).await.unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

async fn stripe_transfers_pay_once(engine: Engine) {
    let fake = FakeStripe::start().await;
    let shop = shop(&engine, &fake, None).await;
    let key = shop.merchant.key.clone();

    // Without the merchant's Stripe key nothing is sent.
    let cleared = shop.app.patch(&key, "/api/v1/settings", json!({ "stripeSecretKey": null })).await;
    assert_eq!(cleared.status, StatusCode::OK);
    let refused = shop.app.post(&key, "/api/v1/payouts/send", json!({})).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::UNPROCESSABLE_ENTITY, "stripe_not_configured"));
    let stored =
        shop.app.patch(&key, "/api/v1/settings", json!({ "stripeSecretKey": MERCHANT_STRIPE_KEY })).await;
    assert_eq!(stored.data()["stripeSecretKeySet"], true);

    shop.approved_sale(100).await; // 20.00 commission
    let made = shop.app.post(&key, "/api/v1/payouts", json!({ "method": "stripe_connect" })).await;
    let payout_id = made.data()[0]["id"].as_str().unwrap().to_string();

    // Stripe is down: the payout stays processing, nothing is lost.
    fake.set(DOWN);
    let sent = shop.app.post(&key, "/api/v1/payouts/send", json!({})).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    assert_eq!(shop.payout(&payout_id).await["status"], "processing");
    // Stripe is back: the same Idempotency-Key is sent again and the transfer made once.
    fake.set(OK);
    let sent = shop.app.post(&key, "/api/v1/payouts/send", json!({ "payoutIds": [payout_id] })).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let done = shop.payout(&payout_id).await;
    assert_eq!((done["status"].as_str(), done["transferId"].as_str()), (Some("completed"), Some("tr_1")));
    // A retried run after a lost answer: Stripe replays the first transfer, nothing is paid twice.
    let again = shop.app.post(&key, "/api/v1/payouts/send", json!({})).await;
    assert_eq!(again.status, StatusCode::OK);
    let seen = fake.seen();
    assert_eq!(seen.len(), 2, "one failed attempt, one success; a completed payout is not sent again");
    assert!(seen.iter().all(|s| s.key == payout_id), "the payout id is the Idempotency-Key");
    assert_eq!(fake.transfers_made(), 1);
    let form = &seen[1].form;
    assert_eq!(seen[1].authorization, format!("Bearer {MERCHANT_STRIPE_KEY}"));
    assert_eq!(
        (
            form["amount"].as_str(),
            form["currency"].as_str(),
            form["destination"].as_str(),
            form["transfer_group"].as_str()
        ),
        ("2000", "usd", "acct_1Partner", payout_id.as_str())
    );

    // A refused transfer fails the payout; its commission is payable again.
    shop.approved_sale(50).await; // 10.00
    let made = shop.app.post(&key, "/api/v1/payouts", json!({})).await;
    let second = made.data()[0]["id"].as_str().unwrap().to_string();
    fake.set(DECLINE);
    shop.app.post(&key, "/api/v1/payouts/send", json!({ "payoutIds": [second] })).await;
    let failed = shop.payout(&second).await;
    assert_eq!(failed["status"], "failed");
    assert!(failed["failureReason"].as_str().unwrap().contains("Insufficient funds"), "{failed}");
    assert_eq!(shop.payable().await, "10.00");

    // The merchant's Stripe reports the first transfer reversed: that payout fails and its
    // money is owed to the affiliate again.
    let event = json!({
        "id": "evt_transfer_reversed", "object": "event", "type": "transfer.reversed", "livemode": true,
        "created": crate::processors::now_s(),
        "data": { "object": { "id": "tr_1", "object": "transfer", "amount": 2000, "amount_reversed": 2000 } }
    });
    let delivery =
        fixtures::stripe::delivery(STRIPE_SECRET, crate::processors::now_s(), event.to_string().into_bytes());
    let log = shop.settle("stripe", &delivery).await;
    assert_eq!(log["status"], "processed", "{log}");
    let reversed = shop.payout(&payout_id).await;
    assert_eq!(reversed["status"], "failed");
    assert!(reversed["failureReason"].as_str().unwrap().contains("tr_1"));
    assert_eq!(shop.payable().await, "30.00");
    shop.verify().await;
    shop.app.stop().await;
}

async fn automatic_payouts_run_on_schedule(engine: Engine) {
    let fake = FakeStripe::start().await;
    // A database of its own: the schedule is one row for the whole database, and no other
    // server may take (or move) the run this test waits for.
    let engine = engine.isolated().await;
    let shop = shop(&engine, &fake, Some(Duration::from_secs(3600))).await;
    let key = shop.merchant.key.clone();
    shop.app
        .patch(
            &key,
            "/api/v1/settings",
            json!({ "stripeSecretKey": MERCHANT_STRIPE_KEY, "automaticPayouts": true }),
        )
        .await;
    let conversion = shop.approved_sale(100).await;
    // A run may already have happened (with nothing to pay) before the sale; the next one is
    // due an interval later on the server's clock.
    shop.clock.advance(3_600_001);
    let mut found = Value::Null;
    for _ in 0..200 {
        let list = shop.app.get(&key, &format!("/api/v1/payouts?conversionId={conversion}")).await;
        found = list.data()[0].clone();
        if found["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        (found["status"].as_str(), found["method"].as_str()),
        (Some("completed"), Some("stripe_connect")),
        "{found}"
    );
    assert_eq!(fake.transfers_made(), 1);
    // The run is done for this interval: a new sale waits for the next one.
    let later = shop.approved_sale(100).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let list = shop.app.get(&key, &format!("/api/v1/payouts?conversionId={later}")).await;
    assert_eq!(list.body["pagination"]["total"], 0, "one run per interval");
    // Only one node takes a run: a second claim of the same schedule in the same instant fails.
    let store = &shop.app.store;
    let far = i64::MAX / 2;
    let (a, b) = tokio::join!(
        store.claim_schedule("automatic_payouts", "node_a", far, far, far + 1),
        store.claim_schedule("automatic_payouts", "node_b", far, far, far + 1)
    );
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|taken| **taken).count(), 1);
    shop.verify().await;
    shop.app.stop().await;
}

engine_tests!(stripe_transfers_pay_once, automatic_payouts_run_on_schedule);

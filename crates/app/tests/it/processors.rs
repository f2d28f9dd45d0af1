//! Payment-processor webhooks over HTTP: byte-exact signed deliveries (built by
//! `refline_processors::fixtures`) posted to the running server, then what they became, read
//! through the API (conversions and the integration's delivery log).

use std::{sync::Arc, time::Duration};

use refline_processors::fixtures::{self, Delivery, Sale};
use refline_server::clock::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{Engine, Reply, TestApp, TestMerchant},
};

const STRIPE_SECRET: &str = "whsec_refline_test_secret";

/// A merchant with a 20 % recurring campaign, an approved affiliate and one connection.
pub struct Shop {
    pub app: TestApp,
    pub merchant: TestMerchant,
    pub campaign: String,
    pub code: String,
    pub affiliate: String,
    pub integration: String,
    pub clock: Arc<ManualClock>,
}

impl Shop {
    pub async fn open(engine: &Engine, integration: Value) -> Shop {
        // GoPay's stand-in API listens on loopback.
        Shop::open_with(engine, integration, |c| c.allow_private_processor_api = true).await
    }

    /// A shop whose server is configured by `configure` besides the test clock.
    pub async fn open_with(
        engine: &Engine,
        integration: Value,
        configure: impl FnOnce(&mut refline_server::config::ServerConfig) + Send + 'static,
    ) -> Shop {
        // A database of its own: every server's inbox worker claims any due delivery of its
        // database, and another test's server (other clock, other secret key) must not.
        let engine = &engine.isolated().await;
        let clock = Arc::new(ManualClock::new());
        let shared = clock.clone();
        let app = TestApp::start_with(engine, move |c| {
            c.clock = shared;
            configure(c);
        })
        .await;
        let merchant = app.merchant("ultimate").await;
        let campaign = app
            .campaign(
                &merchant.key,
                json!({ "recurringCommissionEnabled": true, "targetUrl": "https://shop.example/" }),
            )
            .await;
        let campaign_id = campaign["id"].as_str().unwrap().to_string();
        let affiliate = app.affiliate(&merchant.key, &campaign_id, "ally@affiliates.test").await;
        let created = app.post(&merchant.key, "/api/v1/integrations", integration).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        Shop {
            integration: created.data()["id"].as_str().unwrap().to_string(),
            code: campaign["trackingCode"].as_str().unwrap().to_string(),
            campaign: campaign_id,
            affiliate,
            merchant,
            app,
            clock,
        }
    }

    /// The reference the tracking script hands to checkout.
    pub fn reference(&self) -> String {
        format!("tc_{}_aff_{}_cid_click_fixture", self.code, self.affiliate)
    }

    /// A sale carrying this shop's reference.
    pub fn sale(&self, event: &str, object: &str) -> Sale {
        Sale {
            event_id: event.into(),
            object_id: object.into(),
            amount_minor: 10_000,
            reference: Some(self.reference()),
            created_unix_s: now_s(),
            ..Sale::default()
        }
    }

    /// Posts a delivery byte-exact (GET when it has no body, as GoPay notifies).
    pub async fn deliver(&self, provider: &str, delivery: &Delivery) -> Reply {
        let (headers, query, body) = delivery;
        let mut path = format!("/api/webhooks/{provider}/merchant/{}", self.merchant.id);
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        let method = if body.is_empty() { Method::GET } else { Method::POST };
        let mut request = self.app.client().request(method, self.app.url(&path)).body(body.clone());
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        Reply::from(request.send().await.unwrap()).await
    }

    /// Posts a delivery, expects it stored, and waits until it is processed; returns its log
    /// entry.
    pub async fn settle(&self, provider: &str, delivery: &Delivery) -> Value {
        let reply = self.deliver(provider, delivery).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let id = reply.body["deliveryId"].as_str().map(str::to_string).expect("a new delivery");
        self.wait_for(&id, |d| !matches!(d["status"].as_str(), Some("pending"))).await
    }

    /// Waits until delivery `id` satisfies `done`.
    pub async fn wait_for(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..200 {
            let log = self.deliveries().await;
            if let Some(found) = log.iter().find(|d| d["id"] == id) {
                if done(found) {
                    return found.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("delivery {id} never settled: {:?}", self.deliveries().await);
    }

    /// Lets a waiting delivery's retry come due (the clock jumps past its backoff) and waits
    /// until it is processed.
    pub async fn wait_for_retry(&self, id: &str) -> Value {
        self.clock.advance(61_000);
        self.wait_for(id, |d| d["status"] != "waiting" && d["status"] != "pending").await
    }

    pub async fn deliveries(&self) -> Vec<Value> {
        let path = format!("/api/v1/integrations/{}/deliveries?limit=100", self.integration);
        let reply = self.app.get(&self.merchant.key, &path).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.data().as_array().unwrap().clone()
    }

    pub async fn conversion(&self, id: &str) -> Value {
        let reply = self.app.get(&self.merchant.key, &format!("/api/v1/conversions/{id}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.data().clone()
    }

    pub async fn conversions(&self, test: bool) -> Vec<Value> {
        let key = if test { &self.merchant.test_key } else { &self.merchant.key };
        self.app.get(key, "/api/v1/conversions?limit=100").await.data().as_array().unwrap().clone()
    }
}

pub fn now_s() -> i64 {
    refline_server::clock::now_ms() / 1000
}

/// A POST of `sale` as a paid Stripe invoice, signed with `secret` at `now` (Unix seconds), to
/// `base`'s receiver for `merchant_id`: the delivery the cluster and crash tests send to a node.
pub fn signed_stripe_invoice(
    client: &reqwest::Client,
    base: &str,
    merchant_id: &str,
    secret: &str,
    now: i64,
    sale: &Sale,
) -> reqwest::RequestBuilder {
    let (headers, _, body) =
        fixtures::stripe::delivery(secret, now, fixtures::stripe::invoice_paid(sale, "subscription_create"));
    let mut request = client.post(format!("{base}/api/webhooks/stripe/merchant/{merchant_id}")).body(body);
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    request
}

fn conversion_id(delivery: &Value) -> String {
    delivery["conversionId"].as_str().unwrap_or_else(|| panic!("no conversion: {delivery}")).to_string()
}

async fn stripe_shop(engine: &Engine) -> Shop {
    Shop::open(engine, json!({ "provider": "stripe", "webhookSecret": STRIPE_SECRET })).await
}

fn stripe(body: Vec<u8>) -> Delivery {
    fixtures::stripe::delivery(STRIPE_SECRET, now_s(), body)
}

async fn stripe_first_sale_renewal_and_duplicates(engine: Engine) {
    let shop = stripe_shop(&engine).await;
    let sale = Sale { subscription_id: Some("sub_1".into()), ..shop.sale("evt_1", "in_first") };
    let first =
        shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&sale, "subscription_create"))).await;
    assert_eq!(first["status"], "processed", "{first}");
    let id = conversion_id(&first);
    assert!(id.starts_with(&format!("stripe_{}_", shop.code)), "{id}");
    let conversion = shop.conversion(&id).await;
    assert_eq!(conversion["amount"], "100.00");
    assert_eq!(conversion["commission"], "20.00");
    assert_eq!(conversion["source"], "stripe");
    assert_eq!(conversion["status"], "pending");
    assert_eq!(conversion["affiliateId"], shop.affiliate.as_str());

    // The same money reported again by another event type, and the same event redelivered.
    let checkout = shop
        .settle(
            "stripe",
            &stripe(fixtures::stripe::checkout_completed(&Sale { event_id: "evt_2".into(), ..sale.clone() })),
        )
        .await;
    assert_eq!(checkout["status"], "ignored", "{checkout}");
    assert_eq!(checkout["conversionId"], id.as_str(), "one commission per invoice");
    let again =
        shop.deliver("stripe", &stripe(fixtures::stripe::invoice_paid(&sale, "subscription_create"))).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["duplicate"], true);

    // A renewal: no reference needed, the subscription remembers the affiliate.
    let renewal = Sale {
        reference: None,
        ..Sale { subscription_id: Some("sub_1".into()), ..shop.sale("evt_3", "in_second") }
    };
    let renewed =
        shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&renewal, "subscription_cycle"))).await;
    assert_eq!(renewed["status"], "processed", "{renewed}");
    let renewal_conversion = shop.conversion(&conversion_id(&renewed)).await;
    assert_eq!(renewal_conversion["parentConversionId"], id.as_str());
    assert_eq!(renewal_conversion["paymentNumber"], 2);
    assert_eq!(shop.conversions(false).await.len(), 2);
}

async fn stripe_out_of_order_refunds_and_chargebacks(engine: Engine) {
    let shop = stripe_shop(&engine).await;
    // A full refund arrives before its sale: it waits, then applies.
    let early = shop
        .deliver(
            "stripe",
            &stripe(fixtures::stripe::charge_refunded(
                "evt_r1",
                "ch_1",
                "pi_1",
                10_000,
                10_000,
                "usd",
                true,
                now_s(),
            )),
        )
        .await;
    let early_id = early.body["deliveryId"].as_str().unwrap().to_string();
    let waiting = shop.wait_for(&early_id, |d| d["status"] == "waiting").await;
    assert!(waiting["outcome"].as_str().unwrap().contains("no credited sale"), "{waiting}");
    let sale = shop
        .settle("stripe", &stripe(fixtures::stripe::checkout_completed(&shop.sale("evt_s1", "pi_1"))))
        .await;
    let id = conversion_id(&sale);
    // Its retry is due in 30 s.
    let applied = shop.wait_for_retry(&early_id).await;
    assert_eq!(applied["status"], "processed", "{applied}");
    assert_eq!(shop.conversion(&id).await["status"], "refunded");

    // A partial refund reduces the commission in proportion; the rest of it later reverses it.
    let partial_sale = shop
        .settle("stripe", &stripe(fixtures::stripe::checkout_completed(&shop.sale("evt_s2", "pi_2"))))
        .await;
    let partial_id = conversion_id(&partial_sale);
    let quarter = shop
        .settle(
            "stripe",
            &stripe(fixtures::stripe::charge_refunded(
                "evt_r2",
                "ch_2",
                "pi_2",
                10_000,
                2_500,
                "usd",
                true,
                now_s(),
            )),
        )
        .await;
    assert_eq!(quarter["status"], "processed", "{quarter}");
    let reduced = shop.conversion(&partial_id).await;
    assert_eq!(
        (reduced["status"].as_str(), reduced["commission"].as_str()),
        (Some("pending"), Some("15.00"))
    );
    let rest = shop
        .settle(
            "stripe",
            &stripe(fixtures::stripe::charge_refunded(
                "evt_r3",
                "ch_2",
                "pi_2",
                10_000,
                10_000,
                "usd",
                true,
                now_s(),
            )),
        )
        .await;
    assert_eq!(rest["status"], "processed", "{rest}");
    assert_eq!(shop.conversion(&partial_id).await["status"], "refunded");

    // A dispute reverses like a full refund.
    let disputed_sale = shop
        .settle("stripe", &stripe(fixtures::stripe::checkout_completed(&shop.sale("evt_s3", "pi_3"))))
        .await;
    let disputed = conversion_id(&disputed_sale);
    let dispute = shop
        .settle(
            "stripe",
            &stripe(fixtures::stripe::dispute_created("evt_d1", "dp_1", "ch_3", "pi_3", 10_000, "usd")),
        )
        .await;
    assert_eq!(dispute["status"], "processed", "{dispute}");
    assert_eq!(shop.conversion(&disputed).await["status"], "refunded");

    // After payout, a refund is owed back instead of rewriting the paid conversion.
    let paid_sale = shop
        .settle("stripe", &stripe(fixtures::stripe::checkout_completed(&shop.sale("evt_s4", "pi_4"))))
        .await;
    let paid = conversion_id(&paid_sale);
    let store = shop.app.store.clone();
    let now = refline_server::clock::now_ms();
    assert!(store
        .update_conversion_status(
            &shop.merchant.id,
            &paid,
            refline_domain::ConversionStatus::Pending,
            refline_domain::ConversionStatus::Paid,
            now,
            refline_domain::Mode::Test,
        )
        .await
        .unwrap());
    let clawback = shop
        .settle(
            "stripe",
            &stripe(fixtures::stripe::charge_refunded(
                "evt_r4",
                "ch_4",
                "pi_4",
                10_000,
                10_000,
                "usd",
                true,
                now_s(),
            )),
        )
        .await;
    assert!(clawback["outcome"].as_str().unwrap().contains("owed back"), "{clawback}");
    let after = shop.conversion(&paid).await;
    assert_eq!(after["status"], "paid");
    assert_eq!(after["adjustments"][0]["amount"], "-20.00", "{after}");
    let owed = store.adjustments_for(&shop.merchant.id, &paid).await.unwrap();
    assert_eq!(owed.iter().map(|a| a.amount_minor).collect::<Vec<_>>(), [-2_000]);
}

async fn stripe_trials_turn_into_commissions(engine: Engine) {
    let shop = stripe_shop(&engine).await;
    let sale = Sale { subscription_id: Some("sub_t".into()), ..shop.sale("evt_t1", "in_t1") };
    let trial = shop
        .settle("stripe", &stripe(fixtures::stripe::subscription_trialing(&sale, now_s() + 14 * 86_400)))
        .await;
    assert_eq!(trial["status"], "processed", "{trial}");
    let trial_conversion = shop.conversion(&conversion_id(&trial)).await;
    assert_eq!(
        (trial_conversion["status"].as_str(), trial_conversion["amount"].as_str()),
        (Some("trial"), Some("0.00"))
    );
    assert_eq!(trial_conversion["commission"], "0.00");
    // Stripe reports the first charge after a trial as a cycle; with the trial on record it is
    // the subscription's first payment.
    let paid = Sale { reference: None, event_id: "evt_t2".into(), ..sale };
    let first =
        shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&paid, "subscription_cycle"))).await;
    assert_eq!(first["status"], "processed", "{first}");
    assert!(first["outcome"].as_str().unwrap().contains("converted"), "{first}");
    let commission = shop.conversion(&conversion_id(&first)).await;
    assert_eq!(
        (commission["status"].as_str(), commission["commission"].as_str()),
        (Some("pending"), Some("20.00"))
    );
    assert_eq!(commission["paymentNumber"], 1);
    let renewal = Sale { reference: None, event_id: "evt_t3".into(), object_id: "in_t2".into(), ..paid };
    let second =
        shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&renewal, "subscription_cycle"))).await;
    let second = shop.conversion(&conversion_id(&second)).await;
    assert_eq!(
        (second["paymentNumber"].as_i64(), second["parentConversionId"].as_str()),
        (Some(2), commission["id"].as_str())
    );
}

async fn stripe_signatures_secrets_and_modes(engine: Engine) {
    let shop = stripe_shop(&engine).await;
    let body = fixtures::stripe::checkout_completed(&shop.sale("evt_x", "pi_x"));
    let wrong =
        shop.deliver("stripe", &fixtures::stripe::delivery("whsec_wrong", now_s(), body.clone())).await;
    assert_eq!((wrong.status, wrong.code()), (StatusCode::UNAUTHORIZED, "invalid_signature"));
    let expired = shop
        .deliver("stripe", &fixtures::stripe::delivery(STRIPE_SECRET, now_s() - 3_600, body.clone()))
        .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED, "{}", expired.text);
    let mut tampered = stripe(body.clone());
    tampered.2.push(b' ');
    assert_eq!(shop.deliver("stripe", &tampered).await.status, StatusCode::UNAUTHORIZED);
    assert!(shop.deliveries().await.is_empty(), "refused deliveries are stored nowhere but the audit log");
    let audit = shop.app.audit_entries(Some(&shop.merchant.id), 20).await;
    assert!(
        audit.iter().any(|e| e.status_code == Some(401)
            && e.door == "processor"
            && e.path.as_deref().is_some_and(|p| p.contains("/api/webhooks/stripe/"))),
        "{audit:?}"
    );

    // Rotation: the new secret verifies, and so does the old one until it is dropped.
    let rotated = shop
        .app
        .patch(
            &shop.merchant.key,
            &format!("/api/v1/integrations/{}", shop.integration),
            json!({ "webhookSecret": "whsec_next" }),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let old = shop
        .settle("stripe", &stripe(fixtures::stripe::checkout_completed(&shop.sale("evt_o", "pi_o"))))
        .await;
    assert_eq!(old["status"], "processed");
    // A stored delivery's request entry names the operation and the delivery it stored.
    let old_id = old["id"].as_str().unwrap().to_string();
    let names_it = |e: &refline_store::AuditEntry| {
        e.operation.as_deref() == Some("processor_delivery.receive")
            && e.target_id.as_deref() == Some(old_id.as_str())
            && e.status_code == Some(200)
    };
    let mut logged = Vec::new();
    for _ in 0..100 {
        logged = shop.app.audit_entries(Some(&shop.merchant.id), 1).await;
        if logged.iter().any(names_it) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(logged.iter().any(names_it), "{logged:?}");
    let new = fixtures::stripe::delivery(
        "whsec_next",
        now_s(),
        fixtures::stripe::checkout_completed(&shop.sale("evt_n", "pi_n")),
    );
    assert_eq!(shop.settle("stripe", &new).await["status"], "processed");

    // Test-mode events become test conversions, out of live data.
    let test = Sale { test_mode: true, ..shop.sale("evt_test", "pi_test") };
    let recorded = shop.settle("stripe", &stripe(fixtures::stripe::checkout_completed(&test))).await;
    assert_eq!(recorded["status"], "processed", "{recorded}");
    assert!(shop.conversions(true).await.iter().any(|c| c["id"] == recorded["conversionId"]));
    assert!(!shop.conversions(false).await.iter().any(|c| c["id"] == recorded["conversionId"]));

    // Unknown provider or merchant without the connection.
    assert_eq!(
        shop.app.send(Method::POST, None, "/api/webhooks/paypal/merchant/x", None).await.status,
        StatusCode::NOT_FOUND
    );
    let other = shop.app.merchant("ultimate").await;
    let path = format!("/api/webhooks/stripe/merchant/{}", other.id);
    assert_eq!(
        shop.app.send(Method::POST, None, &path, Some(&json!({}))).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn stripe_coupon_only_and_no_attribution(engine: Engine) {
    let shop = stripe_shop(&engine).await;
    let coupon = shop
        .app
        .post(
            &shop.merchant.key,
            "/api/v1/coupons",
            json!({ "code": "ALLY20", "campaignId": shop.campaign, "affiliateId": shop.affiliate, "provider": "stripe", "providerCouponId": "co_ally" }),
        )
        .await;
    assert!(coupon.status.is_success(), "{}", coupon.text);
    let by_coupon = Sale { reference: None, coupon: Some("co_ally".into()), ..shop.sale("evt_c", "pi_c") };
    let credited = shop.settle("stripe", &stripe(fixtures::stripe::checkout_completed(&by_coupon))).await;
    assert_eq!(credited["status"], "processed", "{credited}");
    assert!(credited["outcome"].as_str().unwrap().contains("coupon ALLY20"), "{credited}");
    let nothing =
        Sale { reference: None, coupon: Some("co_late".into()), ..shop.sale("evt_none", "pi_none") };
    let ignored = shop.settle("stripe", &stripe(fixtures::stripe::checkout_completed(&nothing))).await;
    assert_eq!(ignored["status"], "ignored");
    assert!(ignored["outcome"].as_str().unwrap().contains("no tracking reference"), "{ignored}");

    // The merchant registers the coupon afterwards and replays the delivery: now it is credited.
    let late = json!({ "code": "LATE", "campaignId": shop.campaign, "affiliateId": shop.affiliate, "providerCouponId": "co_late" });
    assert!(shop.app.post(&shop.merchant.key, "/api/v1/coupons", late).await.status.is_success());
    let id = ignored["id"].as_str().unwrap();
    let path = format!("/api/v1/integrations/{}/deliveries/{id}/replay", shop.integration);
    let replay = shop.app.post(&shop.merchant.key, &path, json!({})).await;
    assert_eq!(replay.status, StatusCode::ACCEPTED, "{}", replay.text);
    let replayed = shop.wait_for(id, |d| d["status"] == "processed").await;
    assert!(replayed["outcome"].as_str().unwrap().contains("coupon LATE"), "{replayed}");
    let again = shop.app.post(&shop.merchant.key, &path, json!({})).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    let twice = shop.wait_for(id, |d| d["status"] != "pending").await;
    assert_eq!(twice["status"], "ignored", "a replay never credits the same sale twice: {twice}");
    let other = shop.app.merchant("ultimate").await;
    assert_eq!(shop.app.post(&other.key, &path, json!({})).await.status, StatusCode::NOT_FOUND);
}

/// Correctly signed garbage (random bytes, and valid payloads with random bytes spliced in)
/// never gets a 5xx and never stalls the worker: every stored delivery ends in a final state.
async fn signed_garbage_never_fails_the_server(engine: Engine) {
    use rand::{Rng, SeedableRng};
    let shop = stripe_shop(&engine).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let valid = fixtures::stripe::checkout_completed(&shop.sale("evt_fuzz", "pi_fuzz"));
    let mut stored = Vec::new();
    for round in 0..60 {
        let body: Vec<u8> = if round % 2 == 0 {
            (0..rng.gen_range(0..400)).map(|_| rng.gen()).collect()
        } else {
            let mut body = valid.clone();
            let at = rng.gen_range(0..body.len());
            let junk: Vec<u8> = (0..rng.gen_range(1..8)).map(|_| rng.gen()).collect();
            body.splice(at..at, junk);
            body
        };
        let reply = shop.deliver("stripe", &stripe(body)).await;
        assert!(
            reply.status.is_success() || reply.status.is_client_error(),
            "round {round}: {} {}",
            reply.status,
            reply.text
        );
        if let Some(id) = reply.body["deliveryId"].as_str() {
            stored.push(id.to_string());
        }
    }
    for id in stored {
        let settled = shop
            .wait_for(&id, |d| matches!(d["status"].as_str(), Some("processed" | "ignored" | "failed")))
            .await;
        assert!(settled["outcome"].is_string(), "{settled}");
    }
}

/// Pending affiliates are credited (the commission waits for review anyway), rejected ones are
/// not, and renewals stop at the campaign's recurring limit.
async fn who_is_credited_and_for_how_long(engine: Engine) {
    let shop = stripe_shop(&engine).await;
    let key = &shop.merchant.key;
    let path = format!("/api/v1/campaigns/{}", shop.campaign);
    let limited = shop
        .app
        .patch(key, &path, json!({ "recurringCommissionMode": "payments", "recurringCommissionCount": 2 }))
        .await;
    assert_eq!(limited.status, StatusCode::OK, "{}", limited.text);

    let membership = shop
        .app
        .store
        .get_membership(&shop.merchant.id, &shop.campaign, &shop.affiliate)
        .await
        .unwrap()
        .unwrap();
    let now = refline_server::clock::now_ms();
    assert!(shop
        .app
        .store
        .update_membership_status(
            &membership,
            refline_domain::MembershipStatus::Approved,
            refline_domain::MembershipStatus::Pending,
            now,
            refline_domain::Mode::Test,
            None,
        )
        .await
        .unwrap());
    let sale = Sale { subscription_id: Some("sub_limit".into()), ..shop.sale("evt_p1", "in_p1") };
    let first =
        shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&sale, "subscription_create"))).await;
    assert_eq!(first["status"], "processed", "a pending affiliate is credited: {first}");
    assert_eq!(shop.conversion(&conversion_id(&first)).await["status"], "pending");

    let second =
        Sale { reference: None, event_id: "evt_p2".into(), object_id: "in_p2".into(), ..sale.clone() };
    let renewed =
        shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&second, "subscription_cycle"))).await;
    assert_eq!(renewed["status"], "processed", "{renewed}");
    let third =
        Sale { reference: None, event_id: "evt_p3".into(), object_id: "in_p3".into(), ..sale.clone() };
    let past =
        shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&third, "subscription_cycle"))).await;
    assert_eq!(past["status"], "ignored", "{past}");
    assert!(past["outcome"].as_str().unwrap().contains("recurring limit"), "{past}");

    let rejected = shop
        .app
        .patch(
            key,
            &format!("/api/v1/affiliates/{}", shop.affiliate),
            json!({ "campaignId": shop.campaign, "status": "rejected" }),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    let after = shop
        .settle("stripe", &stripe(fixtures::stripe::checkout_completed(&shop.sale("evt_p4", "pi_p4"))))
        .await;
    assert_eq!(after["status"], "ignored", "{after}");
    assert!(after["outcome"].as_str().unwrap().contains("rejected"), "{after}");
}

/// Refunds of one conversion computed from the same progress cannot both apply (the second
/// must read again), and a refund id reported twice counts once.
async fn refunds_apply_atomically(engine: Engine) {
    use refline_store::{RefundApplication, RefundApplied, RefundChange, RefundState};
    let shop = stripe_shop(&engine).await;
    let sold = shop
        .settle("stripe", &stripe(fixtures::stripe::checkout_completed(&shop.sale("evt_a", "pi_a"))))
        .await;
    let id = conversion_id(&sold);
    let store = shop.app.store.clone();
    let before = RefundState { refunded_minor: 0, original_commission_minor: 2_000 };
    let refund = |after: i64, commission: i64, key: Option<&str>| RefundApplication {
        merchant_id: &shop.merchant.id,
        provider: "stripe",
        conversion_id: &id,
        refund_key: key.map(str::to_string),
        before,
        refunded_after: after,
        change: RefundChange::SetCommission(commission),
        now: refline_server::clock::now_ms(),
    };
    assert_eq!(
        store.apply_refund(&refund(3_000, 1_400, Some("refund:re_1"))).await.unwrap(),
        RefundApplied::Applied
    );
    assert_eq!(store.apply_refund(&refund(6_000, 800, None)).await.unwrap(), RefundApplied::Conflict);
    assert_eq!(
        store.apply_refund(&refund(3_000, 1_400, Some("refund:re_1"))).await.unwrap(),
        RefundApplied::AlreadyApplied
    );
    assert_eq!(shop.conversion(&id).await["commission"], "14.00", "only the first applied");
    let progress = store.refund_state(&shop.merchant.id, &id).await.unwrap().unwrap();
    assert_eq!((progress.refunded_minor, progress.original_commission_minor), (3_000, 2_000));
}

/// A renewal that arrives before its subscription's first sale waits, then joins the chain.
async fn stripe_renewal_before_its_first_sale(engine: Engine) {
    let shop = stripe_shop(&engine).await;
    let first = Sale { subscription_id: Some("sub_ooo".into()), ..shop.sale("evt_o1", "in_o1") };
    let renewal = Sale { event_id: "evt_o2".into(), object_id: "in_o2".into(), ..first.clone() };
    let early =
        shop.deliver("stripe", &stripe(fixtures::stripe::invoice_paid(&renewal, "subscription_cycle"))).await;
    let early_id = early.body["deliveryId"].as_str().unwrap().to_string();
    let waiting = shop.wait_for(&early_id, |d| d["status"] == "waiting").await;
    assert!(
        waiting["outcome"].as_str().unwrap().contains("before its subscription's first sale"),
        "{waiting}"
    );
    let sold =
        shop.settle("stripe", &stripe(fixtures::stripe::invoice_paid(&first, "subscription_create"))).await;
    let first_id = conversion_id(&sold);
    let joined = shop.wait_for_retry(&early_id).await;
    assert_eq!(joined["status"], "processed", "{joined}");
    let renewed = shop.conversion(&conversion_id(&joined)).await;
    assert_eq!(
        (renewed["parentConversionId"].as_str(), renewed["paymentNumber"].as_i64()),
        (Some(first_id.as_str()), Some(2))
    );
}

engine_tests!(
    stripe_renewal_before_its_first_sale,
    refunds_apply_atomically,
    who_is_credited_and_for_how_long,
    signed_garbage_never_fails_the_server,
    stripe_first_sale_renewal_and_duplicates,
    stripe_out_of_order_refunds_and_chargebacks,
    stripe_trials_turn_into_commissions,
    stripe_signatures_secrets_and_modes,
    stripe_coupon_only_and_no_attribution,
);

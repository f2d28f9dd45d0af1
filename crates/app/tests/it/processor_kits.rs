//! The same story told by every other processor: first sale, redelivery, renewal, trial then
//! first payment, partial and full refund, chargeback, a refund before its sale, forged and
//! expired signatures, secret rotation, test mode, coupon-only attribution, and a sale nobody
//! referred. Each processor's fixtures build byte-exact, correctly signed deliveries.

use std::sync::{Arc, Mutex};

use refline_processors::fixtures::{self, Delivery, Sale};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    processors::{now_s, Shop},
    support::Engine,
};

type Build = Box<dyn Fn(&Sale) -> Delivery + Send + Sync>;
/// A refund of `sale`: (sale, refunded now in this step, refunded in total, full?, event id).
type Refund = Box<dyn Fn(&Sale, i64, i64, bool, &str) -> Delivery + Send + Sync>;

/// How one processor tells the story.
struct Kit {
    provider: &'static str,
    integration: Value,
    /// The first payment (of a subscription when `sale.subscription_id` is set).
    first: Build,
    /// A renewal of the subscription, when the processor reports them.
    renewal: Option<Build>,
    refund: Refund,
    /// Whether refund events carry the amount (partial refunds reduce the commission).
    partial_amounts: bool,
    /// The delivery with a wrong signature or secret.
    forged: Build,
    /// Whether the processor flags test-mode events in the payload.
    test_flag: bool,
    /// A trial start for the sale's subscription.
    trial: Option<Build>,
    /// A chargeback / dispute of the sale, when the processor reports them.
    chargeback: Option<Build>,
    /// The first sale signed at a timestamp an hour old, when the processor signs a time.
    expired: Option<Build>,
    /// A rotation: (the new secret for PATCH, the first sale signed with it).
    rotation: Option<(&'static str, Build)>,
    /// Whether the processor names the coupon used (so coupon-only attribution works).
    coupons: bool,
}

async fn tell(engine: Engine, kit: Kit) {
    let shop = Shop::open(&engine, kit.integration.clone()).await;
    let p = kit.provider;
    let sub =
        |s: Sale| Sale { subscription_id: Some("sub_story".into()), customer_id: "cus_story".into(), ..s };

    let sale = sub(shop.sale("evt_first", "1001"));
    let first = shop.settle(p, &(kit.first)(&sale)).await;
    assert_eq!(first["status"], "processed", "{p}: {first}");
    let id = first["conversionId"].as_str().unwrap().to_string();
    let conversion = shop.conversion(&id).await;
    assert_eq!(
        (conversion["amount"].as_str(), conversion["commission"].as_str()),
        (Some("100.00"), Some("20.00")),
        "{p}"
    );
    assert_eq!(conversion["source"], p);

    let again = shop.deliver(p, &(kit.first)(&sale)).await;
    assert_eq!(again.status, StatusCode::OK, "{p}: {}", again.text);
    assert!(
        again.body["duplicate"] == true || {
            let id = again.body["deliveryId"].as_str().unwrap_or_default().to_string();
            shop.wait_for(&id, |d| d["status"] != "pending").await["status"] == "ignored"
        },
        "{p}: a redelivery credits nothing twice"
    );

    if let Some(renewal) = &kit.renewal {
        let next = Sale { reference: None, ..sub(shop.sale("evt_renewal", "1002")) };
        let renewed = shop.settle(p, &renewal(&next)).await;
        assert_eq!(renewed["status"], "processed", "{p}: {renewed}");
        let renewed = shop.conversion(renewed["conversionId"].as_str().unwrap()).await;
        assert_eq!(renewed["parentConversionId"], id.as_str(), "{p}");
    }

    if kit.partial_amounts {
        let quarter = shop.settle(p, &(kit.refund)(&sale, 2_500, 2_500, false, "evt_refund_1")).await;
        assert_eq!(quarter["status"], "processed", "{p}: {quarter}");
        assert_eq!(shop.conversion(&id).await["commission"], "15.00", "{p}");
    }
    let full = shop.settle(p, &(kit.refund)(&sale, 7_500, 10_000, true, "evt_refund_2")).await;
    assert_eq!(full["status"], "processed", "{p}: {full}");
    assert_eq!(shop.conversion(&id).await["status"], "refunded", "{p}");

    let forged = shop.deliver(p, &(kit.forged)(&shop.sale("evt_forged", "1003"))).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{p}: {}", forged.text);

    let nobody =
        Sale { reference: None, customer_id: "cus_nobody".into(), ..shop.sale("evt_nobody", "1004") };
    let ignored = shop.settle(p, &(kit.first)(&nobody)).await;
    assert_eq!(ignored["status"], "ignored", "{p}: {ignored}");

    // A refund that arrives before its sale waits, then applies once the sale is in.
    let late = Sale { customer_id: "cus_late".into(), ..shop.sale("evt_late_sale", "2001") };
    let early = shop.deliver(p, &(kit.refund)(&late, 10_000, 10_000, true, "evt_early_refund")).await;
    let early_id =
        early.body["deliveryId"].as_str().unwrap_or_else(|| panic!("{p}: {}", early.text)).to_string();
    shop.wait_for(&early_id, |d| d["status"] == "waiting").await;
    let late_sale = shop.settle(p, &(kit.first)(&late)).await;
    assert_eq!(late_sale["status"], "processed", "{p}: {late_sale}");
    let applied = shop.wait_for_retry(&early_id).await;
    assert_eq!(applied["status"], "processed", "{p}: {applied}");
    assert_eq!(
        shop.conversion(late_sale["conversionId"].as_str().unwrap()).await["status"],
        "refunded",
        "{p}"
    );

    if let Some(chargeback) = &kit.chargeback {
        let disputed = Sale { customer_id: "cus_dispute".into(), ..shop.sale("evt_disputed", "3001") };
        let sold = shop.settle(p, &(kit.first)(&disputed)).await;
        let lost = shop.settle(p, &chargeback(&disputed)).await;
        assert_eq!(lost["status"], "processed", "{p}: {lost}");
        assert_eq!(
            shop.conversion(sold["conversionId"].as_str().unwrap()).await["status"],
            "refunded",
            "{p}"
        );
    }

    if let Some(trial) = &kit.trial {
        let trialing = Sale {
            subscription_id: Some("sub_trial".into()),
            customer_id: "cus_trial".into(),
            ..shop.sale("evt_trial", "4001")
        };
        let started = shop.settle(p, &trial(&trialing)).await;
        assert_eq!(started["status"], "processed", "{p}: {started}");
        let record = shop.conversion(started["conversionId"].as_str().unwrap()).await;
        assert_eq!(
            (record["status"].as_str(), record["commission"].as_str()),
            (Some("trial"), Some("0.00")),
            "{p}"
        );
        // The processor reports the first charge after the trial as a subscription payment.
        let pay = kit.renewal.as_ref().unwrap_or(&kit.first);
        let first_charge =
            Sale { reference: None, event_id: "evt_trial_paid".into(), object_id: "4002".into(), ..trialing };
        let paid = shop.settle(p, &pay(&first_charge)).await;
        assert_eq!(paid["status"], "processed", "{p}: {paid}");
        let commission = shop.conversion(paid["conversionId"].as_str().unwrap()).await;
        assert_eq!(
            (commission["status"].as_str(), commission["commission"].as_str()),
            (Some("pending"), Some("20.00")),
            "{p}"
        );
        assert_eq!(commission["paymentNumber"], 1, "{p}");
    }

    if let Some(expired) = &kit.expired {
        let old = shop.deliver(p, &expired(&shop.sale("evt_old", "5001"))).await;
        assert_eq!(old.status, StatusCode::UNAUTHORIZED, "{p}: {}", old.text);
    }

    if kit.coupons {
        let registered = shop
            .app
            .post(
                &shop.merchant.key,
                "/api/v1/coupons",
                json!({ "code": "KIT20", "campaignId": shop.campaign, "affiliateId": shop.affiliate, "provider": p, "providerCouponId": "KIT20" }),
            )
            .await;
        assert!(registered.status.is_success(), "{p}: {}", registered.text);
        let by_coupon = Sale {
            reference: None,
            coupon: Some("KIT20".into()),
            customer_id: "cus_coupon".into(),
            ..shop.sale("evt_coupon", "7001")
        };
        let credited = shop.settle(p, &(kit.first)(&by_coupon)).await;
        assert_eq!(credited["status"], "processed", "{p}: {credited}");
        assert!(credited["outcome"].as_str().unwrap_or_default().contains("coupon KIT20"), "{p}: {credited}");
    }

    if kit.test_flag {
        let test = Sale { test_mode: true, customer_id: "cus_test".into(), ..shop.sale("evt_test", "1005") };
        let recorded = shop.settle(p, &(kit.first)(&test)).await;
        assert_eq!(recorded["status"], "processed", "{p}: {recorded}");
        assert!(shop.conversions(true).await.iter().any(|c| c["id"] == recorded["conversionId"]), "{p}");
        assert!(!shop.conversions(false).await.iter().any(|c| c["id"] == recorded["conversionId"]), "{p}");
    }

    // Last: after the rotation the fixtures' original secret no longer verifies.
    if let Some((secret, signed_with)) = &kit.rotation {
        let path = format!("/api/v1/integrations/{}", shop.integration);
        let rotated = shop.app.patch(&shop.merchant.key, &path, json!({ "webhookSecret": secret })).await;
        assert_eq!(rotated.status, StatusCode::OK, "{p}: {}", rotated.text);
        let sale = Sale { customer_id: "cus_rotated".into(), ..shop.sale("evt_rotated_new", "6001") };
        assert_eq!(shop.settle(p, &signed_with(&sale)).await["status"], "processed", "{p}: new secret");
        let sale = Sale { customer_id: "cus_rotated_old".into(), ..shop.sale("evt_rotated_old", "6002") };
        assert_eq!(
            shop.settle(p, &(kit.first)(&sale)).await["status"],
            "processed",
            "{p}: old secret still verifies"
        );
        let dropped = shop.app.patch(&shop.merchant.key, &path, json!({ "dropPreviousSecret": true })).await;
        assert_eq!(dropped.status, StatusCode::OK);
        let sale = Sale { customer_id: "cus_rotated_gone".into(), ..shop.sale("evt_rotated_gone", "6003") };
        assert_eq!(
            shop.deliver(p, &(kit.first)(&sale)).await.status,
            StatusCode::UNAUTHORIZED,
            "{p}: dropped secret"
        );
    }
}

async fn paddle_billing(engine: Engine) {
    const SECRET: &str = "pdl_ntfset_refline_test";
    let d = |body| fixtures::paddle::delivery(SECRET, now_s(), body);
    tell(
        engine,
        Kit {
            provider: "paddle",
            integration: json!({ "provider": "paddle", "webhookSecret": SECRET }),
            first: Box::new(move |s| d(fixtures::paddle::transaction_completed(s, "web"))),
            renewal: Some(Box::new(move |s| {
                d(fixtures::paddle::transaction_completed(s, "subscription_recurring"))
            })),
            refund: Box::new(move |s, step, _, full, event| {
                let kind = if full { "full" } else { "partial" };
                d(fixtures::paddle::adjustment(
                    event,
                    "adjustment.created",
                    &format!("adj_{event}"),
                    &s.object_id,
                    "refund",
                    kind,
                    "approved",
                    step,
                    "USD",
                ))
            }),
            partial_amounts: true,
            forged: Box::new(|s| {
                fixtures::paddle::delivery(
                    "pdl_ntfset_wrong",
                    now_s(),
                    fixtures::paddle::transaction_completed(s, "web"),
                )
            }),
            test_flag: false,
            trial: Some(Box::new(move |s| {
                d(fixtures::paddle::subscription_trialing(s, now_s() + 14 * 86_400))
            })),
            chargeback: Some(Box::new(move |s| {
                d(fixtures::paddle::adjustment(
                    "evt_cb",
                    "adjustment.created",
                    "adj_cb",
                    &s.object_id,
                    "chargeback",
                    "full",
                    "approved",
                    s.amount_minor,
                    "USD",
                ))
            })),
            expired: Some(Box::new(|s| {
                fixtures::paddle::delivery(
                    SECRET,
                    now_s() - 3_600,
                    fixtures::paddle::transaction_completed(s, "web"),
                )
            })),
            rotation: Some((
                "pdl_ntfset_rotated",
                Box::new(|s| {
                    fixtures::paddle::delivery(
                        "pdl_ntfset_rotated",
                        now_s(),
                        fixtures::paddle::transaction_completed(s, "web"),
                    )
                }),
            )),
            coupons: true,
        },
    )
    .await;
}

async fn paddle_classic(engine: Engine) {
    use fixtures::paddle_classic as pc;
    let d = |fields| pc::delivery(pc::TEST_PRIVATE_KEY_PEM, fields);
    tell(
        engine,
        Kit {
            provider: "paddle_classic",
            integration: json!({ "provider": "paddle_classic", "webhookSecret": pc::TEST_PUBLIC_KEY_PEM }),
            first: Box::new(move |s| d(pc::subscription_payment_succeeded(s, true))),
            renewal: Some(Box::new(move |s| d(pc::subscription_payment_succeeded(s, false)))),
            refund: Box::new(move |s, step, _, full, event| {
                let amount = format!("{}.{:02}", step / 100, step % 100);
                d(pc::payment_refunded(
                    event,
                    &s.object_id,
                    &amount,
                    if full { "full" } else { "partial" },
                    "USD",
                ))
            }),
            partial_amounts: true,
            forged: Box::new(move |s| {
                let (headers, query, mut body) = d(pc::subscription_payment_succeeded(s, true));
                body.extend_from_slice(b"&sale_gross=1.00");
                (headers, query, body)
            }),
            test_flag: false,
            trial: Some(Box::new(move |s| d(pc::subscription_created_trial(s, "2030-01-01")))),
            chargeback: Some(Box::new(move |s| {
                d(pc::dispute_created("alert_cb", &s.object_id, "100.00", "USD"))
            })),
            expired: None,
            rotation: None,
            coupons: true,
        },
    )
    .await;
}

async fn lemon_squeezy(engine: Engine) {
    const SECRET: &str = "ls_refline_secret";
    use fixtures::lemonsqueezy as ls;
    tell(
        engine,
        Kit {
            provider: "lemonsqueezy",
            integration: json!({ "provider": "lemonsqueezy", "webhookSecret": SECRET }),
            first: Box::new(|s| ls::delivery(SECRET, ls::order_created(s))),
            renewal: Some(Box::new(|s| ls::delivery(SECRET, ls::subscription_payment_success(s, "renewal")))),
            // Lemon Squeezy has no event ids; each refund moves the order's `updated_at`.
            refund: Box::new(|s, _, total, _, event| {
                let later =
                    Sale { event_id: event.into(), created_unix_s: s.created_unix_s + total, ..s.clone() };
                ls::delivery(SECRET, ls::order_refunded(&later, total))
            }),
            partial_amounts: true,
            forged: Box::new(|s| ls::delivery("wrong", ls::order_created(s))),
            test_flag: true,
            trial: Some(Box::new(|s| {
                ls::delivery(SECRET, ls::subscription_created_trial(s, now_s() + 14 * 86_400))
            })),
            chargeback: None,
            expired: None,
            rotation: Some((
                "ls_rotated_secret",
                Box::new(|s| ls::delivery("ls_rotated_secret", ls::order_created(s))),
            )),
            coupons: false,
        },
    )
    .await;
}

async fn gumroad(engine: Engine) {
    const TOKEN: &str = "gumroad_refline_token";
    use fixtures::gumroad as g;
    tell(
        engine,
        Kit {
            provider: "gumroad",
            integration: json!({ "provider": "gumroad", "webhookSecret": TOKEN }),
            first: Box::new(|s| g::delivery(TOKEN, g::sale(s, false))),
            renewal: Some(Box::new(|s| g::delivery(TOKEN, g::sale(s, true)))),
            refund: Box::new(|s, _, _, full, _| g::delivery(TOKEN, g::refund(s, full))),
            partial_amounts: false,
            forged: Box::new(|s| g::delivery("wrong", g::sale(s, false))),
            test_flag: true,
            trial: Some(Box::new(|s| {
                g::delivery(TOKEN, g::sale(&Sale { amount_minor: 0, ..s.clone() }, false))
            })),
            chargeback: Some(Box::new(|s| g::delivery(TOKEN, g::dispute(s)))),
            expired: None,
            rotation: Some((
                "gumroad_rotated_token",
                Box::new(|s| g::delivery("gumroad_rotated_token", g::sale(s, false))),
            )),
            coupons: true,
        },
    )
    .await;
}

async fn creem(engine: Engine) {
    const SECRET: &str = "whsec_creem_refline";
    use fixtures::creem as c;
    tell(
        engine,
        Kit {
            provider: "creem",
            integration: json!({ "provider": "creem", "webhookSecret": SECRET }),
            first: Box::new(|s| c::delivery(SECRET, c::checkout_completed(s))),
            renewal: Some(Box::new(|s| c::delivery(SECRET, c::subscription_paid(s)))),
            refund: Box::new(|s, step, total, _, event| {
                c::delivery(
                    SECRET,
                    c::refund_created(
                        event,
                        &format!("ref_{event}"),
                        &s.object_id,
                        step,
                        s.amount_minor,
                        total,
                        "USD",
                    ),
                )
            }),
            partial_amounts: true,
            forged: Box::new(|s| c::delivery("wrong", c::checkout_completed(s))),
            test_flag: true,
            trial: Some(Box::new(|s| {
                c::delivery(SECRET, c::subscription_trialing(s, now_s() + 14 * 86_400))
            })),
            chargeback: Some(Box::new(|s| {
                c::delivery(
                    SECRET,
                    c::dispute_created("evt_cb", "dsp_cb", &s.object_id, s.amount_minor, "USD"),
                )
            })),
            expired: None,
            rotation: Some((
                "whsec_creem_rotated",
                Box::new(|s| c::delivery("whsec_creem_rotated", c::checkout_completed(s))),
            )),
            coupons: true,
        },
    )
    .await;
}

async fn polar(engine: Engine) {
    const SECRET: &str = "polar_whs_refline";
    use fixtures::polar as pl;
    let d = |id: &str, body| pl::delivery(SECRET, id, now_s(), body);
    tell(
        engine,
        Kit {
            provider: "polar",
            integration: json!({ "provider": "polar", "webhookSecret": SECRET }),
            first: Box::new(move |s| d(&s.event_id, pl::order_paid(s, "subscription_create"))),
            renewal: Some(Box::new(move |s| d(&s.event_id, pl::order_paid(s, "subscription_cycle")))),
            refund: Box::new(move |s, _, total, _, event| d(event, pl::order_refunded(s, total))),
            partial_amounts: true,
            forged: Box::new(|s| pl::delivery("wrong", &s.event_id, now_s(), pl::order_paid(s, "purchase"))),
            test_flag: false,
            trial: Some(Box::new(move |s| {
                d(&s.event_id, pl::subscription_trialing(s, now_s() + 14 * 86_400))
            })),
            chargeback: None,
            expired: Some(Box::new(|s| {
                pl::delivery(SECRET, &s.event_id, now_s() - 3_600, pl::order_paid(s, "purchase"))
            })),
            rotation: Some((
                "polar_whs_rotated",
                Box::new(|s| {
                    pl::delivery(
                        "polar_whs_rotated",
                        &s.event_id,
                        now_s(),
                        pl::order_paid(s, "subscription_create"),
                    )
                }),
            )),
            coupons: true,
        },
    )
    .await;
}

/// GoPay notifies with a bare `GET ?id=`; Refline asks GoPay's API (a local stand-in here,
/// answering OAuth2 and the payment status) what happened.
async fn gopay(engine: Engine) {
    let states: Arc<Mutex<std::collections::HashMap<String, Vec<u8>>>> = Arc::default();
    let token_requests: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
    let api = gopay_stand_in(states.clone(), token_requests.clone()).await;
    let shop = Shop::open(
        &engine,
        json!({ "provider": "gopay", "webhookSecret": "unused", "goid": "8123456789", "clientId": "client",
                "clientSecret": "secret", "apiBaseUrl": format!("{api}/api") }),
    )
    .await;
    let sale = shop.sale("evt_gopay", "3000006542");
    states
        .lock()
        .unwrap()
        .insert(sale.object_id.clone(), fixtures::gopay::payment_status(&sale, "PAID", None));
    let paid = notify(&shop, &sale.object_id).await;
    assert_eq!(paid["status"], "processed", "{paid}");
    let id = paid["conversionId"].as_str().unwrap().to_string();
    assert_eq!(shop.conversion(&id).await["commission"], "20.00");
    let again = notify(&shop, &sale.object_id).await;
    assert_eq!(again["status"], "ignored", "a repeated notification credits nothing twice: {again}");
    states
        .lock()
        .unwrap()
        .insert(sale.object_id.clone(), fixtures::gopay::payment_status(&sale, "REFUNDED", None));
    let refunded = notify(&shop, &sale.object_id).await;
    assert_eq!(refunded["status"], "processed", "{refunded}");
    assert_eq!(shop.conversion(&id).await["status"], "refunded");
    let unknown = notify(&shop, "999").await;
    assert_eq!(unknown["status"], "ignored", "{unknown}");
    assert_eq!(
        token_requests.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one access token serves every lookup"
    );
}

/// A GoPay API on a private address is refused unless the processor-API switch allows it; the
/// outbound-webhook switch does not.
async fn gopay_private_api_needs_its_own_switch(engine: Engine) {
    let states: Arc<Mutex<std::collections::HashMap<String, Vec<u8>>>> = Arc::default();
    let api = gopay_stand_in(states.clone(), Arc::default()).await;
    let integration = json!({ "provider": "gopay", "webhookSecret": "unused", "goid": "8123456789",
        "clientId": "client", "clientSecret": "secret", "apiBaseUrl": format!("{api}/api") });
    let shop = Shop::open_with(&engine, integration, |c| c.webhooks.allow_private_targets = true).await;
    let sale = shop.sale("evt_gopay_private", "3000006543");
    states
        .lock()
        .unwrap()
        .insert(sale.object_id.clone(), fixtures::gopay::payment_status(&sale, "PAID", None));
    let refused = notify(&shop, &sale.object_id).await;
    assert_eq!(refused["status"], "ignored", "{refused}");
    assert!(refused["outcome"].as_str().unwrap_or_default().contains("apiBaseUrl"), "{refused}");
    assert!(refused["conversionId"].is_null(), "{refused}");
}

/// Sends GoPay's notification for `payment_id` and waits for its delivery (a repeat within the
/// minute re-runs the stored one) to be processed.
pub(crate) async fn notify(shop: &Shop, payment_id: &str) -> Value {
    let reply = shop.deliver("gopay", &fixtures::gopay::notification(payment_id)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let key = format!("notification:{payment_id}@");
    let log = shop.deliveries().await;
    let newest =
        log.iter().find(|d| d["eventId"].as_str().is_some_and(|e| e.starts_with(&key))).expect("stored");
    let id = newest["id"].as_str().unwrap().to_string();
    shop.wait_for(&id, |d| d["status"] != "pending").await
}

pub(crate) async fn gopay_stand_in(
    states: Arc<Mutex<std::collections::HashMap<String, Vec<u8>>>>,
    token_requests: Arc<std::sync::atomic::AtomicUsize>,
) -> String {
    use axum::{
        extract::Path,
        http::HeaderMap,
        routing::{get, post},
        Json, Router,
    };
    let app = Router::new()
        .route(
            "/api/oauth2/token",
            post(move |headers: HeaderMap| async move {
                token_requests.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let ok = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("Basic "));
                if ok {
                    (
                        StatusCode::OK,
                        Json(json!({ "access_token": "token", "token_type": "bearer", "expires_in": 1800 })),
                    )
                } else {
                    (StatusCode::UNAUTHORIZED, Json(json!({})))
                }
            }),
        )
        .route(
            "/api/payments/payment/{id}",
            get(move |Path(id): Path<String>| {
                let states = states.clone();
                async move {
                    match states.lock().unwrap().get(&id) {
                        Some(body) => (StatusCode::OK, body.clone()),
                        None => (StatusCode::NOT_FOUND, b"{}".to_vec()),
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

engine_tests!(
    paddle_billing,
    paddle_classic,
    lemon_squeezy,
    gumroad,
    creem,
    polar,
    gopay,
    gopay_private_api_needs_its_own_switch
);

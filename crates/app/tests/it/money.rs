//! Money across currencies and under concurrency: `/stats` per currency, the monthly cap counted
//! in the merchant's currency through the rate table, tier volumes and renewal payment numbers
//! exact when many sales arrive at once (PostgreSQL commits batches of several writers side by
//! side).

use std::sync::Arc;

use refline_domain::{month_key, AffiliateVolume, Plan};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    store_contract::{conversion, request},
    support::{Engine, TestApp, TestMerchant},
};

/// A merchant whose currency is `currency`, on Ultimate.
async fn merchant_in(app: &TestApp, currency: &str) -> TestMerchant {
    let created = refline::admin::create_merchant(&app.store, "Money", "ultimate", currency).await.unwrap();
    TestMerchant { id: created.merchant_id, key: created.api_key, test_key: created.test_api_key }
}

/// A campaign in `currency` at `rate` % with one approved affiliate: (campaign, affiliate).
async fn campaign_in(app: &TestApp, m: &TestMerchant, currency: &str, rate: u32) -> (String, String) {
    let camp = app.campaign(&m.key, json!({ "currency": currency, "commissionValue": rate })).await;
    let camp = camp["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&m.key, &camp, &format!("{currency}@affiliates.test")).await;
    (camp, aff)
}

fn this_month() -> i64 {
    i64::from(month_key(refline_server::clock::now_ms()))
}

async fn stats_are_per_currency_and_the_cap_counts_converted_sales(engine: Engine) {
    let app = TestApp::start_with(&engine, |c| {
        // 100.00 of the merchant's currency; 1 EUR = 1.25 USD; no rate for GBP.
        c.limits.set_cap(Plan::Ultimate, Some(10_000));
        c.limits.rates.set("eur=1.25").unwrap();
    })
    .await;
    let m = merchant_in(&app, "usd").await;
    let (usd, usd_aff) = campaign_in(&app, &m, "usd", 20).await;
    let (eur, eur_aff) = campaign_in(&app, &m, "eur", 10).await;
    let created = |r: &crate::support::Reply| assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Tracked in USD: 30.00, + 40.00 EUR = 50.00 → 80.00, + 15.00 → 95.00, + 4.00 EUR = 5.00 →
    // 100.00. Added as raw minor units these would be 89.00, under the cap.
    created(&app.convert(&m.key, &usd, &usd_aff, json!(30), json!({})).await);
    created(&app.convert(&m.key, &eur, &eur_aff, json!(40), json!({})).await);
    created(&app.convert(&m.key, &usd, &usd_aff, json!(15), json!({})).await);
    created(&app.convert(&m.key, &eur, &eur_aff, json!(4), json!({})).await);
    assert_eq!(app.store.tracked_sales(&m.id, this_month()).await.unwrap(), 10_000);
    let r = app.convert(&m.key, &usd, &usd_aff, json!(1), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "earnings_limit_reached"), "{}", r.text);
    let r = app.convert(&m.key, &eur, &eur_aff, json!(1), json!({})).await;
    assert_eq!(r.code(), "earnings_limit_reached");
    // Test sales skip the cap and stay out of live stats.
    created(&app.convert(&m.test_key, &eur, &eur_aff, json!(500), json!({})).await);

    let stats = app.get(&m.key, "/api/v1/stats").await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
    // The headline money is the merchant's currency only; the count covers every currency.
    assert!(
        stats.text.contains(
            r#""totalRevenue":45.00,"totalCommissions":9.00,"totalConversions":4,"totalAffiliates":2"#
        ),
        "{}",
        stats.text
    );
    assert_eq!(stats.data()["currency"], "usd");
    assert_eq!(
        stats.data()["byCurrency"],
        json!({
            "eur": { "revenue": "44.00", "commissions": "4.40", "conversions": 2 },
            "usd": { "revenue": "45.00", "commissions": "9.00", "conversions": 2 },
        })
    );
    let test_stats = app.get(&m.test_key, "/api/v1/stats").await;
    assert_eq!(
        test_stats.data()["byCurrency"],
        json!({ "eur": { "revenue": "500.00", "commissions": "50.00", "conversions": 1 } })
    );
    assert!(test_stats.text.contains(r#""totalRevenue":0.00,"totalCommissions":0.00,"totalConversions":1"#));
    let empty = app.get(&m.key, "/api/v1/stats?from=2999-01-01").await;
    assert_eq!(empty.data()["byCurrency"], json!({}));
    assert_eq!(empty.data()["totalConversions"], 0);

    // A EUR merchant: its cap is 100.00 EUR, and USD sales count through the same table
    // (62.50 USD = 50.00 EUR).
    let e = merchant_in(&app, "eur").await;
    let (usd, usd_aff) = campaign_in(&app, &e, "usd", 20).await;
    created(&app.convert(&e.key, &usd, &usd_aff, json!(62.5), json!({})).await);
    assert_eq!(app.store.tracked_sales(&e.id, this_month()).await.unwrap(), 5_000);
    created(&app.convert(&e.key, &usd, &usd_aff, json!(62.5), json!({})).await);
    let r = app.convert(&e.key, &usd, &usd_aff, json!(0.01), json!({})).await;
    assert_eq!(r.code(), "earnings_limit_reached", "{}", r.text);
    let stats = app.get(&e.key, "/api/v1/stats").await;
    assert!(stats.text.contains(r#""totalRevenue":0.00,"totalCommissions":0.00,"totalConversions":2"#));
    assert_eq!(stats.data()["byCurrency"]["usd"]["revenue"], "125.00");

    // No GBP rate: the sale is recorded and counts at par (99.99 GBP as 99.99 USD).
    let g = merchant_in(&app, "usd").await;
    let (gbp, gbp_aff) = campaign_in(&app, &g, "gbp", 10).await;
    created(&app.convert(&g.key, &gbp, &gbp_aff, json!(99.99), json!({})).await);
    assert_eq!(app.store.tracked_sales(&g.id, this_month()).await.unwrap(), 9_999);
    created(&app.convert(&g.key, &gbp, &gbp_aff, json!(0.01), json!({})).await);
    assert_eq!(
        app.convert(&g.key, &gbp, &gbp_aff, json!(0.01), json!({})).await.code(),
        "earnings_limit_reached"
    );
}

/// A JPY merchant's cap is yen: the configured 100.00 is ¥100, not 10,000 minor units.
async fn the_cap_is_an_amount_of_the_merchant_currency(engine: Engine) {
    let app = TestApp::start_with(&engine, |c| c.limits.set_cap(Plan::Ultimate, Some(10_000))).await;
    let m = merchant_in(&app, "jpy").await;
    let (jpy, aff) = campaign_in(&app, &m, "jpy", 10).await;
    assert_eq!(app.convert(&m.key, &jpy, &aff, json!(99), json!({})).await.status, StatusCode::CREATED);
    assert_eq!(app.convert(&m.key, &jpy, &aff, json!(5), json!({})).await.status, StatusCode::CREATED);
    let r = app.convert(&m.key, &jpy, &aff, json!(1), json!({})).await;
    assert_eq!(r.code(), "earnings_limit_reached", "{}", r.text);
    let stats = app.get(&m.key, "/api/v1/stats").await;
    assert!(stats.text.contains(r#""totalRevenue":104,"totalCommissions":11,"#), "{}", stats.text);
}

/// Fires `n` requests at once and returns their (status, body).
async fn all_at_once(app: &TestApp, key: &str, bodies: Vec<Value>) -> Vec<(StatusCode, Value)> {
    let barrier = Arc::new(tokio::sync::Barrier::new(bodies.len()));
    let mut tasks = tokio::task::JoinSet::new();
    for body in bodies {
        let (client, url, key, barrier) =
            (app.client(), app.url("/api/v1/conversions"), key.to_string(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            let response = client.post(url).bearer_auth(key).json(&body).send().await.unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        });
    }
    tasks.join_all().await
}

async fn simultaneous_sales_are_priced_with_the_exact_volume_before_each(engine: Engine) {
    let app = TestApp::start(&engine).await;
    // Sale k of the month earns k %: base 1 %, then a band at every count from 2 to 21. Two
    // sales priced with the same volume would earn the same rate.
    let tiers: Vec<Value> = (2..=21).map(|k| json!({ "minSales": k, "commissionValue": k })).collect();
    let m = merchant_in(&app, "usd").await;
    let camp = app.campaign(&m.key, json!({ "commissionValue": 1, "tiers": tiers })).await;
    let camp = camp["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&m.key, &camp, "tiers@affiliates.test").await;
    let body = json!({ "campaignId": camp, "affiliateId": aff, "amount": 100 });
    let replies = all_at_once(&app, &m.key, vec![body; 21]).await;
    let mut commissions: Vec<String> = replies
        .iter()
        .map(|(status, b)| {
            assert_eq!(*status, StatusCode::CREATED, "{b}");
            b["data"]["commission"].to_string()
        })
        .collect();
    // Whole amounts ("7.00"): sorted by their integer part.
    commissions.sort_by_key(|c| c.split('.').next().and_then(|w| w.parse::<i64>().ok()));
    let expected: Vec<String> = (1..=21).map(|k| format!("{k}.00")).collect();
    assert_eq!(commissions, expected);
}

async fn simultaneous_renewals_get_distinct_payment_numbers(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = merchant_in(&app, "usd").await;
    let limited = app
        .campaign(
            &m.key,
            json!({
                "recurringCommissionEnabled": true,
                "recurringCommissionMode": "payments",
                "recurringCommissionCount": 6,
            }),
        )
        .await;
    let unlimited = app.campaign(&m.key, json!({ "recurringCommissionEnabled": true })).await;
    let mut bodies = Vec::new();
    let mut parents = Vec::new();
    for (campaign, renewals) in [(&limited, 10), (&unlimited, 12)] {
        let camp = campaign["id"].as_str().unwrap();
        let aff = app.affiliate(&m.key, camp, &format!("{camp}@affiliates.test")).await;
        let first =
            app.convert(&m.key, camp, &aff, json!(10), json!({ "conversionType": "recurring" })).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        let parent = first.data()["id"].as_str().unwrap().to_string();
        for _ in 0..renewals {
            bodies.push(json!({
                "campaignId": camp, "affiliateId": aff, "amount": 10,
                "conversionType": "recurring", "parentConversionId": parent,
            }));
        }
        parents.push(parent);
    }
    let replies = all_at_once(&app, &m.key, bodies).await;
    let numbers_of = |parent: &str| {
        let mut n: Vec<i64> = replies
            .iter()
            .filter(|(s, b)| *s == StatusCode::CREATED && b["data"]["parentConversionId"] == parent)
            .map(|(_, b)| b["data"]["paymentNumber"].as_i64().unwrap())
            .collect();
        n.sort_unstable();
        n
    };
    // Payments 1…6 earn: five renewals get 2…6, the other five are past the limit.
    assert_eq!(numbers_of(&parents[0]), (2..=6).collect::<Vec<_>>());
    let refused = replies
        .iter()
        .filter(|(s, b)| {
            *s == StatusCode::UNPROCESSABLE_ENTITY && b["error"]["code"] == "recurring_limit_reached"
        })
        .count();
    assert_eq!(refused, 5, "{replies:?}");
    assert_eq!(numbers_of(&parents[1]), (2..=13).collect::<Vec<_>>());
    // The stored rows agree with the answers.
    let listed = app.get(&m.key, "/api/v1/conversions?limit=100").await;
    let mut stored: Vec<i64> = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["parentConversionId"] == parents[1].as_str())
        .map(|c| c["paymentNumber"].as_i64().unwrap())
        .collect();
    stored.sort_unstable();
    assert_eq!(stored, (2..=13).collect::<Vec<_>>());
}

/// Below the HTTP layer: many one-sale batches, each its own transaction, on the store at once
/// (on PostgreSQL they run on separate connections side by side).
async fn concurrent_batches_price_with_each_others_volume(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = merchant_in(&app, "usd").await;
    let camp = app.campaign(&m.key, json!({ "tiers": [{ "minSales": 2, "commissionValue": 30 }] })).await;
    let camp = camp["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&m.key, &camp, "store@affiliates.test").await;
    let mut tasks = tokio::task::JoinSet::new();
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    for i in 0..16 {
        let (store, barrier) = (app.store.clone(), barrier.clone());
        let c = conversion(&m.id, &camp, &aff, None, 100, refline_server::clock::now_ms());
        let mut r = request(c, None, true);
        r.conversion.id = format!("conv_race_{i}");
        r.month_start = 0;
        tasks.spawn(async move {
            barrier.wait().await;
            // The price is the volume seen: the count of earlier sales.
            store.record_conversion(r, Arc::new(|v: AffiliateVolume| v.sales_count)).await.unwrap()
        });
    }
    let mut seen: Vec<i64> = tasks.join_all().await.iter().map(|c| c.commission_minor).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..16).collect::<Vec<_>>(), "every sale saw every sale committed before it");
}

engine_tests!(
    stats_are_per_currency_and_the_cap_counts_converted_sales,
    the_cap_is_an_amount_of_the_merchant_currency,
    simultaneous_sales_are_priced_with_the_exact_volume_before_each,
    simultaneous_renewals_get_distinct_payment_numbers,
    concurrent_batches_price_with_each_others_volume,
);

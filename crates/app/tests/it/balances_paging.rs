//! `GET /api/v1/balances` a page of affiliates at a time (`page`, `limit`, the list envelope),
//! in one stable order by affiliate id: pages partition the affiliates with a balance, filters
//! (`currency`, `affiliateId`) apply before paging, bad parameters are validation errors, and
//! another merchant's affiliate has no rows here. Both engines.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{Engine, TestApp, TestMerchant},
};

async fn sale(app: &TestApp, m: &TestMerchant, camp: &str, aff: &str, amount: i64) -> String {
    let r = app.convert(&m.key, camp, aff, json!(amount), json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.data()["id"].as_str().unwrap().to_string()
}

/// The affiliate ids of a balances answer, in order.
fn affiliates(body: &Value) -> Vec<String> {
    body["data"].as_array().unwrap().iter().map(|r| r["affiliateId"].as_str().unwrap().to_string()).collect()
}

async fn balances_are_paged_by_affiliate(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let usd = app.campaign(&m.key, json!({ "name": "Dollars" })).await["id"].as_str().unwrap().to_string();
    let eur = app.campaign(&m.key, json!({ "name": "Euros", "currency": "eur" })).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut earning = Vec::new();
    for n in 0..5 {
        let aff = app.affiliate(&m.key, &usd, &format!("usd{n}@aff.test")).await;
        sale(&app, &m, &usd, &aff, 100 + n).await;
        earning.push(aff);
    }
    let euro = app.affiliate(&m.key, &eur, "eur@aff.test").await;
    sale(&app, &m, &eur, &euro, 50).await;
    earning.push(euro.clone());
    // No balance: no sale, or only a rejected one.
    app.affiliate(&m.key, &usd, "idle@aff.test").await;
    let rejected = app.affiliate(&m.key, &usd, "rejected@aff.test").await;
    let id = sale(&app, &m, &usd, &rejected, 100).await;
    let r = app.patch(&m.key, &format!("/api/v1/conversions/{id}"), json!({ "status": "rejected" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let all = app.get(&m.key, "/api/v1/balances?limit=100").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.body["pagination"], json!({ "page": 1, "limit": 100, "total": 6, "totalPages": 1 }));
    let order = affiliates(&all.body);
    assert_eq!(order.iter().collect::<HashSet<_>>(), earning.iter().collect::<HashSet<_>>());
    assert_eq!(order.len(), 6, "one row per affiliate and currency");
    let first = all.body["data"].as_array().unwrap().iter().find(|r| r["affiliateId"] == earning[0]).unwrap();
    assert_eq!((first["currency"].as_str(), first["pending"].as_str()), (Some("usd"), Some("20.00")));
    // The default page is the list convention's 25.
    assert_eq!(app.get(&m.key, "/api/v1/balances").await.body["pagination"]["limit"], 25);

    // Pages of 4: the same order, split, nothing twice or missing; past the end, empty.
    let mut paged = Vec::new();
    for page in 1..=2 {
        let r = app.get(&m.key, &format!("/api/v1/balances?limit=4&page={page}")).await;
        assert_eq!(r.body["pagination"]["total"], 6);
        assert_eq!(r.body["pagination"]["totalPages"], 2);
        paged.extend(affiliates(&r.body));
    }
    assert_eq!(paged, order, "pages follow the one order");
    let past = app.get(&m.key, "/api/v1/balances?limit=4&page=3").await;
    assert_eq!((past.body["data"].clone(), past.body["pagination"]["total"].clone()), (json!([]), json!(6)));

    // Filters before paging.
    let euros = app.get(&m.key, "/api/v1/balances?currency=EUR").await;
    assert_eq!(affiliates(&euros.body), [euro]);
    assert_eq!(euros.body["pagination"]["total"], 1);
    assert_eq!(euros.body["data"][0]["pending"], "10.00");
    let dollars = app.get(&m.key, "/api/v1/balances?currency=usd&limit=2&page=3").await;
    assert_eq!(dollars.body["pagination"]["total"], 5);
    assert_eq!(affiliates(&dollars.body).len(), 1);
    let one = app.get(&m.key, &format!("/api/v1/balances?affiliateId={}", earning[2])).await;
    assert_eq!(affiliates(&one.body), [earning[2].clone()]);
    assert_eq!(one.body["pagination"]["total"], 1);
    let two = app.get(&m.key, &format!("/api/v1/balances?affiliateId={}&page=2", earning[2])).await;
    assert_eq!(two.body["data"], json!([]));
    let none = app.get(&m.key, &format!("/api/v1/balances?affiliateId={rejected}")).await;
    assert_eq!((none.body["data"].clone(), none.body["pagination"]["total"].clone()), (json!([]), json!(0)));

    // Another merchant sees nothing of these affiliates.
    let other = app.merchant("ultimate").await;
    let theirs = app.get(&other.key, &format!("/api/v1/balances?affiliateId={}", earning[0])).await;
    assert_eq!(theirs.body["data"], json!([]));
    assert_eq!(app.get(&other.key, "/api/v1/balances").await.body["pagination"]["total"], 0);

    // Bad parameters: one validation error naming each.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=1e3", "page"),
        ("currency=zzz", "currency"),
    ] {
        let r = app.get(&m.key, &format!("/api/v1/balances?{query}")).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "validation_error"),
            "{query}: {}",
            r.text
        );
        assert_eq!(r.body["error"]["details"][0]["path"], json!([field]), "{query}: {}", r.text);
    }
}

engine_tests!(balances_are_paged_by_affiliate);

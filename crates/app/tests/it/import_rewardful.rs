//! `refline import rewardful` against a local stand-in of Rewardful's API
//! (`import_fake_rewardful.rs`), on both engines: counts and statuses come across exactly,
//! paid history settles balances, nothing is announced, an old referral token still attributes,
//! a Stripe renewal of an imported customer is credited to the imported affiliate, a second run
//! changes nothing, a change at the source is followed, an interrupted run resumes, a 429 and a
//! 500 mid-import are survived, and a bad key stops the command with one line.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use refline_core::{clock::SystemClock, effects::DirectEffects, import::kind, Core};
use refline_import::{
    client::RetryPolicy, progress::Quiet, report::Counts, rewardful::Rewardful, run_import,
    runner::import_actor, ImportError, ImportOptions, Report,
};
use refline_processors::fixtures::{self, Sale};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    import_fake_rewardful::{program, FakeRewardful, FakeState, STATES},
    processors::{now_s, Shop},
    support::Engine,
};

const KEY: &str = "rw_secret_key";
const STRIPE_SECRET: &str = "whsec_import_test_secret";

/// Fast retries: the fake's failures are immediate.
fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

async fn import(shop: &Shop, fake: &FakeRewardful, dry_run: bool) -> Result<Report, ImportError> {
    import_into(shop, &shop.merchant.id, fake, dry_run).await
}

async fn import_into(
    shop: &Shop,
    brand: &str,
    fake: &FakeRewardful,
    dry_run: bool,
) -> Result<Report, ImportError> {
    let store = shop.app.store.clone();
    let core =
        Core::without_sales(store.clone(), Arc::new(SystemClock), Arc::new(DirectEffects::new(store)), "");
    let actor = import_actor(&core, brand, "rewardful").await?;
    let source = Rewardful::new(KEY, Some(&fake.base), policy())?;
    run_import(&core, &actor, &source, &ImportOptions { dry_run }, &Quiet).await
}

async fn open_shop(engine: &Engine) -> Shop {
    Shop::open_with(engine, json!({ "provider": "stripe", "webhookSecret": STRIPE_SECRET }), |c| {
        c.webhooks.allow_private_targets = true;
    })
    .await
}

/// `(created, updated, unchanged, skipped)` and the skip codes of one entity.
type Summary = ((u64, u64, u64, u64), Vec<(String, u64)>);

fn summary(report: &Report, entity: &str) -> Summary {
    let c: Counts = report.entities.get(entity).cloned().unwrap_or_default();
    let codes = c.skips.iter().map(|(code, s)| (code.clone(), s.count)).collect();
    ((c.created, c.updated, c.unchanged, c.skipped), codes)
}

fn codes(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(c, n)| (c.to_string(), *n)).collect()
}

/// What the fixture program must become on a first import.
fn assert_first_import(report: &Report) {
    assert_eq!(summary(report, kind::CAMPAIGN), ((2, 0, 0, 0), vec![]), "{}", report.to_text());
    assert_eq!(
        summary(report, kind::AFFILIATE),
        ((7, 0, 0, 2), codes(&[("campaign_not_imported", 1), ("invalid_email", 1)])),
        "{}",
        report.to_text()
    );
    assert_eq!(
        summary(report, kind::LINK),
        ((6, 0, 0, 3), codes(&[("affiliate_not_imported", 2), ("invalid_token", 1)])),
        "{}",
        report.to_text()
    );
    assert_eq!(summary(report, kind::COUPON), ((1, 0, 0, 1), codes(&[("coupon_archived", 1)])));
    assert_eq!(summary(report, kind::CUSTOMER), ((3, 0, 0, 1), codes(&[("no_processor_customer", 1)])));
    assert_eq!(
        summary(report, kind::COMMISSION),
        ((13, 0, 0, 1), codes(&[("currency_mismatch", 1)])),
        "{}",
        report.to_text()
    );
}

/// Minor units of an API money value (a JSON number or decimal text, two decimals).
fn minor(v: &Value) -> i64 {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let f: f64 = text.parse().unwrap_or_else(|_| panic!("money {v}"));
    (f * 100.0).round() as i64
}

/// The Refline id source object `id` of `kind` became.
async fn refline_id(shop: &Shop, kind: &str, id: &str) -> String {
    shop.app.store.find_imported(&shop.merchant.id, "rewardful", kind, id).await.unwrap().unwrap().refline_id
}

/// Unpaid (pending + due) and paid USD commission per source affiliate, from the fixture.
fn source_balances(state: &FakeState) -> BTreeMap<String, (i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for c in &state.commissions {
        if c["currency"] != "USD" {
            continue;
        }
        let affiliate = c["sale"]["affiliate"]["id"].as_str().unwrap().to_string();
        let amount = c["amount"].as_i64().unwrap();
        let entry = out.entry(affiliate).or_default();
        match c["state"].as_str().unwrap() {
            "pending" | "due" => entry.0 += amount,
            "paid" => entry.1 += amount,
            _ => {}
        }
    }
    out
}

/// Refline's balances must equal the source's unpaid and paid totals, per affiliate.
async fn assert_balances(shop: &Shop, fake: &FakeRewardful) {
    let expected = fake.with(|s| source_balances(s));
    let reply = shop.app.get(&shop.merchant.key, "/api/v1/balances?limit=100").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    for (source_affiliate, (unpaid, paid)) in expected {
        let id = refline_id(shop, kind::AFFILIATE, &source_affiliate).await;
        let row = reply.data().as_array().unwrap().iter().find(|r| r["affiliateId"] == id.as_str());
        let row = row.unwrap_or_else(|| panic!("no balance for {source_affiliate}: {}", reply.text));
        let owed = minor(&row["pending"]) + minor(&row["onHold"]) + minor(&row["payable"]);
        assert_eq!((owed, minor(&row["paid"])), (unpaid, paid), "{source_affiliate}: {row}");
        assert_eq!(minor(&row["inPayout"]) + minor(&row["owedBack"]), 0, "{row}");
    }
}

async fn conversions(shop: &Shop) -> Vec<Value> {
    let reply = shop.app.get(&shop.merchant.key, "/api/v1/conversions?limit=100").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.data().as_array().unwrap().clone()
}

fn statuses(list: &[Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in list {
        *out.entry(c["status"].as_str().unwrap().to_string()).or_default() += 1;
    }
    out
}

async fn hook_deliveries(shop: &Shop, hook: &str) -> usize {
    let reply =
        shop.app.get(&shop.merchant.key, &format!("/api/v1/webhooks/{hook}/deliveries?limit=100")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.data().as_array().unwrap().len()
}

async fn rewardful_program_comes_across_exactly(engine: Engine) {
    let shop = open_shop(&engine).await;
    let events = json!(refline_domain::webhook::EVENTS);
    let hook = shop
        .app
        .post(
            &shop.merchant.key,
            "/api/v1/webhooks",
            json!({ "url": "http://127.0.0.1:9/hook", "events": events }),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    let hook = hook.data()["id"].as_str().unwrap().to_string();
    let mut state = program(KEY, 3);
    // A 429 (Retry-After: 1) on the second request and a 500 on the fifth: both survived.
    state.throttle_at = vec![2];
    state.fail_at = vec![5];
    let fake = FakeRewardful::start(state).await;

    let report = import(&shop, &fake, false).await.unwrap();
    assert_first_import(&report);
    let requests = fake.requests();
    assert_eq!(requests.len(), fake.with(|s| s.answered) + 2, "{requests:#?}");
    assert_eq!(requests[1], requests[2], "the throttled request is sent again");
    assert_eq!(requests[4], requests[5], "the failed request is sent again");

    let list = conversions(&shop).await;
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..12 {
        *expected.entry(STATES[i % 4].1.to_string()).or_default() += 1;
    }
    *expected.entry("refunded".into()).or_default() += 1;
    assert_eq!(statuses(&list), expected);
    assert!(list.iter().all(|c| c["source"] == "rewardful"), "{list:#?}");
    assert_balances(&shop, &fake).await;
    let core = Core::without_sales(
        shop.app.store.clone(),
        Arc::new(SystemClock),
        Arc::new(refline_core::NoEffects),
        "",
    );
    assert_eq!(core.verify_ledger(&shop.merchant.id).await.unwrap(), Vec::<String>::new());
    // Imported history announces nothing.
    assert_eq!(hook_deliveries(&shop, &hook).await, 0);

    // Alice's old token still attributes: /l/alice records a click for her imported self.
    let alice = refline_id(&shop, kind::AFFILIATE, "aff-1").await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let hop = client.get(shop.app.url("/l/alice")).send().await.unwrap();
    assert_eq!(hop.status(), StatusCode::FOUND);
    let location = hop.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("https://shop.example/"), "{location}");
    assert!(location.contains(&format!("aff={alice}")), "{location}");

    // A second run changes nothing.
    let again = import(&shop, &fake, false).await.unwrap();
    for (entity, counts) in &again.entities {
        assert_eq!((counts.created, counts.updated), (0, 0), "{entity}: {}", again.to_text());
        assert_eq!(counts.skipped, report.entities[entity].skipped, "{entity}");
    }
    assert_eq!(conversions(&shop).await.len(), list.len());

    // The source moves on: a pending commission was paid, a due one voided.
    fake.with(|s| {
        s.commissions[0]["state"] = json!("paid");
        s.commissions[0]["paid_at"] = json!(fixtures::rfc3339(now_s() - 86_400));
        s.commissions[1]["state"] = json!("voided");
    });
    let moved = import(&shop, &fake, false).await.unwrap();
    assert_eq!(summary(&moved, kind::COMMISSION).0, (0, 2, 11, 1), "{}", moved.to_text());
    assert_balances(&shop, &fake).await;
    assert_eq!(core.verify_ledger(&shop.merchant.id).await.unwrap(), Vec::<String>::new());
    assert_eq!(hook_deliveries(&shop, &hook).await, 0);

    // Stripe renews Alice's customer: credited to the imported Alice, continuing the first
    // imported sale of that customer.
    let renewal = Sale {
        event_id: "evt_renewal_alice".into(),
        object_id: "in_renewal_alice".into(),
        amount_minor: 10_000,
        customer_id: "cus_alice1".into(),
        customer_email: "buyer1@customer.test".into(),
        subscription_id: Some("sub_alice".into()),
        reference: None,
        created_unix_s: now_s(),
        ..Sale::default()
    };
    let body = fixtures::stripe::invoice_paid(&renewal, "subscription_cycle");
    let logged = shop.settle("stripe", &fixtures::stripe::delivery(STRIPE_SECRET, now_s(), body)).await;
    assert_eq!(logged["status"], "processed", "{logged:#}");
    let id = logged["conversionId"].as_str().unwrap();
    let renewed = shop.conversion(id).await;
    assert_eq!(renewed["affiliateId"], alice.as_str(), "{renewed:#}");
    assert_eq!(renewed["paymentNumber"], 2, "{renewed:#}");
    let first = refline_id(&shop, kind::COMMISSION, "com-0").await;
    assert_eq!(renewed["parentConversionId"], first.as_str(), "{renewed:#}");
    // A live sale does announce itself (so the zero above could have failed).
    assert!(hook_deliveries(&shop, &hook).await > 0);
    shop.app.stop().await;
}

async fn interrupted_rewardful_import_resumes(engine: Engine) {
    let shop = open_shop(&engine).await;
    let mut state = program(KEY, 3);
    // Campaigns (1 page) and two of the three affiliate pages are answered; then an outage.
    state.fail_after = Some(3);
    let fake = FakeRewardful::start(state).await;
    let failed = import(&shop, &fake, false).await;
    assert!(matches!(failed, Err(ImportError::Unavailable { .. })), "{failed:?}");
    let runs = shop.app.store.list_import_runs(&shop.merchant.id, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].status.as_str(), runs[0].step.as_str(), runs[0].cursor.as_deref()),
        ("failed", "affiliates", Some("3"))
    );

    // The source recovers: the next run starts where the last one stopped.
    let before = fake.requests().len();
    fake.with(|s| s.fail_after = None);
    let report = import(&shop, &fake, false).await.unwrap();
    assert_eq!(fake.requests()[before], "affiliates page 3", "{:#?}", fake.requests());
    assert_first_import(&report);
    assert_eq!(conversions(&shop).await.len(), 13);
    assert_balances(&shop, &fake).await;
    let runs = shop.app.store.list_import_runs(&shop.merchant.id, 10).await.unwrap();
    assert_eq!(runs.len(), 1, "resumed, not restarted");
    assert_eq!(runs[0].status, "finished");
    shop.app.stop().await;
}

async fn the_command_imports_and_refuses_a_bad_key(engine: Engine) {
    let shop = open_shop(&engine).await;
    let fake = FakeRewardful::start(program(KEY, 50)).await;
    let run = |key: &str, extra: &[&str]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_refline"));
        command
            .args([
                "--database-url",
                &shop.app.database_url,
                "import",
                "rewardful",
                "--brand",
                &shop.merchant.id,
            ])
            .args(["--api-key", key, "--base-url", &fake.base, "--retry-delay-ms", "10"])
            .args(extra)
            .env_remove("REFLINE_IMPORT_API_KEY");
        command.output()
    };
    let refused = run("wrong-key", &[]).await.unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("rewardful refused the API key (HTTP 401)"), "{stderr}");

    let dry = run(KEY, &["--dry-run", "--json"]).await.unwrap();
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    let dry: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(dry["dry_run"], true, "{dry:#}");
    assert_eq!(dry["entities"]["commission"]["seen"], 14, "{dry:#}");
    assert_eq!(conversions(&shop).await.len(), 0, "a dry run writes nothing");

    let done = run(KEY, &["--json"]).await.unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let report: Report = serde_json::from_slice(&done.stdout).unwrap();
    assert_first_import(&report);
    shop.app.stop().await;
}

async fn another_brand_imports_its_own_copy(engine: Engine) {
    let shop = open_shop(&engine).await;
    let fake = FakeRewardful::start(program(KEY, 50)).await;
    assert_first_import(&import(&shop, &fake, false).await.unwrap());
    let other = shop.app.merchant("ultimate").await;
    let copy = import_into(&shop, &other.id, &fake, false).await.unwrap();
    // Its own campaigns, affiliates, coupons and commissions; but short-link codes are global,
    // so the tokens the first brand holds are skipped, never moved.
    assert_eq!(summary(&copy, kind::AFFILIATE).0, (7, 0, 0, 2), "{}", copy.to_text());
    assert_eq!(
        summary(&copy, kind::LINK),
        ((0, 0, 0, 9), codes(&[("affiliate_not_imported", 2), ("invalid_token", 1), ("link_code_taken", 6)])),
        "{}",
        copy.to_text()
    );
    assert_eq!(summary(&copy, kind::COMMISSION).0, (13, 0, 0, 1), "{}", copy.to_text());
    let theirs = shop.app.get(&other.key, "/api/v1/conversions?limit=100").await;
    assert_eq!(theirs.data().as_array().unwrap().len(), 13);
    assert_eq!(conversions(&shop).await.len(), 13, "the first brand's history is untouched");
    let mine = refline_id(&shop, kind::AFFILIATE, "aff-1").await;
    let seen = shop.app.get(&other.key, &format!("/api/v1/affiliates/{mine}")).await;
    assert_eq!(seen.status, StatusCode::NOT_FOUND, "{}", seen.text);
    shop.app.stop().await;
}

async fn a_commission_in_an_open_payout_is_never_paid_twice(engine: Engine) {
    let shop = open_shop(&engine).await;
    let fake = FakeRewardful::start(program(KEY, 50)).await;
    assert_first_import(&import(&shop, &fake, false).await.unwrap());
    let key = &shop.merchant.key;
    let set = shop
        .app
        .patch(key, "/api/v1/settings", json!({ "minimumPayout": "1.00", "defaultPayoutMethod": "manual" }))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let run = shop.app.post(key, "/api/v1/payouts", json!({})).await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.text);
    // Rewardful pays com-9 (Erin's, due, 0-day hold) on its own: Refline's open payout holds it.
    let erin = refline_id(&shop, kind::COMMISSION, "com-9").await;
    assert!(run.text.contains(&erin), "com-9 is in the run: {}", run.text);
    fake.with(|s| s.commissions[9]["state"] = json!("paid"));
    let report = import(&shop, &fake, false).await.unwrap();
    assert_eq!(
        summary(&report, kind::COMMISSION).1,
        codes(&[("commission_not_moved", 1), ("currency_mismatch", 1)])
    );
    assert_eq!(shop.conversion(&erin).await["status"], "approved");
    let core = Core::without_sales(
        shop.app.store.clone(),
        Arc::new(SystemClock),
        Arc::new(refline_core::NoEffects),
        "",
    );
    assert_eq!(core.verify_ledger(&shop.merchant.id).await.unwrap(), Vec::<String>::new());
    shop.app.stop().await;
}

engine_tests!(
    a_commission_in_an_open_payout_is_never_paid_twice,
    another_brand_imports_its_own_copy,
    rewardful_program_comes_across_exactly,
    interrupted_rewardful_import_resumes,
    the_command_imports_and_refuses_a_bad_key,
);

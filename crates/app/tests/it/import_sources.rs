//! `refline import tolt | firstpromoter | partnerstack` against local stand-ins of their APIs
//! (`import_fake_sources.rs`, serving the program of `import_fixture_sources.rs`), on both
//! engines: paging by cursor (Tolt v1 ids, Tolt v2 `next_cursor`, PartnerStack keys) and by page
//! (FirstPromoter); counts and statuses come across exactly; paid and unpaid balances equal the
//! source's; a 429 and a 500 mid-import are survived; a second run changes nothing; an
//! interrupted run resumes; an old token still attributes, as does a processor renewal of an
//! imported customer; and a bad key stops the command with one line.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use refline_core::{clock::SystemClock, effects::DirectEffects, import::kind, Core};
use refline_import::{
    client::RetryPolicy,
    firstpromoter::FirstPromoter,
    partnerstack::PartnerStack,
    progress::Quiet,
    report::Counts,
    run_import,
    runner::import_actor,
    settings::{CampaignPlan, SourceSettings},
    tolt::Tolt,
    ImportError, ImportOptions, Report, Source,
};
use refline_processors::fixtures::{self, Sale};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    import_fake_sources::{FakeSource, Flavor},
    import_fixture_sources::{
        balances, commissions, expected, program, refline_status, ACCOUNT, KEY, PAIR, PROGRAM,
    },
    processors::{now_s, Shop},
    support::Engine,
};

const STRIPE_SECRET: &str = "whsec_import_sources_secret";

/// Objects per page: small, so the fixture spans several pages of every list.
const PAGE: u32 = 3;

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

fn percent() -> CampaignPlan {
    CampaignPlan::commission("20%", true, Some("https://shop.example/".into())).unwrap()
}

fn source(fake: &FakeSource, plan: CampaignPlan) -> Box<dyn Source> {
    let settings = SourceSettings {
        key: if fake.flavor == Flavor::PartnerStack { PAIR.into() } else { KEY.into() },
        base: Some(fake.base.clone()),
        policy: policy(),
        page_size: PAGE,
        campaigns: plan,
        currency: "usd".into(),
    };
    match fake.flavor {
        Flavor::ToltV1 | Flavor::ToltV2 => Box::new(Tolt::new(settings, PROGRAM).unwrap()),
        Flavor::FirstPromoter => Box::new(FirstPromoter::new(settings, ACCOUNT).unwrap()),
        Flavor::PartnerStack => Box::new(PartnerStack::new(settings).unwrap()),
    }
}

async fn import(shop: &Shop, fake: &FakeSource, plan: CampaignPlan) -> Result<Report, ImportError> {
    let store = shop.app.store.clone();
    let core =
        Core::without_sales(store.clone(), Arc::new(SystemClock), Arc::new(DirectEffects::new(store)), "");
    let actor = import_actor(&core, &shop.merchant.id, fake.flavor.source()).await?;
    let source = source(fake, plan);
    run_import(&core, &actor, source.as_ref(), &ImportOptions::default(), &Quiet).await
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

fn assert_first_import(flavor: Flavor, report: &Report) {
    for (entity, counts, codes) in expected(flavor) {
        let codes: Vec<(String, u64)> = codes.iter().map(|(c, n)| (c.to_string(), *n)).collect();
        assert_eq!(summary(report, entity), (counts, codes), "{flavor:?} {entity}: {}", report.to_text());
    }
    if flavor == Flavor::PartnerStack {
        assert_eq!(report.entities.get(kind::COUPON).map_or(0, |c| c.seen), 0, "no coupons in its API");
    }
}

fn assert_nothing_changed(first: &Report, again: &Report) {
    for (entity, counts) in &again.entities {
        assert_eq!((counts.created, counts.updated), (0, 0), "{entity}: {}", again.to_text());
        assert_eq!(counts.skipped, first.entities[entity].skipped, "{entity}");
    }
}

fn minor(v: &Value) -> i64 {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let f: f64 = text.parse().unwrap_or_else(|_| panic!("money {v}"));
    (f * 100.0).round() as i64
}

async fn refline_id(shop: &Shop, source: &str, kind: &str, id: &str) -> String {
    let found = shop.app.store.find_imported(&shop.merchant.id, source, kind, id).await.unwrap();
    found.unwrap_or_else(|| panic!("{kind} {id} was not imported")).refline_id
}

/// Refline's balances equal the source's unpaid and paid totals, per affiliate.
async fn assert_balances(shop: &Shop, source: &str, expected: &BTreeMap<String, (i64, i64)>) {
    let reply = shop.app.get(&shop.merchant.key, "/api/v1/balances?limit=100").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    for (person, (unpaid, paid)) in expected {
        let id = refline_id(shop, source, kind::AFFILIATE, person).await;
        let row = reply.data().as_array().unwrap().iter().find(|r| r["affiliateId"] == id.as_str());
        let row = row.unwrap_or_else(|| panic!("no balance for {person}: {}", reply.text));
        let owed = minor(&row["pending"]) + minor(&row["onHold"]) + minor(&row["payable"]);
        assert_eq!((owed, minor(&row["paid"])), (*unpaid, *paid), "{person}: {row}");
    }
    let core = Core::without_sales(
        shop.app.store.clone(),
        Arc::new(SystemClock),
        Arc::new(refline_core::NoEffects),
        "",
    );
    assert_eq!(core.verify_ledger(&shop.merchant.id).await.unwrap(), Vec::<String>::new());
}

async fn conversions(shop: &Shop) -> Vec<Value> {
    let reply = shop.app.get(&shop.merchant.key, "/api/v1/conversions?limit=100").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.data().as_array().unwrap().clone()
}

/// Every imported commission has the status its source status maps to.
async fn assert_statuses(shop: &Shop, flavor: Flavor) {
    let source = flavor.source();
    let list = conversions(shop).await;
    assert_eq!(list.len(), 10, "{list:#?}");
    for c in commissions() {
        let id = refline_id(shop, source, kind::COMMISSION, &c.id).await;
        let row = list.iter().find(|r| r["id"] == id.as_str()).unwrap();
        assert_eq!(row["status"], refline_status(flavor, c.status), "{} {row}", c.id);
        assert_eq!(minor(&row["commission"]), c.amount, "{row}");
        assert_eq!(row["source"], source, "{row}");
    }
}

/// The whole program comes across through a 429 and a 500; a second run changes nothing.
async fn comes_across(engine: &Engine, flavor: Flavor) -> (Shop, FakeSource, Report) {
    let shop = open_shop(engine).await;
    let mut state = program(flavor);
    state.throttle_at = vec![2];
    state.fail_at = vec![5];
    let fake = FakeSource::start(state).await;
    let report = import(&shop, &fake, percent()).await.unwrap();
    assert_first_import(flavor, &report);
    let requests = fake.requests();
    assert_eq!(requests[1], requests[2], "the throttled request is sent again: {requests:#?}");
    assert_eq!(requests[4], requests[5], "the failed request is sent again: {requests:#?}");
    assert_statuses(&shop, flavor).await;
    assert_balances(&shop, flavor.source(), &balances(&commissions())).await;

    let again = import(&shop, &fake, percent()).await.unwrap();
    assert_nothing_changed(&report, &again);
    assert_eq!(conversions(&shop).await.len(), 10);
    (shop, fake, report)
}

/// `/l/<token>` lands with the imported affiliate's referral.
async fn assert_token_attributes(shop: &Shop, source: &str, token: &str, person: &str) {
    let affiliate = refline_id(shop, source, kind::AFFILIATE, person).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let hop = client.get(shop.app.url(&format!("/l/{token}"))).send().await.unwrap();
    assert_eq!(hop.status(), StatusCode::FOUND);
    let location = hop.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains(&format!("aff={affiliate}")), "{location}");
}

async fn tolt_v1_program_comes_across_exactly(engine: Engine) {
    let (shop, fake, _) = comes_across(&engine, Flavor::ToltV1).await;
    // v1 pages by the last id; customers came in the {data: {data}} envelope.
    let requests = fake.requests();
    assert!(requests.contains(&"partners p-carol".to_string()), "{requests:#?}");
    assert!(requests.contains(&"customers first".to_string()), "{requests:#?}");
    // Tolt has no URL for a program: links land on --target-url.
    assert_token_attributes(&shop, "tolt", "alice", "p-alice").await;

    // Tolt moves on: a pending commission is paid, an approved one rejected.
    fake.with(|s| {
        s.list("commissions")[0]["status"] = json!("paid");
        s.list("commissions")[1]["status"] = json!("rejected");
    });
    let moved = import(&shop, &fake, percent()).await.unwrap();
    assert_eq!(summary(&moved, kind::COMMISSION).0, (0, 2, 8, 2), "{}", moved.to_text());
    let mut now = commissions();
    now[0].status = "paid";
    now[1].status = "rejected";
    assert_balances(&shop, "tolt", &balances(&now)).await;
    shop.app.stop().await;
}

async fn tolt_v2_lands_on_an_existing_campaign(engine: Engine) {
    let shop = open_shop(&engine).await;
    let fake = FakeSource::start(program(Flavor::ToltV2)).await;
    let onto = || CampaignPlan::Existing(shop.campaign.clone());
    let report = import(&shop, &fake, onto()).await.unwrap();
    assert_first_import(Flavor::ToltV2, &report);
    // v2 pages by its opaque next_cursor.
    assert!(fake.requests().contains(&"partners cur_3".to_string()), "{:#?}", fake.requests());
    assert_eq!(refline_id(&shop, "tolt", kind::CAMPAIGN, PROGRAM).await, shop.campaign);
    assert_token_attributes(&shop, "tolt", "alice", "p-alice").await;
    let list = conversions(&shop).await;
    assert!(list.iter().all(|c| c["campaignId"] == shop.campaign.as_str()), "{list:#?}");
    assert_statuses(&shop, Flavor::ToltV2).await;
    assert_balances(&shop, "tolt", &balances(&commissions())).await;
    let again = import(&shop, &fake, onto()).await.unwrap();
    assert_nothing_changed(&report, &again);
    shop.app.stop().await;
}

async fn firstpromoter_program_comes_across_exactly(engine: Engine) {
    let (shop, fake, _) = comes_across(&engine, Flavor::FirstPromoter).await;
    let requests = fake.requests();
    assert!(requests.contains(&"commissions 4".to_string()), "{requests:#?}");
    assert_token_attributes(&shop, "firstpromoter", "bob", "p-bob").await;
    // Campaigns are named and land as at FirstPromoter, with the --commission terms.
    let id = refline_id(&shop, "firstpromoter", kind::CAMPAIGN, "c2").await;
    let campaign = shop.app.get(&shop.merchant.key, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(campaign.data()["name"], "Second campaign", "{}", campaign.text);
    shop.app.stop().await;
}

async fn partnerstack_program_comes_across_exactly(engine: Engine) {
    let (shop, fake, _) = comes_across(&engine, Flavor::PartnerStack).await;
    let requests = fake.requests();
    assert!(requests.contains(&"rewards k-2".to_string()), "{requests:#?}");
    assert!(requests.contains(&"links/partnership/p-dave first".to_string()), "{requests:#?}");
    assert_token_attributes(&shop, "partnerstack", "alice", "p-alice").await;

    // Stripe renews Alice's customer: credited to the imported Alice.
    let renewal = Sale {
        event_id: "evt_renewal_ps".into(),
        object_id: "in_renewal_ps".into(),
        amount_minor: 10_000,
        customer_id: "cus_alice1".into(),
        customer_email: "buyer-p-alice@customer.test".into(),
        subscription_id: Some("sub_alice_ps".into()),
        reference: None,
        created_unix_s: now_s(),
        ..Sale::default()
    };
    let body = fixtures::stripe::invoice_paid(&renewal, "subscription_cycle");
    let logged = shop.settle("stripe", &fixtures::stripe::delivery(STRIPE_SECRET, now_s(), body)).await;
    assert_eq!(logged["status"], "processed", "{logged:#}");
    let renewed = shop.conversion(logged["conversionId"].as_str().unwrap()).await;
    let alice = refline_id(&shop, "partnerstack", kind::AFFILIATE, "p-alice").await;
    assert_eq!(renewed["affiliateId"], alice.as_str(), "{renewed:#}");
    shop.app.stop().await;
}

/// An outage after `pages` answered pages stops the run; the next run resumes at `resume_at`.
async fn resumes(
    engine: &Engine,
    flavor: Flavor,
    pages: usize,
    stopped: (&str, Option<&str>),
    resume_at: &str,
) {
    let shop = open_shop(engine).await;
    let mut state = program(flavor);
    state.fail_after = Some(pages);
    let fake = FakeSource::start(state).await;
    let failed = import(&shop, &fake, percent()).await;
    assert!(matches!(failed, Err(ImportError::Unavailable { .. })), "{failed:?}");
    let runs = shop.app.store.list_import_runs(&shop.merchant.id, 10).await.unwrap();
    assert_eq!(
        (runs[0].status.as_str(), runs[0].step.as_str(), runs[0].cursor.as_deref()),
        ("failed", stopped.0, stopped.1)
    );
    let before = fake.requests().len();
    fake.with(|s| s.fail_after = None);
    let report = import(&shop, &fake, percent()).await.unwrap();
    assert_eq!(fake.requests()[before], resume_at, "{:#?}", fake.requests());
    assert_first_import(flavor, &report);
    assert_balances(&shop, flavor.source(), &balances(&commissions())).await;
    let runs = shop.app.store.list_import_runs(&shop.merchant.id, 10).await.unwrap();
    assert_eq!((runs.len(), runs[0].status.as_str()), (1, "finished"), "resumed, not restarted");
    shop.app.stop().await;
}

async fn interrupted_tolt_import_resumes(engine: Engine) {
    // Partners come 3 a page: the first page answered, the second fails.
    resumes(&engine, Flavor::ToltV2, 1, ("affiliates", Some("cur_3")), "partners cur_3").await;
}

async fn interrupted_firstpromoter_import_resumes(engine: Engine) {
    // Campaigns (1 page) and the first promoters page.
    resumes(&engine, Flavor::FirstPromoter, 2, ("affiliates", Some("2")), "promoters 2").await;
}

async fn interrupted_partnerstack_import_resumes(engine: Engine) {
    // Groups (1 page) and both partnerships pages: the links step has not started.
    resumes(&engine, Flavor::PartnerStack, 3, ("links", None), "partnerships first").await;
}

async fn the_commands_import_and_refuse_bad_keys(engine: Engine) {
    let shop = open_shop(&engine).await;
    let tolt = FakeSource::start(program(Flavor::ToltV1)).await;
    let fp = FakeSource::start(program(Flavor::FirstPromoter)).await;
    let ps = FakeSource::start(program(Flavor::PartnerStack)).await;
    let run = |brand: String, args: Vec<String>| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_refline"));
        command
            .args(["--database-url", &shop.app.database_url, "import"])
            .args(&args)
            .args(["--brand", &brand, "--retry-delay-ms", "10", "--page-size", "4", "--json"])
            .env_remove("REFLINE_IMPORT_API_KEY");
        command.output()
    };
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let brand = shop.merchant.id.clone();
    let tolt_args = |key: &str| {
        args(&[
            "tolt",
            "--api-key",
            key,
            "--base-url",
            &tolt.base,
            "--program-id",
            PROGRAM,
            "--campaign",
            &shop.campaign,
        ])
    };
    let fp_args = |account: &str| {
        args(&[
            "firstpromoter",
            "--api-key",
            KEY,
            "--account-id",
            account,
            "--base-url",
            &fp.base,
            "--commission",
            "20%",
        ])
    };
    let ps_args = |key: &str| {
        args(&["partnerstack", "--api-key", key, "--base-url", &ps.base, "--commission", "15.00"])
    };

    for (bad, line) in [
        (tolt_args("wrong"), "tolt refused the API key (HTTP 401)"),
        (fp_args("acc_other"), "firstpromoter refused the API key (HTTP 403)"),
        (ps_args("pk_public:wrong"), "partnerstack refused the API key (HTTP 401)"),
    ] {
        let refused = run(brand.clone(), bad).await.unwrap();
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(line), "{stderr}");
    }
    // Terms are required where the source's API has none.
    let termless =
        run(brand.clone(), args(&["partnerstack", "--api-key", PAIR, "--base-url", &ps.base])).await.unwrap();
    assert!(!termless.status.success());
    assert!(String::from_utf8_lossy(&termless.stderr).contains("--campaign <id>"));
    assert_eq!(conversions(&shop).await.len(), 0, "nothing was written");

    // Tolt onto the brand's own campaign.
    let done = run(brand.clone(), tolt_args(KEY)).await.unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let report: Report = serde_json::from_slice(&done.stdout).unwrap();
    assert_first_import(Flavor::ToltV1, &report);
    // Each source into its own brand (short-link codes are global: one brand holds them).
    for args in [fp_args(ACCOUNT), ps_args(PAIR)] {
        let other = shop.app.merchant("ultimate").await;
        let done = run(other.id.clone(), args).await.unwrap();
        assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
        let report: Report = serde_json::from_slice(&done.stdout).unwrap();
        assert_eq!(summary(&report, kind::COMMISSION).0 .0, 10, "{}", report.to_text());
        assert_eq!(summary(&report, kind::AFFILIATE).0 .0, 5, "{}", report.to_text());
        let theirs = shop.app.get(&other.key, "/api/v1/conversions?limit=100").await;
        assert_eq!(theirs.data().as_array().unwrap().len(), 10);
        // --campaign must be the brand's own.
        let foreign = run(other.id.clone(), tolt_args(KEY)).await.unwrap();
        assert!(!foreign.status.success());
        assert!(String::from_utf8_lossy(&foreign.stderr).contains("--campaign"));
    }
    shop.app.stop().await;
}

engine_tests!(
    tolt_v1_program_comes_across_exactly,
    tolt_v2_lands_on_an_existing_campaign,
    firstpromoter_program_comes_across_exactly,
    partnerstack_program_comes_across_exactly,
    interrupted_tolt_import_resumes,
    interrupted_firstpromoter_import_resumes,
    interrupted_partnerstack_import_resumes,
    the_commands_import_and_refuse_bad_keys,
);

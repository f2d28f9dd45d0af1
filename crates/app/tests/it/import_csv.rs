//! `refline import csv` on both engines: an affiliates file with a byte-order mark, `;`
//! between fields, quoted fields and hostile rows (a bad email, formula text, an unknown status,
//! a huge field, an unknown campaign), and a commissions file with bad amounts, statuses,
//! currencies and dates. Every bad row is skipped with its coded reason and line, the rest come
//! across with their statuses (paid history settled), a second run changes nothing, and the
//! command reads the same files.

use std::{collections::BTreeMap, sync::Arc};

use refline_core::{clock::SystemClock, effects::DirectEffects, import::kind, Core};
use refline_import::{
    csv_file::CsvSource, progress::Quiet, report::Counts, run_import, runner::import_actor, ImportOptions,
    Report,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use refline_domain::{ConversionStatus, MembershipStatus};
use refline_store::{
    Affiliate, ImportedAffiliateWrite, ImportedAffiliateWritten, ImportedConversionWrite, ImportedObject,
};

use crate::{
    engine_tests,
    processors::Shop,
    store_contract::{conversion as stored_conversion, world},
    support::{Engine, TestApp},
};

engine_tests!(
    csv_files_come_across_and_a_second_run_changes_nothing,
    a_refused_row_of_a_page_fails_alone,
    a_page_of_affiliates_is_written_as_one_by_one
);

fn affiliates_file() -> Vec<u8> {
    let huge = "x".repeat(5_000);
    format!(
        "\u{feff}Email;Name;Status;Referral Code;Coupon;PayPal Email;Campaign\n\
         ann@shop.test;\"Lee; Ann\";active;annlee;ANN10;ann.pp@shop.test;\n\
         bob@shop.test;Bob;pending;;;;\n\
         not-an-email;Carl;approved;;;;\n\
         dee@shop.test;=HYPERLINK(\"http://evil.test\");approved;;;;\n\
         eve@shop.test;Eve;wizard;;;;\n\
         fay@shop.test;{huge};approved;;;;\n\
         gus@shop.test;Gus;approved;;;;camp_nope\n\
         ALLY@affiliates.test;Ally;approved;;;;\n"
    )
    .into_bytes()
}

fn commissions_file() -> Vec<u8> {
    "order_id,affiliate_email,amount,sale_amount,currency,status,date,paid_at,customer_email\n\
     o-1,ann@shop.test,10.00,50.00,USD,pending,2026-11-02,,c1@buyer.test\n\
     o-2,ann@shop.test,\"1,000.50\",5000.00,usd,paid,2026-11-03T10:00:00Z,2026-11-20,\n\
     o-3,bob@shop.test,5,25,USD,approved,2026-11-04 09:30:00,,\n\
     o-4,bob@shop.test,7.50,30,USD,voided,2026-11-05,,\n\
     o-5,ann@shop.test,ten,50,USD,pending,2026-11-05,,\n\
     o-6,ann@shop.test,1,5,USD,wizard,2026-11-05,,\n\
     o-7,nobody@shop.test,1,5,USD,pending,2026-11-05,,\n\
     o-8,ann@shop.test,1,5,EUR,pending,2026-11-05,,\n\
     o-9,ann@shop.test,1,5,USD,pending,,,\n\
     o-10,eve@shop.test,1,5,USD,pending,2026-11-05,,\n"
        .as_bytes()
        .to_vec()
}

async fn import(shop: &Shop) -> Report {
    let store = shop.app.store.clone();
    let core =
        Core::without_sales(store.clone(), Arc::new(SystemClock), Arc::new(DirectEffects::new(store)), "");
    let actor = import_actor(&core, &shop.merchant.id, "csv").await.unwrap();
    let source = CsvSource::new(&affiliates_file(), Some(&commissions_file()), Some(&shop.campaign)).unwrap();
    run_import(&core, &actor, &source, &ImportOptions::default(), &Quiet).await.unwrap()
}

/// `(seen, created, updated, unchanged, skipped)` and the skip codes of one entity.
type Summary = ((u64, u64, u64, u64, u64), BTreeMap<String, u64>);

fn summary(report: &Report, entity: &str) -> Summary {
    let c: Counts = report.entities.get(entity).cloned().unwrap_or_default();
    let codes = c.skips.iter().map(|(code, s)| (code.clone(), s.count)).collect();
    ((c.seen, c.created, c.updated, c.unchanged, c.skipped), codes)
}

fn codes(list: &[(&str, u64)]) -> BTreeMap<String, u64> {
    list.iter().map(|(c, n)| (c.to_string(), *n)).collect()
}

fn assert_first(report: &Report) {
    let text = report.to_text();
    assert_eq!(
        summary(report, kind::CAMPAIGN),
        ((2, 1, 0, 0, 1), codes(&[("campaign_not_found", 1)])),
        "{text}"
    );
    assert_eq!(
        summary(report, kind::AFFILIATE),
        (
            (8, 2, 0, 1, 5),
            codes(&[
                ("campaign_not_imported", 1),
                ("field_too_long", 1),
                ("formula_text", 1),
                ("invalid_email", 1),
                ("unknown_status", 1),
            ])
        ),
        "{text}"
    );
    assert_eq!(summary(report, kind::LINK), ((1, 1, 0, 0, 0), codes(&[])), "{text}");
    assert_eq!(summary(report, kind::COUPON), ((1, 1, 0, 0, 0), codes(&[])), "{text}");
    assert_eq!(summary(report, kind::PAYOUT_METHOD), ((1, 1, 0, 0, 0), codes(&[])), "{text}");
    assert_eq!(
        summary(report, kind::COMMISSION),
        (
            (10, 4, 0, 0, 6),
            codes(&[
                ("affiliate_not_imported", 2),
                ("currency_mismatch", 1),
                ("invalid_amount", 1),
                ("missing_date", 1),
                ("unknown_status", 1),
            ])
        ),
        "{text}"
    );
    // Each file skip names its line.
    let invalid = &report.entities[kind::AFFILIATE].skips["invalid_email"].examples[0];
    assert!(invalid.contains("line 4:"), "{invalid}");
}

async fn conversion(shop: &Shop, order: &str) -> Value {
    let id = shop.app.store.find_imported(&shop.merchant.id, "csv", kind::COMMISSION, order).await.unwrap();
    let id = id.unwrap_or_else(|| panic!("{order} imported")).refline_id;
    let reply = shop.app.get(&shop.merchant.key, &format!("/api/v1/conversions/{id}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // The object itself, or under `data`.
    let data = reply.data();
    if data.is_null() {
        reply.body.clone()
    } else {
        data.clone()
    }
}

async fn csv_files_come_across_and_a_second_run_changes_nothing(engine: Engine) {
    let shop = Shop::open(&engine, json!({ "provider": "stripe", "webhookSecret": "whsec_csv_test" })).await;
    let report = import(&shop).await;
    assert_first(&report);

    for (order, status) in [("o-1", "pending"), ("o-2", "paid"), ("o-3", "approved"), ("o-4", "rejected")] {
        let c = conversion(&shop, order).await;
        assert_eq!(c["status"], status, "{order}: {c:#}");
    }
    let paid = conversion(&shop, "o-2").await;
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    assert_eq!(text(&paid["commission"]), "1000.50", "{paid:#}");
    assert_eq!(text(&paid["amount"]), "5000.00", "{paid:#}");

    // Nothing of the hostile rows was written.
    let found = shop.app.get(&shop.merchant.key, "/api/v1/affiliates?limit=100").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    let emails: Vec<String> =
        found.data().as_array().unwrap().iter().map(|a| a["email"].as_str().unwrap().to_string()).collect();
    for absent in ["dee@shop.test", "eve@shop.test", "fay@shop.test", "gus@shop.test"] {
        assert!(!emails.contains(&absent.to_string()), "{absent} in {emails:?}");
    }
    assert!(emails.contains(&"ann@shop.test".to_string()), "{emails:?}");

    // Again: nothing new, nothing changed.
    let again = import(&shop).await;
    for (entity, counts) in &again.entities {
        assert_eq!((counts.created, counts.updated), (0, 0), "{entity}: {}", again.to_text());
    }
    assert_eq!(summary(&again, kind::COMMISSION).0, (10, 0, 0, 4, 6), "{}", again.to_text());

    // The command reads the same files (a new brand, so it creates again).
    let other = shop.app.merchant("ultimate").await;
    let campaign = shop.app.campaign(&other.key, json!({})).await;
    let campaign = campaign["id"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (affiliates, commissions) = (dir.path().join("affiliates.csv"), dir.path().join("commissions.csv"));
    std::fs::write(&affiliates, affiliates_file()).unwrap();
    std::fs::write(&commissions, commissions_file()).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_refline"))
        .args(["--database-url", &shop.app.database_url, "import", "csv", "--brand", &other.id])
        .args(["--affiliates", affiliates.to_str().unwrap(), "--commissions", commissions.to_str().unwrap()])
        .args(["--campaign", &campaign, "--json"])
        .env_remove("REFLINE_IMPORT_API_KEY")
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    // Ally is not this brand's affiliate: created here.
    assert_eq!(summary(&report, kind::AFFILIATE).0, (8, 3, 0, 0, 5), "{}", report.to_text());
    // The link code and coupon are the first brand's (codes are unique): skipped here.
    assert_eq!(summary(&report, kind::COMMISSION).0, (10, 4, 0, 0, 6), "{}", report.to_text());
    shop.app.stop().await;
}

/// A page of imported commissions is one transaction, yet a row the database refuses (here: a
/// campaign that does not exist) fails alone and the others are written, with their memory rows.
async fn a_refused_row_of_a_page_fails_alone(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (m, camp, aff) = world(&app.store).await;
    let write = |order: &str, campaign: &str| {
        let mut c = stored_conversion(&m, campaign, &aff, Some(order), 5_000, 1_700_000_000_000);
        c.commission_minor = 1_000;
        c.status = ConversionStatus::Approved;
        c.source = "csv".into();
        ImportedConversionWrite {
            conversion: c,
            paid: None,
            memory: None,
            object: ImportedObject {
                merchant_id: m.clone(),
                source: "csv".into(),
                kind: kind::COMMISSION.into(),
                source_id: order.into(),
                refline_id: String::new(),
                fingerprint: "f".into(),
                created_at: 1,
                updated_at: 1,
            },
        }
    };
    let page = [write("csv:p-1", &camp), write("csv:p-2", "camp_missing"), write("csv:p-3", &camp)];
    let answers = app.store.import_conversions(&page).await.unwrap();
    assert!(answers[0].is_ok() && answers[1].is_err() && answers[2].is_ok(), "{answers:?}");
    for (order, present) in [("csv:p-1", true), ("csv:p-2", false), ("csv:p-3", true)] {
        let found = app.store.find_imported(&m, "csv", kind::COMMISSION, order).await.unwrap();
        assert_eq!(found.is_some(), present, "{order}");
    }
    // Again: the written rows answer their existing conversions.
    let again = app.store.import_conversions(&page[..1]).await.unwrap();
    assert_eq!(again[0].as_ref().ok(), answers[0].as_ref().ok());
    app.stop().await;
}

/// A page of imported affiliates written with multi-row statements answers what writing them one
/// by one would: an email the brand already has is that affiliate (not created), an affiliate
/// imported before keeps its id and only its membership moves; and when the database refuses a
/// row (a campaign that does not exist), the page is written row by row and only that row fails.
async fn a_page_of_affiliates_is_written_as_one_by_one(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let (m, camp, aff) = world(&app.store).await;
    let write =
        |source_id: &str, email: &str, campaign: &str, status: MembershipStatus, existing: Option<&str>| {
            ImportedAffiliateWrite {
                affiliate: Affiliate {
                    id: format!("aff_{source_id}"),
                    merchant_id: m.clone(),
                    email: email.into(),
                    name: None,
                    created_via: "import".into(),
                    created_at: 1,
                    payout_method: None,
                },
                existing: existing.map(str::to_string),
                memberships: vec![(campaign.to_string(), status)],
                object: ImportedObject {
                    merchant_id: m.clone(),
                    source: "csv".into(),
                    kind: kind::AFFILIATE.into(),
                    source_id: source_id.into(),
                    refline_id: String::new(),
                    fingerprint: "f".into(),
                    created_at: 1,
                    updated_at: 1,
                },
            }
        };
    let done =
        |id: &str, created: bool, changed: bool| ImportedAffiliateWritten { id: id.into(), created, changed };
    let approved = MembershipStatus::Approved;
    // Two new ones, and the world's affiliate by its email (already on the campaign, approved).
    let known = format!("{aff}@x.test").to_lowercase();
    let page = [
        write("s-1", "one@x.test", &camp, approved, None),
        write("s-2", "two@x.test", &camp, approved, None),
        write("s-3", &known, &camp, approved, None),
    ];
    let answers = app.store.import_affiliates(&page, 10).await.unwrap();
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    assert_eq!(answers, [done("aff_s-1", true, true), done("aff_s-2", true, true), done(&aff, false, false)]);
    let found = app.store.find_imported(&m, "csv", kind::AFFILIATE, "s-3").await.unwrap().unwrap();
    assert_eq!(found.refline_id, aff);

    // Imported before: kept, its membership moved; the other row's campaign does not exist.
    let page = [
        write("s-1", "one@x.test", &camp, MembershipStatus::Rejected, Some("aff_s-1")),
        write("s-4", "four@x.test", "camp_missing", approved, None),
        write("s-5", "five@x.test", &camp, approved, None),
    ];
    let answers = app.store.import_affiliates(&page, 20).await.unwrap();
    assert_eq!(answers[0].as_ref().ok(), Some(&done("aff_s-1", false, true)), "{answers:?}");
    assert!(answers[1].is_err(), "{answers:?}");
    assert_eq!(answers[2].as_ref().ok(), Some(&done("aff_s-5", true, true)), "{answers:?}");
    for (source_id, present) in [("s-4", false), ("s-5", true)] {
        let found = app.store.find_imported(&m, "csv", kind::AFFILIATE, source_id).await.unwrap();
        assert_eq!(found.is_some(), present, "{source_id}");
    }
    let many = app
        .store
        .find_imported_many(&m, "csv", kind::AFFILIATE, &["s-1".into(), "s-4".into(), "s-5".into()])
        .await
        .unwrap();
    let mut ids: Vec<_> = many.iter().map(|o| o.source_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["s-1", "s-5"]);

    // One email under two source ids in one page: one affiliate, as one by one.
    let page = [
        write("s-6", "six@x.test", &camp, approved, None),
        write("s-7", "six@x.test", &camp, MembershipStatus::Pending, None),
    ];
    let answers = app.store.import_affiliates(&page, 30).await.unwrap();
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    assert_eq!(answers, [done("aff_s-6", true, true), done("aff_s-6", false, true)]);
    let firsts = app.store.first_campaigns_of(&m, &["aff_s-6".into(), "aff_nobody".into()]).await.unwrap();
    assert_eq!(firsts, [("aff_s-6".to_string(), camp.clone())]);
    app.stop().await;
}

//! The audit trail is the operation's, not the door's: every write operation reports who did
//! what to which object, succeeded or refused, whichever door called it; reads report nothing.
//! The command line's operations land in the audit log itself.

use refline_core::{
    audit::AuditRecord,
    campaigns::{CampaignInput, Change},
    terms::CommissionType,
    Door, ErrorKind,
};
use refline_domain::KeyKind;
use refline_store::{CampaignSort, PageRequest};

use crate::{
    core_support::CoreWorld,
    engine_tests,
    support::{Engine, TestApp},
};

fn terms(name: &str) -> CampaignInput {
    CampaignInput {
        name: Change::Set(name.into()),
        commission_type: Change::Set(CommissionType::Percentage),
        commission_value: Some("20".into()),
        target_url: Change::Set("https://shop.test/".into()),
        ..CampaignInput::default()
    }
}

fn summary(r: &AuditRecord) -> (&str, &'static str, Option<&str>, Option<&'static str>) {
    (r.door.as_str(), r.operation, r.target_id.as_deref(), r.error_code)
}

async fn operations_report_themselves(engine: Engine) {
    let w = CoreWorld::new(&engine).await;
    let core = &w.core;

    // A success names the object it made, with the actor's merchant and the core's clock.
    let made = core.create_campaign(&w.owner(), terms("Spring")).await.unwrap();
    let id = made.campaign.id.clone();
    let records = w.effects.audited();
    assert_eq!(records.len(), 1);
    assert_eq!(summary(&records[0]), ("cli", "campaign.create", Some(id.as_str()), None));
    assert_eq!(records[0].merchant_id.as_deref(), Some(w.merchant.as_str()));
    assert!(w.stamped_by_clock(records[0].at), "stamped by the injected clock");

    // Reads are not audited.
    core.get_campaign(&w.owner(), &id).await.unwrap();
    let page = PageRequest { limit: 10, offset: 0, sort: CampaignSort::CreatedAt, descending: true };
    core.list_campaigns(&w.owner(), page).await.unwrap();
    assert_eq!(w.effects.audited().len(), 1, "reads leave no record");

    // A refusal is recorded with its code: rights decided by the operation…
    let err = core.create_campaign(&w.reader(), terms("Nope")).await.unwrap_err();
    assert_eq!(err.code, "insufficient_permissions");
    // …another tenant's object, named by the id that was tried…
    let intruder = core.update_campaign(&w.intruder(), &id, terms("Mine")).await.unwrap_err();
    assert_eq!(intruder.kind, ErrorKind::NotFound);
    // …and bad input.
    let invalid = core.create_campaign(&w.owner(), terms("x")).await.unwrap_err();
    assert_eq!(invalid.code, "validation_error");
    let records = w.effects.audited();
    assert_eq!(records.len(), 4, "{records:?}");
    assert_eq!(summary(&records[1]), ("api", "campaign.create", None, Some("insufficient_permissions")));
    assert_eq!(records[1].door, Door::ApiKey { key_id: "key_ro".into() });
    assert_eq!(summary(&records[2]), ("cli", "campaign.update", Some(id.as_str()), Some("not_found")));
    assert_eq!(records[2].merchant_id.as_deref(), Some(w.stranger.as_str()), "logged as the intruder's");
    assert_eq!(summary(&records[3]), ("cli", "campaign.create", None, Some("validation_error")));

    // Every other kind of write reports itself too.
    core.remove_membership(&w.owner(), &w.affiliate, &w.campaign).await.unwrap();
    let last = w.effects.audited().pop().unwrap();
    assert_eq!(summary(&last), ("cli", "membership.remove", Some(w.affiliate.as_str()), None));
}

async fn command_line_operations_are_in_the_log(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let created = refline::admin::create_merchant(&app.store, "Audited", "ultimate", "usd").await.unwrap();
    let (key_id, _) =
        refline::admin::create_key(&app.store, &created.merchant_id, KeyKind::Test).await.unwrap();
    refline::admin::revoke_key(&app.store, &key_id).await.unwrap();
    assert!(refline::admin::revoke_key(&app.store, &key_id).await.is_err(), "already revoked");

    let entries = app.store.recent_audit_entries(Some(&created.merchant_id), 10).await.unwrap();
    let seen: Vec<_> = entries
        .iter()
        .rev()
        .map(|e| (e.door.as_str(), e.operation.as_deref(), e.target_id.as_deref(), e.error_code.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("cli", Some("merchant.create"), Some(created.merchant_id.as_str()), None),
            ("cli", Some("api_key.create"), Some(key_id.as_str()), None),
            ("cli", Some("api_key.revoke"), Some(key_id.as_str()), None),
        ]
    );
    assert!(entries.iter().all(|e| e.method.is_none() && e.path.is_none() && e.status_code.is_none()));
    // The failed second revoke names no merchant (the key is no longer active): it is in the
    // log of entries without one.
    let orphans = app.store.recent_audit_entries(None, 1000).await.unwrap();
    assert!(orphans.iter().any(|e| e.operation.as_deref() == Some("api_key.revoke")
        && e.target_id.as_deref() == Some(key_id.as_str())
        && e.error_code.as_deref() == Some("not_found")));
    app.stop().await;
}

engine_tests!(operations_report_themselves, command_line_operations_are_in_the_log);

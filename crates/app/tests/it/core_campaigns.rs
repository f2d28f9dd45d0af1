//! The core's campaign operations, called directly (no HTTP), on both engines: rights decided by
//! the operation, every problem reported at once, effects set off, and time from the injected
//! clock.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use refline_core::{
    campaigns::{CampaignInput, Change, TierInput},
    clock::{Clock, ManualClock},
    sales::writer::ConversionWriter,
    terms::CommissionType,
    Actor, Core, CoreError, Door, Effects, ErrorKind, Issue, Mode, PlanLimits, Rights,
};
use refline_store::{CampaignSort, PageRequest};

use crate::{
    engine_tests,
    support::{fresh_store, Engine},
};

#[derive(Default)]
struct CountingEffects {
    outbox: AtomicUsize,
    links: AtomicUsize,
}

#[async_trait::async_trait]
impl Effects for CountingEffects {
    fn outbox_written(&self) {
        self.outbox.fetch_add(1, Ordering::SeqCst);
    }
    fn links_changed(&self) {
        self.links.fetch_add(1, Ordering::SeqCst);
    }
    fn inbox_written(&self) {}
    async fn audited(&self, _record: refline_core::audit::AuditRecord) {}
}

fn actor(merchant: &str, mode: Mode, rights: Rights) -> Actor {
    Actor { merchant_id: merchant.into(), mode, rights, currency: "eur".into(), door: Door::Cli }
}

fn terms(name: &str, value: &str) -> CampaignInput {
    CampaignInput {
        name: Change::Set(name.into()),
        commission_type: Change::Set(CommissionType::Percentage),
        commission_value: Some(value.into()),
        target_url: Change::Set("https://shop.test/pricing".into()),
        ..CampaignInput::default()
    }
}

fn paths(err: &CoreError) -> Vec<String> {
    err.details
        .as_ref()
        .and_then(|d| d.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|d| d["path"].to_string())
        .collect()
}

async fn campaigns_through_the_core(engine: Engine) {
    let (store, _dir) = fresh_store(&engine).await;
    let clock = Arc::new(ManualClock::new());
    let effects = Arc::new(CountingEffects::default());
    let (sales, _writers) = ConversionWriter::start(store.clone(), 1);
    let core = Core::new(
        store.clone(),
        clock.clone(),
        effects.clone(),
        sales,
        PlanLimits::default(),
        "https://refline.test/",
    );
    let merchant =
        refline::admin::create_merchant(&store, "Core", "ultimate", "eur").await.unwrap().merchant_id;
    let owner = actor(&merchant, Mode::Live, Rights::ReadWrite);

    // Ten days ahead of the wall clock: the operation must take its time from the injected clock.
    clock.advance(10 * 86_400_000);
    let wall = refline_core::clock::now_ms();
    let created = core.create_campaign(&owner, terms("Spring", "12.5")).await.unwrap();
    assert_eq!(created.campaign.currency, "eur", "the merchant's default currency");
    assert!(
        created.campaign.created_at >= wall + 10 * 86_400_000 - 1_000,
        "created_at from the injected clock"
    );
    assert!(created.campaign.created_at <= clock.now());
    assert_eq!(created.join_url, format!("https://refline.test/join/{}", created.campaign.tracking_code));
    assert_eq!(effects.links.load(Ordering::SeqCst), 1, "a new campaign invalidates link caches");

    // Time moves only when the injected clock does.
    let before = created.campaign.updated_at;
    clock.advance(3_600_000);
    let changed = core
        .update_campaign(
            &owner,
            &created.campaign.id,
            CampaignInput { name: Change::Set("Summer".into()), ..CampaignInput::default() },
        )
        .await
        .unwrap();
    assert_eq!(changed.changed, vec!["name"]);
    assert!(changed.campaign.updated_at - before >= 3_600_000, "updated_at follows the moved clock");
    assert_eq!(effects.links.load(Ordering::SeqCst), 2);
    let unchanged =
        core.update_campaign(&owner, &created.campaign.id, CampaignInput::default()).await.unwrap();
    assert!(unchanged.changed.is_empty());
    assert_eq!(effects.links.load(Ordering::SeqCst), 2, "a no-op writes nothing and sets off nothing");

    // Rights are the operation's: read-only and test actors are refused, whatever the door.
    let reader = Actor {
        door: Door::Dashboard { user_id: "usr_1".into(), grants: refline_domain::Grants::OWNER },
        ..actor(&merchant, Mode::Live, Rights::ReadOnly)
    };
    let err = core.create_campaign(&reader, terms("Nope", "10")).await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Forbidden, "insufficient_permissions"));
    let tester = actor(&merchant, Mode::Test, Rights::ReadWrite);
    let err = core.update_campaign(&tester, &created.campaign.id, terms("Nope", "10")).await.unwrap_err();
    assert_eq!(err.code, "live_key_required");
    assert!(core.get_campaign(&reader, &created.campaign.id).await.is_ok(), "reads need no write rights");

    // Another merchant's id is not found, never shown.
    let other =
        refline::admin::create_merchant(&store, "Other", "ultimate", "usd").await.unwrap().merchant_id;
    let stranger = actor(&other, Mode::Live, Rights::ReadWrite);
    assert_eq!(
        core.get_campaign(&stranger, &created.campaign.id).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    let err = core.update_campaign(&stranger, &created.campaign.id, terms("Mine", "10")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    // Every problem at once: what the door could not read, and every rule broken.
    let bad = CampaignInput {
        name: Change::Set("X".into()),
        commission_value: Some("150".into()),
        target_url: Change::Set("ftp://files.test".into()),
        recurring_type: Some(refline_domain::RecurringType::Custom),
        tiers: Change::Set(vec![TierInput {
            min_sales_sent: true,
            min_sales: Some(0),
            commission_value: "5".into(),
            ..TierInput::default()
        }]),
        unreadable: vec![Issue::field("isPublic", "isPublic must be true or false")],
        ..terms("X", "150")
    };
    let err = core.create_campaign(&owner, bad).await.unwrap_err();
    assert_eq!(err.code, "validation_error");
    let found = paths(&err);
    for want in [
        r#"["isPublic"]"#,
        r#"["name"]"#,
        r#"["commissionValue"]"#,
        r#"["targetUrl"]"#,
        r#"["recurringCommissionValue"]"#,
        r#"["tiers",0,"minSales"]"#,
    ] {
        assert!(found.iter().any(|p| p == want), "{want} missing from {found:?}");
    }

    let page = core
        .list_campaigns(
            &owner,
            PageRequest { limit: 10, offset: 0, sort: CampaignSort::CreatedAt, descending: true },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].campaign.name, "Summer");
}

engine_tests!(campaigns_through_the_core);

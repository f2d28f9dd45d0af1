//! The storage contract, exercised directly on each engine: what the API relies on the database
//! to guarantee (uniqueness, atomic checks, compare-and-set, idempotency states, ordering).

use std::sync::Arc;

use refline::admin;
use refline_domain::{AffiliateVolume, ConversionStatus, ConversionType, MembershipStatus, Mode};
use refline_store::{
    Affiliate, AuditEntry, Campaign, CampaignSort, Conversion, ConversionFilter, ConversionSort,
    CreateAffiliateOutcome, IdempotencyBegin, Membership, PageRequest, RecordError, RecordRequest, Store,
};

use crate::{
    engine_tests,
    support::{test_click, Engine, TestApp},
};

pub(crate) fn rand_day() -> i64 {
    use rand::Rng;
    rand::thread_rng().gen_range(0..1_000_000) * 10
}

pub(crate) fn campaign(id: &str, merchant: &str, code: &str) -> Campaign {
    Campaign { name: id.into(), ..Campaign::with_defaults(id, merchant, code, "usd", 1) }
}

pub(crate) fn unique(prefix: &str) -> String {
    refline_server::ids::new_id(prefix)
}

/// A merchant with one campaign and one approved affiliate, written through the store.
pub(crate) async fn world(shared: &Arc<dyn Store>) -> (String, String, String) {
    let store = shared.as_ref();
    let m = admin::create_merchant(shared, "Contract", "ultimate", "usd").await.unwrap().merchant_id;
    let camp = unique("camp");
    store.insert_campaign(&campaign(&camp, &m, &unique("TC")[3..11])).await.unwrap();
    let aff = unique("aff");
    let a = Affiliate {
        id: aff.clone(),
        merchant_id: m.clone(),
        email: format!("{aff}@x.test").to_lowercase(),
        name: None,
        created_via: "api".into(),
        created_at: 1,
        payout_method: None,
    };
    let ms = Membership {
        campaign_id: camp.clone(),
        affiliate_id: aff.clone(),
        merchant_id: m.clone(),
        status: MembershipStatus::Approved,
        joined_at: 1,
        updated_at: 1,
    };
    assert_eq!(store.create_affiliate(&a, &ms, Mode::Live).await.unwrap(), CreateAffiliateOutcome::Created);
    (m, camp, aff)
}

pub(crate) fn conversion(
    m: &str,
    camp: &str,
    aff: &str,
    order: Option<&str>,
    amount: i64,
    at: i64,
) -> Conversion {
    Conversion {
        id: unique("conv"),
        merchant_id: m.into(),
        campaign_id: camp.into(),
        affiliate_id: aff.into(),
        amount_minor: amount,
        commission_minor: 0,
        currency: "usd".into(),
        status: ConversionStatus::Pending,
        order_id: order.map(str::to_string),
        click_id: None,
        customer_email: None,
        customer_name: None,
        conversion_type: ConversionType::OneTime,
        parent_conversion_id: None,
        payment_number: 1,
        source: "api".into(),
        mode: Mode::Live,
        fraud_score: None,
        fraud_signals: None,
        created_at: at,
        updated_at: at,
        approved_at: None,
        earned_minor: 0,
        paid_minor: 0,
    }
}

pub(crate) fn request(c: Conversion, cap: Option<i64>, needs_volume: bool) -> RecordRequest {
    RecordRequest {
        tracked_minor: c.amount_minor,
        conversion: c,
        month: 202611,
        month_start: 0,
        monthly_cap_minor: cap,
        needs_volume,
        tiered: needs_volume,
        renewal: None,
        tally_shard: 3,
        click_check: None,
    }
}

async fn keys_and_merchants(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let store = app.store.as_ref();
    let created = admin::create_merchant(&app.store, "Keys", "pro", "eur").await.unwrap();
    let merchant = store.get_merchant(&created.merchant_id).await.unwrap().unwrap();
    assert_eq!((merchant.plan.as_str(), merchant.currency.as_str()), ("pro", "eur"));
    let keys = store.list_api_keys(&created.merchant_id).await.unwrap();
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter().all(|k| k.key_hash.len() == 64 && !k.key_hash.contains("lj_pk")),
        "only hashes are stored"
    );
    let hash = refline_server::ids::sha256_hex(created.api_key.as_bytes());
    let owner = store.find_key_owner(&hash).await.unwrap().unwrap();
    assert_eq!(
        (owner.merchant_id.as_str(), owner.kind.as_str(), owner.plan.as_str()),
        (created.merchant_id.as_str(), "live", "pro")
    );
    assert_eq!(
        store.revoke_api_key(&owner.key_id, 5).await.unwrap().as_deref(),
        Some(owner.merchant_id.as_str()),
        "revoking answers the key's merchant"
    );
    assert_eq!(
        store.revoke_api_key(&owner.key_id, 6).await.unwrap(),
        None,
        "revoking twice reports nothing to do"
    );
    assert_eq!(store.find_key_owner(&hash).await.unwrap().unwrap().revoked_at, Some(5));
    assert!(store.find_key_owner("0".repeat(64).as_str()).await.unwrap().is_none());
}

async fn uniqueness_is_enforced_by_the_database(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let store = app.store.as_ref();
    let (m, camp, aff) = world(&app.store).await;
    let code = store.get_campaign(&m, &camp).await.unwrap().unwrap().tracking_code;
    let err = store.insert_campaign(&campaign(&unique("camp"), &m, &code)).await.unwrap_err();
    assert!(err.is_conflict_on("tracking_code"), "{err}");

    let email = format!("{aff}@x.test").to_lowercase();
    let dup = Affiliate {
        id: unique("aff"),
        merchant_id: m.clone(),
        email: email.clone(),
        name: None,
        created_via: "api".into(),
        created_at: 2,
        payout_method: None,
    };
    let ms = Membership {
        campaign_id: camp.clone(),
        affiliate_id: dup.id.clone(),
        merchant_id: m.clone(),
        status: MembershipStatus::Approved,
        joined_at: 2,
        updated_at: 2,
    };
    assert_eq!(
        store.create_affiliate(&dup, &ms, Mode::Live).await.unwrap(),
        CreateAffiliateOutcome::EmailTaken { existing_id: aff.clone() }
    );
    assert!(store.get_affiliate(&m, &dup.id).await.unwrap().is_none(), "nothing half-written");
    // The same email under another merchant is a different affiliate.
    let (m2, camp2, _) = world(&app.store).await;
    let other = Affiliate { merchant_id: m2.clone(), ..dup.clone() };
    let ms2 = Membership { campaign_id: camp2, merchant_id: m2, ..ms.clone() };
    assert_eq!(
        store.create_affiliate(&other, &ms2, Mode::Live).await.unwrap(),
        CreateAffiliateOutcome::Created
    );

    let repeat = Membership {
        campaign_id: camp,
        affiliate_id: aff,
        merchant_id: m,
        status: MembershipStatus::Pending,
        joined_at: 3,
        updated_at: 3,
    };
    assert!(matches!(store.insert_membership(&repeat).await, Err(refline_store::StoreError::Conflict(_))));
}

async fn recording_checks_orders_caps_and_volume(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let store = app.store.as_ref();
    let (m, camp, aff) = world(&app.store).await;
    let price =
        || -> refline_store::Pricer { Arc::new(|v: AffiliateVolume| v.sales_count * 1000 + v.revenue_minor) };
    let first = store
        .record_conversion(
            request(conversion(&m, &camp, &aff, Some("A"), 500, 10), Some(1000), true),
            price(),
        )
        .await
        .unwrap();
    assert_eq!(first.commission_minor, 0, "no volume before the first sale");
    let second = store
        .record_conversion(
            request(conversion(&m, &camp, &aff, Some("B"), 600, 11), Some(1000), true),
            price(),
        )
        .await
        .unwrap();
    assert_eq!(second.commission_minor, 1500, "one earlier sale of 500");
    match store
        .record_conversion(request(conversion(&m, &camp, &aff, Some("A"), 1, 12), None, false), price())
        .await
    {
        Err(RecordError::Duplicate { existing_id }) => assert_eq!(existing_id, first.id),
        other => panic!("expected duplicate, got {other:?}"),
    }
    // 1100 tracked ≥ 1000 cap.
    assert!(matches!(
        store
            .record_conversion(request(conversion(&m, &camp, &aff, None, 1, 13), Some(1000), false), price())
            .await,
        Err(RecordError::CapReached)
    ));
    assert_eq!(store.tracked_sales(&m, 202611).await.unwrap(), 1100);
    // Test conversions skip the cap, do not count toward it, and have their own order ids.
    let mut test = conversion(&m, &camp, &aff, Some("A"), 1, 14);
    test.mode = Mode::Test;
    store.record_conversion(request(test, Some(1000), false), price()).await.unwrap();
    assert_eq!(store.tracked_sales(&m, 202611).await.unwrap(), 1100);

    // Compare-and-set status changes.
    assert!(store
        .update_conversion_status(
            &m,
            &first.id,
            ConversionStatus::Pending,
            ConversionStatus::Approved,
            20,
            Mode::Live
        )
        .await
        .unwrap());
    assert!(!store
        .update_conversion_status(
            &m,
            &first.id,
            ConversionStatus::Pending,
            ConversionStatus::Rejected,
            21,
            Mode::Live
        )
        .await
        .unwrap());
    assert!(
        !store
            .update_conversion_status(
                "mer_other",
                &first.id,
                ConversionStatus::Approved,
                ConversionStatus::Rejected,
                21,
                Mode::Live,
            )
            .await
            .unwrap(),
        "tenant-scoped"
    );

    let page = PageRequest { limit: 1, offset: 0, sort: ConversionSort::Amount, descending: true };
    let listed = store.list_conversions(&m, &ConversionFilter::default(), page).await.unwrap();
    assert_eq!((listed.total, listed.items[0].amount_minor), (2, 600));
    let totals = store.conversion_totals(&m, Mode::Live, None, None).await.unwrap();
    let rows: Vec<_> = totals
        .iter()
        .map(|t| (t.currency.as_str(), t.conversions, t.revenue_minor, t.commissions_minor))
        .collect();
    assert_eq!(rows, [("usd", 2, 1100, 1500)]);
    assert_eq!(store.count_active_affiliates(&m).await.unwrap(), 1);
    let stats = store.campaign_stats(&camp, Mode::Live).await.unwrap();
    assert_eq!((stats.conversions, stats.revenue_minor, stats.affiliates), (2, 1100, 1));
    let campaigns = store
        .list_campaigns(
            &m,
            Mode::Live,
            PageRequest { limit: 10, offset: 0, sort: CampaignSort::Name, descending: false },
        )
        .await
        .unwrap();
    assert_eq!((campaigns.total, campaigns.items[0].stats.conversions), (1, 2));
}

async fn idempotency_states(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let store = app.store.as_ref();
    let m = "mer_idem";
    assert_eq!(store.begin_idempotent(m, "k", "h1", 100, 0).await.unwrap(), IdempotencyBegin::Started);
    assert_eq!(store.begin_idempotent(m, "k", "h1", 101, 0).await.unwrap(), IdempotencyBegin::InProgress);
    assert_eq!(store.begin_idempotent(m, "k", "h2", 101, 0).await.unwrap(), IdempotencyBegin::Mismatch);
    store.complete_idempotent(m, "k", 201, "{}").await.unwrap();
    assert_eq!(
        store.begin_idempotent(m, "k", "h1", 102, 0).await.unwrap(),
        IdempotencyBegin::Replay { status: 201, body: "{}".into() }
    );
    // Older than the expiry bound: forgotten and claimed anew.
    assert_eq!(store.begin_idempotent(m, "k", "h2", 500, 200).await.unwrap(), IdempotencyBegin::Started);
    store.abandon_idempotent(m, "k").await.unwrap();
    assert_eq!(store.begin_idempotent(m, "k", "h3", 501, 200).await.unwrap(), IdempotencyBegin::Started);
    assert_eq!(
        store.begin_idempotent("mer_other", "k", "h9", 501, 200).await.unwrap(),
        IdempotencyBegin::Started,
        "per merchant"
    );
}

async fn audit_clicks_and_fingerprints(engine: Engine) {
    // Its own database: clearing click IPs is database-wide and must not touch other tests.
    let engine = engine.isolated().await;
    let app = TestApp::start(&engine).await;
    let store = app.store.as_ref();
    let (m, camp, aff) = world(&app.store).await;
    let entry = |path: &str, at: i64| AuditEntry {
        merchant_id: Some(m.clone()),
        api_key_id: Some("key_1".into()),
        user_id: None,
        door: "api".into(),
        operation: None,
        target_id: None,
        method: Some("POST".into()),
        path: Some(path.into()),
        status_code: Some(201),
        error_code: None,
        ip_address: Some("::1".into()),
        user_agent: Some("ua".into()),
        created_at: at,
    };
    store.insert_audit_entries(&[entry("/a", 1), entry("/b", 2)]).await.unwrap();
    let entries = store.recent_audit_entries(Some(&m), 10).await.unwrap();
    // (The merchant's own creation through the command line is in its log too, without a path.)
    assert_eq!(
        entries.iter().filter_map(|e| e.path.as_deref()).collect::<Vec<_>>(),
        ["/b", "/a"],
        "newest first"
    );

    // A current timestamp: a running server's IP sweeper clears clicks older than 30 days.
    let at = refline_server::clock::now_ms();
    let click = test_click(&unique("click"), &m, &camp, &aff, Some("198.51.100.1"), None, at);
    assert_eq!(store.record_clicks(std::slice::from_ref(&click), &[]).await.unwrap(), 1);
    assert_eq!(
        store.record_clicks(std::slice::from_ref(&click), &[]).await.unwrap(),
        0,
        "a replayed id is skipped"
    );
    let totals = store.click_totals(&m, Some(&camp), None).await.unwrap();
    assert_eq!((totals.clicks, totals.unique_clicks), (1, 1), "a replay is not counted");
    // Ids made here are trusted to be new and checked by the count of rows written; a beacon's
    // is asked for. A batch mixing new and stored ids of both kinds stores and counts the new.
    let made = |id: &str| test_click(id, &m, &camp, &aff, None, None, at);
    let beacon =
        |id: &str| refline_store::Click { source: refline_store::tracking::SOURCE_BEACON.into(), ..made(id) };
    let stored_beacon = beacon(&unique("click"));
    assert_eq!(store.record_clicks(std::slice::from_ref(&stored_beacon), &[]).await.unwrap(), 1);
    let mixed = [made(&unique("click")), click.clone(), stored_beacon.clone(), beacon(&unique("click"))];
    assert_eq!(store.record_clicks(&mixed, &[]).await.unwrap(), 2, "the two new ones");
    assert_eq!(store.record_clicks(&mixed[2..], &[]).await.unwrap(), 0, "beacons replayed");
    let totals = store.click_totals(&m, Some(&camp), None).await.unwrap();
    assert_eq!(totals.clicks, 4, "every stored click counted once");
    assert_eq!(store.find_click(&m, &click.id).await.unwrap().unwrap().ip.as_deref(), Some("198.51.100.1"));
    assert!(store.find_click("mer_other", &click.id).await.unwrap().is_none(), "tenant-scoped");
    assert_eq!(store.scrub_click_ips(at).await.unwrap(), 0, "clicks inside the window keep their IP");
    assert_eq!(store.scrub_click_ips(at + 1).await.unwrap(), 1);
    assert_eq!(
        store.find_click(&m, &click.id).await.unwrap().unwrap().ip,
        None,
        "raw IP cleared after the window"
    );
    // Far-future days: other tests' servers share the PostgreSQL run database and delete salts
    // older than their yesterday.
    let day = 10_000_000 + rand_day();
    assert_eq!(store.visitor_salt(day, "first").await.unwrap(), "first");
    assert_eq!(store.visitor_salt(day, "second").await.unwrap(), "first", "one salt per day for every node");
    assert_eq!(store.visitor_salt(day + 2, "third").await.unwrap(), "third");
    assert_eq!(
        store.visitor_salt(day, "again").await.unwrap(),
        "again",
        "salts older than yesterday are deleted"
    );
    assert!(store.mark_tracking_seen(&m, 7).await.unwrap());
    assert!(!store.mark_tracking_seen(&m, 8).await.unwrap(), "only the first time counts");
    assert_eq!(store.get_merchant(&m).await.unwrap().unwrap().tracking_seen_at, Some(7));
    store.record_fingerprint(&aff, "ip", "198.51.100.1", 1).await.unwrap();
    store.record_fingerprint(&aff, "ip", "198.51.100.1", 2).await.unwrap();
    store.record_fingerprint(&aff, "device", "d1", 2).await.unwrap();
    let prints = store.affiliate_fingerprints(&aff).await.unwrap();
    assert_eq!((prints.ips.len(), prints.devices.len()), (1, 1));
}

/// Two stores on one database (a server and the CLI, or two nodes) writing concurrently:
/// SQLite must queue on its busy timeout, never fail with "database is locked".
async fn concurrent_writers_never_see_locked(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let second: Arc<dyn Store> =
        refline::storage::open_store(&app.database_url, Default::default()).await.unwrap();
    let (m, camp, aff) = world(&app.store).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let store = if i % 2 == 0 { app.store.clone() } else { second.clone() };
        let c = conversion(&m, &camp, &aff, Some(&format!("w{i}")), 100, i);
        tasks.spawn(async move {
            store
                .record_conversion(request(c, None, true), Arc::new(|_: AffiliateVolume| 1))
                .await
                .map(|_| ())
        });
    }
    for result in tasks.join_all().await {
        result.expect("every concurrent write succeeds");
    }
    let filter = ConversionFilter::default();
    let page = PageRequest { limit: 1, offset: 0, sort: ConversionSort::CreatedAt, descending: true };
    assert_eq!(app.store.list_conversions(&m, &filter, page).await.unwrap().total, 200);
}

/// Rows carry typed values: a plan or key kind read back is the domain's enum, and text the
/// domain does not know is a read error, never a silent default.
async fn typed_rows_refuse_unknown_text(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let store = app.store.as_ref();
    let created = admin::create_merchant(&app.store, "Typed", "scale", "usd").await.unwrap();
    let merchant = store.get_merchant(&created.merchant_id).await.unwrap().unwrap();
    assert_eq!(merchant.plan, refline_domain::Plan::Scale);
    let keys = store.list_api_keys(&created.merchant_id).await.unwrap();
    assert!(keys.iter().any(|k| k.kind == refline_domain::KeyKind::Test));
    let sql = format!("UPDATE merchants SET plan = 'gold' WHERE id = '{}'", created.merchant_id);
    execute_behind_the_store(&app, &engine, &sql).await;
    let read = store.get_merchant(&created.merchant_id).await;
    assert!(read.is_err(), "an unknown plan must not read as a default: {read:?}");
}

/// Runs `sql` on the app's database on a connection of its own, as someone editing the
/// database by hand (or an older or newer version) would.
async fn execute_behind_the_store(app: &TestApp, engine: &Engine, sql: &str) {
    match engine {
        Engine::Sqlite => {
            let mut conn =
                <sqlx::SqliteConnection as sqlx::Connection>::connect(&app.database_url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        Engine::Postgres(url) => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
    }
}

/// Statuses, commission and conversion types and the live/test mode read back as the domain's
/// enums; an unknown conversion, campaign or membership status, or commission type, in the
/// database is a read error, never a silent default.
async fn typed_statuses_refuse_unknown_text(engine: Engine) {
    use refline_domain::{CampaignStatus, CommissionType, RecurringMode, RecurringType, TierBasis};

    let app = TestApp::start(&engine).await;
    let store = app.store.as_ref();
    let (m, camp, aff) = world(&app.store).await;
    let mut test = conversion(&m, &camp, &aff, Some("T"), 700, 3);
    test.mode = Mode::Test;
    let recorded =
        store.record_conversion(request(test, None, false), Arc::new(|_: AffiliateVolume| 70)).await.unwrap();
    let read = store.get_conversion(&m, &recorded.id).await.unwrap().unwrap();
    assert_eq!(
        (read.status, read.conversion_type, read.mode),
        (ConversionStatus::Pending, ConversionType::OneTime, Mode::Test)
    );
    let live = ConversionFilter { status: Some(ConversionStatus::Pending), ..ConversionFilter::default() };
    let test = ConversionFilter { mode: Mode::Test, ..live.clone() };
    let page = PageRequest { limit: 10, offset: 0, sort: ConversionSort::CreatedAt, descending: true };
    assert_eq!(store.list_conversions(&m, &live, page).await.unwrap().total, 0, "live only");
    assert_eq!(store.list_conversions(&m, &test, page).await.unwrap().total, 1, "test and pending");
    let campaign = store.get_campaign(&m, &camp).await.unwrap().unwrap();
    assert_eq!(
        (campaign.status, campaign.commission_type, campaign.recurring_mode),
        (CampaignStatus::Active, CommissionType::Percentage, RecurringMode::Duration)
    );
    assert_eq!((campaign.recurring_type, campaign.tier_basis), (RecurringType::Same, TierBasis::SalesCount));
    let membership = store.get_membership(&m, &camp, &aff).await.unwrap().unwrap();
    assert_eq!(membership.status, MembershipStatus::Approved);

    let sql = format!("UPDATE conversions SET status = 'on_hold' WHERE id = '{}'", recorded.id);
    execute_behind_the_store(&app, &engine, &sql).await;
    let read = store.get_conversion(&m, &recorded.id).await;
    assert!(read.is_err(), "an unknown conversion status must not read as a default: {read:?}");
    let every_test = ConversionFilter { mode: Mode::Test, ..ConversionFilter::default() };
    let listed = store.list_conversions(&m, &every_test, page).await;
    assert!(listed.is_err(), "nor in a list: {listed:?}");

    let sql = format!("UPDATE campaigns SET status = 'paused' WHERE id = '{camp}'");
    execute_behind_the_store(&app, &engine, &sql).await;
    let read = store.get_campaign(&m, &camp).await;
    assert!(read.is_err(), "an unknown campaign status must not read as a default: {read:?}");

    let sql =
        format!("UPDATE campaigns SET status = 'active', commission_type = 'tiered' WHERE id = '{camp}'");
    execute_behind_the_store(&app, &engine, &sql).await;
    let read = store.get_campaign(&m, &camp).await;
    assert!(read.is_err(), "an unknown commission type must not read as a default: {read:?}");

    let sql = format!("UPDATE memberships SET status = 'banned' WHERE campaign_id = '{camp}'");
    execute_behind_the_store(&app, &engine, &sql).await;
    let read = store.get_membership(&m, &camp, &aff).await;
    assert!(read.is_err(), "an unknown membership status must not read as a default: {read:?}");
}

/// The review queue pages through every matching conversion once, in its order: pending
/// fraud-flagged, pending, other flagged, the rest; newest first (ties by id, descending) within
/// each; with filters by status and affiliate, and exact totals. Test-mode rows stay out.
async fn review_queue_pages_in_queue_order(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let store = app.store.as_ref();
    let (m, camp, aff) = world(&app.store).await;
    let aff2 = unique("aff");
    let a2 = Affiliate {
        id: aff2.clone(),
        merchant_id: m.clone(),
        email: format!("{aff2}@x.test").to_lowercase(),
        name: None,
        created_via: "api".into(),
        created_at: 1,
        payout_method: None,
    };
    let ms2 = Membership {
        campaign_id: camp.clone(),
        affiliate_id: aff2.clone(),
        merchant_id: m.clone(),
        status: MembershipStatus::Approved,
        joined_at: 1,
        updated_at: 1,
    };
    assert_eq!(store.create_affiliate(&a2, &ms2, Mode::Live).await.unwrap(), CreateAffiliateOutcome::Created);
    let prefix = unique("cq");
    // (id, status, flagged, created_at, affiliate)
    let mut rows: Vec<(String, ConversionStatus, bool, i64, String)> = Vec::new();
    let mut values = Vec::new();
    for i in 0..75i64 {
        let id = format!("{prefix}_{i:03}");
        let status = ConversionStatus::ALL[usize::try_from(i % 6).unwrap()];
        let flagged = i % 4 == 0;
        let at = 1_000 + i / 3;
        let who = if i % 5 == 0 { aff2.clone() } else { aff.clone() };
        let score = if flagged { (40 + i).to_string() } else { "NULL".into() };
        values.push(format!(
            "('{id}', '{m}', '{camp}', '{who}', 1000, 100, 'usd', '{}', 'one_time', 1, 'api', 1 = 0, {score}, {at}, {at})",
            status.as_str()
        ));
        rows.push((id, status, flagged, at, who));
    }
    // A test-mode conversion never shows in the live queue.
    values.push(format!(
        "('{prefix}_test', '{m}', '{camp}', '{aff}', 1000, 100, 'usd', 'pending', 'one_time', 1, 'api', 1 = 1, 90, 5000, 5000)"
    ));
    let sql = format!(
        "INSERT INTO conversions (id, merchant_id, campaign_id, affiliate_id, amount_minor, commission_minor, \
            currency, status, conversion_type, payment_number, source, is_test, fraud_score, created_at, updated_at) \
         VALUES {}",
        values.join(", ")
    );
    execute_behind_the_store(&app, &engine, &sql).await;
    let rank =
        |r: &(String, ConversionStatus, bool, i64, String)| match (r.1 == ConversionStatus::Pending, r.2) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        };
    let mut ordered = rows.clone();
    ordered.sort_by(|x, y| rank(x).cmp(&rank(y)).then(y.3.cmp(&x.3)).then(y.0.cmp(&x.0)));
    let filters = [
        ConversionFilter::default(),
        ConversionFilter { status: Some(ConversionStatus::Pending), ..ConversionFilter::default() },
        ConversionFilter { status: Some(ConversionStatus::Approved), ..ConversionFilter::default() },
        ConversionFilter { affiliate_id: Some(aff2.clone()), ..ConversionFilter::default() },
        ConversionFilter { from: Some(1_005), to: Some(1_012), ..ConversionFilter::default() },
    ];
    for filter in filters {
        let expected: Vec<&str> = ordered
            .iter()
            .filter(|r| filter.status.is_none_or(|s| s == r.1))
            .filter(|r| filter.affiliate_id.as_ref().is_none_or(|a| *a == r.4))
            .filter(|r| filter.from.is_none_or(|t| r.3 >= t) && filter.to.is_none_or(|t| r.3 <= t))
            .map(|r| r.0.as_str())
            .collect();
        let mut listed = Vec::new();
        let mut offset = 0;
        loop {
            let page = store.list_review_queue(&m, &filter, 7, offset).await.unwrap();
            assert_eq!(page.total, i64::try_from(expected.len()).unwrap(), "{filter:?}");
            if page.items.is_empty() {
                break;
            }
            listed.extend(page.items.iter().map(|r| r.conversion.id.clone()));
            offset += 7;
        }
        assert_eq!(listed, expected, "{filter:?}");
    }
}

engine_tests!(
    typed_rows_refuse_unknown_text,
    typed_statuses_refuse_unknown_text,
    keys_and_merchants,
    uniqueness_is_enforced_by_the_database,
    recording_checks_orders_caps_and_volume,
    idempotency_states,
    audit_clicks_and_fingerprints,
    concurrent_writers_never_see_locked,
    review_queue_pages_in_queue_order,
);

//! The commission digests' storage contract on each engine: the batch writer adds live sales
//! with a commission (never test ones) in the sale's transaction; a claim leases an affiliate
//! so a second claimer skips it; finishing subtracts exactly what was mailed, so a sale recorded
//! while the mail was being written waits for the next digest instead of being lost.

use std::sync::Arc;

use refline_domain::Mode;
use refline_store::{OutgoingMail, Pricer, Store};

use crate::{
    engine_tests,
    store_contract::{conversion, request, world},
    support::{fresh_store, Engine},
};

/// Records a sale earning 100 through the batch writer's path.
async fn sale(store: &dyn Store, (m, camp, aff): (&str, &str, &str), mode: Mode, at: i64) {
    let mut c = conversion(m, camp, aff, None, 1000, at);
    c.mode = mode;
    let price: Pricer = Arc::new(|_| 100);
    store.record_conversion(request(c, None, false), price).await.unwrap();
}

async fn digests_add_lease_and_subtract(engine: Engine) {
    // A database of its own: no server's digest worker may claim these rows meanwhile.
    let (shared, _dir) = fresh_store(&engine.isolated().await).await;
    let store = shared.as_ref();
    let (m, camp, aff) = world(&shared).await;
    let who = (m.as_str(), camp.as_str(), aff.as_str());
    sale(store, who, Mode::Live, 1_000).await;
    sale(store, who, Mode::Live, 2_000).await;
    sale(store, who, Mode::Test, 3_000).await;
    let items = store.commission_digest_items(&m, &aff).await.unwrap();
    let total: (i64, i64) =
        items.iter().fold((0, 0), |(n, c), i| (n + i.conversions, c + i.commission_minor));
    assert_eq!(total, (2, 200), "two live sales, the test one left out: {items:?}");
    assert_eq!(items.iter().map(|i| i.first_at).min(), Some(1_000));

    // Not yet settled: nothing to claim. Settled: claimed once, then leased.
    assert!(store.claim_commission_digests(5_000, 0, 500, 60_000, 10).await.unwrap().is_empty());
    let claimed = store.claim_commission_digests(5_000, 0, 4_000, 60_000, 10).await.unwrap();
    assert_eq!(claimed, vec![(m.clone(), aff.clone())]);
    assert!(store.claim_commission_digests(5_000, 0, 4_000, 60_000, 10).await.unwrap().is_empty());

    // A sale lands while the digest is written: it stays for the next one.
    sale(store, who, Mode::Live, 6_000).await;
    let mail = OutgoingMail::new(
        "mail_digest_contract".into(),
        Some(&m),
        "commission_credited",
        "a@x.test",
        "s",
        "b".into(),
        7_000,
    );
    store.finish_commission_digest(&m, &aff, &items, Some(&mail), 7_000).await.unwrap();
    let left = store.commission_digest_items(&m, &aff).await.unwrap();
    let left_total: (i64, i64) =
        left.iter().fold((0, 0), |(n, c), i| (n + i.conversions, c + i.commission_minor));
    assert_eq!(left_total, (1, 100), "{left:?}");
    assert!(store
        .recent_mail(Some("a@x.test"), 5)
        .await
        .unwrap()
        .iter()
        .any(|x| x.id == "mail_digest_contract"));
    // Mailed at 7 000: not due again until an hour has passed (here: `mailed_before` says so).
    assert!(store.claim_commission_digests(8_000, 6_999, 8_000, 60_000, 10).await.unwrap().is_empty());
    let again = store.claim_commission_digests(8_000, 7_000, 8_000, 60_000, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    // Finishing with what is left empties it; no mail is fine (no login, or unsubscribed).
    store.finish_commission_digest(&m, &aff, &left, None, 9_000).await.unwrap();
    assert!(store.commission_digest_items(&m, &aff).await.unwrap().is_empty());
    assert!(store.claim_commission_digests(99_999, 99_999, 99_999, 200_000, 10).await.unwrap().is_empty());
    assert!(store.person_of_affiliate(&m, &aff).await.unwrap().is_none(), "an API affiliate has no login");
}

engine_tests!(digests_add_lease_and_subtract);

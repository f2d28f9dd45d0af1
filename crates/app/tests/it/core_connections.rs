//! The core's payment-processor connection operations, called directly (no HTTP), on both
//! engines: typed input with the provider's rules, sealing, live-only writes, tenancy, the
//! clock, and replaying a processor delivery (which wakes the inbox worker).

use refline_core::{
    campaigns::Change,
    connection_input::{ConnectionChange, NewConnection, Text, GOPAY_API_BASE},
    secrets::SecretBox,
    ErrorKind,
};
use refline_processors::Provider;
use refline_store::{InboxEntry, PageRequest};
use serde_json::{json, Value};

use crate::{
    core_support::{fields, CoreWorld},
    engine_tests,
    support::Engine,
};

fn given(text: &str) -> Text {
    Text::Given(text.into())
}

fn stripe(secret: &str) -> NewConnection {
    NewConnection {
        provider: Some(Provider::Stripe),
        webhook_secret: given(secret),
        ..NewConnection::default()
    }
}

fn entry(merchant: &str, integration: &str, status: &str) -> InboxEntry {
    InboxEntry {
        id: refline_core::ids::new_id("inb"),
        merchant_id: merchant.into(),
        integration_id: integration.into(),
        provider: "stripe".into(),
        dedupe_key: refline_core::ids::new_id("evt"),
        event_type: Some("checkout.session.completed".into()),
        headers: "{}".into(),
        query: String::new(),
        body: "{}".into(),
        verification: "signature".into(),
        status: status.into(),
        outcome: Some("no affiliate".into()),
        conversion_id: None,
        attempts: 1,
        // Due in 2100: on PostgreSQL the run's tests share one database, and any test server's
        // inbox worker would claim a pending row due now before this test looks at it.
        next_attempt_at: 4_102_444_800_000,
        received_at: 1,
        processed_at: Some(2),
    }
}

async fn connections_through_the_core(engine: Engine) {
    let w = CoreWorld::new(&engine).await;
    let (core, owner) = (&w.core, w.owner());
    let secrets = SecretBox::new([9; 32]);

    // Sealed, hinted, with the URL the processor is given, on the injected clock.
    let made = core.create_connection(&owner, stripe("whsec_0123456789abcdef"), &secrets).await.unwrap();
    let i = &made.integration;
    assert_eq!(made.webhook_url, format!("https://refline.test/api/webhooks/stripe/merchant/{}", w.merchant));
    assert_eq!(secrets.open(&i.secret_sealed).unwrap(), "whsec_0123456789abcdef");
    assert_eq!(i.secret_hint, "cdef");
    assert!(w.stamped_by_clock(i.created_at), "created_at from the injected clock");

    // Every problem at once, in field order, the provider deciding what is required.
    let gopay = NewConnection {
        provider: Some(Provider::GoPay),
        label: Text::Unreadable("label must be a string".into()),
        api_base_url: given("gate.gopay.cz/api"),
        client_id: Text::Blank,
        ..NewConnection::default()
    };
    let err = core.create_connection(&owner, gopay, &secrets).await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Invalid, "validation_error"));
    assert_eq!(fields(&err), ["label", "goid", "apiBaseUrl", "clientId", "clientSecret"]);
    let ok = NewConnection {
        provider: Some(Provider::GoPay),
        goid: given("8123456789"),
        client_id: given("cid"),
        client_secret: given("csecret"),
        ..NewConnection::default()
    };
    let gopay = core.create_connection(&owner, ok, &secrets).await.unwrap();
    let settings: Value = serde_json::from_str(&gopay.integration.settings).unwrap();
    assert_eq!(settings, json!({ "goid": "8123456789", "apiBaseUrl": GOPAY_API_BASE }));
    // Settings of another provider are refused on change, with the provider itself.
    let wrong = ConnectionChange {
        provider: Some("paddle".into()),
        goid: given("1"),
        status: Some("disabled".into()),
        ..ConnectionChange::default()
    };
    let err = core.update_connection(&owner, &i.id, wrong, &secrets).await.unwrap_err();
    assert_eq!(fields(&err), ["provider", "goid"]);

    // A new secret rotates, on the injected clock.
    w.clock.advance(3_600_000);
    let rotate = ConnectionChange {
        webhook_secret: given("whsec_second_secret_wxyz"),
        label: Change::Set("Main".into()),
        ..ConnectionChange::default()
    };
    let rotated = core.update_connection(&owner, &i.id, rotate, &secrets).await.unwrap().integration;
    assert_eq!(secrets.open(&rotated.secret_sealed).unwrap(), "whsec_second_secret_wxyz");
    assert_eq!(
        secrets.open(rotated.previous_secret_sealed.as_deref().unwrap()).unwrap(),
        "whsec_0123456789abcdef"
    );
    assert_eq!(rotated.label.as_deref(), Some("Main"));
    assert!(rotated.updated_at - i.updated_at >= 3_600_000, "updated_at follows the moved clock");

    // Writes need a live actor with write rights; reads need neither.
    let tester = w.tester();
    let err = core.create_connection(&tester, stripe("whsec_test_0123456789"), &secrets).await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Forbidden, "live_key_required"));
    let err =
        core.update_connection(&tester, &i.id, ConnectionChange::default(), &secrets).await.unwrap_err();
    assert_eq!(err.code, "live_key_required");
    assert_eq!(core.delete_connection(&tester, &i.id).await.unwrap_err().code, "live_key_required");
    let err = core.create_connection(&w.reader(), stripe("whsec_ro_0123456789"), &secrets).await.unwrap_err();
    assert_eq!(err.code, "insufficient_permissions");
    assert!(core.get_connection(&tester, &i.id).await.is_ok());

    // Another merchant's connection and its deliveries are not found.
    let intruder = w.intruder();
    let page = PageRequest { limit: 25, offset: 0, sort: (), descending: true };
    assert_eq!(core.get_connection(&intruder, &i.id).await.unwrap_err().kind, ErrorKind::NotFound);
    let err =
        core.update_connection(&intruder, &i.id, ConnectionChange::default(), &secrets).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(core.delete_connection(&intruder, &i.id).await.unwrap_err().kind, ErrorKind::NotFound);
    let err = core.list_processor_deliveries(&intruder, &i.id, page).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(core.list_connections(&intruder, page).await.unwrap().total, 0);

    // A finished delivery is replayed now (injected clock) and the inbox worker woken; one
    // still pending, or another merchant's, is not found and wakes nothing.
    let done = entry(&w.merchant, &i.id, "ignored");
    let pending = entry(&w.merchant, &i.id, "pending");
    assert!(w.store.insert_inbox(&done).await.unwrap());
    assert!(w.store.insert_inbox(&pending).await.unwrap());
    assert_eq!(core.list_processor_deliveries(&owner, &i.id, page).await.unwrap().total, 2);
    let err = core.replay_processor_delivery(&intruder, &i.id, &done.id).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = core.replay_processor_delivery(&owner, &i.id, &pending.id).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(w.effects.inbox(), 0);
    let replayed = core.replay_processor_delivery(&owner, &i.id, &done.id).await.unwrap();
    assert_eq!(replayed.status, "pending");
    assert!(w.stamped_by_clock(replayed.next_attempt_at), "due now by the injected clock");
    assert_eq!(w.effects.inbox(), 1);
    let err = core.replay_processor_delivery(&w.reader(), &i.id, &done.id).await.unwrap_err();
    assert_eq!(err.code, "insufficient_permissions");

    assert_eq!(core.list_connections(&owner, page).await.unwrap().total, 2);
    core.delete_connection(&owner, &gopay.integration.id).await.unwrap();
    assert_eq!(
        core.get_connection(&owner, &gopay.integration.id).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!((w.effects.links(), w.effects.outbox()), (0, 0));
}

/// The inbox writer says whether deliveries are arriving (the inbox worker claims smaller
/// batches while they are): not before the first, yes just after one, no once the window has
/// passed.
async fn the_inbox_writer_says_whether_deliveries_are_arriving(engine: Engine) {
    let w = CoreWorld::new(&engine).await;
    let inbox = &w.core.inbox;
    assert!(!inbox.receiving(std::time::Duration::from_secs(3600)), "nothing was received yet");
    let stored = inbox.insert(entry(&w.merchant, "int_receiving", "pending")).await.unwrap();
    assert!(stored, "a new delivery is stored");
    assert!(inbox.receiving(std::time::Duration::from_secs(60)), "a delivery was just received");
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    assert!(!inbox.receiving(std::time::Duration::from_millis(10)), "the last one came 30 ms ago");
    // A clone (the worker's) sees what the core's writer received.
    let clone = inbox.clone();
    clone.insert(entry(&w.merchant, "int_receiving", "pending")).await.unwrap();
    assert!(inbox.receiving(std::time::Duration::from_secs(60)));
}
engine_tests!(connections_through_the_core, the_inbox_writer_says_whether_deliveries_are_arriving);

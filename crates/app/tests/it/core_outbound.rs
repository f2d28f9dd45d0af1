//! The core's outbound webhook operations (endpoints merchants receive events at), called
//! directly (no HTTP), on both engines: the SSRF check through the given policy, events, secret
//! rotation on the injected clock, test dispatch through the given sender, rights and tenancy.

use std::sync::Mutex;

use refline_core::clock::Clock;
use refline_core::{
    outbound::{EndpointInput, OutboundRules, Sender, TargetCheck, PREVIOUS_SECRET_MS},
    ErrorKind, Issue,
};
use refline_domain::TargetError;
use refline_store::{async_trait, AttemptOutcome, OutboxEvent, PageRequest, WebhookAttempt, WebhookEndpoint};
use serde_json::{json, Value};

use crate::{
    core_support::{fields, CoreWorld, AHEAD_MS},
    engine_tests,
    support::Engine,
};

/// Refuses one private address, records what it was asked.
#[derive(Default)]
struct Policy(Mutex<Vec<String>>);

#[async_trait]
impl TargetCheck for Policy {
    async fn check(&self, url: &str) -> Result<(), TargetError> {
        self.0.lock().unwrap().push(url.to_string());
        if url.contains("10.0.0.1") {
            Err(TargetError::PrivateAddress)
        } else {
            Ok(())
        }
    }
}

/// Answers 204 and keeps what it was given.
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String, String)>>);

#[async_trait]
impl Sender for Recorder {
    async fn send(
        &self,
        endpoint: &WebhookEndpoint,
        id: &str,
        event: &str,
        body: &str,
        attempt: i64,
    ) -> WebhookAttempt {
        self.0.lock().unwrap().push((endpoint.url.clone(), event.to_string(), body.to_string()));
        WebhookAttempt {
            delivery_id: id.to_string(),
            endpoint_id: endpoint.id.clone(),
            attempt,
            status_code: Some(204),
            duration_ms: 3,
            response_body: Some(String::new()),
            error: None,
            created_at: 0,
        }
    }
}

fn hook(url: &str, events: &[&str]) -> EndpointInput {
    EndpointInput {
        url: Some(url.into()),
        events: Some(events.iter().map(|e| e.to_string()).collect()),
        ..EndpointInput::default()
    }
}

async fn outbound_endpoints_through_the_core(engine: Engine) {
    // A database of its own: claiming due deliveries must not meet other tests' deliveries.
    let w = CoreWorld::new(&engine.isolated().await).await;
    let (core, owner) = (&w.core, w.owner());
    let policy = Policy::default();
    let rules = OutboundRules { targets: &policy, catch_up_window_ms: 3_600_000 };

    // Events sorted and deduplicated, the secret shown once, time from the injected clock.
    let made = core
        .create_endpoint(
            &owner,
            hook("https://hooks.test/in", &["conversion.created", "affiliate.joined", "conversion.created"]),
            rules,
        )
        .await
        .unwrap();
    let e = &made.endpoint;
    assert!(made.show_secret);
    assert_eq!(e.event_names(), ["affiliate.joined", "conversion.created"]);
    assert_eq!(e.secret.len(), 64);
    assert!(w.stamped_by_clock(e.created_at), "created_at from the injected clock");
    assert_eq!(policy.0.lock().unwrap().as_slice(), ["https://hooks.test/in"], "the URL was checked");
    assert!(!core.get_endpoint(&owner, &e.id).await.unwrap().show_secret, "shown once");

    // Every problem at once, in field order: the policy's refusal first, then the events.
    let bad = EndpointInput {
        unreadable: vec![Issue::field("rotateSecret", "rotateSecret must be true or false")],
        ..hook("https://10.0.0.1/x", &["conversion.deleted"])
    };
    let err = core.update_endpoint(&owner, &e.id, bad, rules).await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Invalid, "validation_error"));
    assert_eq!(fields(&err), ["url", "events", "rotateSecret"]);
    let empty = core.create_endpoint(&owner, hook("https://hooks.test/b", &[]), rules).await.unwrap_err();
    assert_eq!(fields(&empty), ["events"]);

    // Rotation: the old secret signs beside the new one for a day, on the injected clock.
    w.clock.advance(3_600_000);
    let rotate = EndpointInput { rotate_secret: true, ..EndpointInput::default() };
    let rotated = core.update_endpoint(&owner, &e.id, rotate, rules).await.unwrap();
    let r = &rotated.endpoint;
    assert!(rotated.show_secret);
    assert_ne!(r.secret, e.secret);
    assert_eq!(r.previous_secret.as_deref(), Some(e.secret.as_str()));
    assert_eq!(r.previous_secret_until, Some(r.updated_at + PREVIOUS_SECRET_MS));
    assert!(r.updated_at - e.updated_at >= 3_600_000, "updated_at follows the moved clock");
    // Re-activating an active endpoint queues nothing.
    let wake = EndpointInput { reactivate: true, ..EndpointInput::default() };
    core.update_endpoint(&owner, &e.id, wake, rules).await.unwrap();
    assert_eq!(w.effects.outbox(), 0);

    // A test dispatch goes through the given sender, stamped by the injected clock.
    let sender = Recorder::default();
    let sent = core.test_endpoint(&owner, &e.id, &sender).await.unwrap();
    assert!(sent.delivered);
    assert_eq!(sent.payload["event"], "webhook.test");
    assert_eq!(sent.payload["data"]["webhookId"], e.id.as_str());
    let stamp = refline_domain::parse_timestamp(sent.payload["timestamp"].as_str().unwrap(), false).unwrap();
    assert!(stamp > refline_core::clock::now_ms() + AHEAD_MS / 2, "timestamp from the injected clock");
    let calls = sender.0.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].0.as_str(), calls[0].1.as_str()), ("https://hooks.test/in", "webhook.test"));
    assert_eq!(serde_json::from_str::<Value>(&calls[0].2).unwrap(), sent.payload);

    // A delivery is replayed now and wakes the worker; once the endpoint is disabled, replays
    // are refused until it is re-activated, which queues again and wakes the worker.
    let page = PageRequest { limit: 25, offset: 0, sort: (), descending: true };
    let now = w.clock.now();
    let event = OutboxEvent {
        merchant_id: w.merchant.clone(),
        event: "conversion.created",
        data: json!({ "id": "conv_1" }),
        at: now,
    };
    w.store.emit_events(&[event]).await.unwrap();
    let listed = core.list_deliveries(&owner, &e.id, page).await.unwrap();
    assert_eq!(listed.total, 1);
    let delivery = listed.items[0].delivery.clone();
    w.clock.advance(60_000);
    let replayed = core.retry_delivery(&owner, &e.id, &delivery.id).await.unwrap();
    assert_eq!(replayed.delivery.status, "pending");
    let due = replayed.delivery.next_attempt_at;
    assert!(w.stamped_by_clock(due) && due >= now + 60_000, "due now by the injected clock");
    assert_eq!(w.effects.outbox(), 1, "a replay wakes the worker");
    let claimed = w.store.claim_due_deliveries(w.clock.now(), 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let failed = WebhookAttempt {
        delivery_id: delivery.id.clone(),
        endpoint_id: e.id.clone(),
        attempt: 1,
        status_code: Some(500),
        duration_ms: 1,
        response_body: None,
        error: None,
        created_at: w.clock.now(),
    };
    let outcome = AttemptOutcome { attempt: failed, success: false, retry_at: None, disable_after: 1 };
    w.store.finish_attempt(&outcome).await.unwrap();
    assert_eq!(core.get_endpoint(&owner, &e.id).await.unwrap().endpoint.status, "disabled");
    let err = core.retry_delivery(&owner, &e.id, &delivery.id).await.unwrap_err();
    assert_eq!((err.kind, err.code), (ErrorKind::Conflict, "webhook_disabled"));
    let wake = EndpointInput { reactivate: true, ..EndpointInput::default() };
    let back = core.update_endpoint(&owner, &e.id, wake, rules).await.unwrap();
    assert_eq!(back.endpoint.status, "active");
    assert_eq!(w.effects.outbox(), 2, "re-activation wakes the worker");
    let attempts = &core.list_deliveries(&owner, &e.id, page).await.unwrap().items[0].attempts;
    assert_eq!(attempts.len(), 1, "deliveries come with their attempts");

    // Rights are the operation's.
    let reader = w.reader();
    let err =
        core.create_endpoint(&reader, hook("https://hooks.test/c", &["conversion.created"]), rules).await;
    assert_eq!(err.unwrap_err().code, "insufficient_permissions");
    assert_eq!(
        core.test_endpoint(&reader, &e.id, &sender).await.unwrap_err().code,
        "insufficient_permissions"
    );
    assert_eq!(core.delete_endpoint(&reader, &e.id).await.unwrap_err().code, "insufficient_permissions");
    assert_eq!(sender.0.lock().unwrap().len(), 1, "a refused test sends nothing");

    // Another merchant's endpoint and deliveries are not found.
    let intruder = w.intruder();
    assert_eq!(core.get_endpoint(&intruder, &e.id).await.unwrap_err().kind, ErrorKind::NotFound);
    let err = core.update_endpoint(&intruder, &e.id, EndpointInput::default(), rules).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(core.test_endpoint(&intruder, &e.id, &sender).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(core.list_deliveries(&intruder, &e.id, page).await.unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(core.list_endpoints(&intruder, page).await.unwrap().total, 0);
    let err = core.retry_delivery(&intruder, &e.id, "wh_del_x").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = core.retry_delivery(&owner, &e.id, "wh_del_missing").await.unwrap_err();
    assert_eq!((err.kind, err.message.as_str()), (ErrorKind::NotFound, "Delivery not found"));
    assert_eq!(w.effects.outbox(), 2, "nothing replayed, nothing woken");

    assert_eq!(core.list_endpoints(&owner, page).await.unwrap().total, 1);
    core.delete_endpoint(&owner, &e.id).await.unwrap();
    assert_eq!(core.get_endpoint(&owner, &e.id).await.unwrap_err().kind, ErrorKind::NotFound);
}

engine_tests!(outbound_endpoints_through_the_core);

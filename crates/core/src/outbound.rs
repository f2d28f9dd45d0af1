//! Outbound webhooks: the endpoints a merchant registers to *receive* Refline's signed events
//! (`conversion.created`, …), their deliveries, replays and test dispatches. Not to be confused
//! with the *inbound* webhooks payment processors send to Refline (see [`crate::connections`]).
//!
//! Where the SSRF rule lives: that a webhook URL must be public HTTPS is a rule of the business
//! (a merchant must not make Refline call into its own network), so the operations here decide
//! *when* it applies — every URL saved, whichever door saved it — and report a refusal as a
//! `url` problem among the others. *How* it is checked (resolving the name, refusing private
//! addresses, the development switch that allows them) is network work the server also does at
//! connect time for every delivery, so one implementation serves both: the server passes it in
//! as a [`TargetCheck`], and the core needs no resolver.

use rand::RngCore;
use refline_domain::{format_timestamp, is_event, TargetError, EVENTS};
use refline_store::{async_trait, Page, PageRequest, WebhookAttempt, WebhookDelivery, WebhookEndpoint};
use serde_json::{json, Value};

use crate::{field_order::in_field_order, ids::new_id, Actor, Core, CoreError, CoreResult, ErrorKind, Issue};

/// Decides whether a URL may receive webhooks (form, scheme, and the addresses it resolves to).
#[async_trait]
pub trait TargetCheck: Send + Sync {
    /// `Ok` when `url` may be saved as a webhook target.
    async fn check(&self, url: &str) -> Result<(), TargetError>;
}

/// Sends one signed webhook request and reports the attempt; the HTTP client is the server's.
#[async_trait]
pub trait Sender: Send + Sync {
    /// POSTs `body` (delivery `id`, event `event`) to `endpoint` as attempt number `attempt`.
    async fn send(
        &self,
        endpoint: &WebhookEndpoint,
        id: &str,
        event: &str,
        body: &str,
        attempt: i64,
    ) -> WebhookAttempt;
}

/// This deployment's outbound rules, given by the door that runs the operation.
#[derive(Clone, Copy)]
pub struct OutboundRules<'a> {
    /// The SSRF check of target URLs.
    pub targets: &'a dyn TargetCheck,
    /// A re-activated endpoint receives what it missed for at most this long (ms).
    pub catch_up_window_ms: i64,
}

/// An endpoint as sent. `url` and `events` are `None` when not sent (the door reports them
/// missing on create).
#[derive(Debug, Clone, Default)]
pub struct EndpointInput {
    /// Target URL.
    pub url: Option<String>,
    /// Event names (must be known; sorted and deduplicated here).
    pub events: Option<Vec<String>>,
    /// `status: "active"`: re-activate a disabled endpoint (change only).
    pub reactivate: bool,
    /// `rotateSecret: true`: a new secret, the old one signing beside it for a day (change only).
    pub rotate_secret: bool,
    /// What the door could not read.
    pub unreadable: Vec<Issue>,
}

/// An endpoint, and whether its secret may be shown (only right after creation or rotation).
#[derive(Debug, Clone)]
pub struct EndpointOut {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// True right after creation or rotation.
    pub show_secret: bool,
}

/// A delivery with its attempts, oldest first.
#[derive(Debug, Clone)]
pub struct DeliveryOut {
    /// The delivery.
    pub delivery: WebhookDelivery,
    /// Its attempts.
    pub attempts: Vec<WebhookAttempt>,
}

/// What a test dispatch sent and what came back.
#[derive(Debug, Clone)]
pub struct TestDispatch {
    /// The attempt as recorded by the sender.
    pub attempt: WebhookAttempt,
    /// True for a 2xx answer.
    pub delivered: bool,
    /// The event sent.
    pub payload: Value,
}

/// How long a rotated-out secret keeps signing beside the new one, so receivers can switch
/// without missing an event.
pub const PREVIOUS_SECRET_MS: i64 = 24 * 60 * 60 * 1000;

/// Field order of endpoint problems.
const FIELDS: &[&str] = &["url", "events", "status", "rotateSecret"];

/// True when an attempt counts as delivered (a 2xx answer).
pub fn delivered(attempt: &WebhookAttempt) -> bool {
    attempt.status_code.is_some_and(|s| (200..300).contains(&s))
}

/// A new signing secret: 32 random bytes as 64 hex characters (LinkJolt's format).
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The URL, if it passes the target check; a `url` problem otherwise.
async fn checked_url(
    rules: OutboundRules<'_>,
    url: Option<String>,
    issues: &mut Vec<Issue>,
) -> Option<String> {
    let url = url?;
    match rules.targets.check(&url).await {
        Ok(()) => Some(url),
        Err(err) => {
            issues.push(Issue::field("url", format!("url {err}")));
            None
        }
    }
}

/// Known events, sorted and deduplicated; a problem for an empty list or unknown names.
fn checked_events(events: Option<Vec<String>>, issues: &mut Vec<Issue>) -> Option<Vec<String>> {
    let mut names = events?;
    if names.is_empty() {
        issues.push(Issue::field("events", "events must be a non-empty list of event names"));
        return None;
    }
    let unknown: Vec<&String> = names.iter().filter(|n| !is_event(n)).collect();
    if !unknown.is_empty() {
        issues.push(Issue::field(
            "events",
            format!("unknown events {unknown:?}; known: {}", EVENTS.join(", ")),
        ));
        return None;
    }
    names.sort_unstable();
    names.dedup();
    Some(names)
}

impl Core {
    /// One of the actor's endpoints, or `not_found`.
    async fn load_endpoint(&self, actor: &Actor, id: &str) -> CoreResult<WebhookEndpoint> {
        self.store
            .get_webhook_endpoint(&actor.merchant_id, id)
            .await?
            .ok_or_else(|| CoreError::not_found("Webhook"))
    }

    /// One of the actor's endpoints (without its secret).
    pub async fn get_endpoint(&self, actor: &Actor, id: &str) -> CoreResult<EndpointOut> {
        Ok(EndpointOut { endpoint: self.load_endpoint(actor, id).await?, show_secret: false })
    }

    /// A page of the actor's endpoints.
    pub async fn list_endpoints(
        &self,
        actor: &Actor,
        page: PageRequest<()>,
    ) -> CoreResult<Page<EndpointOut>> {
        let found = self.store.list_webhook_endpoints(&actor.merchant_id, page).await?;
        let items = found.items.into_iter().map(|endpoint| EndpointOut { endpoint, show_secret: false });
        Ok(Page { items: items.collect(), total: found.total })
    }

    /// Registers an endpoint with a new secret, shown this once. `url` and `events` are
    /// required (the door reports them missing).
    pub async fn create_endpoint(
        &self,
        actor: &Actor,
        input: EndpointInput,
        rules: OutboundRules<'_>,
    ) -> CoreResult<EndpointOut> {
        self.audited(actor, "webhook_endpoint.create", None, self.create_endpoint_work(actor, input, rules))
            .await
    }

    async fn create_endpoint_work(
        &self,
        actor: &Actor,
        input: EndpointInput,
        rules: OutboundRules<'_>,
    ) -> CoreResult<EndpointOut> {
        actor.require_write()?;
        let mut issues = input.unreadable;
        let url = checked_url(rules, input.url, &mut issues).await;
        let events = checked_events(input.events, &mut issues);
        in_field_order(&mut issues, FIELDS);
        if !issues.is_empty() {
            return Err(CoreError::validation(issues));
        }
        let (Some(url), Some(events)) = (url, events) else {
            return Err(CoreError::internal("endpoint input without url or events and no issue"));
        };
        let endpoint =
            WebhookEndpoint::new(&new_id("wh"), &actor.merchant_id, &url, &events, &new_secret(), self.now());
        self.store.insert_webhook_endpoint(&endpoint).await?;
        Ok(EndpointOut { endpoint, show_secret: true })
    }

    /// Changes an endpoint: its URL (checked again), its events, a new secret, or
    /// re-activation, which queues again what it missed within the catch-up window.
    pub async fn update_endpoint(
        &self,
        actor: &Actor,
        id: &str,
        input: EndpointInput,
        rules: OutboundRules<'_>,
    ) -> CoreResult<EndpointOut> {
        self.audited(
            actor,
            "webhook_endpoint.update",
            Some(id),
            self.update_endpoint_work(actor, id, input, rules),
        )
        .await
    }

    async fn update_endpoint_work(
        &self,
        actor: &Actor,
        id: &str,
        input: EndpointInput,
        rules: OutboundRules<'_>,
    ) -> CoreResult<EndpointOut> {
        actor.require_write()?;
        let mut endpoint = self.load_endpoint(actor, id).await?;
        let mut issues = input.unreadable;
        let url = checked_url(rules, input.url, &mut issues).await;
        let events = checked_events(input.events, &mut issues);
        in_field_order(&mut issues, FIELDS);
        if !issues.is_empty() {
            return Err(CoreError::validation(issues));
        }
        let now = self.now();
        if let Some(url) = url {
            endpoint.url = url;
        }
        if let Some(events) = events {
            endpoint.events = WebhookEndpoint::events_column(&events);
        }
        if input.rotate_secret {
            endpoint.previous_secret = Some(std::mem::replace(&mut endpoint.secret, new_secret()));
            endpoint.previous_secret_until = Some(now + PREVIOUS_SECRET_MS);
        }
        endpoint.updated_at = now;
        if !self.store.update_webhook_endpoint(&endpoint).await? {
            return Err(CoreError::not_found("Webhook"));
        }
        if input.reactivate && endpoint.status != "active" {
            let since = now - rules.catch_up_window_ms;
            self.store.reactivate_webhook_endpoint(&actor.merchant_id, id, now, since).await?;
            self.effects.outbox_written();
        }
        let endpoint = self.load_endpoint(actor, id).await?;
        Ok(EndpointOut { endpoint, show_secret: input.rotate_secret })
    }

    /// Deletes an endpoint and its deliveries.
    pub async fn delete_endpoint(&self, actor: &Actor, id: &str) -> CoreResult<()> {
        self.audited(actor, "webhook_endpoint.delete", Some(id), self.delete_endpoint_work(actor, id)).await
    }

    async fn delete_endpoint_work(&self, actor: &Actor, id: &str) -> CoreResult<()> {
        actor.require_write()?;
        if !self.store.delete_webhook_endpoint(&actor.merchant_id, id).await? {
            return Err(CoreError::not_found("Webhook"));
        }
        Ok(())
    }

    /// Sends a `webhook.test` event now through `sender` and reports what the receiver
    /// answered. An explicit request, not an event: sent in test mode too, recorded nowhere.
    pub async fn test_endpoint(
        &self,
        actor: &Actor,
        id: &str,
        sender: &dyn Sender,
    ) -> CoreResult<TestDispatch> {
        self.audited(actor, "webhook_endpoint.test", Some(id), self.test_endpoint_work(actor, id, sender))
            .await
    }

    async fn test_endpoint_work(
        &self,
        actor: &Actor,
        id: &str,
        sender: &dyn Sender,
    ) -> CoreResult<TestDispatch> {
        actor.require_write()?;
        let endpoint = self.load_endpoint(actor, id).await?;
        let delivery_id = new_id("wh_del_test");
        let payload = json!({
            "id": delivery_id,
            "event": "webhook.test",
            "timestamp": format_timestamp(self.now()),
            "data": { "webhookId": endpoint.id, "message": "Test event from Refline" },
        });
        let attempt = sender.send(&endpoint, &delivery_id, "webhook.test", &payload.to_string(), 1).await;
        Ok(TestDispatch { delivered: delivered(&attempt), attempt, payload })
    }

    /// A page of an endpoint's deliveries with their attempts.
    pub async fn list_deliveries(
        &self,
        actor: &Actor,
        id: &str,
        page: PageRequest<()>,
    ) -> CoreResult<Page<DeliveryOut>> {
        self.load_endpoint(actor, id).await?;
        let found = self.store.list_deliveries(&actor.merchant_id, id, page).await?;
        let ids: Vec<String> = found.items.iter().map(|d| d.id.clone()).collect();
        let attempts = self.store.delivery_attempts(&ids).await?;
        let items = found
            .items
            .into_iter()
            .map(|delivery| {
                let mine = attempts.iter().filter(|a| a.delivery_id == delivery.id).cloned().collect();
                DeliveryOut { delivery, attempts: mine }
            })
            .collect();
        Ok(Page { items, total: found.total })
    }

    /// Replays a delivery (beyond LinkJolt): due again now, whatever its state. The endpoint
    /// must be active (`409 webhook_disabled`) and the delivery not being sent right now
    /// (`409 delivery_in_progress`).
    pub async fn retry_delivery(
        &self,
        actor: &Actor,
        id: &str,
        delivery_id: &str,
    ) -> CoreResult<DeliveryOut> {
        self.audited(
            actor,
            "webhook_delivery.retry",
            Some(delivery_id),
            self.retry_delivery_work(actor, id, delivery_id),
        )
        .await
    }

    async fn retry_delivery_work(
        &self,
        actor: &Actor,
        id: &str,
        delivery_id: &str,
    ) -> CoreResult<DeliveryOut> {
        actor.require_write()?;
        let endpoint = self.load_endpoint(actor, id).await?;
        if endpoint.status != "active" {
            return Err(CoreError::new(
                ErrorKind::Conflict,
                "webhook_disabled",
                "The endpoint is disabled; re-activate it (PATCH status: active) to replay deliveries",
            ));
        }
        let now = self.now();
        if !self.store.replay_delivery(&actor.merchant_id, id, delivery_id, now).await? {
            return match self.store.get_delivery(&actor.merchant_id, delivery_id).await? {
                Some(d) if d.endpoint_id == id => Err(CoreError::new(
                    ErrorKind::Conflict,
                    "delivery_in_progress",
                    "This delivery is being sent right now; retry after it finishes",
                )),
                _ => Err(CoreError::not_found("Delivery")),
            };
        }
        self.effects.outbox_written();
        let delivery = self
            .store
            .get_delivery(&actor.merchant_id, delivery_id)
            .await?
            .ok_or_else(|| CoreError::not_found("Delivery"))?;
        let attempts = self.store.delivery_attempts(std::slice::from_ref(&delivery.id)).await?;
        Ok(DeliveryOut { delivery, attempts })
    }
}

//! Outbound webhooks: endpoints, the delivery outbox and attempts.

use crate::{Page, PageRequest, StoreResult};

/// A merchant's webhook endpoint.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookEndpoint {
    /// `wh_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Subscribed events, comma-wrapped: `,conversion.created,affiliate.joined,`.
    pub events: String,
    /// Current signing secret (64 hex characters).
    pub secret: String,
    /// The secret before the last rotation, still signed with until `previous_secret_until`.
    pub previous_secret: Option<String>,
    /// Unix ms.
    pub previous_secret_until: Option<i64>,
    /// `active` or `disabled`.
    pub status: String,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Failed attempts in a row.
    pub consecutive_failures: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl WebhookEndpoint {
    /// A new active endpoint with no failures.
    pub fn new(id: &str, merchant_id: &str, url: &str, events: &[String], secret: &str, now: i64) -> Self {
        WebhookEndpoint {
            id: id.into(),
            merchant_id: merchant_id.into(),
            url: url.into(),
            events: WebhookEndpoint::events_column(events),
            secret: secret.into(),
            previous_secret: None,
            previous_secret_until: None,
            status: "active".into(),
            disabled_reason: None,
            consecutive_failures: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// The subscribed event names.
    pub fn event_names(&self) -> Vec<&str> {
        self.events.split(',').filter(|e| !e.is_empty()).collect()
    }

    /// True when subscribed to `event`.
    pub fn subscribes_to(&self, event: &str) -> bool {
        self.events.contains(&format!(",{event},"))
    }

    /// The comma-wrapped storage form of a list of event names.
    pub fn events_column(events: &[String]) -> String {
        format!(",{},", events.join(","))
    }
}

/// One event for one endpoint: the outbox row and its delivery state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookDelivery {
    /// `wh_del_…`, also the payload's `id` and the `webhook-id` header.
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// Event name.
    pub event: String,
    /// The exact JSON body to POST.
    pub payload: String,
    /// `pending`, `held`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (unix ms).
    pub next_attempt_at: i64,
    /// A worker holds it until then.
    pub locked_until: Option<i64>,
    /// Status code of the last attempt.
    pub last_status_code: Option<i64>,
    /// Error of the last attempt.
    pub last_error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms, once delivered.
    pub delivered_at: Option<i64>,
}

/// One attempt to deliver.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookAttempt {
    /// Delivery.
    pub delivery_id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// 1-based attempt number.
    pub attempt: i64,
    /// Response status, if a response came.
    pub status_code: Option<i64>,
    /// Time to the answer or the error.
    pub duration_ms: i64,
    /// Start of the response body.
    pub response_body: Option<String>,
    /// Transport error or refusal.
    pub error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// An event to fan out to a merchant's subscribed endpoints.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    /// Owner.
    pub merchant_id: String,
    /// Event name.
    pub event: &'static str,
    /// The `data` object, as JSON.
    pub data: serde_json::Value,
    /// When it happened (unix ms), the payload's `timestamp`.
    pub at: i64,
}

/// The outcome of one attempt, applied in one transaction.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    /// The attempt as recorded.
    pub attempt: WebhookAttempt,
    /// The receiver answered 2xx.
    pub success: bool,
    /// When to retry after a failure; `None` marks the delivery failed.
    pub retry_at: Option<i64>,
    /// Consecutive failures that disable the endpoint.
    pub disable_after: i64,
}

impl AttemptOutcome {
    /// The delivery's status after this attempt: `delivered`, `pending` (a retry is due) or
    /// `failed` (no retry left).
    pub fn delivery_status(&self) -> &'static str {
        match (self.success, self.retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        }
    }

    /// True when an endpoint that has now failed `failures` times in a row is to be disabled.
    pub fn disables_endpoint(&self, failures: i64) -> bool {
        failures >= self.disable_after
    }
}

/// Each claimed delivery with its endpoint, in claim order. A delivery whose endpoint is gone
/// (deleted since the claim read it) is left out; its rows went with the endpoint.
pub fn with_endpoints(
    deliveries: Vec<WebhookDelivery>,
    endpoints: &[WebhookEndpoint],
) -> Vec<(WebhookDelivery, WebhookEndpoint)> {
    deliveries
        .into_iter()
        .filter_map(|d| {
            let e = endpoints.iter().find(|e| e.id == d.endpoint_id)?.clone();
            Some((d, e))
        })
        .collect()
}

/// Outbound webhook storage.
#[async_trait::async_trait]
pub trait WebhookStore {
    /// Adds an endpoint.
    async fn insert_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<()>;
    /// A merchant's endpoint.
    async fn get_webhook_endpoint(&self, merchant_id: &str, id: &str)
        -> StoreResult<Option<WebhookEndpoint>>;
    /// A merchant's endpoints, newest first.
    async fn list_webhook_endpoints(
        &self,
        merchant_id: &str,
        page: PageRequest<()>,
    ) -> StoreResult<Page<WebhookEndpoint>>;
    /// Saves url, events, secrets; false when it does not exist.
    async fn update_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> StoreResult<bool>;
    /// Re-activates an endpoint: failures reset, deliveries held since `held_since` become due now,
    /// older held ones fail. False when it does not exist.
    async fn reactivate_webhook_endpoint(
        &self,
        merchant_id: &str,
        id: &str,
        now: i64,
        held_since: i64,
    ) -> StoreResult<bool>;
    /// Deletes an endpoint and its deliveries.
    async fn delete_webhook_endpoint(&self, merchant_id: &str, id: &str) -> StoreResult<bool>;
    /// Claims up to `limit` due deliveries for `lease_ms` (no other worker, on any node, gets them
    /// meanwhile), with their endpoints.
    async fn claim_due_deliveries(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<(WebhookDelivery, WebhookEndpoint)>>;
    /// Records an attempt and moves the delivery and endpoint on (delivered, retry, failed,
    /// endpoint disabled) in one transaction.
    async fn finish_attempt(&self, outcome: &AttemptOutcome) -> StoreResult<()>;
    /// A merchant's delivery.
    async fn get_delivery(&self, merchant_id: &str, id: &str) -> StoreResult<Option<WebhookDelivery>>;
    /// An endpoint's deliveries, newest first.
    async fn list_deliveries(
        &self,
        merchant_id: &str,
        endpoint_id: &str,
        page: PageRequest<()>,
    ) -> StoreResult<Page<WebhookDelivery>>;
    /// All attempts of deliveries, oldest first.
    async fn delivery_attempts(&self, delivery_ids: &[String]) -> StoreResult<Vec<WebhookAttempt>>;
    /// Makes a delivery due now again (manual replay); false when it does not exist or a worker
    /// holds it right now (so a replay never runs beside a send in progress).
    async fn replay_delivery(
        &self,
        merchant_id: &str,
        endpoint_id: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Fans events out to the subscribed endpoints of their merchants (outside other writes).
    async fn emit_events(&self, events: &[OutboxEvent]) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(success: bool, retry_at: Option<i64>) -> AttemptOutcome {
        AttemptOutcome {
            attempt: WebhookAttempt {
                delivery_id: "wh_del_1".into(),
                endpoint_id: "wh_1".into(),
                attempt: 1,
                status_code: None,
                duration_ms: 0,
                response_body: None,
                error: None,
                created_at: 0,
            },
            success,
            retry_at,
            disable_after: 5,
        }
    }

    fn delivery(id: &str, endpoint_id: &str) -> WebhookDelivery {
        WebhookDelivery {
            id: id.into(),
            merchant_id: "mer_1".into(),
            endpoint_id: endpoint_id.into(),
            event: "conversion.created".into(),
            payload: "{}".into(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: 0,
            locked_until: None,
            last_status_code: None,
            last_error: None,
            created_at: 0,
            delivered_at: None,
        }
    }

    #[test]
    fn an_attempt_moves_its_delivery_on() {
        assert_eq!(outcome(true, None).delivery_status(), "delivered");
        assert_eq!(outcome(true, Some(9)).delivery_status(), "delivered");
        assert_eq!(outcome(false, Some(9)).delivery_status(), "pending");
        assert_eq!(outcome(false, None).delivery_status(), "failed");
    }

    #[test]
    fn an_endpoint_is_disabled_at_the_failure_limit() {
        let o = outcome(false, None);
        assert!(!o.disables_endpoint(4));
        assert!(o.disables_endpoint(5));
        assert!(o.disables_endpoint(6));
    }

    #[test]
    fn claimed_deliveries_keep_their_order_and_lose_deleted_endpoints() {
        let endpoints = [
            WebhookEndpoint::new("wh_1", "mer_1", "https://a.example", &[], "s", 0),
            WebhookEndpoint::new("wh_2", "mer_1", "https://b.example", &[], "s", 0),
        ];
        let deliveries = vec![delivery("d1", "wh_2"), delivery("d2", "wh_gone"), delivery("d3", "wh_1")];
        let paired = with_endpoints(deliveries, &endpoints);
        let ids: Vec<(&str, &str)> = paired.iter().map(|(d, e)| (d.id.as_str(), e.id.as_str())).collect();
        assert_eq!(ids, [("d1", "wh_2"), ("d3", "wh_1")]);
    }
}

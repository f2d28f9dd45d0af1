//! One delivery attempt: check the target again, sign, POST, and record what happened.

use std::{sync::Arc, time::Instant};

use refline_store::{WebhookAttempt, WebhookEndpoint};
use reqwest::redirect::Policy;

use crate::{
    clock::{now_ms, Clock},
    outbound::{
        settings::WebhookSettings,
        sign::{linkjolt_signature, standard_signature},
        target::{check_form, GuardedResolver, TargetPolicy},
    },
};

/// Most of a response body kept with an attempt.
const RESPONSE_KEPT: usize = 2_048;

/// Sends signed webhook requests.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    client: reqwest::Client,
    policy: TargetPolicy,
    clock: Arc<dyn Clock>,
}

impl Dispatcher {
    /// A dispatcher with its own HTTP client: the settings' timeout, no redirects (a redirect
    /// could lead anywhere), and a resolver that never yields a private address.
    pub fn new(settings: &WebhookSettings, policy: TargetPolicy, clock: Arc<dyn Clock>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(Policy::none())
            .user_agent(concat!("Refline-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Dispatcher { client, policy, clock }
    }

    /// The secrets to sign with now: the current one and a rotated-out one still valid.
    fn secrets<'a>(&self, endpoint: &'a WebhookEndpoint) -> Vec<&'a str> {
        let mut secrets = vec![endpoint.secret.as_str()];
        if let (Some(old), Some(until)) = (&endpoint.previous_secret, endpoint.previous_secret_until) {
            if until > self.clock.now() {
                secrets.push(old);
            }
        }
        secrets
    }

    /// POSTs `body` (a delivery's payload, `id` its delivery id) to the endpoint and reports
    /// attempt number `attempt`.
    pub async fn send(
        &self,
        endpoint: &WebhookEndpoint,
        id: &str,
        event: &str,
        body: &str,
        attempt: i64,
    ) -> WebhookAttempt {
        let started = Instant::now();
        let mut record = WebhookAttempt {
            delivery_id: id.to_string(),
            endpoint_id: endpoint.id.clone(),
            attempt,
            status_code: None,
            duration_ms: 0,
            response_body: None,
            error: None,
            created_at: self.clock.now(),
        };
        // Form and literal addresses here; names are checked as the connection resolves them.
        let url = match check_form(&endpoint.url, &self.policy) {
            Ok(url) => url,
            Err(err) => {
                record.error = Some(format!("refused: the URL {err}"));
                return record;
            }
        };
        // Signatures carry real time: receivers compare it with their own clock.
        let t = now_ms() / 1000;
        let secrets = self.secrets(endpoint);
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("x-linkjolt-event", event)
            .header("x-linkjolt-signature", linkjolt_signature(&secrets, t, body.as_bytes()))
            .header("webhook-id", id)
            .header("webhook-timestamp", t.to_string())
            .header("webhook-signature", standard_signature(&secrets, id, t, body.as_bytes()))
            .body(body.to_string());
        match request.send().await {
            Ok(mut response) => {
                record.status_code = Some(i64::from(response.status().as_u16()));
                // Read only what is kept: a receiver cannot make us buffer a huge answer.
                let mut kept = Vec::new();
                while kept.len() < RESPONSE_KEPT {
                    match response.chunk().await {
                        Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                kept.truncate(RESPONSE_KEPT);
                record.response_body = Some(String::from_utf8_lossy(&kept).into_owned());
            }
            Err(err) => {
                record.error = Some(if err.is_timeout() {
                    "timed out".to_string()
                } else {
                    format!("request failed: {}", error_chain(&err))
                });
            }
        }
        record.duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        record
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}

/// True when the attempt counts as delivered (a 2xx answer); the core's rule.
pub fn succeeded(attempt: &WebhookAttempt) -> bool {
    refline_core::outbound::delivered(attempt)
}

/// Test dispatches of the core's outbound operations go out through this node's client.
#[refline_store::async_trait]
impl refline_core::outbound::Sender for Dispatcher {
    async fn send(
        &self,
        endpoint: &WebhookEndpoint,
        id: &str,
        event: &str,
        body: &str,
        attempt: i64,
    ) -> WebhookAttempt {
        Dispatcher::send(self, endpoint, id, event, body, attempt).await
    }
}

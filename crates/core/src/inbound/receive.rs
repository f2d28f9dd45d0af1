//! Receiving a payment processor's delivery: find the merchant's active connections to the
//! provider, verify the delivery against their secrets (current and previous), and store it in
//! the inbox — raw, for the worker to process and the merchant to read — exactly once per event.
//! The HTTP door only hands over the request's parts and renders the answer.

use std::sync::Arc;

use refline_processors::{parse, verify, Action, Provider};
use refline_store::{InboxEntry, Integration, StoreError};

use crate::{
    ids::{new_ordered_id, sha256_hex},
    memory::Memory,
    secrets::SecretBox,
    Core, CoreError, CoreResult, Door, ErrorKind,
};

/// (merchant, provider) → the merchant's active connections to the provider, sealed secrets
/// included, as read at a time (`crate::memory`): every delivery needs them, and they change
/// only when the merchant connects, rotates or removes a connection. Only non-empty answers are
/// kept, so a connection made by another process works at once.
pub type ConnectionMemory = Memory<(String, String), Vec<Integration>>;

/// A delivery as it arrived.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    /// The provider named in the URL.
    pub provider: &'a str,
    /// The merchant named in the URL.
    pub merchant_id: &'a str,
    /// The raw query string.
    pub query: &'a str,
    /// Every header, as text pairs (credentials included: some processors sign with them).
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: &'a [u8],
}

/// What became of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// False when the same event was received before (nothing new stored).
    pub stored: bool,
    /// The new delivery's id, when stored.
    pub delivery_id: Option<String>,
}

impl crate::audit::AuditTarget for Received {}

/// Headers a stored delivery keeps: never credentials or cookies.
fn kept_headers(all: &[(String, String)]) -> Vec<(String, String)> {
    all.iter()
        .filter(|(name, _)| {
            !matches!(name.to_ascii_lowercase().as_str(), "authorization" | "cookie" | "proxy-authorization")
        })
        .cloned()
        .collect()
}

impl Core {
    /// Verifies and stores a delivery; wakes the inbox worker for anything new. Audited as
    /// `processor_delivery.receive` through the processor's door.
    pub async fn receive_delivery(
        &self,
        delivery: Delivery<'_>,
        secrets: &SecretBox,
    ) -> CoreResult<Received> {
        let door = Door::Processor { provider: delivery.provider.to_string() };
        let merchant_id = delivery.merchant_id.to_string();
        let result = self.receive_work(delivery, secrets).await;
        let target = result.as_ref().ok().and_then(|r| r.delivery_id.clone());
        self.record_audit(
            Some(&merchant_id),
            &door,
            "processor_delivery.receive",
            target.as_deref(),
            &result,
        )
        .await;
        result
    }

    async fn receive_work(&self, delivery: Delivery<'_>, secrets: &SecretBox) -> CoreResult<Received> {
        let Some(provider) = Provider::parse(delivery.provider) else {
            return Err(CoreError::new(ErrorKind::NotFound, "not_found", "Unknown payment provider"));
        };
        let merchant_id = delivery.merchant_id;
        let integrations = self.active_connections(merchant_id, provider).await?;
        if integrations.is_empty() {
            return Err(CoreError::new(
                ErrorKind::NotFound,
                "integration_not_found",
                format!("No active {} integration for this merchant", provider.as_str()),
            ));
        }
        let (all, kept) = (&delivery.headers, kept_headers(&delivery.headers));
        let (query, body) = (delivery.query, delivery.body);
        let now = self.now();
        let mut verified = None;
        let mut last_error = None;
        for integration in integrations.iter() {
            let mut opened = Vec::with_capacity(2);
            for sealed in
                std::iter::once(&integration.secret_sealed).chain(integration.previous_secret_sealed.iter())
            {
                match secrets.open(sealed) {
                    Ok(secret) => opened.push(secret),
                    Err(err) => {
                        tracing::error!(%err, integration = %integration.id, "integration secret unreadable")
                    }
                }
            }
            let refs: Vec<&str> = opened.iter().map(String::as_str).collect();
            match verify(provider, &refs, all, query, body, now.div_euclid(1000)) {
                Ok(how) => {
                    verified = Some((integration, how));
                    break;
                }
                Err(err) => last_error = Some(err),
            }
        }
        let Some((integration, how)) = verified else {
            let reason = last_error.map_or_else(|| "no usable secret".to_string(), |e| e.to_string());
            return Err(CoreError::new(
                ErrorKind::Unauthenticated,
                "invalid_signature",
                format!("Webhook not verified: {reason}"),
            ));
        };
        let Ok(text) = String::from_utf8(body.to_vec()) else {
            return Err(CoreError::new(ErrorKind::Invalid, "invalid_body", "Webhook body is not UTF-8"));
        };
        // The event id is the dedupe key; deliveries that cannot be parsed are kept (for the
        // merchant to see) under a key of their bytes.
        let (dedupe_key, event_type, status, outcome) = match parse(provider, &kept, query, body) {
            // GoPay notifications are triggers to look the payment up: one row per payment and
            // minute (a flood of repeats stores nothing more); a repeat of a finished one asks
            // for a fresh lookup, since the payment's state may have moved on.
            Ok(parsed) if matches!(parsed.action, Action::NeedsLookup { .. }) => {
                let minute = now.div_euclid(60_000);
                (format!("{}@{minute}", parsed.event_id), Some(parsed.event_type), "pending", None)
            }
            Ok(parsed) => (parsed.event_id, Some(parsed.event_type), "pending", None),
            Err(err) => (
                format!("unparsed:{}", sha256_hex(body)),
                None,
                "failed",
                Some(format!("could not be read: {err}")),
            ),
        };
        let entry = InboxEntry {
            id: new_ordered_id("whin", now),
            merchant_id: merchant_id.to_string(),
            integration_id: integration.id.clone(),
            provider: provider.as_str().to_string(),
            dedupe_key,
            event_type,
            headers: serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into()),
            query: strip_secret(query),
            body: text,
            verification: how.scheme.to_string(),
            status: status.to_string(),
            outcome,
            conversion_id: None,
            attempts: 0,
            next_attempt_at: now,
            received_at: now,
            processed_at: (status == "failed").then_some(now),
        };
        let (id, dedupe_key) = (entry.id.clone(), entry.dedupe_key.clone());
        let stored = self.inbox.insert(entry).await?;
        let lookup_again = !stored
            && provider == Provider::GoPay
            && self.store.requeue_inbox_by_key(merchant_id, provider.as_str(), &dedupe_key, now).await?;
        if stored || lookup_again {
            self.effects.inbox_written();
        }
        Ok(Received { stored, delivery_id: stored.then_some(id) })
    }
}

impl Core {
    /// The merchant's active connections to `provider`: from the node's memory when read in
    /// the last second, else from the store.
    async fn active_connections(
        &self,
        merchant_id: &str,
        provider: Provider,
    ) -> CoreResult<Arc<Vec<Integration>>> {
        // None connections is "not found": read again next time.
        let read = || async {
            let found = self.store.active_integrations(merchant_id, provider.as_str()).await?;
            Ok::<_, StoreError>(Some(found).filter(|found| !found.is_empty()))
        };
        let found = match &self.connections {
            Some(memory) => {
                let key = (merchant_id.to_string(), provider.as_str().to_string());
                memory.get_or_read(&key, read).await?
            }
            None => read().await?.map(Arc::new),
        };
        Ok(found.unwrap_or_default())
    }
}

/// The query string without Gumroad's URL secret, whatever way its name is encoded.
fn strip_secret(query: &str) -> String {
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if name != refline_processors::gumroad::TOKEN_PARAM {
            kept.append_pair(&name, &value);
        }
    }
    kept.finish()
}

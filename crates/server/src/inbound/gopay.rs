//! GoPay: notifications carry only a payment id, so the truth is fetched from GoPay's API with
//! the merchant's credentials (OAuth2 client credentials, then the payment status).

use std::{sync::Arc, time::Duration};

use refline_processors::{parse_gopay_payment, Parsed};
use refline_store::InboxEntry;
use reqwest::redirect::Policy;
use serde_json::Value;

use refline_core::inbound::PaymentLookup;
use refline_store::Store;

use crate::outbound::target::{check_form, GuardedResolver, TargetPolicy};
use crate::secrets::SecretBox;

/// GoPay's production API.
pub const DEFAULT_API_BASE: &str = "https://gate.gopay.cz/api";

pub use refline_core::inbound::LookupError;

/// GoPay payment lookups: the merchant's credentials (opened with the secret key), an HTTP
/// client that never reaches private addresses unless allowed, and cached access tokens.
pub struct GoPayLookup {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Opens connection credentials.
    pub secrets: Arc<SecretBox>,
    /// What GoPay API URLs may be.
    pub targets: TargetPolicy,
    /// HTTP client for GoPay lookups.
    pub client: reqwest::Client,
    /// Access tokens per connection.
    pub tokens: Arc<TokenCache>,
}

#[async_trait::async_trait]
impl PaymentLookup for GoPayLookup {
    async fn lookup(&self, entry: &InboxEntry, payment_id: &str) -> Result<Parsed, LookupError> {
        lookup(self, entry, payment_id).await
    }
}

/// GoPay access tokens per connection: valid 30 minutes, kept 25, so a burst of notifications
/// costs one token request instead of one each.
#[derive(Debug, Default)]
pub struct TokenCache {
    tokens: std::sync::Mutex<std::collections::HashMap<String, (String, std::time::Instant)>>,
}

const TOKEN_LIFETIME: Duration = Duration::from_secs(25 * 60);

impl TokenCache {
    fn fresh(&self, integration_id: &str) -> Option<String> {
        let tokens = self.tokens.lock().ok()?;
        tokens.get(integration_id).filter(|(_, at)| at.elapsed() < TOKEN_LIFETIME).map(|(t, _)| t.clone())
    }

    fn keep(&self, integration_id: &str, token: &str) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(integration_id.to_string(), (token.to_string(), std::time::Instant::now()));
        }
    }

    fn forget(&self, integration_id: &str) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.remove(integration_id);
        }
    }
}

/// What GoPay API addresses may be: public https only, unless the operator allowed private
/// processor APIs (`--allow-private-processor-api`, for a sandbox or a stand-in on the
/// internal network). The outbound-webhook switch does not apply here.
pub fn api_policy(config: &crate::config::ServerConfig) -> TargetPolicy {
    TargetPolicy { allow_private: config.allow_private_processor_api, resolver: config.resolver.clone() }
}

/// An HTTP client for GoPay that never connects to private addresses (unless allowed for
/// development) and never follows redirects.
pub fn client(policy: &TargetPolicy) -> reqwest::Client {
    if policy.allow_private {
        tracing::warn!("processor API lookups may go to private addresses or plain http (sandbox setting)");
    }
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(Policy::none())
        .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

fn text(value: &Value, name: &str) -> Option<String> {
    match value.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Fetches payment `payment_id` for the delivery's connection and reads it as an event.
async fn lookup(ctx: &GoPayLookup, entry: &InboxEntry, payment_id: &str) -> Result<Parsed, LookupError> {
    let transient = |e: &dyn std::fmt::Display| LookupError::Transient(e.to_string());
    let integration = ctx
        .store
        .get_integration(&entry.merchant_id, &entry.integration_id)
        .await
        .map_err(|e| transient(&e))?
        .ok_or_else(|| LookupError::Permanent("the GoPay integration was deleted".into()))?;
    let settings: Value = serde_json::from_str(&integration.settings).unwrap_or(Value::Null);
    let goid =
        text(&settings, "goid").ok_or_else(|| LookupError::Permanent("integration has no goid".into()))?;
    let base = text(&settings, "apiBaseUrl").unwrap_or_else(|| DEFAULT_API_BASE.into());
    let base = base.trim_end_matches('/').to_string();
    check_form(&base, &ctx.targets).map_err(|e| LookupError::Permanent(format!("apiBaseUrl {e}")))?;
    let sealed = integration
        .credentials_sealed
        .as_deref()
        .ok_or_else(|| LookupError::Permanent("integration has no API credentials".into()))?;
    let credentials: Value = ctx
        .secrets
        .open(sealed)
        .ok()
        .and_then(|plain| serde_json::from_str(&plain).ok())
        .ok_or_else(|| LookupError::Permanent("API credentials unreadable".into()))?;
    let (Some(client_id), Some(client_secret)) =
        (text(&credentials, "clientId"), text(&credentials, "clientSecret"))
    else {
        return Err(LookupError::Permanent("API credentials incomplete".into()));
    };
    let access = match ctx.tokens.fresh(&integration.id) {
        Some(token) => token,
        None => {
            let token: Value = ctx
                .client
                .post(format!("{base}/oauth2/token"))
                .basic_auth(client_id, Some(client_secret))
                .header("accept", "application/json")
                .form(&[("grant_type", "client_credentials"), ("scope", "payment-all")])
                .send()
                .await
                .map_err(|e| transient(&e))?
                .error_for_status()
                .map_err(|e| LookupError::Permanent(format!("GoPay refused the credentials: {e}")))?
                .json()
                .await
                .map_err(|e| transient(&e))?;
            let access = text(&token, "access_token")
                .ok_or_else(|| LookupError::Permanent("GoPay sent no access_token".into()))?;
            ctx.tokens.keep(&integration.id, &access);
            access
        }
    };
    let response = ctx
        .client
        .get(format!("{base}/payments/payment/{payment_id}"))
        .bearer_auth(access)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| transient(&e))?;
    if response.status() == reqwest::StatusCode::UNAUTHORIZED {
        // The cached token expired early or was revoked: the retry fetches a new one.
        ctx.tokens.forget(&integration.id);
        return Err(LookupError::Transient("GoPay refused the access token".into()));
    }
    if response.status().is_server_error() {
        return Err(LookupError::Transient(format!("GoPay answered {}", response.status())));
    }
    if !response.status().is_success() {
        return Err(LookupError::Permanent(format!(
            "GoPay answered {} for payment {payment_id}",
            response.status()
        )));
    }
    let bytes = response.bytes().await.map_err(|e| transient(&e))?;
    let payment: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    // A notification for another GoID's payment is not this merchant's sale.
    let owner = payment.get("target").and_then(|t| text(t, "goid"));
    if owner.as_deref() != Some(goid.as_str()) {
        return Err(LookupError::Permanent(format!("payment {payment_id} belongs to another GoID")));
    }
    parse_gopay_payment(&bytes).map_err(|e| LookupError::Permanent(format!("GoPay payment unreadable: {e}")))
}

//! What a payment-processor connection is made of, and its rules: which fields each provider
//! needs, the form of its webhook secret, GoPay's settings and credentials, and sealing.
//!
//! Doors (the REST API, `refline integration add`) only read values into a [`NewConnection`] or
//! a [`ConnectionChange`]; whether a field is required, allowed or well-formed depends on the
//! provider and is decided here, so every door accepts exactly the same input.

use refline_processors::Provider;
use refline_store::Integration;
use serde_json::{json, Map, Value};

use crate::{
    campaigns::Change, field_order::in_field_order, ids::new_id, secrets::SecretBox, CoreError, CoreResult,
    Issue,
};

/// Longest secret accepted (a PEM public key of a 4096-bit RSA key is about 800 characters).
pub const MAX_SECRET_CHARS: usize = 4096;
/// GoPay's production API, used when `apiBaseUrl` is not given. The server's GoPay client has
/// the same default (a server test keeps the two equal).
pub const GOPAY_API_BASE: &str = "https://gate.gopay.cz/api";
const PEM_HEADER: &str = "-----BEGIN PUBLIC KEY-----";

/// A text field as a door received it. Whether it is required or even allowed depends on the
/// provider, so the door does not decide: it says what it saw, and the operation reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Text {
    /// Not sent.
    #[default]
    Missing,
    /// Sent as `null`.
    Null,
    /// Sent as blank text.
    Blank,
    /// Sent but unreadable (wrong type, too long): the door's message, reported if it applies.
    Unreadable(String),
    /// Sent, trimmed.
    Given(String),
}

impl Text {
    /// A value from a door without types (the command line): trimmed, `max` characters at most.
    pub fn of(name: &str, value: Option<String>, max: usize) -> Text {
        match value {
            None => Text::Missing,
            Some(s) if s.trim().is_empty() => Text::Blank,
            Some(s) if s.trim().chars().count() > max => {
                Text::Unreadable(format!("{name} must be at most {max} characters"))
            }
            Some(s) => Text::Given(s.trim().to_string()),
        }
    }

    /// True when sent in any form (even `null`).
    pub fn is_sent(&self) -> bool {
        !matches!(self, Text::Missing)
    }

    /// The value of a required field; "is required" / "must not be empty" otherwise.
    fn required(&self, name: &str, issues: &mut Vec<Issue>) -> Option<String> {
        match self {
            Text::Missing | Text::Null => issues.push(Issue::field(name, format!("{name} is required"))),
            Text::Blank => issues.push(Issue::field(name, format!("{name} must not be empty"))),
            Text::Unreadable(message) => issues.push(Issue::field(name, message.clone())),
            Text::Given(text) => return Some(text.clone()),
        }
        None
    }

    /// The value of an optional field (blank counts as absent).
    fn optional(&self, name: &str, issues: &mut Vec<Issue>) -> Option<String> {
        match self {
            Text::Given(text) => Some(text.clone()),
            Text::Unreadable(message) => {
                issues.push(Issue::field(name, message.clone()));
                None
            }
            Text::Missing | Text::Null | Text::Blank => None,
        }
    }
}

/// A new connection as sent.
#[derive(Debug, Clone, Default)]
pub struct NewConnection {
    /// The processor (the door reports it missing or unknown).
    pub provider: Option<Provider>,
    /// A name, at most 200 characters.
    pub label: Text,
    /// The processor's webhook signing secret (paddle_classic: the PEM public key); GoPay
    /// signs nothing, so it is optional there.
    pub webhook_secret: Text,
    /// GoPay: merchant id (digits).
    pub goid: Text,
    /// GoPay: API base URL.
    pub api_base_url: Text,
    /// GoPay: API client id.
    pub client_id: Text,
    /// GoPay: API client secret.
    pub client_secret: Text,
    /// What the door could not read.
    pub unreadable: Vec<Issue>,
}

/// A change to a connection as sent.
#[derive(Debug, Clone, Default)]
pub struct ConnectionChange {
    /// `provider` if sent (non-text as its JSON text): it cannot change.
    pub provider: Option<String>,
    /// A new secret rotates: the current one stays valid as the previous one.
    pub webhook_secret: Text,
    /// Forget the previous secret.
    pub drop_previous_secret: bool,
    /// `active` or `disabled` (checked by the door).
    pub status: Option<String>,
    /// A new name; `Clear` for `null`.
    pub label: Change<String>,
    /// GoPay fields, refused for other providers.
    pub goid: Text,
    /// GoPay: API base URL.
    pub api_base_url: Text,
    /// GoPay: API client id.
    pub client_id: Text,
    /// GoPay: API client secret.
    pub client_secret: Text,
    /// What the door could not read.
    pub unreadable: Vec<Issue>,
}

/// Field order of connection problems.
const FIELDS: &[&str] = &[
    "provider",
    "label",
    "webhookSecret",
    "dropPreviousSecret",
    "status",
    "goid",
    "apiBaseUrl",
    "clientId",
    "clientSecret",
];

/// Names of every supported provider, for messages.
pub fn provider_names() -> Vec<&'static str> {
    Provider::ALL.iter().map(Provider::as_str).collect()
}

/// The last 4 characters of a secret, safe to show (of the key body for a PEM key, whose last
/// characters are its footer); empty for secrets too short to reveal a quarter of.
pub fn secret_hint(secret: &str) -> String {
    let body: String = if secret.starts_with("-----") {
        secret.lines().filter(|l| !l.starts_with("-----")).flat_map(|l| l.trim().chars()).collect()
    } else {
        secret.to_string()
    };
    let chars: Vec<char> = body.chars().collect();
    if chars.len() < 12 {
        return String::new();
    }
    chars[chars.len() - 4..].iter().collect()
}

/// The webhook secret if its form suits `provider`.
fn checked_secret(provider: Provider, secret: Option<String>, issues: &mut Vec<Issue>) -> Option<String> {
    let secret = secret?;
    if provider == Provider::PaddleClassic {
        if !secret.starts_with(PEM_HEADER) || !secret.contains("-----END PUBLIC KEY-----") {
            issues.push(Issue::field(
                "webhookSecret",
                format!("webhookSecret for paddle_classic is the vendor's RSA public key in PEM form ({PEM_HEADER} …)"),
            ));
            return None;
        }
    } else if secret.chars().any(char::is_control) {
        issues.push(Issue::field(
            "webhookSecret",
            "webhookSecret must not contain line breaks or control characters",
        ));
        return None;
    }
    Some(secret)
}

/// A GoPay `goid`: digits.
fn checked_goid(goid: &Text, required: bool, issues: &mut Vec<Issue>) -> Option<String> {
    let text = match goid {
        Text::Missing | Text::Null if required => {
            issues.push(Issue::field("goid", "goid is required for gopay (your GoPay merchant id)"));
            return None;
        }
        Text::Missing | Text::Null => return None,
        Text::Given(text) => text.as_str(),
        Text::Blank | Text::Unreadable(_) => "",
    };
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        issues.push(Issue::field("goid", "goid must be your GoPay merchant id (digits)"));
        return None;
    }
    Some(text.to_string())
}

/// An absolute http(s) URL, kept without a trailing slash.
fn checked_api_base(base: &Text, issues: &mut Vec<Issue>) -> Option<String> {
    let text = base.optional("apiBaseUrl", issues)?;
    let ok = url::Url::parse(&text).ok().is_some_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && u.username().is_empty()
    });
    if !ok {
        issues.push(Issue::field("apiBaseUrl", "apiBaseUrl must be an absolute http:// or https:// URL"));
        return None;
    }
    Some(text.trim_end_matches('/').to_string())
}

/// GoPay's API credentials: both together (the pair is sealed as one value, and half a pair
/// never authenticates).
fn checked_credentials(
    id: &Text,
    secret: &Text,
    required: bool,
    issues: &mut Vec<Issue>,
) -> Option<(String, String)> {
    if !required && !id.is_sent() && !secret.is_sent() {
        return None;
    }
    let id = id.required("clientId", issues);
    let secret = secret.required("clientSecret", issues);
    Some((id?, secret?))
}

fn seal_credentials(secrets: &SecretBox, (id, secret): (String, String)) -> String {
    secrets.seal(&json!({ "clientId": id, "clientSecret": secret }).to_string())
}

/// A new connection, checked and sealed; every problem is reported at once.
pub fn build_connection(
    input: NewConnection,
    merchant_id: &str,
    secrets: &SecretBox,
    now: i64,
) -> CoreResult<Integration> {
    let mut issues = input.unreadable;
    let label = input.label.optional("label", &mut issues);
    let Some(provider) = input.provider else {
        in_field_order(&mut issues, FIELDS);
        return Err(if issues.is_empty() {
            CoreError::internal("connection input without provider and no issue")
        } else {
            CoreError::validation(issues)
        });
    };
    // GoPay signs nothing (notifications are looked up through its API), so a secret is optional.
    let gopay = provider == Provider::GoPay;
    let secret = if gopay {
        input.webhook_secret.optional("webhookSecret", &mut issues)
    } else {
        input.webhook_secret.required("webhookSecret", &mut issues)
    };
    let secret = checked_secret(provider, secret, &mut issues);
    let mut settings = Map::new();
    let mut credentials = None;
    // Other providers have no such settings; what was sent for them is ignored, as LinkJolt does.
    if gopay {
        let goid = checked_goid(&input.goid, true, &mut issues);
        let base =
            checked_api_base(&input.api_base_url, &mut issues).unwrap_or_else(|| GOPAY_API_BASE.into());
        credentials = checked_credentials(&input.client_id, &input.client_secret, true, &mut issues);
        if let Some(goid) = goid {
            settings.insert("goid".into(), Value::String(goid));
        }
        settings.insert("apiBaseUrl".into(), Value::String(base));
    }
    in_field_order(&mut issues, FIELDS);
    if !issues.is_empty() {
        return Err(CoreError::validation(issues));
    }
    let secret = match secret {
        Some(secret) => secret,
        None if gopay => new_id("gopay_unsigned"),
        None => return Err(CoreError::internal("validated secret missing")),
    };
    Ok(Integration {
        id: new_id("int"),
        merchant_id: merchant_id.to_string(),
        provider: provider.as_str().to_string(),
        status: "active".into(),
        label,
        secret_sealed: secrets.seal(&secret),
        secret_hint: secret_hint(&secret),
        previous_secret_sealed: None,
        settings: Value::Object(settings).to_string(),
        credentials_sealed: credentials.map(|c| seal_credentials(secrets, c)),
        created_at: now,
        updated_at: now,
    })
}

/// Applies a change: a new `webhookSecret` rotates (the current secret stays valid as the
/// previous one), `dropPreviousSecret`, `status`, `label` and the provider's settings.
pub fn apply_change(
    change: ConnectionChange,
    integration: &mut Integration,
    secrets: &SecretBox,
    now: i64,
) -> CoreResult<()> {
    let Some(provider) = Provider::parse(&integration.provider) else {
        return Err(CoreError::internal(format!("stored provider {} unknown", integration.provider)));
    };
    let mut issues = change.unreadable;
    if change.provider.as_deref().is_some_and(|given| given != provider.as_str()) {
        issues.push(Issue::field("provider", "provider cannot be changed; create a new integration instead"));
    }
    let secret = change.webhook_secret.optional("webhookSecret", &mut issues);
    let secret = checked_secret(provider, secret, &mut issues);
    let mut settings: Map<String, Value> = serde_json::from_str(&integration.settings).unwrap_or_default();
    let mut credentials = None;
    if provider == Provider::GoPay {
        if let Some(goid) = checked_goid(&change.goid, false, &mut issues) {
            settings.insert("goid".into(), Value::String(goid));
        }
        if let Some(base) = checked_api_base(&change.api_base_url, &mut issues) {
            settings.insert("apiBaseUrl".into(), Value::String(base));
        }
        credentials = checked_credentials(&change.client_id, &change.client_secret, false, &mut issues);
    } else {
        let gopay_only = [
            ("goid", &change.goid),
            ("clientId", &change.client_id),
            ("clientSecret", &change.client_secret),
            ("apiBaseUrl", &change.api_base_url),
        ];
        for (name, value) in gopay_only {
            if value.is_sent() {
                issues.push(Issue::field(name, format!("{name} applies only to gopay integrations")));
            }
        }
    }
    in_field_order(&mut issues, FIELDS);
    if !issues.is_empty() {
        return Err(CoreError::validation(issues));
    }
    if let Some(secret) = secret {
        let current = std::mem::replace(&mut integration.secret_sealed, secrets.seal(&secret));
        integration.previous_secret_sealed = Some(current);
        integration.secret_hint = secret_hint(&secret);
    }
    if change.drop_previous_secret {
        integration.previous_secret_sealed = None;
    }
    if let Some(status) = change.status {
        integration.status = status;
    }
    match change.label {
        Change::Keep => {}
        Change::Clear => integration.label = None,
        Change::Set(label) => integration.label = Some(label),
    }
    integration.settings = Value::Object(settings).to_string();
    if let Some(pair) = credentials {
        integration.credentials_sealed = Some(seal_credentials(secrets, pair));
    }
    integration.updated_at = now;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn given(text: &str) -> Text {
        Text::Given(text.into())
    }

    fn paths(err: &CoreError) -> Vec<String> {
        let details = err.details.as_deref().and_then(Value::as_array).cloned().unwrap_or_default();
        details.iter().filter_map(|d| d["path"][0].as_str().map(str::to_string)).collect()
    }

    #[test]
    fn hints_show_only_the_end() {
        assert_eq!(secret_hint("whsec_abcdefghijklmnop"), "mnop");
        assert_eq!(secret_hint("short"), "");
        let pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwxyz\n-----END PUBLIC KEY-----\n";
        assert_eq!(secret_hint(pem), "wxyz");
    }

    #[test]
    fn stripe_is_sealed_and_hinted() {
        let secrets = SecretBox::new([1; 32]);
        let input = NewConnection {
            provider: Some(Provider::Stripe),
            webhook_secret: given("whsec_0123456789abcdef"),
            label: given("Main"),
            ..NewConnection::default()
        };
        let i = build_connection(input, "mer_1", &secrets, 5).unwrap();
        assert_eq!(
            (i.provider.as_str(), i.status.as_str(), i.label.as_deref()),
            ("stripe", "active", Some("Main"))
        );
        assert!(!i.secret_sealed.contains("whsec_"));
        assert_eq!(secrets.open(&i.secret_sealed).unwrap(), "whsec_0123456789abcdef");
        assert_eq!(i.secret_hint, "cdef");
        assert_eq!(i.settings, "{}");
    }

    #[test]
    fn gopay_needs_its_fields() {
        let secrets = SecretBox::new([1; 32]);
        let input = NewConnection {
            provider: Some(Provider::GoPay),
            api_base_url: given("ftp://x"),
            ..NewConnection::default()
        };
        let err = build_connection(input, "m", &secrets, 1).unwrap_err();
        assert_eq!(paths(&err), ["goid", "apiBaseUrl", "clientId", "clientSecret"]);
        let ok = NewConnection {
            provider: Some(Provider::GoPay),
            goid: given("8123456789"),
            client_id: given("c"),
            client_secret: given("s"),
            ..NewConnection::default()
        };
        let i = build_connection(ok, "m", &secrets, 1).unwrap();
        let settings: Value = serde_json::from_str(&i.settings).unwrap();
        assert_eq!(settings, json!({ "goid": "8123456789", "apiBaseUrl": GOPAY_API_BASE }));
        let creds: Value =
            serde_json::from_str(&secrets.open(i.credentials_sealed.as_deref().unwrap()).unwrap()).unwrap();
        assert_eq!(creds, json!({ "clientId": "c", "clientSecret": "s" }));
    }

    #[test]
    fn paddle_classic_wants_a_pem_key() {
        let secrets = SecretBox::new([1; 32]);
        let input = NewConnection {
            provider: Some(Provider::PaddleClassic),
            webhook_secret: given("not a key"),
            ..NewConnection::default()
        };
        assert!(build_connection(input, "m", &secrets, 1).is_err());
    }

    #[test]
    fn rotation_keeps_the_previous_secret_until_dropped() {
        let secrets = SecretBox::new([1; 32]);
        let input = NewConnection {
            provider: Some(Provider::Polar),
            webhook_secret: given("polar_whs_first_secret"),
            ..NewConnection::default()
        };
        let mut i = build_connection(input, "m", &secrets, 1).unwrap();
        let rotate = ConnectionChange {
            webhook_secret: given("polar_whs_second_secret"),
            ..ConnectionChange::default()
        };
        apply_change(rotate, &mut i, &secrets, 2).unwrap();
        assert_eq!(secrets.open(&i.secret_sealed).unwrap(), "polar_whs_second_secret");
        assert_eq!(
            secrets.open(i.previous_secret_sealed.as_deref().unwrap()).unwrap(),
            "polar_whs_first_secret"
        );
        let drop = ConnectionChange {
            drop_previous_secret: true,
            label: Change::Clear,
            ..ConnectionChange::default()
        };
        apply_change(drop, &mut i, &secrets, 3).unwrap();
        assert_eq!(i.previous_secret_sealed, None);
        assert_eq!(i.updated_at, 3);
        let gopay_only = ConnectionChange { goid: given("1"), ..ConnectionChange::default() };
        assert!(apply_change(gopay_only, &mut i, &secrets, 4).is_err());
    }

    #[test]
    fn command_line_text_is_trimmed_and_bounded() {
        assert_eq!(Text::of("label", None, 5), Text::Missing);
        assert_eq!(Text::of("label", Some("  ".into()), 5), Text::Blank);
        assert_eq!(Text::of("label", Some(" ab ".into()), 5), given("ab"));
        assert!(matches!(Text::of("label", Some("abcdef".into()), 5), Text::Unreadable(_)));
    }
}

//! Reading a payment-processor connection from a request body: the provider, its webhook
//! secret and its provider-specific fields, checked and sealed. Shared by the API and the
//! `refline integration add` command, so both accept exactly the same input.

use refline_processors::Provider;
use refline_store::Integration;
use serde_json::{json, Map, Value};

use crate::{
    error::{ApiError, ApiResult},
    http::body::Fields,
    ids::new_id,
    secrets::SecretBox,
};

/// Longest secret accepted (a PEM public key of a 4096-bit RSA key is about 800 characters).
pub const MAX_SECRET_CHARS: usize = 4096;
/// GoPay's production API, used when `apiBaseUrl` is not given.
pub use crate::processors::gopay::DEFAULT_API_BASE as GOPAY_API_BASE;
const PEM_HEADER: &str = "-----BEGIN PUBLIC KEY-----";

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

/// Checks a webhook secret's form for `provider`, recording issues on `webhookSecret`.
fn check_secret(f: &mut Fields<'_>, provider: Provider, secret: &str) -> bool {
    if provider == Provider::PaddleClassic {
        if !secret.starts_with(PEM_HEADER) || !secret.contains("-----END PUBLIC KEY-----") {
            f.issue(
                "webhookSecret",
                format!("webhookSecret for paddle_classic is the vendor's RSA public key in PEM form ({PEM_HEADER} …)"),
            );
            return false;
        }
    } else if secret.chars().any(char::is_control) {
        f.issue("webhookSecret", "webhookSecret must not contain line breaks or control characters");
        return false;
    }
    true
}

/// `webhookSecret`, checked for `provider`; `required` reports it missing.
fn read_secret(f: &mut Fields<'_>, provider: Provider, required: bool) -> Option<String> {
    let secret = if required {
        f.required_string("webhookSecret", MAX_SECRET_CHARS)
    } else {
        f.optional_string("webhookSecret", MAX_SECRET_CHARS)
    }?;
    check_secret(f, provider, &secret).then_some(secret)
}

/// A GoPay `goid`: digits, given as a string or a number.
fn read_goid(f: &mut Fields<'_>, required: bool) -> Option<String> {
    let text = match f.value("goid") {
        None if required => {
            f.issue("goid", "goid is required for gopay (your GoPay merchant id)");
            return None;
        }
        None => return None,
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(_) => String::new(),
    };
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        f.issue("goid", "goid must be your GoPay merchant id (digits)");
        return None;
    }
    Some(text)
}

/// An absolute http(s) URL without a trailing slash.
fn read_api_base(f: &mut Fields<'_>) -> Option<String> {
    let text = f.optional_string("apiBaseUrl", 2048)?;
    let ok = url::Url::parse(&text).ok().is_some_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && u.username().is_empty()
    });
    if !ok {
        f.issue("apiBaseUrl", "apiBaseUrl must be an absolute http:// or https:// URL");
        return None;
    }
    Some(text.trim_end_matches('/').to_string())
}

/// GoPay's API credentials as the sealed JSON `{"clientId", "clientSecret"}`.
fn read_credentials(f: &mut Fields<'_>, required: bool) -> Option<(String, String)> {
    if !required && !f.has("clientId") && !f.has("clientSecret") {
        return None;
    }
    // Both together: the pair is sealed as one value, and half a pair never authenticates.
    let id = f.required_string("clientId", 255);
    let secret = f.required_string("clientSecret", MAX_SECRET_CHARS);
    Some((id?, secret?))
}

fn seal_credentials(secrets: &SecretBox, (id, secret): (String, String)) -> String {
    secrets.seal(&json!({ "clientId": id, "clientSecret": secret }).to_string())
}

/// Reads a new connection from a `POST` body: `provider`, `webhookSecret`, `label`, and for
/// GoPay `goid`, `clientId`, `clientSecret`, `apiBaseUrl`. Every problem is reported at once.
pub fn new_integration(
    map: &Map<String, Value>,
    merchant_id: &str,
    secrets: &SecretBox,
    now: i64,
) -> ApiResult<Integration> {
    let mut f = Fields::new(map);
    let names = provider_names();
    let provider = match f.value("provider") {
        None => {
            f.issue("provider", format!("provider is required (one of: {})", names.join(", ")));
            None
        }
        Some(v) => {
            let found = v.as_str().and_then(Provider::parse);
            if found.is_none() {
                f.issue("provider", format!("provider must be one of: {}", names.join(", ")));
            }
            found
        }
    };
    let label = f.optional_string("label", 200);
    let Some(provider) = provider else {
        f.finish()?;
        return Err(ApiError::internal("validated provider missing"));
    };
    // GoPay signs nothing (notifications are looked up through its API), so a secret is optional.
    let gopay = provider == Provider::GoPay;
    let secret = read_secret(&mut f, provider, !gopay);
    let mut settings = Map::new();
    let mut credentials = None;
    if gopay {
        let goid = read_goid(&mut f, true);
        let base = read_api_base(&mut f).unwrap_or_else(|| GOPAY_API_BASE.to_string());
        credentials = read_credentials(&mut f, true);
        if let Some(goid) = goid {
            settings.insert("goid".into(), Value::String(goid));
        }
        settings.insert("apiBaseUrl".into(), Value::String(base));
    }
    f.finish()?;
    let secret = match secret {
        Some(secret) => secret,
        None if gopay => new_id("gopay_unsigned"),
        None => return Err(ApiError::internal("validated secret missing")),
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

/// Applies a `PATCH` body to `integration`: `webhookSecret` rotates (the current secret stays
/// valid as the previous one), `dropPreviousSecret: true`, `status`, `label` (null clears) and
/// the provider's settings.
pub fn apply_update(
    map: &Map<String, Value>,
    integration: &mut Integration,
    secrets: &SecretBox,
    now: i64,
) -> ApiResult<()> {
    let mut f = Fields::new(map);
    let Some(provider) = Provider::parse(&integration.provider) else {
        return Err(ApiError::internal(format!("stored provider {} unknown", integration.provider)));
    };
    if let Some(given) = f.value("provider") {
        if given.as_str() != Some(provider.as_str()) {
            f.issue("provider", "provider cannot be changed; create a new integration instead");
        }
    }
    let secret = read_secret(&mut f, provider, false);
    let drop_previous = f.optional_bool("dropPreviousSecret").unwrap_or(false);
    let status = f.optional_enum("status", &["active", "disabled"]);
    let label = f.optional_string("label", 200);
    let clear_label = f.has("label") && f.value("label").is_none();
    let mut settings: Map<String, Value> = serde_json::from_str(&integration.settings).unwrap_or_default();
    let mut credentials = None;
    if provider == Provider::GoPay {
        if let Some(goid) = read_goid(&mut f, false) {
            settings.insert("goid".into(), Value::String(goid));
        }
        if let Some(base) = read_api_base(&mut f) {
            settings.insert("apiBaseUrl".into(), Value::String(base));
        }
        credentials = read_credentials(&mut f, false);
    } else {
        for name in ["goid", "clientId", "clientSecret", "apiBaseUrl"] {
            if f.has(name) {
                f.issue(name, format!("{name} applies only to gopay integrations"));
            }
        }
    }
    f.finish()?;
    if let Some(secret) = secret {
        let current = std::mem::replace(&mut integration.secret_sealed, secrets.seal(&secret));
        integration.previous_secret_sealed = Some(current);
        integration.secret_hint = secret_hint(&secret);
    }
    if drop_previous {
        integration.previous_secret_sealed = None;
    }
    if let Some(status) = status {
        integration.status = status.to_string();
    }
    if label.is_some() || clear_label {
        integration.label = label;
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

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
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
        let map =
            body(json!({ "provider": "stripe", "webhookSecret": "whsec_0123456789abcdef", "label": "Main" }));
        let i = new_integration(&map, "mer_1", &secrets, 5).unwrap();
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
    fn unknown_provider_lists_the_allowed_ones() {
        let secrets = SecretBox::new([1; 32]);
        let err =
            new_integration(&body(json!({ "provider": "paypal", "webhookSecret": "x" })), "m", &secrets, 1)
                .unwrap_err();
        let details = err.details.unwrap().to_string();
        assert!(details.contains("paddle_classic") && details.contains("polar"), "{details}");
    }

    #[test]
    fn gopay_needs_its_fields() {
        let secrets = SecretBox::new([1; 32]);
        let err =
            new_integration(&body(json!({ "provider": "gopay", "apiBaseUrl": "ftp://x" })), "m", &secrets, 1)
                .unwrap_err();
        let details = err.details.unwrap().to_string();
        for name in ["goid", "clientId", "clientSecret", "apiBaseUrl"] {
            assert!(details.contains(name), "{name}: {details}");
        }
        let ok = body(
            json!({ "provider": "gopay", "goid": 8123456789_u64, "clientId": "c", "clientSecret": "s" }),
        );
        let i = new_integration(&ok, "m", &secrets, 1).unwrap();
        let settings: Value = serde_json::from_str(&i.settings).unwrap();
        assert_eq!(settings, json!({ "goid": "8123456789", "apiBaseUrl": GOPAY_API_BASE }));
        let creds: Value =
            serde_json::from_str(&secrets.open(i.credentials_sealed.as_deref().unwrap()).unwrap()).unwrap();
        assert_eq!(creds, json!({ "clientId": "c", "clientSecret": "s" }));
    }

    #[test]
    fn paddle_classic_wants_a_pem_key() {
        let secrets = SecretBox::new([1; 32]);
        let map = body(json!({ "provider": "paddle_classic", "webhookSecret": "not a key" }));
        assert!(new_integration(&map, "m", &secrets, 1).is_err());
    }

    #[test]
    fn rotation_keeps_the_previous_secret_until_dropped() {
        let secrets = SecretBox::new([1; 32]);
        let map = body(json!({ "provider": "polar", "webhookSecret": "polar_whs_first_secret" }));
        let mut i = new_integration(&map, "m", &secrets, 1).unwrap();
        apply_update(&body(json!({ "webhookSecret": "polar_whs_second_secret" })), &mut i, &secrets, 2)
            .unwrap();
        assert_eq!(secrets.open(&i.secret_sealed).unwrap(), "polar_whs_second_secret");
        assert_eq!(
            secrets.open(i.previous_secret_sealed.as_deref().unwrap()).unwrap(),
            "polar_whs_first_secret"
        );
        apply_update(&body(json!({ "dropPreviousSecret": true, "label": null })), &mut i, &secrets, 3)
            .unwrap();
        assert_eq!(i.previous_secret_sealed, None);
        assert_eq!(i.updated_at, 3);
        assert!(apply_update(&body(json!({ "goid": "1" })), &mut i, &secrets, 4).is_err());
    }
}

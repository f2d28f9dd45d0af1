//! Reading a payment-processor connection from a JSON body into the core's typed input
//! (`refline_core::connection_input`): types and lengths only. Which fields a provider needs,
//! secret forms, GoPay's settings and sealing are the core's, shared with
//! `refline integration add`, so both accept exactly the same input.

use refline_core::{
    campaigns::Change,
    connection_input::{ConnectionChange, NewConnection, Text},
};
use refline_processors::Provider;
use serde_json::{Map, Value};

use crate::http::body::Fields;

// Moved to the core; re-exported so existing paths keep working.
pub use refline_core::connection_input::{provider_names, secret_hint, GOPAY_API_BASE, MAX_SECRET_CHARS};

/// A text field as received, without reporting: whether it is required or allowed depends on
/// the provider, which the core decides. A wrong type or length keeps the message it would get.
fn text(map: &Map<String, Value>, name: &str, max: usize) -> Text {
    match map.get(name) {
        None => Text::Missing,
        Some(Value::Null) => Text::Null,
        Some(Value::String(s)) if s.trim().is_empty() => Text::Blank,
        Some(_) => {
            let mut scratch = Fields::new(map);
            match scratch.optional_string(name, max) {
                Some(value) => Text::Given(value),
                None => Text::Unreadable(
                    scratch.into_issues().into_iter().next().map(|i| i.message).unwrap_or_default(),
                ),
            }
        }
    }
}

/// A GoPay `goid`: digits, given as a string or a number.
fn goid(map: &Map<String, Value>) -> Text {
    match map.get("goid") {
        Some(Value::Number(n)) => Text::Given(n.to_string()),
        Some(Value::String(s)) => Text::Given(s.trim().to_string()),
        Some(Value::Null) => Text::Null,
        None => Text::Missing,
        Some(_) => Text::Unreadable("goid must be your GoPay merchant id (digits)".into()),
    }
}

/// A `POST` body: `provider`, `webhookSecret`, `label`, and for GoPay `goid`, `clientId`,
/// `clientSecret`, `apiBaseUrl`.
pub fn read_new(map: &Map<String, Value>) -> NewConnection {
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
    NewConnection {
        provider,
        label: text(map, "label", 200),
        webhook_secret: text(map, "webhookSecret", MAX_SECRET_CHARS),
        goid: goid(map),
        api_base_url: text(map, "apiBaseUrl", 2048),
        client_id: text(map, "clientId", 255),
        client_secret: text(map, "clientSecret", MAX_SECRET_CHARS),
        unreadable: f.into_issues(),
    }
}

/// A `PATCH` body: `webhookSecret` (rotates), `dropPreviousSecret: true`, `status`, `label`
/// (`null` clears) and the provider's settings.
pub fn read_change(map: &Map<String, Value>) -> ConnectionChange {
    let mut f = Fields::new(map);
    let provider = f.value("provider").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
    let drop_previous_secret = f.optional_bool("dropPreviousSecret").unwrap_or(false);
    let status = f.optional_enum("status", &["active", "disabled"]).map(str::to_string);
    let label = match f.optional_string("label", 200) {
        Some(label) => Change::Set(label),
        // Only `null` clears; blank text leaves the label as it is.
        None if f.has("label") && f.value("label").is_none() => Change::Clear,
        None => Change::Keep,
    };
    ConnectionChange {
        provider,
        webhook_secret: text(map, "webhookSecret", MAX_SECRET_CHARS),
        drop_previous_secret,
        status,
        label,
        goid: goid(map),
        api_base_url: text(map, "apiBaseUrl", 2048),
        client_id: text(map, "clientId", 255),
        client_secret: text(map, "clientSecret", MAX_SECRET_CHARS),
        unreadable: f.into_issues(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_core_and_the_gopay_client_agree_on_the_default_api() {
        assert_eq!(GOPAY_API_BASE, crate::inbound::gopay::DEFAULT_API_BASE);
    }

    #[test]
    fn unknown_provider_lists_the_allowed_ones() {
        let input = read_new(&body(json!({ "provider": "paypal", "webhookSecret": "x" })));
        assert_eq!(input.provider, None);
        let message = &input.unreadable[0].message;
        assert!(message.contains("paddle_classic") && message.contains("polar"), "{message}");
    }

    #[test]
    fn text_fields_say_what_was_sent() {
        let map =
            body(json!({ "label": null, "clientId": " ", "goid": 81, "clientSecret": 5, "apiBaseUrl": "x" }));
        let input = read_new(&map);
        assert_eq!(input.label, Text::Null);
        assert_eq!(input.client_id, Text::Blank);
        assert_eq!(input.goid, Text::Given("81".into()));
        assert_eq!(input.client_secret, Text::Unreadable("clientSecret must be a string".into()));
        assert_eq!(input.api_base_url, Text::Given("x".into()));
        assert_eq!(input.webhook_secret, Text::Missing);
        let change = read_change(&body(json!({ "label": null, "provider": 5 })));
        assert_eq!((change.label, change.provider), (Change::Clear, Some("5".into())));
    }
}

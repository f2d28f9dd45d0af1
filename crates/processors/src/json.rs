//! Lenient, panic-free reads from `serde_json::Value` trees.
//!
//! Payloads are walked as `Value` rather than deserialized into structs: processors add fields,
//! change API versions and send `null` freely, and a missing optional field must never fail a
//! delivery that is otherwise understood.

use serde_json::Value;

use crate::error::ParseError;

pub(crate) fn parse_body(body: &[u8]) -> Result<Value, ParseError> {
    serde_json::from_slice(body).map_err(|_| ParseError::Body("JSON"))
}

/// The value at a path of object keys, skipping `null`.
pub(crate) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = cur.as_object()?.get(*key)?;
    }
    (!cur.is_null()).then_some(cur)
}

/// A non-empty string at a path.
pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path)?.as_str().filter(|s| !s.is_empty())
}

/// An identifier at a path: a non-empty string, an integer, or an expanded object's `id`.
pub(crate) fn id_at(v: &Value, path: &[&str]) -> Option<String> {
    id_of(at(v, path)?)
}

pub(crate) fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => n.as_i64().map(|i| i.to_string()).or_else(|| n.as_u64().map(|u| u.to_string())),
        Value::Object(o) => o.get("id").and_then(id_of),
        _ => None,
    }
}

/// An integer at a path: a JSON integer, or a string of one (Paddle Billing sends totals as
/// strings of minor units).
pub(crate) fn int_at(v: &Value, path: &[&str]) -> Option<i64> {
    match at(v, path)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => crate::money::int_text(s),
        _ => None,
    }
}

pub(crate) fn bool_at(v: &Value, path: &[&str]) -> Option<bool> {
    match at(v, path)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A required string, or the error naming it.
pub(crate) fn req_str<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, ParseError> {
    str_at(v, path).ok_or_else(|| ParseError::field(path.join(".")))
}

pub(crate) fn req_id(v: &Value, path: &[&str]) -> Result<String, ParseError> {
    id_at(v, path).ok_or_else(|| ParseError::field(path.join(".")))
}

pub(crate) fn req_int(v: &Value, path: &[&str]) -> Result<i64, ParseError> {
    int_at(v, path).ok_or_else(|| ParseError::field(path.join(".")))
}

/// A required currency code, upper-cased.
pub(crate) fn req_currency(v: &Value, path: &[&str]) -> Result<String, ParseError> {
    str_at(v, path)
        .and_then(crate::money::normalize_currency)
        .ok_or_else(|| ParseError::field(path.join(".")))
}

pub(crate) fn currency_at(v: &Value, path: &[&str]) -> Option<String> {
    str_at(v, path).and_then(crate::money::normalize_currency)
}

/// The string entries of a metadata-like object (numbers and booleans rendered as text).
pub(crate) fn string_map(v: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Object(o)) = v else { return Vec::new() };
    o.iter()
        .filter_map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((k.clone(), s))
        })
        .collect()
}

pub(crate) fn array_at<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Hex SHA-256 of a body, for event ids of deliveries that carry none.
pub(crate) fn digest_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

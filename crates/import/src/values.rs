//! Reading the loosely typed JSON sources answer: numbers that may come as strings, ids that
//! may be numbers, timestamps as ISO 8601 or epoch numbers.

use serde_json::Value;

/// Text at `key` (a number is written out), trimmed; `None` for null, missing or blank.
pub fn text(value: &Value, key: &str) -> Option<String> {
    let text = match value.get(key)? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// A whole number at `key`, from a number or numeric text; `None` otherwise.
pub fn int(value: &Value, key: &str) -> Option<i64> {
    match value.get(key)? {
        Value::Number(n) => n.as_i64().or_else(|| n.to_string().parse::<f64>().ok().and_then(whole)),
        Value::String(s) => {
            s.trim().parse::<i64>().ok().or_else(|| s.trim().parse::<f64>().ok().and_then(whole))
        }
        _ => None,
    }
}

/// The number as `i64` when it has no fractional part and fits.
fn whole(f: f64) -> Option<i64> {
    // A float here is an amount in minor units or a count: it must be whole.
    (f.fract() == 0.0 && f.abs() < 9.0e15).then(|| {
        #[allow(clippy::cast_possible_truncation)]
        let n = f as i64;
        n
    })
}

/// Unix ms at `key`: ISO 8601 text or epoch seconds / milliseconds.
pub fn time(value: &Value, key: &str) -> Option<i64> {
    match value.get(key)? {
        Value::String(s) => refline_domain::parse_timestamp(s.trim(), false),
        Value::Number(_) => {
            let n = int(value, key)?;
            // Epoch seconds until the year 5138; milliseconds beyond.
            Some(if n.abs() < 100_000_000_000 { n.saturating_mul(1000) } else { n })
        }
        _ => None,
    }
}

/// The object at `key`, or `Null`.
pub fn obj<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.get(key).unwrap_or(&Value::Null)
}

/// The array at `key` (empty when missing).
pub fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_and_texts_read_alike() {
        let v = json!({"a": 12, "b": "12", "c": "12.0", "d": 12.5, "e": null, "f": " x ", "g": ""});
        assert_eq!(int(&v, "a"), Some(12));
        assert_eq!(int(&v, "b"), Some(12));
        assert_eq!(int(&v, "c"), Some(12));
        assert_eq!(int(&v, "d"), None);
        assert_eq!(int(&v, "e"), None);
        assert_eq!(text(&v, "a").as_deref(), Some("12"));
        assert_eq!(text(&v, "f").as_deref(), Some("x"));
        assert_eq!(text(&v, "g"), None);
    }

    #[test]
    fn times_come_as_text_or_epoch() {
        let v = json!({"iso": "2024-01-02T03:04:05Z", "s": 1_704_164_645, "ms": 1_704_164_645_000_i64});
        assert_eq!(time(&v, "iso"), Some(1_704_164_645_000));
        assert_eq!(time(&v, "s"), Some(1_704_164_645_000));
        assert_eq!(time(&v, "ms"), Some(1_704_164_645_000));
    }
}

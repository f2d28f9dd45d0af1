//! Reading request bodies and checking their fields.
//!
//! Bodies are parsed to a JSON object first and each field is then checked by hand, so one
//! answer lists every problem (`details[]`), messages say what is expected, and money keeps
//! the exact digits the client sent (serde_json's `arbitrary_precision` keeps number text).

use refline_core::campaigns::Change;
use refline_domain::{describe_char, first_forbidden_char};
use serde_json::{Map, Number, Value};

use crate::error::{ApiError, ApiResult, Issue};

/// Parses a request body that may be left out (an action whose fields are all optional): no
/// body is an empty object; a body must be a JSON object.
pub fn parse_optional_object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    parse_object(body)
}

/// Parses a request body that must be a JSON object.
pub fn parse_object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation(vec![Issue {
            path: vec![],
            message: "Request body is required (a JSON object)".into(),
        }]));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => {
            let mut issues = Vec::new();
            for (key, value) in &map {
                forbidden_text(key, value, &mut vec![Value::from(key.as_str())], &mut issues);
            }
            if issues.is_empty() {
                Ok(map)
            } else {
                Err(ApiError::validation(issues))
            }
        }
        Ok(_) => Err(ApiError::validation(vec![Issue {
            path: vec![],
            message: "Request body must be a JSON object".into(),
        }])),
        Err(err) => Err(ApiError::validation(vec![Issue {
            path: vec![],
            message: format!("Request body is not valid JSON: {err}"),
        }])),
    }
}

/// Collects an issue for every string (or object key) under `value` that holds a character no
/// stored text may contain (`refline_domain::is_forbidden_char`: U+0000 and other controls),
/// naming where it is. Checked once for the whole body, so no field of any resource can carry
/// one to the database.
fn forbidden_text(key: &str, value: &Value, path: &mut Vec<Value>, issues: &mut Vec<Issue>) {
    let describe = |text: &str| first_forbidden_char(text).map(describe_char);
    if let Some(c) = describe(key) {
        issues.push(Issue {
            path: path.clone(),
            message: format!("field names must not contain control characters ({c})"),
        });
    }
    match value {
        Value::String(text) => {
            if let Some(c) = describe(text) {
                issues.push(Issue {
                    path: path.clone(),
                    message: format!(
                        "must not contain control characters ({c}); tab and line breaks are allowed"
                    ),
                });
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Value::from(i));
                forbidden_text("", item, path, issues);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                path.push(Value::from(k.as_str()));
                forbidden_text(k, v, path, issues);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Field-by-field checks over a JSON object, collecting every issue.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    issues: Vec<Issue>,
}

impl<'a> Fields<'a> {
    /// Starts checking `map`.
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Fields { map, issues: Vec::new() }
    }

    /// Records an issue on `name`.
    pub fn issue(&mut self, name: &str, message: impl Into<String>) {
        self.issues.push(Issue::field(name, message));
    }

    /// Records an issue at a nested path.
    pub fn issue_at(&mut self, path: Vec<Value>, message: impl Into<String>) {
        self.issues.push(Issue { path, message: message.into() });
    }

    /// True when the field is present (even as null).
    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The raw value of a present, non-null field.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// A required non-blank string of at most `max` characters, trimmed.
    pub fn required_string(&mut self, name: &str, max: usize) -> Option<String> {
        match self.value(name) {
            None => {
                self.issue(name, format!("{name} is required"));
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.issue(name, format!("{name} must not be empty"));
                None
            }
            Some(_) => self.optional_string(name, max),
        }
    }

    /// An optional string of at most `max` characters, trimmed; empty counts as absent.
    pub fn optional_string(&mut self, name: &str, max: usize) -> Option<String> {
        match self.value(name)? {
            Value::String(s) => {
                let s = s.trim();
                if s.chars().count() > max {
                    self.issue(name, format!("{name} must be at most {max} characters"));
                    None
                } else if s.is_empty() {
                    None
                } else {
                    Some(s.to_string())
                }
            }
            _ => {
                self.issue(name, format!("{name} must be a string"));
                None
            }
        }
    }

    /// An optional boolean.
    pub fn optional_bool(&mut self, name: &str) -> Option<bool> {
        match self.value(name)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.issue(name, format!("{name} must be true or false"));
                None
            }
        }
    }

    /// An optional integer within `min..=max`.
    pub fn optional_int(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.value(name)?;
        match value.as_i64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.issue(name, format!("{name} must be a whole number from {min} to {max}"));
                None
            }
        }
    }

    /// A required string that must be one of `allowed` (missing and null are reported).
    pub fn required_enum(&mut self, name: &str, allowed: &[&'static str]) -> Option<&'static str> {
        if self.value(name).is_none() {
            self.issue(name, format!("{name} is required (one of: {})", allowed.join(", ")));
            return None;
        }
        self.optional_enum(name, allowed)
    }

    /// A required JSON number, as its exact text (missing and null are reported).
    pub fn required_number_text(&mut self, name: &str, hint: &str) -> Option<String> {
        if self.value(name).is_none() {
            self.issue(name, format!("{name} is required ({hint})"));
            return None;
        }
        self.optional_number_text(name)
    }

    /// An optional string that must be one of `allowed`.
    pub fn optional_enum(&mut self, name: &str, allowed: &[&'static str]) -> Option<&'static str> {
        let value = self.value(name)?;
        let found = value.as_str().and_then(|s| allowed.iter().find(|a| **a == s).copied());
        if found.is_none() {
            self.issue(name, format!("{name} must be one of: {}", allowed.join(", ")));
        }
        found
    }

    /// The exact text of a decimal field given as a JSON number or a numeric string
    /// (`commissionValue` is a string in LinkJolt's responses, so clients echo it back).
    pub fn optional_decimal_text(&mut self, name: &str) -> Option<String> {
        let value = self.value(name)?;
        let text = decimal_text(value).map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        if text.is_none() {
            self.issue(name, format!("{name} must be a number"));
        }
        text
    }

    /// Like [`Self::optional_decimal_text`] but the field must be a JSON number.
    pub fn optional_number_text(&mut self, name: &str) -> Option<String> {
        match self.value(name)? {
            Value::Number(n) => Some(n.to_string()),
            _ => {
                self.issue(name, format!("{name} must be a number"));
                None
            }
        }
    }

    /// Ends the reading: the issues found, for an operation to report with its own.
    pub fn into_issues(self) -> Vec<Issue> {
        self.issues
    }

    /// Ends the checks: the issues found, if any, as one 400.
    pub fn finish(self) -> ApiResult<()> {
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.issues))
        }
    }
}

/// The text of a decimal given as a JSON number (its exact digits) or a string; `None` otherwise.
pub fn decimal_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// A JSON number with exactly the digits of `text` (e.g. `19.80`, not `19.8`).
pub fn exact_number(text: &str) -> Value {
    text.parse::<Number>().map(Value::Number).unwrap_or(Value::Null)
}

/// A clearable field of a change: absent keeps, `null` or blank clears, a value sets (what `read`
/// cannot read is reported by it and clears nothing: the change fails as a whole).
pub fn optional_change<T>(
    f: &mut Fields<'_>,
    name: &str,
    read: impl FnOnce(&mut Fields<'_>, &str) -> Option<T>,
) -> Change<T> {
    if !f.has(name) {
        return Change::Keep;
    }
    read(f, name).map_or(Change::Clear, Change::Set)
}

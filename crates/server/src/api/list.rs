//! Query strings, pagination and the list envelope shared by every list endpoint.

use std::collections::HashMap;

use axum::{extract::FromRequestParts, http::request::Parts};
use refline_domain::parse_timestamp;
use refline_store::PageRequest;
use serde_json::{json, Value};

use crate::error::{ApiError, Issue};

/// Parsed query parameters (the last value of a repeated name wins), plus issues found while
/// reading them.
#[derive(Debug, Default)]
pub struct Params {
    values: HashMap<String, String>,
    issues: Vec<Issue>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Params::from_query(parts.uri.query().unwrap_or(""))
    }
}

impl Params {
    /// Reads a raw query string (without the `?`); a malformed one is a 400.
    pub fn from_query(raw: &str) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|_| {
            ApiError::validation(vec![Issue { path: vec![], message: "Malformed query string".into() }])
        })?;
        Ok(Params { values: pairs.into_iter().collect(), issues: Vec::new() })
    }

    /// Parameters given as values rather than a query string (the MCP door's tool arguments),
    /// read by the same rules.
    pub fn from_values(values: HashMap<String, String>) -> Self {
        Params { values, issues: Vec::new() }
    }

    /// A parameter's non-empty value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn issue(&mut self, name: &str, message: String) {
        self.issues.push(Issue::field(name, message));
    }

    fn int(&mut self, name: &str, default: i64, min: i64, max: i64) -> i64 {
        match self.get(name).map(str::parse::<i64>) {
            None => default,
            Some(Ok(n)) if (min..=max).contains(&n) => n,
            Some(_) => {
                self.issue(name, format!("{name} must be a whole number from {min} to {max}"));
                default
            }
        }
    }

    /// `page` and `limit` of a list in one fixed order (no `sort`).
    pub fn page_only(&mut self) -> PageRequest<()> {
        let page = self.int("page", 1, 1, 1_000_000);
        let limit = self.int("limit", 25, 1, 100);
        PageRequest { limit, offset: (page - 1) * limit, sort: (), descending: false }
    }

    /// `page`, `limit` and `sort=field:asc|desc` with `sorts` the allowed API field names.
    pub fn page<S: Copy>(&mut self, sorts: &[(&str, S)], default: S) -> PageRequest<S> {
        let page = self.int("page", 1, 1, 1_000_000);
        let limit = self.int("limit", 25, 1, 100);
        let (mut sort, mut descending) = (default, true);
        if let Some(spec) = self.get("sort").map(str::to_string) {
            let (field, dir) = spec.split_once(':').unwrap_or((spec.as_str(), "asc"));
            let found = sorts.iter().find(|(name, _)| *name == field).map(|(_, s)| *s);
            match (found, dir) {
                (Some(s), "asc" | "desc") => {
                    sort = s;
                    descending = dir == "desc";
                }
                _ => {
                    let names: Vec<&str> = sorts.iter().map(|(n, _)| *n).collect();
                    self.issue(
                        "sort",
                        format!(
                            "sort must be field:asc or field:desc with field one of: {}",
                            names.join(", ")
                        ),
                    );
                }
            }
        }
        PageRequest { limit, offset: (page - 1) * limit, sort, descending }
    }

    /// A parameter that must be one of `allowed`.
    pub fn one_of(&mut self, name: &str, allowed: &[&str]) -> Option<String> {
        let value = self.get(name)?.to_string();
        if allowed.contains(&value.as_str()) {
            Some(value)
        } else {
            self.issue(name, format!("{name} must be one of: {}", allowed.join(", ")));
            None
        }
    }

    /// `from`/`to` style bounds: an ISO-8601 date or date-time; a bare date in `to` means the
    /// end of that day.
    pub fn time(&mut self, name: &str, end_of_day: bool) -> Option<i64> {
        let value = self.get(name)?.to_string();
        let parsed = parse_timestamp(&value, end_of_day);
        if parsed.is_none() {
            self.issue(
                name,
                format!("{name} must be an ISO-8601 date (2026-04-15) or date-time (2026-04-15T10:30:00Z)"),
            );
        }
        parsed
    }

    /// A boolean flag (`true`/`false`).
    pub fn flag(&mut self, name: &str) -> Option<bool> {
        match self.get(name)? {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => {
                self.issue(name, format!("{name} must be true or false"));
                None
            }
        }
    }

    /// The issues found while reading, as one 400.
    pub fn finish(&mut self) -> Result<(), ApiError> {
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(std::mem::take(&mut self.issues)))
        }
    }
}

/// `{"data": [...], "pagination": {...}}`.
pub fn envelope<S>(items: Vec<Value>, page: &PageRequest<S>, total: i64) -> Value {
    let limit = page.limit.max(1);
    json!({
        "data": items,
        "pagination": {
            "page": page.offset / limit + 1,
            "limit": limit,
            "total": total,
            "totalPages": (total + limit - 1) / limit,
        }
    })
}

//! The one error type of every operation.
//!
//! `code` is the stable machine code clients see (LinkJolt's codes, plus Refline's own); `kind`
//! says what sort of refusal it is, which each door turns into its own form: the REST API into
//! an HTTP status and the `{"error": …}` envelope, a page into a form error, the MCP server into
//! a tool error. Field-level problems travel as [`Issue`]s with the public field names.

use refline_store::StoreError;
use serde_json::{json, Value};

/// What sort of refusal an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is wrong (400).
    Invalid,
    /// The caller could not be authenticated: a bad key, a signature that does not verify (401).
    Unauthenticated,
    /// The actor may not do this (403).
    Forbidden,
    /// Nothing of that id belongs to the actor's merchant (404).
    NotFound,
    /// The state of things forbids it now: a duplicate, a lost race, a finished lifecycle (409).
    Conflict,
    /// Understood but refused by a business rule (422).
    Unprocessable,
    /// Too many attempts in a short time (failed logins, invitations); retry later (429).
    RateLimited,
    /// The database is unreachable or kept losing races; retry later (503).
    Unavailable,
    /// A bug or a broken database (500).
    Internal,
}

/// One problem with one field of an input, Zod-style: `{"path": ["amount"], "message": …}`.
#[derive(Debug, Clone)]
pub struct Issue {
    /// Where the problem is, outermost first, in the public field names.
    pub path: Vec<Value>,
    /// What is wrong, for a human.
    pub message: String,
}

impl Issue {
    /// An issue on a top-level field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        Issue { path: vec![Value::from(name)], message: message.into() }
    }
}

/// An operation's refusal.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CoreError {
    /// What sort of refusal.
    pub kind: ErrorKind,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Extra detail (validation issues, the existing id of a duplicate…); boxed to keep results
    /// small on the happy path.
    pub details: Option<Box<Value>>,
}

/// Result alias of operations.
pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    /// An error without details.
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        CoreError { kind, code, message: message.into(), details: None }
    }

    /// Attaches details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// `validation_error` listing every problem found.
    pub fn validation(issues: Vec<Issue>) -> Self {
        let details =
            issues.into_iter().map(|i| json!({ "path": i.path, "message": i.message })).collect::<Vec<_>>();
        CoreError::new(ErrorKind::Invalid, "validation_error", "Validation failed")
            .with_details(Value::Array(details))
    }

    /// `validation_error` for one field.
    pub fn invalid_field(name: &str, message: impl Into<String>) -> Self {
        CoreError::validation(vec![Issue::field(name, message)])
    }

    /// `not_found` naming what was looked for.
    pub fn not_found(what: &str) -> Self {
        CoreError::new(ErrorKind::NotFound, "not_found", format!("{what} not found"))
    }

    /// `duplicate` with the existing object in details.
    pub fn duplicate(message: impl Into<String>, details: Value) -> Self {
        CoreError::new(ErrorKind::Conflict, "duplicate", message).with_details(details)
    }

    /// `invalid_transition`: the requested status change is not allowed from the current one.
    pub fn invalid_transition(message: impl Into<String>) -> Self {
        CoreError::new(ErrorKind::Conflict, "invalid_transition", message)
    }

    /// `invalid_transition` for a compare-and-set that lost to a concurrent change.
    pub fn changed_concurrently(what: &str) -> Self {
        CoreError::invalid_transition(format!("The {what} changed concurrently; read it again and retry"))
    }

    /// `internal_error`; the cause is logged, never shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        CoreError::new(
            ErrorKind::Internal,
            "internal_error",
            "Something went wrong on our side; the request may be retried",
        )
    }
}

impl From<StoreError> for CoreError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(cause) | StoreError::Retryable(cause) => {
                tracing::error!(%cause, "database unavailable");
                CoreError::new(
                    ErrorKind::Unavailable,
                    "service_unavailable",
                    "The database is unavailable; retry with backoff",
                )
            }
            StoreError::Invalid(cause) => {
                // Edge checks refuse such values first; this is the last line of defence.
                tracing::warn!(%cause, "database refused a value");
                CoreError::new(
                    ErrorKind::Invalid,
                    "validation_error",
                    "A value in this request cannot be stored (control characters or a number out of range)",
                )
            }
            other => CoreError::internal(other),
        }
    }
}

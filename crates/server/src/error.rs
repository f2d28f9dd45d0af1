//! The one error envelope of the API: `{"error": {"code", "message", "details"?}}`.
//!
//! Handlers return `ApiError`; it renders itself and leaves its code in the response
//! extensions so the audit log can record it without parsing bodies.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use refline_core::{CoreError, ErrorKind};
use refline_store::StoreError;
use serde_json::{json, Value};

/// The `error.code` of a response, kept in response extensions for the audit log.
#[derive(Debug, Clone)]
pub struct ErrorCode(pub &'static str);

/// One problem with one field of a request (the core's type, shared by every door).
pub use refline_core::Issue;

/// An error answer of the API.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Optional extra detail (validation issues, the existing id of a duplicate…). Boxed to
    /// keep `Result<_, ApiError>` small on the happy path.
    pub details: Option<Box<Value>>,
    /// Seconds to wait, for 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with no details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), details: None, retry_after: None }
    }

    /// Attaches details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// 400 `validation_error` listing every problem found (the core's error, in the envelope).
    pub fn validation(issues: Vec<Issue>) -> Self {
        CoreError::validation(issues).into()
    }

    /// 400 `validation_error` for one field.
    pub fn invalid_field(name: &str, message: impl Into<String>) -> Self {
        CoreError::invalid_field(name, message).into()
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 404 `not_found` naming what was looked for.
    pub fn not_found(what: &str) -> Self {
        CoreError::not_found(what).into()
    }

    /// 409 `duplicate` with the existing object in details.
    pub fn duplicate(message: impl Into<String>, details: Value) -> Self {
        CoreError::duplicate(message, details).into()
    }

    /// 409 `invalid_transition`: the requested status change is not allowed from the current one.
    pub fn invalid_transition(message: impl Into<String>) -> Self {
        CoreError::invalid_transition(message).into()
    }

    /// 409 `invalid_transition` for a compare-and-set that lost to a concurrent change.
    pub fn changed_concurrently(what: &str) -> Self {
        CoreError::changed_concurrently(what).into()
    }

    /// What a panicking handler answers, on the router (`CatchPanicLayer`) and in the fast lane.
    pub fn handler_panicked() -> Response {
        ApiError::internal("handler panicked").into_response()
    }

    /// 500 `internal_error`; the cause is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        CoreError::internal(cause).into()
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        let status = match err.kind {
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError { status, code: err.code, message: err.message, details: err.details, retry_after: None }
    }
}

/// A store failure as the core classifies it (503 for an unreachable database, 400 for a value
/// it refused, 500 otherwise).
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        CoreError::from(err).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(obj) = error.as_object_mut() {
            if let Some(details) = self.details {
                obj.insert("details".into(), *details);
            }
            // The id of the request in the server's log (`http::request_id`); an extra field
            // LinkJolt clients ignore.
            if let Some(id) = crate::http::request_id::current() {
                obj.insert("requestId".into(), id.into());
            }
        }
        let mut response = (self.status, axum::Json(json!({ "error": error }))).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

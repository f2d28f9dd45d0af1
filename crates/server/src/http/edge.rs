//! The edge: what every request must pass before any route sees it, and the one error envelope
//! for every answer, whichever layer produced it.
//!
//! One middleware, outermost, so the API, the tracking routes, the processor receivers and the
//! fallbacks all get the same treatment:
//! - a request target longer than `max_uri_bytes` is 414 `uri_too_long`; more than
//!   `max_headers` fields or `max_header_bytes` of headers is 431 `headers_too_large` (more than
//!   100 fields never gets here: hyper's parser answers a bare 431 first, `http::connection`);
//! - a path that, percent-decoded, is not UTF-8, or a path or query parameter that holds a
//!   control character (`refline_domain::is_forbidden_char`), is 400 `validation_error` naming it
//!   (query values are decoded leniently: invalid UTF-8 becomes U+FFFD), so no such value
//!   reaches a handler or a database (PostgreSQL cannot store U+0000 at all); visitors' tracking
//!   links (`/redirect`, `/l/…`) are the exception: a malformed one is an unknown link;
//! - a declared `Content-Length` above `max_body_bytes` is 413 `payload_too_large` before a
//!   byte of the body is read;
//! - a body must arrive within `body_read_timeout` of its first read (408 `request_timeout`);
//! - any answer that refused a request without reading its whole body says `Connection: close`
//!   (the rest of the body is still on the wire, so the connection cannot carry another request);
//! - any error answer not already in the envelope (axum's extractor rejections, 405s of the
//!   tracking routes, limits) is rewritten into `{"error": {"code", "message"}}`. HTML pages
//!   (the tracking 404 page) and JSON answers are left as they are.

use std::{
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode, Uri},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body::{Frame, SizeHint};
use refline_domain::{describe_char, first_forbidden_char};
use serde_json::Value;
use std::future::Future as _;
use tokio::time::Sleep;

use super::connection::ConnectionLimits;
use crate::error::{ApiError, ErrorCode, Issue};

/// What the edge checks against.
#[derive(Debug, Clone)]
pub struct EdgeLimits {
    /// Connection and head limits.
    pub connection: ConnectionLimits,
    /// Largest request body accepted anywhere, bytes.
    pub max_body_bytes: usize,
}

impl EdgeLimits {
    /// The limits the server's settings name.
    pub fn of(config: &crate::config::ServerConfig) -> EdgeLimits {
        EdgeLimits { connection: config.connections.clone(), max_body_bytes: config.max_body_bytes }
    }
}

/// The middleware; see the module docs.
pub async fn edge(State(limits): State<Arc<EdgeLimits>>, request: Request, next: Next) -> Response {
    let has_body = declares_body(request.headers());
    // Visitors' links answer a malformed link with the "Link not found" page (or the fallback
    // URL) they can read; their handlers take only plain tokens from the target, and the click
    // writer strips control characters from what it records.
    let visitor_link = request.uri().path() == "/redirect" || request.uri().path().starts_with("/l/");
    if let Some(refusal) = check_head(&limits, &request, visitor_link) {
        return close_if(has_body, refusal.into_response());
    }
    if !has_body {
        return envelope(next.run(request).await);
    }
    let watch = Arc::new(BodyWatch::default());
    let timeout = limits.connection.body_read_timeout;
    let request =
        request.map(|inner| Body::new(WatchedBody { inner, watch: watch.clone(), timeout, deadline: None }));
    let mut response = next.run(request).await;
    if watch.timed_out.load(Ordering::Relaxed) {
        response = ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "The request body did not arrive in time",
        )
        .into_response();
    }
    let finished = watch.finished.load(Ordering::Relaxed);
    close_if(!finished, envelope(response))
}

/// The refusals decided from the request head alone; a visitor link's path and query are not
/// checked for control characters (see the module docs).
pub(crate) fn check_head<B>(
    limits: &EdgeLimits,
    request: &axum::http::Request<B>,
    visitor_link: bool,
) -> Option<ApiError> {
    let uri = request.uri();
    let target_len = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    if target_len > limits.connection.max_uri_bytes {
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("The request target is longer than {} bytes", limits.connection.max_uri_bytes),
        ));
    }
    let headers = request.headers();
    let header_bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if headers.len() > limits.connection.max_headers || header_bytes > limits.connection.max_header_bytes {
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "At most {} header fields and {} bytes of headers are accepted",
                limits.connection.max_headers, limits.connection.max_header_bytes
            ),
        ));
    }
    if let Some(issue) = uri_issue(uri).filter(|_| !visitor_link) {
        return Some(ApiError::validation(vec![issue]));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return Some(payload_too_large());
    }
    None
}

fn payload_too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Request body is too large")
}

/// A problem with the path or a query parameter, once percent-decoded. Cheap on the hot path:
/// text without `%` cannot hide a control character (the HTTP parser refuses raw ones).
fn uri_issue(uri: &Uri) -> Option<Issue> {
    let path = uri.path();
    if path.contains('%') {
        let decoded = percent_encoding::percent_decode_str(path);
        match std::str::from_utf8(&decoded.collect::<Vec<u8>>()) {
            Err(_) => return Some(Issue::field("path", "the path is not valid UTF-8 once percent-decoded")),
            Ok(text) => {
                if let Some(c) = first_forbidden_char(text) {
                    return Some(Issue::field(
                        "path",
                        format!("the path must not contain control characters ({})", describe_char(c)),
                    ));
                }
            }
        }
    }
    let query = uri.query().filter(|q| q.contains('%'))?;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if let Some(c) = first_forbidden_char(&name).or_else(|| first_forbidden_char(&value)) {
            return Some(Issue {
                path: vec![Value::from("query"), Value::from(name.as_ref())],
                message: format!(
                    "query parameters must not contain control characters ({})",
                    describe_char(c)
                ),
            });
        }
    }
    None
}

pub(crate) fn declares_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() != "0")
}

pub(crate) fn close_if(close: bool, mut response: Response) -> Response {
    if close {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Rewrites an error answer that is not in the envelope (see the module docs).
fn envelope(response: Response) -> Response {
    let status = response.status();
    if status.as_u16() < 400 || response.extensions().get::<ErrorCode>().is_some() {
        return response;
    }
    let content_type =
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("application/json") || content_type.starts_with("text/html") {
        return response;
    }
    let (code, message) = describe_status(status);
    let mut rewritten = ApiError::new(status, code, message).into_response();
    // Keep what the original answer told the client besides its body (Allow, Retry-After…).
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    rewritten
}

/// The envelope's code and message for a bare status.
fn describe_status(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("validation_error", "The request is malformed"),
        401 => ("unauthorized", "Authentication required"),
        403 => ("forbidden", "Not allowed"),
        404 => ("not_found", "Not found"),
        405 => ("method_not_allowed", "Method not allowed on this path"),
        408 => ("request_timeout", "The request did not arrive in time"),
        411 => ("length_required", "Content-Length is required"),
        413 => ("payload_too_large", "Request body is too large"),
        414 => ("uri_too_long", "The request target is too long"),
        415 => ("unsupported_media_type", "Unsupported content type"),
        422 => ("unprocessable_entity", "The request could not be processed"),
        429 => ("rate_limit_exceeded", "Too many requests"),
        431 => ("headers_too_large", "Request headers are too large"),
        503 => ("service_unavailable", "Temporarily unavailable; retry with backoff"),
        500..=599 => ("internal_error", "Something went wrong on our side; the request may be retried"),
        _ => ("bad_request", "The request was refused"),
    }
}

/// What happened to a request body, seen after the response.
#[derive(Debug, Default)]
struct BodyWatch {
    /// The body was read to its end.
    finished: AtomicBool,
    /// The body did not arrive within the deadline.
    timed_out: AtomicBool,
}

/// A request body that notes when it is read to the end and fails when it takes too long. The
/// clock starts at the first read, so time spent before the handler reads (authentication,
/// idempotency) never counts against the client.
struct WatchedBody {
    inner: Body,
    watch: Arc<BodyWatch>,
    timeout: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl http_body::Body for WatchedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let timeout = this.timeout;
        let deadline = this.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if deadline.as_mut().poll(cx).is_ready() {
            this.watch.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new("request body read timed out"))));
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None))
            || (matches!(polled, Poll::Ready(Some(Ok(_)))) && this.inner.is_end_stream())
        {
            this.watch.finished.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

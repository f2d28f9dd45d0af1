//! The request id and the per-request span: the outermost layer of every route.
//!
//! A request keeps a sane incoming `X-Request-Id` (what a proxy or a client set: 1–128 of
//! `A–Z a–z 0–9 . _ : -`) or gets a new one. The id is echoed in the `X-Request-Id` answer
//! header, carried by a tracing span around the whole request (so every log line written while
//! answering it names it, in text and JSON logs alike), and put into the error envelope as
//! `error.requestId` (an extra field: LinkJolt clients read `code`, `message` and `details` and
//! ignore the rest), so a user's report of an error can be matched to the server's log.
//!
//! The same layer reports the request to `/metrics` (`crate::metrics`), labelled with the route
//! template axum matched, never the raw path.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::{HeaderMap, HeaderValue, Method},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

/// The header carrying the id both ways.
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being answered by this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Runs `answering` with `id` as the current request's id ([`current`]); gives the id back
/// with the output, so the caller can echo it without having cloned it.
pub(crate) async fn scope<F: std::future::Future>(id: String, answering: F) -> (String, F::Output) {
    let scoped = REQUEST_ID.scope(id, answering);
    tokio::pin!(scoped);
    let output = (&mut scoped).await;
    let id = scoped.as_mut().take_value().unwrap_or_default();
    (id, output)
}

/// The middleware; see the module docs.
pub async fn observe(request: Request, next: Next) -> Response {
    let id = incoming(request.headers()).unwrap_or_else(new_id);
    // The matched template is shared (`Arc<str>` inside): cloning it does not copy the text.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map(MatchedPath::as_str);
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = route.unwrap_or("-"),
    );
    let started = Instant::now();
    let (id, mut response) = scope(id, next.run(request)).instrument(span.clone()).await;
    // The access log, at debug level (RUST_LOG=refline_server::http::request_id=debug): at
    // tens of thousands of redirects a second it is a firehose, so it is off by default.
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "answered"
        );
    });
    echo_and_count(&mut response, id, &method, route, started);
    response
}

/// The end of every answered request: its id echoed in `X-Request-Id` (the id's own bytes
/// become the header value, no copy) and the request counted in `/metrics` under `route`.
pub(crate) fn echo_and_count(
    response: &mut Response,
    id: String,
    method: &Method,
    route: Option<&str>,
    started: Instant,
) {
    if let Ok(value) = HeaderValue::try_from(id) {
        response.headers_mut().insert(HEADER, value);
    }
    crate::metrics::record_request(method, route, response.status(), started.elapsed());
}

/// The caller's id when it is one we can safely log and echo.
pub(crate) fn incoming(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(HEADER)?.to_str().ok()?.trim();
    let sane = (1..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    sane.then(|| value.to_string())
}

/// A fresh id: time-ordered, so ids sort like the log lines they name.
pub(crate) fn new_id() -> String {
    refline_core::ids::new_ordered_id("req", refline_core::clock::now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_incoming_ids_are_kept() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(HEADER, HeaderValue::from_str(v).expect("header"));
            incoming(&h)
        };
        assert_eq!(with("abc-123_X.y:z").as_deref(), Some("abc-123_X.y:z"));
        assert_eq!(
            with("550e8400-e29b-41d4-a716-446655440000").as_deref(),
            Some("550e8400-e29b-41d4-a716-446655440000")
        );
        for bad in ["", "has space", "quote\"", "semi;colon", &"x".repeat(129), "<script>"] {
            assert_eq!(with(bad), None, "{bad:?}");
        }
        assert!(new_id().starts_with("req_"));
    }
}

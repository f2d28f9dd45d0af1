//! The CSRF check of every state-changing dashboard request: the body must be a form carrying
//! `csrf_token` equal (in constant time) to the session's token or, before signing in, to the
//! browser's pre-login token. One middleware for all routes, so no handler can forget it. The
//! affiliate portal uses the same middleware: each side's session layer says which tokens it
//! accepts ([`CsrfTokens`]).

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::Response,
};
use subtle::ConstantTimeEq;

use crate::{error::ErrorCode, state::AppState};

/// The tokens a form of this request may carry (the session's, the pre-login one), left in the
/// request's extensions by the session layer in front of [`verify_csrf`].
#[derive(Debug, Clone, Default)]
pub struct CsrfTokens(pub Vec<String>);

/// Middleware: refuses a write whose form lacks a valid `csrf_token` with 403.
pub async fn verify_csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let accepted = req.extensions().get::<CsrfTokens>().cloned().unwrap_or_default();
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, state.config.max_body_bytes).await else {
        return super::render::message_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "That form is too large.",
        );
    };
    let sent = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == "csrf_token")
        .map(|(_, value)| value.into_owned());
    let valid = sent.is_some_and(|sent| {
        // Every accepted token is compared (in constant time), not just up to the first match.
        accepted
            .0
            .iter()
            .filter(|expected| !expected.is_empty())
            .fold(false, |found, expected| found | bool::from(expected.as_bytes().ct_eq(sent.as_bytes())))
    });
    if !valid {
        let mut response = super::render::message_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "This form could not be verified (its security token is missing or stale). Go back, reload the page and try again.",
        );
        response.extensions_mut().insert(ErrorCode("csrf_failed"));
        return response;
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

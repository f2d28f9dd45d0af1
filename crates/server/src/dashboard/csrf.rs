//! The CSRF check of every state-changing dashboard request: the body must be a form carrying
//! `csrf_token` equal (in constant time) to the session's token or, before signing in, to the
//! browser's pre-login token. One middleware for all routes, so no handler can forget it.

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::Response,
};
use subtle::ConstantTimeEq;

use super::session::Viewer;
use crate::{error::ErrorCode, state::AppState};

/// Middleware: refuses a write whose form lacks a valid `csrf_token` with 403.
pub async fn verify_csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let viewer = req.extensions().get::<Viewer>().cloned();
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
    let valid = match (&viewer, sent) {
        (Some(viewer), Some(sent)) => {
            let session = viewer.signed_in.as_ref().map(|s| s.session.csrf_token.as_bytes());
            let matches = |expected: &[u8]| bool::from(expected.ct_eq(sent.as_bytes()));
            session.is_some_and(matches) || matches(viewer.anonymous_csrf.as_bytes())
        }
        _ => false,
    };
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

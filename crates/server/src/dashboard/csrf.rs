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
    if one_click_unsubscribe(parts.uri.path(), &bytes) {
        return next.run(Request::from_parts(parts, Body::from(bytes))).await;
    }
    let sent = match multipart_boundary(&parts.headers) {
        // File uploads (the Migrate page) carry the token as a part of their own.
        Some(boundary) => multipart_token(&bytes, &boundary),
        None => form_urlencoded::parse(&bytes)
            .find(|(name, _)| name == "csrf_token")
            .map(|(_, value)| value.into_owned()),
    };
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

/// RFC 8058's one-click unsubscribe: a mail client POSTs `List-Unsubscribe=One-Click` (as a
/// URL-encoded or multipart form) to the URL of the mail's `List-Unsubscribe` header, without
/// any token of ours. Exempt from the CSRF check on `/portal/unsubscribe/<token>` only, where
/// the signed token in the path is the proof (and the worst a forged request can do is stop a
/// mail the link's owner can turn on again).
/// The boundary of a `multipart/form-data` body, if the request is one.
fn multipart_boundary(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get(axum::http::header::CONTENT_TYPE)?.to_str().ok()?;
    let (kind, rest) = value.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    rest.split(';').find_map(|p| {
        let (name, v) = p.trim().split_once('=')?;
        name.eq_ignore_ascii_case("boundary").then(|| v.trim_matches('"').to_string())
    })
}

/// The `csrf_token` part of a multipart body: the text between its headers' blank line and the
/// next boundary.
fn multipart_token(body: &[u8], boundary: &str) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    text.split(delimiter.as_str()).find_map(|part| {
        let (head, value) = part.split_once("\r\n\r\n")?;
        let named = head.lines().any(|line| {
            line.to_ascii_lowercase().starts_with("content-disposition:")
                && line.contains("name=\"csrf_token\"")
        });
        named.then(|| value.trim_end_matches("\r\n").to_string())
    })
}

fn one_click_unsubscribe(path: &str, body: &[u8]) -> bool {
    if !path.starts_with("/portal/unsubscribe/") {
        return false;
    }
    let urlencoded =
        form_urlencoded::parse(body).any(|(name, value)| name == "List-Unsubscribe" && value == "One-Click");
    let text = String::from_utf8_lossy(body);
    let multipart = text.contains("name=\"List-Unsubscribe\"") && text.contains("One-Click");
    urlencoded || multipart
}

#[cfg(test)]
mod tests {
    use super::one_click_unsubscribe;

    #[test]
    fn a_multipart_form_carries_its_token_in_a_part() {
        let body = b"--xyz\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\ntok123\r\n--xyz\r\n\
                     Content-Disposition: form-data; name=\"source\"\r\n\r\ncsv\r\n--xyz--\r\n";
        assert_eq!(super::multipart_token(body, "xyz").as_deref(), Some("tok123"));
        assert_eq!(super::multipart_token(b"--xyz--", "xyz"), None);
    }

    #[test]
    fn only_the_unsubscribe_path_takes_a_one_click_post() {
        let body = b"List-Unsubscribe=One-Click";
        assert!(one_click_unsubscribe("/portal/unsubscribe/abc.def", body));
        assert!(!one_click_unsubscribe("/portal/account/mails", body));
        assert!(!one_click_unsubscribe("/portal/unsubscribe/abc.def", b"csrf_token=x"));
        let multipart =
            b"--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--";
        assert!(one_click_unsubscribe("/portal/unsubscribe/abc.def", multipart));
    }
}

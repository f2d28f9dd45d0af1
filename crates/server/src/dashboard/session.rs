//! Who is looking at a page: the session cookie resolved through the core, the CSRF tokens a
//! form must carry, and the [`Page`] extractor every signed-in page takes.
//!
//! Cookies: `refline_session` holds the session token (the database keeps only its hash);
//! `refline_csrf` holds a random value whose HMAC under the server's secret key is the token of
//! forms shown before signing in (sign-up, login, reset). Both are `HttpOnly` and `SameSite=Lax`,
//! and `Secure` when the public URL is https.

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, OriginalUri, Request, State},
    http::{header, request::Parts, HeaderMap, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use hmac::{Hmac, Mac};
use refline_core::{
    team::{SessionContext, SignedIn},
    Actor,
};
use refline_store::BrandAccess;
use sha2::Sha256;

use crate::{http::audit::AuditActor, http::client_ip::client_ip, state::AppState};

/// The session cookie.
pub const SESSION_COOKIE: &str = "refline_session";
/// The pre-login CSRF cookie.
pub const CSRF_COOKIE: &str = "refline_csrf";

/// What the session middleware found, in the request's extensions.
#[derive(Clone)]
pub struct Viewer {
    /// The signed-in person, if any.
    pub signed_in: Option<Arc<SignedIn>>,
    /// The token of forms shown before signing in.
    pub anonymous_csrf: String,
    /// Where the request comes from (for a session opened by this request, and the throttle).
    pub context: SessionContext,
}

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value with Refline's attributes; `max_age` 0 deletes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.config.public_url.starts_with("https://") { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("refline_invalid=1"))
}

/// The CSRF token of pre-login forms for a browser holding `cookie_value` (the portal's
/// pre-login forms use the same cookie and token).
pub fn anonymous_token(state: &AppState, cookie_value: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&state.config.secret_key).expect("HMAC takes any key length");
    mac.update(b"refline-csrf:");
    mac.update(cookie_value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Middleware of every dashboard route: resolves the session cookie and makes sure the browser
/// holds a pre-login CSRF cookie; records who acted for the audit log.
pub async fn load_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let signed_in = match cookie(req.headers(), SESSION_COOKIE) {
        Some(token) if !token.is_empty() => match state.core.resolve_session(token).await {
            Ok(found) => found.map(Arc::new),
            Err(err) => return super::render::core_error_page(&err),
        },
        _ => None,
    };
    let existing =
        cookie(req.headers(), CSRF_COOKIE).filter(|v| v.len() >= 32 && v.len() <= 128).map(str::to_string);
    let fresh = existing.is_none().then(refline_core::ids::new_secret_token);
    let csrf_cookie = existing.or_else(|| fresh.clone()).unwrap_or_default();
    let anonymous_csrf = anonymous_token(&state, &csrf_cookie);
    let actor = AuditActor {
        merchant_id: signed_in.as_ref().and_then(|s| s.current()).map(|b| b.merchant.id.clone()),
        api_key_id: None,
        user_id: signed_in.as_ref().map(|s| s.user.id.clone()),
    };
    let context = SessionContext {
        ip: client_ip(&req, &state.config).map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect()),
    };
    let mut tokens = vec![anonymous_csrf.clone()];
    tokens.extend(signed_in.as_ref().map(|s| s.session.csrf_token.clone()));
    req.extensions_mut().insert(super::csrf::CsrfTokens(tokens));
    req.extensions_mut().insert(Viewer { signed_in, anonymous_csrf, context });
    let mut response = next.run(req).await;
    if let Some(value) = fresh {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(&state, CSRF_COOKIE, &value, 400 * 24 * 3600));
    }
    if response.extensions().get::<AuditActor>().is_none() {
        response.extensions_mut().insert(actor);
    }
    response
}

/// A signed-in page's view of the request: the person, their brand and the actor operations
/// run as. Without a session the page answers a redirect to the login (coming back after).
pub struct Page {
    /// The person and their brands.
    pub signed_in: Arc<SignedIn>,
    /// The brand being viewed.
    pub brand: BrandAccess,
    /// Who operations run as.
    pub actor: Actor,
    /// The token this session's forms carry.
    pub csrf: String,
    /// The path asked for (for the navigation's current item).
    pub path: String,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Viewer>().cloned().ok_or_else(|| {
            super::render::message_page(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                "No session layer",
            )
        })
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_string(), |u| u.0.path().to_string());
        let viewer = parts.extensions.get::<Viewer>().cloned();
        let Some(signed_in) = viewer.and_then(|v| v.signed_in) else {
            let back = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
            return Err(Redirect::to(&format!("/auth/login?next={back}")).into_response());
        };
        let (Some(brand), Some(actor)) = (signed_in.current().cloned(), signed_in.actor()) else {
            return Err(super::render::message_page(
                axum::http::StatusCode::FORBIDDEN,
                "No brand yet",
                "Your login is not on any brand's team yet. Accept the invitation you were sent, or ask the owner to invite you again.",
            ));
        };
        let csrf = signed_in.session.csrf_token.clone();
        Ok(Page { signed_in, brand, actor, csrf, path })
    }
}

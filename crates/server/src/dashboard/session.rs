//! Who is looking at a page: the dashboard's [`Side`] of signing in (its session layer is
//! `crate::sign_in::viewer`, shared with the portal), the cookies and CSRF tokens a form must
//! carry, and the [`Page`] extractor every signed-in page takes.
//!
//! Cookies: `refline_session` holds the session token (the database keeps only its hash);
//! `refline_csrf` holds a random value whose HMAC under the server's secret key is the token of
//! forms shown before signing in (sign-up, login, reset). Both are `HttpOnly` and `SameSite=Lax`,
//! and `Secure` when the public URL is https.

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use hmac::{Hmac, Mac};
use refline_core::{sign_in::SignInKind, team::SignedIn, Actor, Core, CoreResult};
use refline_store::BrandAccess;
use sha2::Sha256;

use crate::{
    http::audit::AuditActor,
    sign_in::{viewer::signed_in_or_login, Side},
    state::AppState,
};

/// The session cookie.
pub const SESSION_COOKIE: &str = "refline_session";
/// The pre-login CSRF cookie.
pub const CSRF_COOKIE: &str = "refline_csrf";

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

/// The dashboard's side of signing in: merchant users, the `refline_session` cookie, `/auth/*`.
pub struct Dashboard;

impl Side for Dashboard {
    const KIND: SignInKind = SignInKind::User;
    const COOKIE: &'static str = SESSION_COOKIE;
    const PAGES: &'static str = "/auth";
    const HOME: &'static str = "/merchant";
    const LOGIN_TITLE: &'static str = "Log in";
    const PORTAL: bool = false;

    type SignedIn = SignedIn;

    async fn resolve(core: &Core, token: &str) -> CoreResult<Option<SignedIn>> {
        core.resolve_session(token).await
    }

    fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
        super::render::message_page(status, title, message)
    }

    fn frame<'a>(title: &'a str, content: &'a str) -> impl Template + 'a {
        AuthFrame { title, content }
    }

    fn audit_actor(signed_in: Option<&SignedIn>) -> Option<AuditActor> {
        Some(AuditActor {
            merchant_id: signed_in.and_then(|s| s.current()).map(|b| b.merchant.id.clone()),
            api_key_id: None,
            user_id: signed_in.map(|s| s.user.id.clone()),
        })
    }
}

/// The dashboard's pre-login layout around a sign-in page.
#[derive(Template)]
#[template(path = "auth/frame.html")]
struct AuthFrame<'a> {
    title: &'a str,
    content: &'a str,
}

/// What the session layer found for a dashboard request.
pub type Viewer = crate::sign_in::Viewer<Dashboard>;

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

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        let (signed_in, path) =
            signed_in_or_login::<Dashboard>(parts).map_err(IntoResponse::into_response)?;
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

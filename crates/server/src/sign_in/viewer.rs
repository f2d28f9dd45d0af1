//! Who is looking at a page of a [`Side`]: its session cookie resolved through the core, the
//! pre-login CSRF cookie (one for both sides: `refline_csrf`), and the CSRF tokens a form may
//! carry.

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, OriginalUri, Request, State},
    http::{header, request::Parts, StatusCode},
    middleware::Next,
    response::{Redirect, Response},
};
use refline_core::{sign_in::SessionContext, sign_in::SignedInAs};

use super::Side;
use crate::{
    dashboard::{
        csrf::CsrfTokens,
        render::core_error_on,
        session::{anonymous_token, cookie, set_cookie, CSRF_COOKIE},
    },
    http::client_ip::client_ip,
    state::AppState,
};

/// What the session layer found, in the request's extensions.
pub struct Viewer<S: Side> {
    /// The signed-in person, if any.
    pub signed_in: Option<Arc<S::SignedIn>>,
    /// The token of forms shown before signing in.
    pub anonymous_csrf: String,
    /// Where the request comes from (for a session opened by this request, and the throttle).
    pub context: SessionContext,
}

impl<S: Side> Clone for Viewer<S> {
    fn clone(&self) -> Self {
        Viewer {
            signed_in: self.signed_in.clone(),
            anonymous_csrf: self.anonymous_csrf.clone(),
            context: self.context.clone(),
        }
    }
}

impl<S: Side> Viewer<S> {
    /// The token this browser's forms carry: the session's when signed in.
    pub fn csrf(&self) -> String {
        self.signed_in
            .as_ref()
            .map_or_else(|| self.anonymous_csrf.clone(), |s| s.session().csrf_token.clone())
    }
}

/// Middleware of every route of a side: resolves its session cookie, makes sure the browser
/// holds a pre-login CSRF cookie, tells the CSRF check which tokens count, and names who acted
/// for the audit log where the side wants it.
pub async fn load_session<S: Side>(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let signed_in = match cookie(req.headers(), S::COOKIE) {
        Some(token) if !token.is_empty() => match S::resolve(&state.core, token).await {
            Ok(found) => found.map(Arc::new),
            Err(err) => return core_error_on(&err, S::message_page),
        },
        _ => None,
    };
    let existing =
        cookie(req.headers(), CSRF_COOKIE).filter(|v| v.len() >= 32 && v.len() <= 128).map(str::to_string);
    let fresh = existing.is_none().then(refline_core::ids::new_secret_token);
    let csrf_cookie = existing.or_else(|| fresh.clone()).unwrap_or_default();
    let anonymous_csrf = anonymous_token(&state, &csrf_cookie);
    let actor = S::audit_actor(signed_in.as_deref());
    let context = SessionContext {
        ip: client_ip(&req, &state.config).map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect()),
    };
    let mut tokens = vec![anonymous_csrf.clone()];
    tokens.extend(signed_in.as_ref().map(|s| s.session().csrf_token.clone()));
    req.extensions_mut().insert(CsrfTokens(tokens));
    req.extensions_mut().insert(Viewer::<S> { signed_in, anonymous_csrf, context });
    let mut response = next.run(req).await;
    if let Some(value) = fresh {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(&state, CSRF_COOKIE, &value, 400 * 24 * 3600));
    }
    if let Some(actor) = actor {
        if response.extensions().get::<crate::http::audit::AuditActor>().is_none() {
            response.extensions_mut().insert(actor);
        }
    }
    response
}

impl<S: Side> FromRequestParts<AppState> for Viewer<S> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Viewer<S>>()
            .cloned()
            .ok_or_else(|| S::message_page(StatusCode::INTERNAL_SERVER_ERROR, "Error", "No session layer"))
    }
}

/// The signed-in person of a page that needs one and the path asked for; without a session, a
/// redirect to the side's login, coming back after.
pub fn signed_in_or_login<S: Side>(parts: &Parts) -> Result<(Arc<S::SignedIn>, String), Redirect> {
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.path().to_string(), |u| u.0.path().to_string());
    match parts.extensions.get::<Viewer<S>>().and_then(|v| v.signed_in.clone()) {
        Some(signed_in) => Ok((signed_in, path)),
        None => {
            let back = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
            Err(Redirect::to(&format!("{}/login?next={back}", S::PAGES)))
        }
    }
}

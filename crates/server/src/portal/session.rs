//! Who is looking at a portal page: the portal cookie resolved through the core, the CSRF
//! tokens its forms may carry, and the [`Affiliate`] extractor of signed-in pages.

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, OriginalUri, Request, State},
    http::{header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use refline_core::{portal::PortalSignedIn, team::SessionContext};

use super::SESSION_COOKIE;
use crate::{
    dashboard::{
        csrf::CsrfTokens,
        session::{anonymous_token, cookie, set_cookie, CSRF_COOKIE},
    },
    http::client_ip::client_ip,
    state::AppState,
};

/// What the portal's session layer found.
#[derive(Clone)]
pub struct PortalViewer {
    /// The signed-in affiliate, if any.
    pub signed_in: Option<Arc<PortalSignedIn>>,
    /// The token of forms shown before signing in.
    pub anonymous_csrf: String,
    /// Where the request comes from.
    pub context: SessionContext,
}

impl PortalViewer {
    /// The token this browser's forms carry: the session's when signed in.
    pub fn csrf(&self) -> String {
        self.signed_in.as_ref().map_or_else(|| self.anonymous_csrf.clone(), |s| s.session.csrf_token.clone())
    }
}

/// Middleware of every portal route: resolves the portal cookie, makes sure the browser holds a
/// pre-login CSRF cookie (the dashboard's), and tells the CSRF check which tokens count.
pub async fn load_portal_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let signed_in = match cookie(req.headers(), SESSION_COOKIE) {
        Some(token) if !token.is_empty() => match state.core.resolve_portal_session(token).await {
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
    req.extensions_mut().insert(CsrfTokens(tokens));
    req.extensions_mut().insert(PortalViewer { signed_in, anonymous_csrf, context });
    let mut response = next.run(req).await;
    if let Some(value) = fresh {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(&state, CSRF_COOKIE, &value, 400 * 24 * 3600));
    }
    response
}

impl FromRequestParts<AppState> for PortalViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<PortalViewer>().cloned().ok_or_else(|| {
            super::render::message_page(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                "No session layer",
            )
        })
    }
}

/// A signed-in portal page: the affiliate and their session. Without one, a redirect to the
/// portal login (coming back after).
pub struct Affiliate {
    /// The person and session.
    pub signed_in: Arc<PortalSignedIn>,
    /// The token this session's forms carry.
    pub csrf: String,
}

impl FromRequestParts<AppState> for Affiliate {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_string(), |u| u.0.path().to_string());
        let viewer = parts.extensions.get::<PortalViewer>().cloned();
        let Some(signed_in) = viewer.and_then(|v| v.signed_in) else {
            let back = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
            return Err(Redirect::to(&format!("/portal/login?next={back}")).into_response());
        };
        let csrf = signed_in.session.csrf_token.clone();
        Ok(Affiliate { signed_in, csrf })
    }
}

/// Sets a new portal session's cookie (ending the session the browser had, if any) and goes
/// on to `to` (a local path only).
pub async fn signed_in(
    state: &AppState,
    viewer: &PortalViewer,
    opened: &refline_core::team::OpenedSession,
    to: &str,
) -> Response {
    if let Some(old) = &viewer.signed_in {
        if let Err(err) = state.core.end_portal_session(old).await {
            return super::render::core_error_page(&err);
        }
    }
    let cookie = set_cookie(state, SESSION_COOKIE, &opened.token, crate::dashboard::SESSION_COOKIE_MAX_AGE);
    let mut response = Redirect::to(safe_next(to)).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// Only local paths are followed after login (no open redirect).
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.contains(':') {
        next
    } else {
        "/portal"
    }
}

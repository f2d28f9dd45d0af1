//! Who is looking at a portal page: the portal's [`Side`] of signing in (the session layer,
//! login, logout and reset pages are shared with the dashboard, `crate::sign_in`), and the
//! [`Affiliate`] extractor of signed-in pages.

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::FromRequestParts,
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
};
use refline_core::{portal::PortalSignedIn, sign_in::SignInKind, Core, CoreResult};

use super::SESSION_COOKIE;
use crate::{
    http::audit::AuditActor,
    sign_in::{viewer::signed_in_or_login, Side},
    state::AppState,
};

pub use crate::sign_in::pages::signed_in;

/// The portal's side of signing in: affiliate people, the `refline_portal` cookie,
/// `/portal/login` and `/portal/reset`.
pub struct Portal;

impl Side for Portal {
    const KIND: SignInKind = SignInKind::Person;
    const COOKIE: &'static str = SESSION_COOKIE;
    const PAGES: &'static str = "/portal";
    const HOME: &'static str = "/portal";
    const LOGIN_TITLE: &'static str = "Affiliate login";
    const PORTAL: bool = true;

    type SignedIn = PortalSignedIn;

    async fn resolve(core: &Core, token: &str) -> CoreResult<Option<PortalSignedIn>> {
        core.resolve_portal_session(token).await
    }

    fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
        super::render::message_page(status, title, message)
    }

    fn frame<'a>(title: &'a str, content: &'a str) -> impl Template + 'a {
        PortalFrame { title, content }
    }

    /// The portal's audit layer (`audit_portal`) names the person itself.
    fn audit_actor(_: Option<&PortalSignedIn>) -> Option<AuditActor> {
        None
    }
}

/// The portal's layout around a sign-in page.
#[derive(Template)]
#[template(path = "portal/frame.html")]
struct PortalFrame<'a> {
    title: &'a str,
    content: &'a str,
}

/// What the session layer found for a portal request.
pub type PortalViewer = crate::sign_in::Viewer<Portal>;

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
        let (signed_in, _) = signed_in_or_login::<Portal>(parts).map_err(IntoResponse::into_response)?;
        let csrf = signed_in.session.csrf_token.clone();
        Ok(Affiliate { signed_in, csrf })
    }
}

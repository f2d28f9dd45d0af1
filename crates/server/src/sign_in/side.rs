//! What differs between the dashboard's and the portal's sign-in: each implements [`Side`]
//! next to its pages (`dashboard::session::Dashboard`, `portal::session::Portal`).

use std::future::Future;

use askama::Template;
use axum::{http::StatusCode, response::Response};
use refline_core::{
    sign_in::{SignInKind, SignedInAs},
    Core, CoreResult,
};

use crate::http::audit::AuditActor;

/// One side that people sign in to.
pub trait Side: Send + Sync + 'static {
    /// Who signs in here.
    const KIND: SignInKind;
    /// The session cookie (each side has its own, so one login never opens the other side).
    const COOKIE: &'static str;
    /// Where the sign-in pages live: `<PAGES>/login`, `<PAGES>/logout`, `<PAGES>/reset`.
    const PAGES: &'static str;
    /// Where a login goes when it names nowhere else (also the only place a bad `next` leads).
    const HOME: &'static str;
    /// The login page's title and heading.
    const LOGIN_TITLE: &'static str;
    /// Whether this is the affiliate portal (its pages' wording).
    const PORTAL: bool;

    /// The signed-in person with what their pages need.
    type SignedIn: SignedInAs + Send + Sync + 'static;

    /// The person behind a cookie value.
    fn resolve(core: &Core, token: &str) -> impl Future<Output = CoreResult<Option<Self::SignedIn>>> + Send;

    /// The side's plain message page (errors, refusals).
    fn message_page(status: StatusCode, title: &str, message: &str) -> Response;

    /// The side's layout around a sign-in page's `content` (already rendered and escaped).
    fn frame<'a>(title: &'a str, content: &'a str) -> impl Template + 'a;

    /// Who the audit log names for this request, when the side's audit layer does not know.
    fn audit_actor(signed_in: Option<&Self::SignedIn>) -> Option<AuditActor>;
}

//! The affiliate portal (`/portal`) and the public join pages (`/join/<code>`): server-rendered
//! pages for affiliates, one file per page group (`auth.rs` login/logout/reset, `home.rs` the
//! programs, `join.rs`, `invite.rs`), templates in `templates/portal/`.
//!
//! The plumbing is the dashboard's, shared rather than copied: the pre-login CSRF cookie and
//! token (`dashboard::session`), the one CSRF middleware (`dashboard::csrf`, told which tokens
//! this side accepts), cookie attributes (`set_cookie`), form errors and page rendering
//! (`dashboard::render`). What differs is the session: its own cookie ([`SESSION_COOKIE`]),
//! resolved through `Core::resolve_portal_session`, so a merchant login never opens the portal
//! nor the reverse. Every page calls one core operation; the core audits (door `portal`).

pub mod account;
pub mod auth;
pub mod export;
pub mod history;
pub mod home;
pub mod invite;
pub mod join;
pub mod links;
pub mod payouts;
pub mod performance;
pub mod render;
pub mod session;
pub mod unsubscribe;

use axum::{middleware, Router};

use crate::{dashboard::csrf, http::audit::audit_portal, state::AppState};

/// The portal's session cookie (the dashboard's is `refline_session`).
pub const SESSION_COOKIE: &str = "refline_portal";

/// The portal's and join pages' routes with their middleware: `audit_portal` (outermost: every
/// form post and refusal is one audit entry, door `portal`, carrying the operation it ran) →
/// `load_portal_session` (the cookie, the CSRF tokens) → `verify_csrf` → the page.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(home::router())
        .merge(join::router())
        .merge(invite::router())
        .merge(links::router())
        .merge(performance::router())
        .merge(payouts::router())
        .merge(account::router())
        .merge(export::router())
        .merge(unsubscribe::router())
        .merge(history::router())
        .layer(middleware::from_fn_with_state(state.clone(), csrf::verify_csrf))
        .layer(middleware::from_fn_with_state(state.clone(), session::load_portal_session))
        .layer(middleware::from_fn_with_state(state, audit_portal))
}

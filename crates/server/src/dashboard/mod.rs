//! The merchant dashboard: server-rendered pages (askama templates in `crates/server/templates`,
//! one small stylesheet and script in `crates/server/assets`, no framework, no CDN).
//!
//! Every page is a thin door: it reads the form, calls the core operation the REST API calls,
//! and renders the answer, so the dashboard applies exactly the API's rules. The request flow:
//! `audit_pages` (outermost: every form post and refusal becomes an audit entry with the
//! person as actor) → `load_session` (the session cookie, resolved through the core; the
//! pre-login CSRF cookie) → `verify_csrf` (every state-changing request carries `csrf_token`) →
//! the page.

pub mod affiliates;
pub mod api_keys;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod brand;
pub mod campaigns;
pub mod chart;
pub mod commissions;
pub mod csrf;
pub mod integrations;
pub mod migrate;
pub mod overview;
pub mod payout_settings;
pub mod payouts;
pub mod render;
pub mod session;
pub mod settings;
pub mod team;
pub mod webhooks;

use axum::{middleware, response::Redirect, routing::get, Router};
use serde::Deserialize;

use crate::{http::audit::audit_pages, state::AppState};

/// How long the session cookie lives in the browser (the session itself lapses after
/// `refline_core::team::SESSION_IDLE_MS` without use).
pub const SESSION_COOKIE_MAX_AGE: i64 = 30 * 24 * 3600;

/// The `?notice=` a page shows after a form (a fixed code each page maps to its text).
#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    /// The code.
    #[serde(default)]
    pub notice: String,
}

/// The dashboard's routes with their middleware.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/merchant") }))
        .merge(auth::router())
        .merge(overview::router())
        .merge(brand::router())
        .merge(api_keys::router())
        .merge(campaigns::router())
        .merge(affiliates::router())
        .merge(commissions::router())
        .merge(payouts::router())
        .merge(payout_settings::router())
        .merge(integrations::router())
        .merge(webhooks::router())
        .merge(audit::router())
        .merge(settings::router())
        .merge(team::router())
        .merge(migrate::router())
        .layer(middleware::from_fn_with_state(state.clone(), csrf::verify_csrf))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::sign_in::viewer::load_session::<session::Dashboard>,
        ))
        .layer(middleware::from_fn_with_state(state, audit_pages))
        .merge(assets::router())
}

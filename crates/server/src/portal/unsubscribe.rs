//! `/portal/unsubscribe/<token>`: the link of a non-essential mail (RFC 8058). A GET shows what
//! the link stops and a button; only a POST unsubscribes, since mail scanners and previews
//! follow links. The POST is either the page's form (with its CSRF token) or a mail client's
//! one-click `List-Unsubscribe=One-Click`, which carries no token: the CSRF layer lets that one
//! through on this path only (`dashboard::csrf::one_click_unsubscribe`), the signed token in the
//! URL being what proves the mail was received.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    Router,
};
use refline_core::portal::unsubscribe::UnsubscribeLink;

use super::{render::core_error_page, session::PortalViewer};
use crate::{dashboard::render::page, state::AppState};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/portal/unsubscribe/{token}", axum::routing::get(show).post(unsubscribe))
}

#[derive(Template)]
#[template(path = "portal/unsubscribe.html")]
struct UnsubscribePage {
    csrf: String,
    token: String,
    business: String,
    label: String,
    subscribed: bool,
}

impl UnsubscribePage {
    fn new(link: UnsubscribeLink, viewer: &PortalViewer, token: String) -> UnsubscribePage {
        UnsubscribePage {
            csrf: viewer.csrf(),
            token,
            business: link.business_name,
            label: link.label,
            subscribed: link.subscribed,
        }
    }
}

async fn show(State(state): State<AppState>, viewer: PortalViewer, Path(token): Path<String>) -> Response {
    match state.core.unsubscribe_link(&token).await {
        Ok(link) => page(StatusCode::OK, &UnsubscribePage::new(link, &viewer, token)),
        Err(err) => core_error_page(&err),
    }
}

/// The body is not read: the CSRF layer checked it (a valid form token, or the one-click body).
async fn unsubscribe(
    State(state): State<AppState>,
    viewer: PortalViewer,
    Path(token): Path<String>,
) -> Response {
    match state.core.unsubscribe(&token).await {
        Ok(link) => page(StatusCode::OK, &UnsubscribePage::new(link, &viewer, token)),
        Err(err) => core_error_page(&err),
    }
}

//! The overview at `/merchant`: this month's figures and the launch checklist.

use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response, routing::get, Router};

use super::{
    render::{page, Chrome},
    session::Page,
};
use crate::state::AppState;

/// The overview's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/merchant", get(show))
}

#[derive(Template)]
#[template(path = "merchant/overview.html")]
struct OverviewPage {
    chrome: Chrome,
}

async fn show(State(_state): State<AppState>, page_of: Page) -> Response {
    page(StatusCode::OK, &OverviewPage { chrome: Chrome::new(&page_of, "overview", "Overview") })
}

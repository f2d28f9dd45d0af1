//! The dashboard's stylesheet and script, compiled into the binary (no build step, no CDN).

use axum::{http::header, response::IntoResponse, routing::get, Router};

use crate::state::AppState;

const CSS: &str = include_str!("../../assets/dashboard.css");
const JS: &str = include_str!("../../assets/dashboard.js");

/// `/assets/dashboard.css` and `/assets/dashboard.js`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/assets/dashboard.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    CSS,
                )
                    .into_response()
            }),
        )
        .route(
            "/assets/dashboard.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    JS,
                )
                    .into_response()
            }),
        )
}

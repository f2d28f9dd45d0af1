//! The portal's own message page (its links lead back to the portal, not the dashboard); the
//! rest of the rendering (form errors, `page`, `refused`, statuses) is the dashboard's.

use askama::Template;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use refline_core::CoreError;

use crate::dashboard::render::core_error_on;

#[derive(Template)]
#[template(path = "portal/message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
}

/// A plain page with a title and a sentence.
pub fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    let html = MessagePage { title, message }.render().unwrap_or_else(|_| message.to_string());
    (status, [("cache-control", "no-store")], Html(html)).into_response()
}

/// The page for a core refusal outside a form (the dashboard's rule, the portal's layout).
pub fn core_error_page(err: &CoreError) -> Response {
    core_error_on(err, message_page)
}

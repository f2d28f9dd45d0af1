//! `<PAGES>/login`, `<PAGES>/logout` and password reset by emailed link, for either [`Side`].
//! Field names are fixed (`email`, `password`, `csrf_token`) so password managers and scripts
//! work. Each page renders its content (`templates/sign_in/`) inside the side's frame.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Router,
};
use refline_core::{sign_in::OpenedSession, CoreError};
use serde::Deserialize;

use super::{Side, Viewer};
use crate::{
    dashboard::{
        render::{core_error_on, page, refused, FormErrors},
        session::set_cookie,
        SESSION_COOKIE_MAX_AGE,
    },
    state::AppState,
};

/// The sign-in routes of a side.
pub fn router<S: Side>() -> Router<AppState> {
    let at = S::PAGES;
    Router::new()
        .route(&format!("{at}/login"), get(login_form::<S>).post(login::<S>))
        .route(&format!("{at}/logout"), post(logout::<S>))
        .route(&format!("{at}/reset"), get(reset_request_form::<S>).post(reset_request::<S>))
        .route(&format!("{at}/reset/{{token}}"), get(reset_form::<S>).post(reset::<S>))
}

/// Sets a new session's cookie (ending the session the browser had, if any) and goes on to
/// `to` (a local path only).
pub async fn signed_in<S: Side>(
    state: &AppState,
    viewer: &Viewer<S>,
    opened: &OpenedSession,
    to: &str,
) -> Response {
    if let Some(old) = &viewer.signed_in {
        if let Err(err) = state.core.end_session(old.as_ref()).await {
            return error_page::<S>(&err);
        }
    }
    let cookie = set_cookie(state, S::COOKIE, &opened.token, SESSION_COOKIE_MAX_AGE);
    let mut response = Redirect::to(safe_next::<S>(to)).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// Only local paths are followed after login (no open redirect); anything else goes home.
pub fn safe_next<S: Side>(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.contains(':') {
        next
    } else {
        S::HOME
    }
}

/// A core refusal outside a form, in the side's layout.
fn error_page<S: Side>(err: &CoreError) -> Response {
    core_error_on(err, S::message_page)
}

/// A sign-in page: its content rendered, then framed by the side's layout; `refusal` re-shows a
/// refused form with the core's status.
fn show<S: Side>(title: &str, content: &impl Template, refusal: Option<&CoreError>) -> Response {
    let Ok(html) = content.render() else {
        tracing::error!("sign-in page failed to render");
        return S::message_page(StatusCode::INTERNAL_SERVER_ERROR, "Error", "This page could not be shown.");
    };
    let framed = S::frame(title, &html);
    match refusal {
        Some(err) => refused(err, &framed),
        None => page(StatusCode::OK, &framed),
    }
}

#[derive(Template)]
#[template(path = "sign_in/login.html")]
struct LoginPage {
    title: &'static str,
    pages: &'static str,
    portal: bool,
    csrf: String,
    email: String,
    next: String,
    notice: Option<String>,
    errors: FormErrors,
}

impl LoginPage {
    fn of<S: Side>(csrf: String, email: String, next: String) -> LoginPage {
        LoginPage {
            title: S::LOGIN_TITLE,
            pages: S::PAGES,
            portal: S::PORTAL,
            csrf,
            email,
            next,
            notice: None,
            errors: FormErrors::none(),
        }
    }
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    notice: String,
}

async fn login_form<S: Side>(viewer: Viewer<S>, Query(query): Query<LoginQuery>) -> Response {
    let notice = match query.notice.as_str() {
        "password_reset" => Some("Your password was changed. Log in with the new one.".to_string()),
        "logged_out" => Some("You are logged out.".to_string()),
        _ => None,
    };
    let view = LoginPage { notice, ..LoginPage::of::<S>(viewer.anonymous_csrf, String::new(), query.next) };
    show::<S>(S::LOGIN_TITLE, &view, None)
}

#[derive(Deserialize, Default)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login<S: Side>(
    State(state): State<AppState>,
    viewer: Viewer<S>,
    Form(form): Form<LoginForm>,
) -> Response {
    match state.core.sign_in(S::KIND, &form.email, &form.password, &viewer.context).await {
        Ok(opened) => {
            let to = if form.next.is_empty() { S::HOME } else { &form.next };
            signed_in(&state, &viewer, &opened, to).await
        }
        Err(err) => {
            let errors = FormErrors::general(&err.message);
            let view =
                LoginPage { errors, ..LoginPage::of::<S>(viewer.anonymous_csrf, form.email, form.next) };
            show::<S>(S::LOGIN_TITLE, &view, Some(&err))
        }
    }
}

async fn logout<S: Side>(State(state): State<AppState>, viewer: Viewer<S>) -> Response {
    if let Some(signed_in) = &viewer.signed_in {
        if let Err(err) = state.core.log_out(signed_in.as_ref()).await {
            return error_page::<S>(&err);
        }
    }
    let mut response = Redirect::to(&format!("{}/login?notice=logged_out", S::PAGES)).into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, S::COOKIE, "", 0));
    response
}

#[derive(Template)]
#[template(path = "sign_in/reset_request.html")]
struct ResetRequestPage {
    pages: &'static str,
    portal: bool,
    csrf: String,
    sent: bool,
    errors: FormErrors,
}

const RESET_REQUEST_TITLE: &str = "Reset your password";

fn reset_request_page<S: Side>(viewer: Viewer<S>, sent: bool) -> Response {
    let view = ResetRequestPage {
        pages: S::PAGES,
        portal: S::PORTAL,
        csrf: viewer.anonymous_csrf,
        sent,
        errors: FormErrors::none(),
    };
    show::<S>(RESET_REQUEST_TITLE, &view, None)
}

async fn reset_request_form<S: Side>(viewer: Viewer<S>) -> Response {
    reset_request_page(viewer, false)
}

#[derive(Deserialize, Default)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn reset_request<S: Side>(
    State(state): State<AppState>,
    viewer: Viewer<S>,
    Form(form): Form<EmailForm>,
) -> Response {
    if let Err(err) = state.core.request_password_reset(S::KIND, &form.email).await {
        return error_page::<S>(&err);
    }
    // The same answer whether or not the email has a login.
    reset_request_page(viewer, true)
}

#[derive(Template)]
#[template(path = "sign_in/reset.html")]
struct ResetPage {
    pages: &'static str,
    csrf: String,
    token: String,
    email: String,
    errors: FormErrors,
}

const RESET_TITLE: &str = "Choose a password";

async fn reset_form<S: Side>(
    State(state): State<AppState>,
    viewer: Viewer<S>,
    Path(token): Path<String>,
) -> Response {
    match state.core.reset_link_email(S::KIND, &token).await {
        Ok(email) => {
            let view = ResetPage {
                pages: S::PAGES,
                csrf: viewer.anonymous_csrf,
                token,
                email,
                errors: FormErrors::none(),
            };
            show::<S>(RESET_TITLE, &view, None)
        }
        Err(err) => error_page::<S>(&err),
    }
}

#[derive(Deserialize, Default)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn reset<S: Side>(
    State(state): State<AppState>,
    viewer: Viewer<S>,
    Path(token): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    match state.core.reset_password(S::KIND, &token, &form.password).await {
        Ok(_) => Redirect::to(&format!("{}/login?notice=password_reset", S::PAGES)).into_response(),
        // A password the rule refuses: the form again, while the link still works.
        Err(err) if err.details.is_some() => match state.core.reset_link_email(S::KIND, &token).await {
            Ok(email) => {
                let errors = FormErrors::from_error(&err);
                let view = ResetPage { pages: S::PAGES, csrf: viewer.anonymous_csrf, token, email, errors };
                show::<S>(RESET_TITLE, &view, Some(&err))
            }
            Err(other) => error_page::<S>(&other),
        },
        Err(err) => error_page::<S>(&err),
    }
}

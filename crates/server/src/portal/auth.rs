//! `/portal/login`, `/portal/logout` and password reset by emailed link. Field names are fixed
//! (`email`, `password`, `csrf_token`) so password managers and scripts work.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Router,
};
use serde::Deserialize;

use super::{
    render::core_error_page,
    session::{signed_in, PortalViewer},
    SESSION_COOKIE,
};
use crate::{
    dashboard::{
        render::{page, refused, FormErrors},
        session::set_cookie,
    },
    state::AppState,
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/login", get(login_form).post(login))
        .route("/portal/logout", post(logout))
        .route("/portal/reset", get(reset_request_form).post(reset_request))
        .route("/portal/reset/{token}", get(reset_form).post(reset))
}

#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    next: String,
    notice: Option<String>,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    notice: String,
}

async fn login_form(viewer: PortalViewer, Query(query): Query<LoginQuery>) -> Response {
    let notice = match query.notice.as_str() {
        "password_reset" => Some("Your password was changed. Log in with the new one.".to_string()),
        "logged_out" => Some("You are logged out.".to_string()),
        _ => None,
    };
    page(
        StatusCode::OK,
        &LoginPage {
            csrf: viewer.anonymous_csrf,
            email: String::new(),
            next: query.next,
            notice,
            errors: FormErrors::none(),
        },
    )
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

async fn login(State(state): State<AppState>, viewer: PortalViewer, Form(form): Form<LoginForm>) -> Response {
    match state.core.portal_log_in(&form.email, &form.password, &viewer.context).await {
        Ok(opened) => {
            signed_in(&state, &viewer, &opened, if form.next.is_empty() { "/portal" } else { &form.next })
                .await
        }
        Err(err) => refused(
            &err,
            &LoginPage {
                csrf: viewer.anonymous_csrf,
                email: form.email,
                next: form.next,
                notice: None,
                errors: FormErrors::general(&err.message),
            },
        ),
    }
}

async fn logout(State(state): State<AppState>, viewer: PortalViewer) -> Response {
    if let Some(signed_in) = &viewer.signed_in {
        if let Err(err) = state.core.portal_log_out(signed_in).await {
            return core_error_page(&err);
        }
    }
    let mut response = Redirect::to("/portal/login?notice=logged_out").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0));
    response
}

#[derive(Template)]
#[template(path = "portal/reset_request.html")]
struct ResetRequestPage {
    csrf: String,
    sent: bool,
    errors: FormErrors,
}

async fn reset_request_form(viewer: PortalViewer) -> Response {
    page(
        StatusCode::OK,
        &ResetRequestPage { csrf: viewer.anonymous_csrf, sent: false, errors: FormErrors::none() },
    )
}

#[derive(Deserialize, Default)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn reset_request(
    State(state): State<AppState>,
    viewer: PortalViewer,
    Form(form): Form<EmailForm>,
) -> Response {
    if let Err(err) = state.core.request_portal_reset(&form.email).await {
        return core_error_page(&err);
    }
    // The same answer whether or not the email has a login.
    page(
        StatusCode::OK,
        &ResetRequestPage { csrf: viewer.anonymous_csrf, sent: true, errors: FormErrors::none() },
    )
}

#[derive(Template)]
#[template(path = "portal/reset.html")]
struct ResetPage {
    csrf: String,
    token: String,
    email: String,
    errors: FormErrors,
}

async fn reset_form(
    State(state): State<AppState>,
    viewer: PortalViewer,
    Path(token): Path<String>,
) -> Response {
    match state.core.portal_reset_email(&token).await {
        Ok(email) => page(
            StatusCode::OK,
            &ResetPage { csrf: viewer.anonymous_csrf, token, email, errors: FormErrors::none() },
        ),
        Err(err) => core_error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn reset(
    State(state): State<AppState>,
    viewer: PortalViewer,
    Path(token): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    match state.core.portal_reset_password(&token, &form.password).await {
        Ok(()) => Redirect::to("/portal/login?notice=password_reset").into_response(),
        Err(err) if err.details.is_some() => match state.core.portal_reset_email(&token).await {
            Ok(email) => refused(
                &err,
                &ResetPage {
                    csrf: viewer.anonymous_csrf,
                    token,
                    email,
                    errors: FormErrors::from_error(&err),
                },
            ),
            Err(other) => core_error_page(&other),
        },
        Err(err) => core_error_page(&err),
    }
}

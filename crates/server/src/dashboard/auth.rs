//! `/auth/*`: sign-up, login, logout, password reset and invitation links. Field names are fixed
//! (`email`, `password`, `businessName`, `csrf_token`) so password managers and scripts work.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Router,
};
use refline_core::{team::signup::SignUpInput, team::OpenedSession};
use serde::Deserialize;

use super::{
    render::{message_page, page, refused, FormErrors},
    session::{set_cookie, Viewer, SESSION_COOKIE},
};
use crate::state::AppState;

/// The `/auth` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/sign-up", get(sign_up_form).post(sign_up))
        .route("/auth/login", get(login_form).post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/reset", get(reset_request_form).post(reset_request))
        .route("/auth/reset/{token}", get(reset_form).post(reset))
        .route("/auth/invite/{token}", get(invite_form).post(accept_invite))
}

#[derive(Template)]
#[template(path = "auth/sign_up.html")]
struct SignUpPage {
    csrf: String,
    email: String,
    business_name: String,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
struct SignUpForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "businessName")]
    business_name: String,
}

async fn sign_up_form(State(state): State<AppState>, viewer: Viewer) -> Response {
    if !state.config.dashboard.signup_open {
        return signups_closed();
    }
    let csrf = viewer.anonymous_csrf;
    page(
        StatusCode::OK,
        &SignUpPage { csrf, email: String::new(), business_name: String::new(), errors: FormErrors::none() },
    )
}

fn signups_closed() -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        "Sign-up is closed",
        "This Refline server does not take new sign-ups. Ask its operator for a login (refline user create).",
    )
}

async fn sign_up(State(state): State<AppState>, viewer: Viewer, Form(form): Form<SignUpForm>) -> Response {
    if !state.config.dashboard.signup_open {
        return signups_closed();
    }
    let input = SignUpInput {
        email: form.email.clone(),
        password: form.password,
        business_name: form.business_name.clone(),
    };
    match state.core.sign_up(input, state.config.dashboard.signup_plan, &viewer.context).await {
        Ok(opened) => signed_in(&state, &viewer, &opened, "/merchant").await,
        Err(err) => refused(
            &err,
            &SignUpPage {
                csrf: viewer.anonymous_csrf,
                email: form.email,
                business_name: form.business_name,
                errors: FormErrors::from_error(&err),
            },
        ),
    }
}

/// Sets the new session's cookie (ending the one the browser had, if any) and goes on to `to`.
async fn signed_in(state: &AppState, viewer: &Viewer, opened: &OpenedSession, to: &str) -> Response {
    if let Some(old) = &viewer.signed_in {
        if let Err(err) = state.core.end_session(old).await {
            return super::render::core_error_page(&err);
        }
    }
    let cookie = set_cookie(state, SESSION_COOKIE, &opened.token, super::SESSION_COOKIE_MAX_AGE);
    let mut response = Redirect::to(safe_next(to)).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.contains(':') {
        next
    } else {
        "/merchant"
    }
}

#[derive(Template)]
#[template(path = "auth/login.html")]
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

async fn login_form(viewer: Viewer, Query(query): Query<LoginQuery>) -> Response {
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

async fn login(State(state): State<AppState>, viewer: Viewer, Form(form): Form<LoginForm>) -> Response {
    match state.core.log_in(&form.email, &form.password, &viewer.context).await {
        Ok(opened) => {
            signed_in(&state, &viewer, &opened, if form.next.is_empty() { "/merchant" } else { &form.next })
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

async fn logout(State(state): State<AppState>, viewer: Viewer) -> Response {
    if let Some(signed_in) = &viewer.signed_in {
        if let Err(err) = state.core.log_out(signed_in).await {
            return super::render::core_error_page(&err);
        }
    }
    let mut response = Redirect::to("/auth/login?notice=logged_out").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0));
    response
}

#[derive(Template)]
#[template(path = "auth/reset_request.html")]
struct ResetRequestPage {
    csrf: String,
    sent: bool,
    errors: FormErrors,
}

async fn reset_request_form(viewer: Viewer) -> Response {
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
    viewer: Viewer,
    Form(form): Form<EmailForm>,
) -> Response {
    if let Err(err) = state.core.request_password_reset(&form.email).await {
        return super::render::core_error_page(&err);
    }
    // The same answer whether or not the email has a login.
    page(
        StatusCode::OK,
        &ResetRequestPage { csrf: viewer.anonymous_csrf, sent: true, errors: FormErrors::none() },
    )
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    csrf: String,
    token: String,
    email: String,
    errors: FormErrors,
}

async fn reset_form(State(state): State<AppState>, viewer: Viewer, Path(token): Path<String>) -> Response {
    match state.core.reset_link_email(&token).await {
        Ok(email) => page(
            StatusCode::OK,
            &ResetPage { csrf: viewer.anonymous_csrf, token, email, errors: FormErrors::none() },
        ),
        Err(err) => super::render::core_error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn reset(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    match state.core.reset_password(&token, &form.password).await {
        Ok(_) => Redirect::to("/auth/login?notice=password_reset").into_response(),
        Err(err) if err.details.is_some() => match state.core.reset_link_email(&token).await {
            Ok(email) => refused(
                &err,
                &ResetPage {
                    csrf: viewer.anonymous_csrf,
                    token,
                    email,
                    errors: FormErrors::from_error(&err),
                },
            ),
            Err(other) => super::render::core_error_page(&other),
        },
        Err(err) => super::render::core_error_page(&err),
    }
}

#[derive(Template)]
#[template(path = "auth/invite.html")]
struct InvitePage {
    csrf: String,
    token: String,
    brand: String,
    email: String,
    needs_password: bool,
    errors: FormErrors,
}

async fn invite_form(State(state): State<AppState>, viewer: Viewer, Path(token): Path<String>) -> Response {
    match state.core.invitation(&token).await {
        Ok(view) => page(
            StatusCode::OK,
            &InvitePage {
                csrf: viewer.anonymous_csrf,
                token,
                brand: view.brand,
                email: view.email,
                needs_password: view.needs_password,
                errors: FormErrors::none(),
            },
        ),
        Err(err) => super::render::core_error_page(&err),
    }
}

async fn accept_invite(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(token): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    match state.core.accept_invitation(&token, &form.password, &viewer.context).await {
        Ok(opened) => signed_in(&state, &viewer, &opened, "/merchant").await,
        Err(err) if err.details.is_some() => match state.core.invitation(&token).await {
            Ok(view) => refused(
                &err,
                &InvitePage {
                    csrf: viewer.anonymous_csrf,
                    token,
                    brand: view.brand,
                    email: view.email,
                    needs_password: view.needs_password,
                    errors: FormErrors::from_error(&err),
                },
            ),
            Err(other) => super::render::core_error_page(&other),
        },
        Err(err) => super::render::core_error_page(&err),
    }
}

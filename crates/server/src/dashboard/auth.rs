//! `/auth/*`: sign-up and invitation links, plus the login, logout and password-reset pages
//! shared with the portal (`crate::sign_in::pages`, side [`Dashboard`]). Field names are fixed
//! (`email`, `password`, `businessName`, `csrf_token`) so password managers and scripts work.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::get,
    Form, Router,
};
use refline_core::team::signup::SignUpInput;
use serde::Deserialize;

use super::{
    render::{message_page, page, refused, FormErrors},
    session::{Dashboard, Viewer},
};
use crate::{
    sign_in::pages::{self, signed_in},
    state::AppState,
};

/// The `/auth` routes: login, logout and reset are the shared sign-in pages
/// (`crate::sign_in::pages`); sign-up and team invitations are the dashboard's own.
pub fn router() -> Router<AppState> {
    pages::router::<Dashboard>()
        .route("/auth/sign-up", get(sign_up_form).post(sign_up))
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

#[derive(Deserialize, Default)]
struct PasswordForm {
    #[serde(default)]
    password: String,
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

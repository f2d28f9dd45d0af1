//! `/join/<code>`: a campaign's public join page (its `joinUrl`). Shows the business, the
//! campaign's description and terms; a new affiliate signs up and applies (`POST /join/<code>`:
//! `name`, `email`, `password`, `csrf_token`), a signed-in one applies with one button
//! (`POST /join/<code>/apply`). An unknown, paused or non-public campaign is a 404 page.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Form, Router,
};
use refline_core::portal::join::{JoinInput, JoinView, Joined};
use serde::Deserialize;

use super::{
    render::core_error_page,
    session::{signed_in, Affiliate, PortalViewer},
};
use crate::{
    dashboard::render::{done, page, refused, FormErrors},
    state::AppState,
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/join/{code}", get(show).post(apply_new))
        .route("/join/{code}/apply", post(apply_signed_in))
}

#[derive(Template)]
#[template(path = "portal/join.html")]
struct JoinPage {
    csrf: String,
    code: String,
    business: String,
    campaign: String,
    description: String,
    terms: String,
    auto_approve: bool,
    /// The signed-in affiliate's email, when there is one.
    signed_in_as: Option<String>,
    name: String,
    email: String,
    errors: FormErrors,
}

impl JoinPage {
    fn new(view: JoinView, viewer: &PortalViewer, code: String) -> JoinPage {
        JoinPage {
            csrf: viewer.csrf(),
            code,
            business: view.business_name,
            description: view.campaign.description.clone().unwrap_or_default(),
            campaign: view.campaign.name.clone(),
            terms: view.terms,
            auto_approve: view.campaign.auto_approve_affiliates,
            signed_in_as: viewer.signed_in.as_ref().map(|s| s.person.email.clone()),
            name: String::new(),
            email: String::new(),
            errors: FormErrors::none(),
        }
    }
}

async fn show(State(state): State<AppState>, viewer: PortalViewer, Path(code): Path<String>) -> Response {
    match state.core.join_page(&code).await {
        Ok(view) => page(StatusCode::OK, &JoinPage::new(view, &viewer, code)),
        Err(err) => core_error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct JoinForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Where a successful application goes: the portal, saying what happened.
fn joined_notice(joined: &Joined) -> &'static str {
    match joined.status {
        refline_domain::MembershipStatus::Approved => "approved",
        _ => "pending",
    }
}

async fn apply_new(
    State(state): State<AppState>,
    viewer: PortalViewer,
    Path(code): Path<String>,
    Form(form): Form<JoinForm>,
) -> Response {
    let input = JoinInput { name: form.name.clone(), email: form.email.clone(), password: form.password };
    match state.core.join_as_new(&code, input, &viewer.context).await {
        Ok(joined) => match &joined.session {
            Some(opened) => {
                signed_in(&state, &viewer, opened, &format!("/portal?notice={}", joined_notice(&joined)))
                    .await
            }
            None => done("/portal", joined_notice(&joined)),
        },
        Err(err) => match state.core.join_page(&code).await {
            Ok(view) => {
                let mut shown = JoinPage::new(view, &viewer, code);
                shown.name = form.name;
                shown.email = form.email;
                shown.errors = FormErrors::from_error(&err);
                if shown.errors.general.is_none() && !shown.errors.any() {
                    shown.errors = FormErrors::general(&err.message);
                }
                refused(&err, &shown)
            }
            Err(other) => core_error_page(&other),
        },
    }
}

async fn apply_signed_in(
    State(state): State<AppState>,
    me: Affiliate,
    viewer: PortalViewer,
    Path(code): Path<String>,
) -> Response {
    match state.core.join_as_person(&code, &me.signed_in).await {
        Ok(joined) => done("/portal", joined_notice(&joined)),
        Err(err) => match state.core.join_page(&code).await {
            Ok(view) => {
                let mut shown = JoinPage::new(view, &viewer, code);
                shown.errors = FormErrors::general(&err.message);
                refused(&err, &shown)
            }
            Err(other) => core_error_page(&other),
        },
    }
}

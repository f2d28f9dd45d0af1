//! `/portal/invite/<token>`: the link of an emailed invitation. A person without a login sets
//! a password (and may correct their name) and is signed in; a person with one accepts while
//! signed in (or is sent to log in first). Accepting puts them on the campaign, approved.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    Form, Router,
};
use refline_core::portal::invite::{AcceptInput, InvitationLink};
use serde::Deserialize;

use super::{
    render::core_error_page,
    session::{signed_in, PortalViewer},
};
use crate::{
    dashboard::render::{done, page, refused, FormErrors},
    state::AppState,
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/portal/invite/{token}", axum::routing::get(show).post(accept))
}

#[derive(Template)]
#[template(path = "portal/invite.html")]
struct InvitePage {
    csrf: String,
    token: String,
    business: String,
    campaign: String,
    description: String,
    terms: String,
    email: String,
    name: String,
    /// The email has a login: accepting needs it signed in.
    person_exists: bool,
    /// The browser is signed in as the invited person.
    signed_in_as_invited: bool,
    errors: FormErrors,
}

impl InvitePage {
    fn new(link: InvitationLink, viewer: &PortalViewer, token: String) -> InvitePage {
        let signed_in_as_invited =
            viewer.signed_in.as_ref().is_some_and(|s| s.person.email == link.invitation.email);
        InvitePage {
            csrf: viewer.csrf(),
            token,
            business: link.business_name,
            description: link.campaign.description.clone().unwrap_or_default(),
            campaign: link.campaign.name.clone(),
            terms: link.terms,
            name: link.invitation.name.clone().unwrap_or_default(),
            email: link.invitation.email,
            person_exists: link.person_exists,
            signed_in_as_invited,
            errors: FormErrors::none(),
        }
    }
}

async fn show(State(state): State<AppState>, viewer: PortalViewer, Path(token): Path<String>) -> Response {
    match state.core.invitation_link(&token).await {
        Ok(link) => page(StatusCode::OK, &InvitePage::new(link, &viewer, token)),
        Err(err) => core_error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct AcceptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn accept(
    State(state): State<AppState>,
    viewer: PortalViewer,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> Response {
    let input = AcceptInput { name: form.name.clone(), password: form.password };
    let me = viewer.signed_in.as_deref();
    match state.core.accept_affiliate_invitation(&token, me, input, &viewer.context).await {
        Ok(joined) => match &joined.session {
            Some(opened) => signed_in(&state, &viewer, opened, "/portal?notice=approved").await,
            None => done("/portal", "approved"),
        },
        Err(err) if err.details.is_some() || err.code == "login_required" => {
            match state.core.invitation_link(&token).await {
                Ok(link) => {
                    let mut shown = InvitePage::new(link, &viewer, token);
                    shown.name = form.name;
                    shown.errors = if err.details.is_some() {
                        FormErrors::from_error(&err)
                    } else {
                        FormErrors::general(&err.message)
                    };
                    refused(&err, &shown)
                }
                Err(other) => core_error_page(&other),
            }
        }
        Err(err) => core_error_page(&err),
    }
}

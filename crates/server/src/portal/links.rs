//! `/portal/links`: per program, the tracking link and the person's short links with copy
//! buttons (the dashboard's `data-copy` helper), and a form per program creating a short link
//! with a chosen code (`Core::portal_create_link`: the API's rules, the portal door).

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
    Form, Router,
};
use refline_core::portal::links::ProgramLinks;
use serde::Deserialize;

use super::{render::core_error_page, session::Affiliate};
use crate::{
    dashboard::{
        render::{done, page, refused, FormErrors},
        Notice,
    },
    state::AppState,
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/portal/links", get(links_page).post(create))
}

#[derive(Template)]
#[template(path = "portal/links.html")]
struct LinksPage {
    csrf: String,
    notice: Option<&'static str>,
    programs: Vec<ProgramLinks>,
    /// The program whose form was refused, its code as typed and the errors.
    refused_campaign: String,
    code: String,
    errors: FormErrors,
}

async fn links_page(State(state): State<AppState>, me: Affiliate, Query(notice): Query<Notice>) -> Response {
    match state.core.portal_links(&me.signed_in).await {
        Ok(programs) => page(
            StatusCode::OK,
            &LinksPage {
                csrf: me.csrf,
                notice: (notice.notice == "created").then_some("Your short link is ready."),
                programs,
                refused_campaign: String::new(),
                code: String::new(),
                errors: FormErrors::none(),
            },
        ),
        Err(err) => core_error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct NewLink {
    #[serde(default)]
    campaign_id: String,
    #[serde(default)]
    code: String,
}

async fn create(State(state): State<AppState>, me: Affiliate, Form(form): Form<NewLink>) -> Response {
    let code = Some(form.code.trim().to_string()).filter(|c| !c.is_empty());
    match state.core.portal_create_link(&me.signed_in, &form.campaign_id, code).await {
        Ok(_) => done("/portal/links", "created"),
        Err(err) if err.kind == refline_core::ErrorKind::NotFound => core_error_page(&err),
        Err(err) => match state.core.portal_links(&me.signed_in).await {
            Ok(programs) => refused(
                &err,
                &LinksPage {
                    csrf: me.csrf,
                    notice: None,
                    programs,
                    refused_campaign: form.campaign_id,
                    code: form.code,
                    errors: FormErrors::from_error(&err),
                },
            ),
            Err(other) => core_error_page(&other),
        },
    }
}

//! `/portal`: the programs the affiliate is in, across every merchant, with status, terms and
//! the tracking link. (Links, performance, payouts, coupons and the profile come next, each as
//! a file of its own beside this one.)

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
    Router,
};
use refline_core::portal::programs::Program;

use super::{render::core_error_page, session::Affiliate};
use crate::{
    dashboard::{render::page, Notice},
    state::AppState,
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/portal", get(home))
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage {
    csrf: String,
    email: String,
    notice: Option<&'static str>,
    programs: Vec<Row>,
}

struct Row {
    business: String,
    campaign: String,
    description: String,
    status: &'static str,
    terms: String,
    link: String,
    joined: String,
}

impl Row {
    fn of(p: Program) -> Row {
        Row {
            business: p.business_name,
            campaign: p.campaign.name,
            description: p.campaign.description.unwrap_or_default(),
            status: p.status.as_str(),
            terms: p.terms,
            link: p.tracking_link.unwrap_or_default(),
            joined: crate::dashboard::render::when(p.joined_at),
        }
    }
}

/// The sentence a `?notice=` code stands for (never reflected input).
fn notice_text(code: &str) -> Option<&'static str> {
    match code {
        "pending" => {
            Some("Your application was sent. The business reviews it; you get a mail when it is decided.")
        }
        "approved" => Some("You are in: your tracking link is below, and on its way by mail."),
        _ => None,
    }
}

async fn home(State(state): State<AppState>, me: Affiliate, Query(notice): Query<Notice>) -> Response {
    match state.core.portal_programs(&me.signed_in).await {
        Ok(programs) => page(
            StatusCode::OK,
            &HomePage {
                csrf: me.csrf,
                email: me.signed_in.person.email.clone(),
                notice: notice_text(&notice.notice),
                programs: programs.into_iter().map(Row::of).collect(),
            },
        ),
        Err(err) => core_error_page(&err),
    }
}

//! `/merchant/team`: the brand's team. The owner invites people by email with a role and the
//! two grantable rights (the invitation is mailed through the outbox), changes a member's role
//! and rights, removes a member or revokes an invitation; seats used and included are shown.
//!
//! Core operations: `team`, `seat_use`, `invite_member`, `update_member`, `remove_member`.
//! Form fields are the core's issue paths: `email`, `role`, `managePayouts`, `manageKeys`.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Form, Router,
};
use refline_core::{team::members::InviteInput, CoreError};
use refline_domain::Role;
use serde::Deserialize;

use super::{
    render::{core_error_page, done, page, refused, when, Chrome, FormErrors},
    session::Page,
    Notice,
};
use crate::state::AppState;

/// The team routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/team", get(show).post(invite))
        .route("/merchant/team/{user_id}", post(update))
        .route("/merchant/team/{user_id}/remove", post(remove))
}

/// One person on the team.
struct MemberRow {
    user_id: String,
    email: String,
    name: String,
    role: &'static str,
    owner: bool,
    manage_payouts: bool,
    manage_keys: bool,
    invited: String,
    pending: bool,
    me: bool,
}

/// The invite form's values.
#[derive(Default)]
struct Invite {
    email: String,
    role: String,
    manage_payouts: bool,
    manage_keys: bool,
}

#[derive(Template)]
#[template(path = "merchant/team.html")]
struct TeamPage {
    chrome: Chrome,
    members: Vec<MemberRow>,
    seats_included: u32,
    seats_taken: u32,
    invite: Invite,
    errors: FormErrors,
    /// A refused change of a member, shown on their row.
    member_error: Option<(String, String)>,
}

async fn render(
    state: &AppState,
    page_of: &Page,
    invite: Invite,
    errors: FormErrors,
    member_error: Option<(String, String)>,
    notice: Option<String>,
) -> Result<TeamPage, Response> {
    let team = state.core.team(&page_of.actor).await.map_err(|e| core_error_page(&e))?;
    let seats = state.core.seat_use(&page_of.actor).await.map_err(|e| core_error_page(&e))?;
    let me = &page_of.signed_in.user.id;
    Ok(TeamPage {
        chrome: Chrome::new(page_of, "settings", "Team").with_notice(notice),
        members: team
            .into_iter()
            .map(|m| MemberRow {
                me: &m.user_id == me,
                owner: m.role == Role::Owner,
                role: m.role.as_str(),
                manage_payouts: m.manage_payouts,
                manage_keys: m.manage_keys,
                invited: when(m.created_at),
                pending: m.accepted_at.is_none(),
                user_id: m.user_id,
                email: m.email,
                name: m.name,
            })
            .collect(),
        seats_included: seats.included,
        seats_taken: seats.taken,
        invite,
        errors,
        member_error,
    })
}

fn notice_text(code: &str) -> Option<String> {
    let text = match code {
        "invited" => "The invitation was sent. They join the team when they open the link.",
        "updated" => "The member's role and rights were saved.",
        "removed" => "They were removed from the team (or their invitation revoked).",
        _ => return None,
    };
    Some(text.to_string())
}

async fn show(State(state): State<AppState>, page_of: Page, Query(notice): Query<Notice>) -> Response {
    let invite = Invite { role: "member".into(), ..Invite::default() };
    match render(&state, &page_of, invite, FormErrors::none(), None, notice_text(&notice.notice)).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(response) => response,
    }
}

#[derive(Deserialize, Default)]
struct MemberForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default, rename = "managePayouts")]
    manage_payouts: String,
    #[serde(default, rename = "manageKeys")]
    manage_keys: String,
}

/// A checkbox's value: sent means checked.
fn checked(value: &str) -> bool {
    matches!(value, "on" | "true" | "1")
}

/// The core's input from the form; a role the form does not offer is reported on `role`.
fn input_of(form: &MemberForm) -> Result<InviteInput, CoreError> {
    let role =
        Role::parse(&form.role).ok_or_else(|| CoreError::invalid_field("role", "choose admin or member"))?;
    Ok(InviteInput {
        email: form.email.clone(),
        role,
        manage_payouts: checked(&form.manage_payouts),
        manage_keys: checked(&form.manage_keys),
    })
}

async fn invite(State(state): State<AppState>, page_of: Page, Form(form): Form<MemberForm>) -> Response {
    let result = match input_of(&form) {
        Ok(input) => state.core.invite_member(&page_of.actor, input).await.map(|_| ()),
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => done("/merchant/team", "invited"),
        Err(err) => {
            let sent = Invite {
                manage_payouts: checked(&form.manage_payouts),
                manage_keys: checked(&form.manage_keys),
                email: form.email,
                role: form.role,
            };
            match render(&state, &page_of, sent, FormErrors::from_error(&err), None, None).await {
                Ok(view) => refused(&err, &view),
                Err(response) => response,
            }
        }
    }
}

async fn update(
    State(state): State<AppState>,
    page_of: Page,
    Path(user_id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Response {
    let result = match input_of(&form) {
        Ok(input) => state.core.update_member(&page_of.actor, &user_id, input).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => done("/merchant/team", "updated"),
        Err(err)
            if matches!(
                err.kind,
                refline_core::ErrorKind::Invalid | refline_core::ErrorKind::Unprocessable
            ) =>
        {
            let invite = Invite { role: "member".into(), ..Invite::default() };
            let message = FormErrors::from_error(&err);
            let text = message.general.clone().unwrap_or_else(|| message.get("role").to_string());
            match render(&state, &page_of, invite, FormErrors::none(), Some((user_id, text)), None).await {
                Ok(view) => refused(&err, &view),
                Err(response) => response,
            }
        }
        Err(err) => core_error_page(&err),
    }
}

async fn remove(State(state): State<AppState>, page_of: Page, Path(user_id): Path<String>) -> Response {
    match state.core.remove_member(&page_of.actor, &user_id).await {
        Ok(()) => done("/merchant/team", "removed"),
        Err(err) => core_error_page(&err),
    }
}

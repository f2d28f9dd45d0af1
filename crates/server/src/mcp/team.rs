//! The team tools: the brand's team and its seats, and inviting, changing and removing a member
//! through the dashboard's own core operations (`Core::invite_member`, `update_member`,
//! `remove_member`), which decide the rights: write access, a live key, the owner's place fixed,
//! the plan's seats.

use refline_core::{team::members::InviteInput, Actor};
use refline_domain::{format_timestamp, Role};
use refline_store::TeamMemberView;
use serde_json::{json, Map, Value};

use crate::{error::ApiError, http::body::Fields, mcp::answer::ToolOutcome, state::AppState};

/// Roles a tool may give (a brand has one owner).
pub const ROLES: [&str; 2] = ["admin", "member"];

fn render(m: &TeamMemberView) -> Value {
    json!({
        "userId": m.user_id,
        "email": m.email,
        "name": m.name,
        "role": m.role.as_str(),
        "managePayouts": m.manage_payouts,
        "manageApiKeys": m.manage_keys,
        "invitedAt": format_timestamp(m.created_at),
        "acceptedAt": m.accepted_at.map(format_timestamp),
    })
}

/// `list_team_members`: the brand's team (owner first) and its seats, as the dashboard's team
/// page shows them.
pub async fn list(state: &AppState, actor: &Actor) -> ToolOutcome {
    let team = state.core.team(actor).await?;
    let seats = state.core.seat_use(actor).await?;
    let members: Vec<Value> = team.iter().map(render).collect();
    Ok(json!({ "data": members, "seats": { "included": seats.included, "taken": seats.taken } }))
}

/// The member `user_id` as the team list shows them now.
async fn member(state: &AppState, actor: &Actor, user_id: &str) -> ToolOutcome {
    let team = state.core.team(actor).await?;
    let found = team.iter().find(|m| m.user_id == user_id).map(render);
    Ok(json!({ "data": found }))
}

/// The role and rights arguments of an invitation or a change.
fn rights(f: &mut Fields<'_>) -> (Option<Role>, bool, bool) {
    let role = f.required_enum("role", &ROLES).and_then(Role::parse);
    let payouts = f.optional_bool("managePayouts").unwrap_or(false);
    let keys = f.optional_bool("manageApiKeys").unwrap_or(false);
    (role, payouts, keys)
}

/// `invite_team_member`: mails an invitation to the brand's team.
pub async fn invite(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut f = Fields::new(map);
    let email = f.required_string("email", 254);
    let (role, manage_payouts, manage_keys) = rights(&mut f);
    f.finish()?;
    let (Some(email), Some(role)) = (email, role) else {
        return Err(ApiError::internal("validated field missing"));
    };
    let input = InviteInput { email, role, manage_payouts, manage_keys };
    let user_id = state.core.invite_member(actor, input).await?;
    member(state, actor, &user_id).await
}

/// `update_team_member`: a member's role and rights.
pub async fn update(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut f = Fields::new(map);
    let user_id = f.required_string("userId", 200);
    let (role, manage_payouts, manage_keys) = rights(&mut f);
    f.finish()?;
    let (Some(user_id), Some(role)) = (user_id, role) else {
        return Err(ApiError::internal("validated field missing"));
    };
    let change = InviteInput { email: String::new(), role, manage_payouts, manage_keys };
    state.core.update_member(actor, &user_id, change).await?;
    member(state, actor, &user_id).await
}

/// `remove_team_member`: removes a member or withdraws an invitation.
pub async fn remove(state: &AppState, actor: &Actor, map: &Map<String, Value>) -> ToolOutcome {
    let mut f = Fields::new(map);
    let user_id = f.required_string("userId", 200);
    f.finish()?;
    let Some(user_id) = user_id else { return Err(ApiError::internal("validated field missing")) };
    state.core.remove_member(actor, &user_id).await?;
    Ok(json!({ "data": { "userId": user_id, "removed": true } }))
}

//! `/merchant/audit`: the brand's audit log, newest first, filterable by door (`api`,
//! `dashboard`, …), operation prefix (`campaign.`, `team.invite`) and refusals only, paged back
//! with `before` (the time of the last entry shown). Each entry says who acted: the person's
//! email (or id, once they left the team), or the API key. Reads `Core::audit_log`.

use std::collections::HashMap;

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
    Router,
};
use refline_store::AuditFilter;
use serde::Deserialize;

use super::{
    render::{core_error_page, page, when, Chrome},
    session::Page,
};
use crate::state::AppState;

/// Entries per page.
const PER_PAGE: i64 = 50;

/// The doors an entry can come through, for the filter.
const DOORS: [&str; 8] = ["api", "dashboard", "portal", "mcp", "cli", "processor", "import", "system"];

/// The audit route.
pub fn router() -> Router<AppState> {
    Router::new().route("/merchant/audit", get(show))
}

#[derive(Deserialize, Default)]
struct Filters {
    #[serde(default)]
    door: String,
    #[serde(default)]
    operation: String,
    #[serde(default)]
    failed: String,
    #[serde(default)]
    before: String,
}

/// One entry as listed.
struct EntryRow {
    at: String,
    door: String,
    who: String,
    operation: String,
    target: String,
    request: String,
    outcome: String,
    failed: bool,
    ip: String,
}

#[derive(Template)]
#[template(path = "merchant/audit.html")]
struct AuditPage {
    chrome: Chrome,
    doors: &'static [&'static str],
    door: String,
    operation: String,
    failed_only: bool,
    entries: Vec<EntryRow>,
    /// The link to older entries, when there may be some.
    older: Option<String>,
    paged: bool,
}

async fn show(State(state): State<AppState>, page_of: Page, Query(filters): Query<Filters>) -> Response {
    let failed_only = matches!(filters.failed.as_str(), "on" | "true" | "1");
    let filter = AuditFilter {
        door: Some(filters.door.clone()),
        operation: Some(filters.operation.clone()),
        failed_only,
        before: filters.before.trim().parse().ok(),
    };
    let entries = match state.core.audit_log(&page_of.actor, &filter, PER_PAGE).await {
        Ok(entries) => entries,
        Err(err) => return core_error_page(&err),
    };
    let team = match state.core.team(&page_of.actor).await {
        Ok(team) => team,
        Err(err) => return core_error_page(&err),
    };
    let emails: HashMap<&str, &str> = team.iter().map(|m| (m.user_id.as_str(), m.email.as_str())).collect();
    let older = (entries.len() as i64 == PER_PAGE)
        .then(|| entries.last().map(|e| e.created_at))
        .flatten()
        .map(|before| {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("door", &filters.door)
                .append_pair("operation", &filters.operation)
                .append_pair("failed", if failed_only { "on" } else { "" })
                .append_pair("before", &before.to_string())
                .finish();
            format!("/merchant/audit?{query}")
        });
    let rows = entries
        .iter()
        .map(|e| {
            let who = match (&e.user_id, &e.api_key_id) {
                (Some(user), _) => {
                    emails.get(user.as_str()).map_or_else(|| user.clone(), |email| (*email).to_string())
                }
                (None, Some(key)) => format!("API key {key}"),
                (None, None) => e.door.clone(),
            };
            let request = match (&e.method, &e.path) {
                (Some(method), Some(path)) => format!("{method} {path}"),
                _ => String::new(),
            };
            let failed = e.error_code.is_some() || e.status_code.is_some_and(|s| s >= 400);
            let outcome = match (&e.error_code, e.status_code) {
                (Some(code), Some(status)) => format!("{status} {code}"),
                (Some(code), None) => code.clone(),
                (None, Some(status)) => status.to_string(),
                (None, None) => "ok".to_string(),
            };
            EntryRow {
                at: when(e.created_at),
                door: e.door.clone(),
                who,
                operation: e.operation.clone().unwrap_or_default(),
                target: e.target_id.clone().unwrap_or_default(),
                request,
                outcome,
                failed,
                ip: e.ip_address.clone().unwrap_or_default(),
            }
        })
        .collect();
    page(
        StatusCode::OK,
        &AuditPage {
            chrome: Chrome::new(&page_of, "audit", "Audit log"),
            doors: &DOORS,
            door: filters.door.trim().to_string(),
            operation: filters.operation.trim().to_string(),
            failed_only,
            entries: rows,
            older,
            paged: filter.before.is_some(),
        },
    )
}

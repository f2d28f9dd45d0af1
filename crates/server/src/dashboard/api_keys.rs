//! `/merchant/api-keys` (the seed's first step): generate a live or test key (form field `kind`),
//! shown in full once on the page that answers, with a copy button; afterwards only its hint;
//! revoke. The page says what the plan's keys may do.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Form, Router,
};
use refline_domain::{ApiAccess, KeyKind};
use serde::Deserialize;

use super::{
    render::{core_error_page, done, page, refused, when, when_opt, Chrome, FormErrors},
    session::Page,
    Notice,
};
use crate::state::AppState;

/// The key routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/api-keys", get(show).post(create))
        .route("/merchant/api-keys/{id}/revoke", post(revoke))
}

/// One key as listed.
struct KeyRow {
    id: String,
    kind: &'static str,
    hint: String,
    created: String,
    revoked: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "merchant/api_keys.html")]
struct KeysPage {
    chrome: Chrome,
    access: &'static str,
    plan: &'static str,
    keys: Vec<KeyRow>,
    /// The key just generated, shown this once.
    created: Option<String>,
    errors: FormErrors,
}

async fn render(
    state: &AppState,
    page_of: &Page,
    created: Option<String>,
    errors: FormErrors,
    notice: Option<String>,
) -> Result<KeysPage, Response> {
    let keys = state.core.api_keys(&page_of.actor).await.map_err(|e| core_error_page(&e))?;
    let plan = page_of.brand.merchant.plan;
    let access = match plan.api_access() {
        ApiAccess::None => {
            "no API access: keys can be generated but are refused until the plan is upgraded to Pro or higher"
        }
        ApiAccess::ReadOnly => {
            "read-only keys (reads answer; writes are refused with insufficient_permissions)"
        }
        ApiAccess::ReadWrite => "read and write keys",
    };
    Ok(KeysPage {
        chrome: Chrome::new(page_of, "api-keys", "API keys").with_notice(notice),
        access,
        plan: plan.as_str(),
        keys: keys
            .into_iter()
            .map(|k| KeyRow {
                active: k.revoked_at.is_none(),
                kind: k.kind.as_str(),
                hint: k.hint,
                created: when(k.created_at),
                revoked: when_opt(k.revoked_at),
                id: k.id,
            })
            .collect(),
        created,
        errors,
    })
}

async fn show(State(state): State<AppState>, page_of: Page, Query(notice): Query<Notice>) -> Response {
    let text = match notice.notice.as_str() {
        "revoked" => Some("The key was revoked; requests with it are refused from now on.".to_string()),
        _ => None,
    };
    match render(&state, &page_of, None, FormErrors::none(), text).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(response) => response,
    }
}

#[derive(Deserialize, Default)]
struct KindForm {
    #[serde(default)]
    kind: String,
}

async fn create(State(state): State<AppState>, page_of: Page, Form(form): Form<KindForm>) -> Response {
    let kind = match form.kind.as_str() {
        "live" => Some(KeyKind::Live),
        "test" => Some(KeyKind::Test),
        _ => None,
    };
    let result = match kind {
        Some(kind) => state.core.create_brand_key(&page_of.actor, kind).await,
        None => Err(refline_core::CoreError::invalid_field("kind", "choose live or test")),
    };
    match result {
        Ok((_, plaintext)) => match render(&state, &page_of, Some(plaintext), FormErrors::none(), None).await
        {
            Ok(view) => page(StatusCode::CREATED, &view),
            Err(response) => response,
        },
        Err(err) => match render(&state, &page_of, None, FormErrors::from_error(&err), None).await {
            Ok(view) => refused(&err, &view),
            Err(response) => response,
        },
    }
}

async fn revoke(State(state): State<AppState>, page_of: Page, Path(id): Path<String>) -> Response {
    match state.core.revoke_brand_key(&page_of.actor, &id).await {
        Ok(()) => done("/merchant/api-keys", "revoked"),
        Err(err) => core_error_page(&err),
    }
}

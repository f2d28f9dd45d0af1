//! `/merchant/settings`: the brand's business details (name, website, default currency; the
//! plan shown), and the account's brands: add one, archive or reactivate the brand being viewed.
//! The team has its own page (`/merchant/team`).
//!
//! Core operations: `update_business`, `create_brand`, `set_brand_archived`, `brand`.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Form, Router,
};
use refline_core::team::brands::BusinessInput;
use serde::Deserialize;

use super::{
    render::{core_error_page, done, page, refused, when, Chrome, FormErrors},
    session::Page,
    Notice,
};
use crate::state::AppState;

/// The settings routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/settings", get(show).post(save_business))
        .route("/merchant/settings/brands", post(create_brand))
        .route("/merchant/settings/archive", post(archive))
        .route("/merchant/settings/reactivate", post(reactivate))
}

/// One of the person's brands.
struct BrandRow {
    id: String,
    name: String,
    role: &'static str,
    current: bool,
    archived: bool,
}

/// The business form's values.
struct Business {
    name: String,
    website: String,
    currency: String,
}

#[derive(Template)]
#[template(path = "merchant/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    merchant_id: String,
    plan: &'static str,
    created: String,
    archived: bool,
    business: Business,
    business_errors: FormErrors,
    brands: Vec<BrandRow>,
    brand_name: String,
    brand_currency: String,
    brand_errors: FormErrors,
}

/// What a refused form sent back.
#[derive(Default)]
struct Refusal {
    business: Option<(Business, FormErrors)>,
    brand: Option<(String, String, FormErrors)>,
}

async fn render(
    state: &AppState,
    page_of: &Page,
    refusal: Refusal,
    notice: Option<String>,
) -> Result<SettingsPage, Response> {
    let brand = state.core.brand(&page_of.actor).await.map_err(|e| core_error_page(&e))?;
    let (business, business_errors) = refusal.business.unwrap_or_else(|| {
        let saved = Business {
            name: brand.name.clone(),
            website: brand.website.clone().unwrap_or_default(),
            currency: brand.currency.clone(),
        };
        (saved, FormErrors::none())
    });
    let (brand_name, brand_currency, brand_errors) =
        refusal.brand.unwrap_or_else(|| (String::new(), brand.currency.clone(), FormErrors::none()));
    Ok(SettingsPage {
        chrome: Chrome::new(page_of, "settings", "Settings").with_notice(notice),
        merchant_id: brand.id.clone(),
        plan: brand.plan.as_str(),
        created: when(brand.created_at),
        archived: brand.archived_at.is_some(),
        business,
        business_errors,
        brands: page_of
            .signed_in
            .brands
            .iter()
            .map(|b| BrandRow {
                id: b.merchant.id.clone(),
                name: b.merchant.name.clone(),
                role: b.role.as_str(),
                current: b.merchant.id == brand.id,
                archived: b.merchant.archived_at.is_some(),
            })
            .collect(),
        brand_name,
        brand_currency,
        brand_errors,
    })
}

fn notice_text(code: &str) -> Option<String> {
    let text = match code {
        "saved" => "The business details were saved.",
        "brand_created" => "The brand was added, with its own live and test API keys. Switch to it with the brand menu at the top.",
        "archived" => "The brand is archived: its API keys are refused until it is reactivated.",
        "reactivated" => "The brand is active again; its API keys work.",
        _ => return None,
    };
    Some(text.to_string())
}

async fn show(State(state): State<AppState>, page_of: Page, Query(notice): Query<Notice>) -> Response {
    match render(&state, &page_of, Refusal::default(), notice_text(&notice.notice)).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(response) => response,
    }
}

#[derive(Deserialize, Default)]
struct BusinessForm {
    #[serde(default, rename = "businessName")]
    business_name: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    currency: String,
}

async fn save_business(
    State(state): State<AppState>,
    page_of: Page,
    Form(form): Form<BusinessForm>,
) -> Response {
    let input = BusinessInput {
        name: form.business_name.clone(),
        website: form.website.clone(),
        currency: form.currency.clone(),
    };
    match state.core.update_business(&page_of.actor, input).await {
        Ok(()) => done("/merchant/settings", "saved"),
        Err(err) => {
            let sent = Business { name: form.business_name, website: form.website, currency: form.currency };
            let refusal = Refusal { business: Some((sent, FormErrors::from_error(&err))), brand: None };
            match render(&state, &page_of, refusal, None).await {
                Ok(view) => refused(&err, &view),
                Err(response) => response,
            }
        }
    }
}

#[derive(Deserialize, Default)]
struct BrandForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    currency: String,
}

async fn create_brand(State(state): State<AppState>, page_of: Page, Form(form): Form<BrandForm>) -> Response {
    match state.core.create_brand(&page_of.actor, &form.name, &form.currency).await {
        Ok(_) => done("/merchant/settings", "brand_created"),
        Err(err) => {
            let refusal = Refusal {
                business: None,
                brand: Some((form.name, form.currency, FormErrors::from_error(&err))),
            };
            match render(&state, &page_of, refusal, None).await {
                Ok(view) => refused(&err, &view),
                Err(response) => response,
            }
        }
    }
}

async fn set_archived(state: &AppState, page_of: &Page, archived: bool) -> Response {
    match state.core.set_brand_archived(&page_of.actor, archived).await {
        Ok(()) => done("/merchant/settings", if archived { "archived" } else { "reactivated" }),
        Err(err) => core_error_page(&err),
    }
}

async fn archive(State(state): State<AppState>, page_of: Page) -> Response {
    set_archived(&state, &page_of, true).await
}

async fn reactivate(State(state): State<AppState>, page_of: Page) -> Response {
    set_archived(&state, &page_of, false).await
}

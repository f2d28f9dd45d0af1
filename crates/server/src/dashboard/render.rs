//! Turning templates and core answers into pages: the chrome every signed-in page shares
//! (navigation, brand switcher, logout), field errors next to their inputs, error pages, and
//! the few formats pages show (money, time).

use std::collections::HashMap;

use askama::Template;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use refline_core::{CoreError, ErrorKind};

use super::session::Page;
use crate::error::ErrorCode;

/// The navigation: key, path, label.
pub const NAV: [(&str, &str, &str); 11] = [
    ("overview", "/merchant", "Overview"),
    ("campaigns", "/merchant/campaigns", "Campaigns"),
    ("affiliates", "/merchant/affiliates", "Affiliates"),
    ("commissions", "/merchant/commissions", "Commissions"),
    ("payouts", "/merchant/payouts", "Payouts"),
    ("integrations", "/merchant/integrations", "Integration Hub"),
    ("webhooks", "/merchant/webhooks", "Webhooks"),
    ("api-keys", "/merchant/api-keys", "API keys"),
    ("audit", "/merchant/audit", "Audit log"),
    ("migrate", "/merchant/migrate", "Migrate"),
    ("settings", "/merchant/settings", "Settings"),
];

/// One entry of the brand switcher.
pub struct BrandItem {
    /// Merchant id.
    pub id: String,
    /// Business name.
    pub name: String,
    /// The brand being viewed.
    pub current: bool,
    /// Archived.
    pub archived: bool,
}

/// What the layout around every signed-in page shows.
pub struct Chrome {
    /// The page's title.
    pub title: String,
    /// The navigation key of the page (`campaigns`…).
    pub active: &'static str,
    /// The brand being viewed.
    pub brand_id: String,
    /// Its business name.
    pub brand_name: String,
    /// Whether it is archived.
    pub archived: bool,
    /// Every brand of the person.
    pub brands: Vec<BrandItem>,
    /// The person's email.
    pub user_email: String,
    /// The token every form carries.
    pub csrf: String,
    /// A one-line confirmation of what the last form did.
    pub notice: Option<String>,
}

impl Chrome {
    /// The chrome of `page`, titled `title`, with `active` highlighted.
    pub fn new(page: &Page, active: &'static str, title: &str) -> Chrome {
        let current = &page.brand.merchant.id;
        Chrome {
            title: title.to_string(),
            active,
            brand_id: current.clone(),
            brand_name: page.brand.merchant.name.clone(),
            archived: page.brand.merchant.archived_at.is_some(),
            brands: page
                .signed_in
                .brands
                .iter()
                .map(|b| BrandItem {
                    id: b.merchant.id.clone(),
                    name: b.merchant.name.clone(),
                    current: &b.merchant.id == current,
                    archived: b.merchant.archived_at.is_some(),
                })
                .collect(),
            user_email: page.signed_in.user.email.clone(),
            csrf: page.csrf.clone(),
            notice: None,
        }
    }

    /// With a confirmation line.
    pub fn with_notice(mut self, notice: Option<String>) -> Chrome {
        self.notice = notice;
        self
    }

    /// The navigation entries.
    pub fn nav(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &NAV
    }
}

/// Field errors of a refused form, by field name, plus one line for the rest.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    fields: HashMap<String, String>,
    /// A problem that belongs to no field (shown above the form).
    pub general: Option<String>,
}

impl FormErrors {
    /// No errors.
    pub fn none() -> FormErrors {
        FormErrors::default()
    }

    /// The errors a core refusal carries: each validation issue under its field, anything else
    /// as the general line.
    pub fn from_error(err: &CoreError) -> FormErrors {
        let mut fields = HashMap::new();
        if let Some(details) = err.details.as_deref().and_then(|d| d.as_array()) {
            for issue in details {
                let field = issue["path"].get(0).and_then(|p| p.as_str()).unwrap_or_default();
                let message = issue["message"].as_str().unwrap_or_default();
                if !field.is_empty() {
                    fields.entry(field.to_string()).or_insert_with(|| message.to_string());
                }
            }
        }
        let general = fields.is_empty().then(|| err.message.clone());
        FormErrors { fields, general }
    }

    /// Only a general line.
    pub fn general(message: &str) -> FormErrors {
        FormErrors { fields: HashMap::new(), general: Some(message.to_string()) }
    }

    /// The error of `field`, or "" (templates test `is_empty`).
    pub fn get(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", String::as_str)
    }

    /// Whether there is any error.
    pub fn any(&self) -> bool {
        !self.fields.is_empty() || self.general.is_some()
    }
}

/// The HTTP status a core refusal answers with.
pub fn status_of(err: &CoreError) -> StatusCode {
    match err.kind {
        ErrorKind::Invalid | ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Renders `template` with `status`; a template that fails to render is a 500 page.
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, [("cache-control", "no-store")], Html(html)).into_response(),
        Err(err) => {
            tracing::error!(%err, "template failed to render");
            message_page(StatusCode::INTERNAL_SERVER_ERROR, "Error", "This page could not be shown.")
        }
    }
}

/// A refused form re-shown: the core's status (422 for validation), with its code for the log.
pub fn refused(err: &CoreError, template: &impl Template) -> Response {
    let mut response = page(status_of(err), template);
    response.extensions_mut().insert(ErrorCode(err.code));
    response
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
}

/// A plain page with a title and a sentence (errors, refusals).
pub fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    let html = MessagePage { title, message }.render().unwrap_or_else(|_| message.to_string());
    (status, [("cache-control", "no-store")], Html(html)).into_response()
}

/// The page for a core refusal outside a form (a missing object, a right the person lacks).
pub fn core_error_page(err: &CoreError) -> Response {
    core_error_on(err, message_page)
}

/// A core refusal as `page` (a site's message page) shows it: title by kind, the error's status,
/// and its code for the audit log. The dashboard and the portal differ only in their layout.
pub fn core_error_on(err: &CoreError, page: fn(StatusCode, &str, &str) -> Response) -> Response {
    let title = match err.kind {
        ErrorKind::NotFound => "Not found",
        ErrorKind::Forbidden => "Not allowed",
        ErrorKind::Unavailable => "Unavailable",
        ErrorKind::Internal => "Error",
        _ => "Refused",
    };
    let mut response = page(status_of(err), title, &err.message);
    response.extensions_mut().insert(ErrorCode(err.code));
    response
}

/// After a successful form: back to `path` with a confirmation (`notice` is a fixed text the
/// page maps, never reflected input).
pub fn done(path: &str, notice: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}notice={notice}")).into_response()
}

/// `1,234.50 USD` style: an amount in minor units of `currency`.
pub fn money(minor: i64, currency: &str) -> String {
    format!("{} {}", refline_domain::format_amount_in(minor, currency), currency.to_uppercase())
}

/// `2026-12-03 11:34 UTC`: a unix-ms time as pages show it.
pub fn when(ms: i64) -> String {
    let iso = refline_domain::format_timestamp(ms);
    // `2026-12-03T11:34:56.789Z` → `2026-12-03 11:34 UTC`
    match (iso.get(0..10), iso.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => iso,
    }
}

/// `when` for an optional time; "—" when there is none.
pub fn when_opt(ms: Option<i64>) -> String {
    ms.map_or_else(|| "—".to_string(), when)
}

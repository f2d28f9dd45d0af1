//! `/merchant/campaigns`: the list, a new campaign, a campaign's terms (commission, tiers,
//! recurring terms, trial mode, landing page, cookie window, auto-approve, public listing) with its join
//! link and figures, and pausing / reactivating it.
//!
//! The forms use the API's field names. A submitted form becomes the JSON object the API would
//! receive and goes through the API's own reading (`api::campaigns::read_input`) into the core's
//! `CampaignInput`, so `create_campaign` / `update_campaign` apply exactly the API's rules and
//! their validation paths land next to the fields. Forms are filled from the API's rendering of
//! the campaign (`api::campaigns::render`), so values show as the API shows them.

use std::collections::HashMap;

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Form, Router,
};
use refline_core::campaigns::{CampaignInput, CampaignView};
use refline_domain::CampaignStatus;
use refline_store::{Campaign, CampaignSort, PageRequest};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    render::{core_error_page, done, money, page, refused, when, Chrome, FormErrors},
    session::Page,
    Notice,
};
use crate::{api::campaigns as api, state::AppState};

/// The campaign routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/campaigns", get(list).post(create))
        .route("/merchant/campaigns/new", get(new_form))
        .route("/merchant/campaigns/{id}", get(show).post(update))
        .route("/merchant/campaigns/{id}/status", post(set_status))
}

/// Campaigns a list shows (the largest page the core reads).
const LIST_LIMIT: i64 = 100;
/// Tier rows offered beyond the campaign's own.
const SPARE_TIERS: usize = 2;

/// Text inputs of the form, sent as JSON strings.
const TEXT_FIELDS: &[&str] = &["name", "commissionValue", "targetUrl", "description", "currency"];
/// Choices of the form, sent as JSON strings.
const CHOICE_FIELDS: &[&str] =
    &["commissionType", "recurringCommissionMode", "recurringCommissionType", "status", "trialMode"];
/// Whole numbers (sent as JSON numbers when they are one, as text otherwise so the API's
/// "must be a whole number" problem shows).
const INT_FIELDS: &[&str] =
    &["cookieWindowDays", "holdDays", "recurringCommissionCount", "recurringCommissionDuration"];
/// Checkboxes (absent means false).
const BOOL_FIELDS: &[&str] = &["isPublic", "autoApproveAffiliates", "recurringCommissionEnabled"];
/// Fields a blank clears (sent as `null`); other blanks are sent as they are and refused.
const CLEARABLE: &[&str] = &[
    "targetUrl",
    "description",
    "holdDays",
    "recurringCommissionValue",
    "recurringCommissionCount",
    "recurringCommissionDuration",
];

/// One tier row of the form.
#[derive(Debug, Clone, Default)]
pub struct TierRow {
    /// `minSales` or `minRevenue`.
    pub basis: String,
    /// The threshold as typed.
    pub min: String,
    /// The tier's commission value as typed.
    pub value: String,
}

/// The campaign form's values as text, by API field name.
#[derive(Debug, Clone, Default)]
pub struct CampaignForm {
    values: HashMap<String, String>,
    /// Tier rows (with blank spares).
    pub tiers: Vec<TierRow>,
}

impl CampaignForm {
    /// The value of `field` ("" when none).
    pub fn get(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    /// Whether a checkbox is ticked.
    pub fn checked(&self, field: &str) -> bool {
        self.get(field) == "true"
    }

    /// Whether a choice is `option`.
    pub fn chose(&self, field: &str, option: &str) -> bool {
        self.get(field) == option
    }

    /// The form of a campaign as the API renders it.
    fn from_api(rendered: &Value) -> CampaignForm {
        let mut values = HashMap::new();
        for name in TEXT_FIELDS.iter().chain(CHOICE_FIELDS).chain(INT_FIELDS).chain(BOOL_FIELDS) {
            let text = match &rendered[*name] {
                Value::String(s) => s.clone(),
                Value::Bool(true) => "true".to_string(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            values.insert((*name).to_string(), text);
        }
        if let Some(v) = rendered["recurringCommissionValue"].as_str() {
            values.insert("recurringCommissionValue".into(), v.to_string());
        }
        let tiers = rendered["tiers"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|t| {
                        let (basis, min) = match (&t["minSales"], &t["minRevenue"]) {
                            (Value::Number(n), _) => ("minSales", n.to_string()),
                            (_, Value::String(s)) => ("minRevenue", s.clone()),
                            _ => ("minSales", String::new()),
                        };
                        TierRow {
                            basis: basis.to_string(),
                            min,
                            value: t["commissionValue"].as_str().unwrap_or_default().to_string(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        CampaignForm { values, tiers }.with_spare_tiers()
    }

    /// The form as submitted (repeated `tierBasis` / `tierMin` / `tierValue` make the tier rows).
    fn from_submitted(pairs: &[(String, String)]) -> CampaignForm {
        let mut values = HashMap::new();
        let (mut bases, mut mins, mut tier_values) = (Vec::new(), Vec::new(), Vec::new());
        for (key, value) in pairs {
            match key.as_str() {
                "tierBasis" => bases.push(value.clone()),
                "tierMin" => mins.push(value.clone()),
                "tierValue" => tier_values.push(value.clone()),
                k if BOOL_FIELDS.contains(&k) => {
                    values.insert(k.to_string(), "true".to_string());
                }
                k => {
                    values.insert(k.to_string(), value.clone());
                }
            }
        }
        let rows = bases.len().max(mins.len()).max(tier_values.len());
        let at = |list: &Vec<String>, i: usize| list.get(i).cloned().unwrap_or_default();
        let tiers = (0..rows)
            .map(|i| TierRow { basis: at(&bases, i), min: at(&mins, i), value: at(&tier_values, i) })
            .filter(|t| !t.min.trim().is_empty() || !t.value.trim().is_empty())
            .collect();
        CampaignForm { values, tiers }
    }

    fn with_spare_tiers(mut self) -> CampaignForm {
        for _ in 0..SPARE_TIERS {
            self.tiers.push(TierRow { basis: "minSales".into(), ..TierRow::default() });
        }
        self
    }

    /// The JSON object the API would receive for this form. On create, blank optional fields
    /// are left out (the defaults apply); on change, the blank of a clearable field clears it.
    fn to_json(&self, creating: bool) -> Map<String, Value> {
        let mut map = Map::new();
        let blank = |name: &str| self.get(name).trim().is_empty();
        for name in TEXT_FIELDS.iter().chain(&["recurringCommissionValue"]).chain(CHOICE_FIELDS) {
            if !self.values.contains_key(*name) {
                continue;
            }
            if blank(name) && (CLEARABLE.contains(name) || (creating && *name != "name")) {
                if !creating {
                    map.insert((*name).to_string(), Value::Null);
                }
                continue;
            }
            map.insert((*name).to_string(), Value::String(self.get(name).to_string()));
        }
        for name in INT_FIELDS {
            if !self.values.contains_key(*name) {
                continue;
            }
            let text = self.get(name).trim();
            let value = if text.is_empty() {
                if CLEARABLE.contains(name) {
                    Value::Null
                } else {
                    Value::String(String::new())
                }
            } else {
                text.parse::<i64>().map_or_else(|_| Value::String(text.to_string()), Value::from)
            };
            if !(creating && value.is_null()) {
                map.insert((*name).to_string(), value);
            }
        }
        for name in BOOL_FIELDS {
            map.insert((*name).to_string(), Value::Bool(self.checked(name)));
        }
        let tiers = self
            .tiers
            .iter()
            .filter(|t| !t.min.trim().is_empty() || !t.value.trim().is_empty())
            .map(|t| {
                let mut tier = Map::new();
                let min = t.min.trim();
                let min = if t.basis == "minRevenue" {
                    Value::String(min.to_string())
                } else {
                    min.parse::<i64>().map_or_else(|_| Value::String(min.to_string()), Value::from)
                };
                let key = if t.basis == "minRevenue" { "minRevenue" } else { "minSales" };
                tier.insert(key.into(), min);
                tier.insert("commissionValue".into(), Value::String(t.value.trim().to_string()));
                Value::Object(tier)
            })
            .collect();
        map.insert("tiers".into(), Value::Array(tiers));
        map
    }
}

/// One campaign as listed.
struct CampaignRow {
    id: String,
    name: String,
    status: &'static str,
    commission: String,
    affiliates: i64,
    clicks: i64,
    conversions: i64,
    revenue: String,
    created: String,
}

#[derive(Template)]
#[template(path = "merchant/campaigns.html")]
struct ListPage {
    chrome: Chrome,
    campaigns: Vec<CampaignRow>,
    total: i64,
}

/// A campaign's figures and links, on its page.
struct Figures {
    id: String,
    status: &'static str,
    active: bool,
    join_url: String,
    tracking_code: String,
    affiliates: i64,
    clicks: i64,
    unique_clicks: i64,
    conversions: i64,
    revenue: String,
    created: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "merchant/campaign_form.html")]
struct FormPage {
    chrome: Chrome,
    /// `None` for a new campaign.
    campaign: Option<Figures>,
    form: CampaignForm,
    errors: FormErrors,
    /// Where the form posts.
    action: String,
}

fn commission_text(c: &Campaign, rendered: &Value) -> String {
    let value = rendered["commissionValue"].as_str().unwrap_or_default();
    match c.commission_type.as_str() {
        "percentage" => format!("{value}%"),
        _ => format!("{value} {}", c.currency.to_uppercase()),
    }
}

async fn list(State(state): State<AppState>, page_of: Page, Query(notice): Query<Notice>) -> Response {
    let request =
        PageRequest { limit: LIST_LIMIT, offset: 0, sort: CampaignSort::CreatedAt, descending: true };
    let found = match state.core.list_campaigns(&page_of.actor, request).await {
        Ok(found) => found,
        Err(err) => return core_error_page(&err),
    };
    let campaigns = found
        .items
        .iter()
        .map(|v| {
            let c = &v.campaign;
            CampaignRow {
                id: c.id.clone(),
                name: c.name.clone(),
                status: c.status.as_str(),
                commission: commission_text(c, &api::render(v)),
                affiliates: v.stats.affiliates,
                clicks: v.stats.clicks.clicks,
                conversions: v.stats.conversions,
                revenue: money(v.stats.revenue_minor, &c.currency),
                created: when(c.created_at),
            }
        })
        .collect();
    let text = match notice.notice.as_str() {
        "created" => Some("The campaign was created.".to_string()),
        _ => None,
    };
    let view = ListPage {
        chrome: Chrome::new(&page_of, "campaigns", "Campaigns").with_notice(text),
        campaigns,
        total: found.total,
    };
    page(StatusCode::OK, &view)
}

/// The form of a new campaign, with the defaults a new campaign gets.
fn blank_form(page_of: &Page) -> CampaignForm {
    let defaults = Campaign::with_defaults("", "", "", &page_of.actor.currency, 0);
    let mut form = CampaignForm::default();
    form.values.insert("currency".into(), defaults.currency.to_uppercase());
    form.values.insert("commissionType".into(), "percentage".into());
    form.values.insert("status".into(), "active".into());
    form.values.insert("cookieWindowDays".into(), defaults.cookie_window_days.to_string());
    form.values.insert("recurringCommissionMode".into(), defaults.recurring_mode.as_str().into());
    form.values.insert("recurringCommissionType".into(), defaults.recurring_type.as_str().into());
    form.values.insert("trialMode".into(), defaults.trial_mode.as_str().into());
    for (name, on) in [
        ("isPublic", defaults.is_public),
        ("autoApproveAffiliates", defaults.auto_approve_affiliates),
        ("recurringCommissionEnabled", defaults.recurring_enabled),
    ] {
        if on {
            form.values.insert(name.into(), "true".into());
        }
    }
    form.with_spare_tiers()
}

async fn new_form(page_of: Page) -> Response {
    let view = FormPage {
        chrome: Chrome::new(&page_of, "campaigns", "New campaign"),
        campaign: None,
        form: blank_form(&page_of),
        errors: FormErrors::none(),
        action: "/merchant/campaigns".into(),
    };
    page(StatusCode::OK, &view)
}

async fn create(
    State(state): State<AppState>,
    page_of: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = CampaignForm::from_submitted(&pairs);
    let input = api::read_input(&form.to_json(true), true);
    match state.core.create_campaign(&page_of.actor, input).await {
        Ok(view) => done(&format!("/merchant/campaigns/{}", view.campaign.id), "created"),
        Err(err) => {
            let view = FormPage {
                chrome: Chrome::new(&page_of, "campaigns", "New campaign"),
                campaign: None,
                form: form.with_spare_tiers(),
                errors: FormErrors::from_error(&err),
                action: "/merchant/campaigns".into(),
            };
            refused(&err, &view)
        }
    }
}

fn figures(v: &CampaignView) -> Figures {
    let c = &v.campaign;
    Figures {
        id: c.id.clone(),
        status: c.status.as_str(),
        active: c.status == CampaignStatus::Active,
        join_url: v.join_url.clone(),
        tracking_code: c.tracking_code.clone(),
        affiliates: v.stats.affiliates,
        clicks: v.stats.clicks.clicks,
        unique_clicks: v.stats.clicks.unique_clicks,
        conversions: v.stats.conversions,
        revenue: money(v.stats.revenue_minor, &c.currency),
        created: when(c.created_at),
        updated: when(c.updated_at),
    }
}

fn edit_page(
    page_of: &Page,
    v: &CampaignView,
    form: CampaignForm,
    errors: FormErrors,
    notice: Option<String>,
) -> FormPage {
    FormPage {
        chrome: Chrome::new(page_of, "campaigns", &v.campaign.name).with_notice(notice),
        campaign: Some(figures(v)),
        form,
        errors,
        action: format!("/merchant/campaigns/{}", v.campaign.id),
    }
}

async fn show(
    State(state): State<AppState>,
    page_of: Page,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Response {
    let view = match state.core.get_campaign(&page_of.actor, &id).await {
        Ok(view) => view,
        Err(err) => return core_error_page(&err),
    };
    let text = match notice.notice.as_str() {
        "created" => Some("The campaign was created. Share its join link with affiliates.".to_string()),
        "saved" => Some("The campaign was saved.".to_string()),
        "unchanged" => Some("Nothing changed.".to_string()),
        "paused" => {
            Some("The campaign is paused: its links and sales are refused until it is activated.".to_string())
        }
        "activated" => Some("The campaign is active: its links work and sales are credited.".to_string()),
        _ => None,
    };
    let form = CampaignForm::from_api(&api::render(&view));
    page(StatusCode::OK, &edit_page(&page_of, &view, form, FormErrors::none(), text))
}

async fn update(
    State(state): State<AppState>,
    page_of: Page,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let mut form = CampaignForm::from_submitted(&pairs);
    // The currency is fixed at creation: the edit form shows it but does not send it.
    form.values.remove("currency");
    form.values.remove("status");
    let input = api::read_input(&form.to_json(false), false);
    match state.core.update_campaign(&page_of.actor, &id, input).await {
        Ok(view) => done(
            &format!("/merchant/campaigns/{}", view.campaign.id),
            if view.changed.is_empty() { "unchanged" } else { "saved" },
        ),
        Err(err) => {
            // The page around the refused form shows the campaign as stored.
            let current = match state.core.get_campaign(&page_of.actor, &id).await {
                Ok(current) => current,
                Err(_) => return core_error_page(&err),
            };
            let view =
                edit_page(&page_of, &current, form.with_spare_tiers(), FormErrors::from_error(&err), None);
            refused(&err, &view)
        }
    }
}

#[derive(Deserialize, Default)]
struct StatusForm {
    #[serde(default)]
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
    page_of: Page,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Response {
    let Some(status) = CampaignStatus::parse(&form.status) else {
        return core_error_page(&refline_core::CoreError::invalid_field(
            "status",
            "status must be active or inactive",
        ));
    };
    let input = CampaignInput { status: Some(status), ..CampaignInput::default() };
    match state.core.update_campaign(&page_of.actor, &id, input).await {
        Ok(view) => done(
            &format!("/merchant/campaigns/{}", view.campaign.id),
            if status == CampaignStatus::Active { "activated" } else { "paused" },
        ),
        Err(err) => core_error_page(&err),
    }
}

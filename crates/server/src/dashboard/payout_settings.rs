//! `/merchant/payouts/settings`: the brand's payout settings (hold after approval, minimum payout,
//! automatic runs, default method, the write-only Stripe secret key), linked from the payouts
//! page. The same operations as `GET`/`PATCH /api/v1/settings` (`payout_settings`,
//! `update_payout_settings`): the core checks the "manage payouts" right
//! (`Actor::require_payout_write`) and live mode, validates every field (problems shown next to
//! their fields, nothing saved) and writes the audit entry (`settings.update`).

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
    Form, Router,
};
use refline_core::{
    campaigns::Change,
    payouts::{
        method::METHOD_TYPES,
        settings::{SettingsInput, SettingsView},
    },
    CoreError, Issue,
};
use serde::Deserialize;

use super::{
    render::{core_error_page, done, page, refused, Chrome, FormErrors},
    session::Page,
    Notice,
};
use crate::state::AppState;

/// The page's address.
const PATH: &str = "/merchant/payouts/settings";

/// The payout settings route.
pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(show).post(save))
}

/// The form as sent (and shown again when refused). The Stripe key is never shown: a blank one
/// keeps the stored key, `clearStripeSecretKey` removes it.
#[derive(Debug, Default, Deserialize)]
struct SettingsForm {
    #[serde(default, rename = "payoutHoldDays")]
    payout_hold_days: String,
    #[serde(default, rename = "minimumPayout")]
    minimum_payout: String,
    #[serde(default, rename = "automaticPayouts")]
    automatic_payouts: Option<String>,
    #[serde(default, rename = "defaultPayoutMethod")]
    default_payout_method: String,
    #[serde(default, rename = "stripeSecretKey")]
    stripe_secret_key: String,
    #[serde(default, rename = "clearStripeSecretKey")]
    clear_stripe_secret_key: Option<String>,
}

impl SettingsForm {
    fn of(view: &SettingsView) -> SettingsForm {
        SettingsForm {
            payout_hold_days: view.payout_hold_days.to_string(),
            minimum_payout: view.minimum_payout.clone(),
            automatic_payouts: view.automatic_payouts.then(|| "true".to_string()),
            default_payout_method: view.default_payout_method.clone().unwrap_or_default(),
            ..SettingsForm::default()
        }
    }

    /// The core's input: what the form could not read goes in `unreadable`; the ranges and
    /// choices are the core's to check, as for the API.
    fn input(&self) -> SettingsInput {
        let mut unreadable = Vec::new();
        let days = self.payout_hold_days.trim();
        let payout_hold_days = match days.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                unreadable
                    .push(Issue::field("payoutHoldDays", "payoutHoldDays must be a whole number of days"));
                None
            }
        };
        let method = self.default_payout_method.trim();
        let key = self.stripe_secret_key.trim();
        SettingsInput {
            payout_hold_days,
            // A blank minimum is refused by the core's own rule (a decimal amount from 0).
            minimum_payout: Some(self.minimum_payout.trim().to_string()),
            automatic_payouts: Some(self.automatic_payouts.is_some()),
            default_payout_method: if method.is_empty() {
                Change::Clear
            } else {
                Change::Set(method.to_string())
            },
            stripe_secret_key: match (self.clear_stripe_secret_key.is_some(), key.is_empty()) {
                (_, false) => Change::Set(key.to_string()),
                (true, true) => Change::Clear,
                (false, true) => Change::Keep,
            },
            unreadable,
        }
    }
}

#[derive(Template)]
#[template(path = "merchant/payout_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    /// Why this person cannot change the settings, if they cannot.
    read_only: Option<String>,
    form: SettingsForm,
    methods: &'static [&'static str],
    stripe_key_set: bool,
    errors: FormErrors,
}

async fn render(
    state: &AppState,
    page_of: &Page,
    form: Option<SettingsForm>,
    errors: FormErrors,
    notice: Option<String>,
) -> Result<SettingsPage, CoreError> {
    let view = state.core.payout_settings(&page_of.actor).await?;
    Ok(SettingsPage {
        chrome: Chrome::new(page_of, "payouts", "Payout settings").with_notice(notice),
        read_only: page_of.actor.require_payout_write().err().map(|e| e.message),
        form: form.unwrap_or_else(|| SettingsForm::of(&view)),
        methods: &METHOD_TYPES,
        stripe_key_set: view.stripe_secret_key_set,
        errors,
    })
}

async fn show(State(state): State<AppState>, page_of: Page, Query(notice): Query<Notice>) -> Response {
    let notice = (notice.notice == "saved").then(|| "The payout settings were saved.".to_string());
    match render(&state, &page_of, None, FormErrors::none(), notice).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => core_error_page(&err),
    }
}

async fn save(State(state): State<AppState>, page_of: Page, Form(form): Form<SettingsForm>) -> Response {
    match state.core.update_payout_settings(&page_of.actor, form.input(), &state.secrets).await {
        Ok(_) => done(PATH, "saved"),
        Err(err) => {
            // The key typed is not shown again.
            let form = SettingsForm { stripe_secret_key: String::new(), ..form };
            match render(&state, &page_of, Some(form), FormErrors::from_error(&err), None).await {
                Ok(view) => refused(&err, &view),
                Err(err) => core_error_page(&err),
            }
        }
    }
}

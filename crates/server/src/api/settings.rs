//! `/api/v1/settings`: the merchant's payout settings (beyond LinkJolt's documented API). The
//! Stripe secret key is write-only: answers say whether one is stored, never what it is.

use axum::{body::Bytes, extract::State, Json};
use refline_core::payouts::{method::METHOD_TYPES, settings::SettingsInput, settings::SettingsView};
use serde_json::{json, Map, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::openapi as doc,
    error::ApiResult,
    http::{
        auth::Caller,
        body::{decimal_text, optional_change, parse_object, Fields},
    },
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, update_settings))
}

fn render(s: &SettingsView) -> Json<Value> {
    Json(json!({ "data": s.to_json() }))
}

#[utoipa::path(get, path = "/settings", tag = "payouts", operation_id = "getSettings", responses((status = 200, body = doc::common::Data<doc::payouts::Settings>)))]
async fn get_settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    Ok(render(&state.core.payout_settings(&caller.actor()).await?))
}

/// `{payoutHoldDays?, minimumPayout?, automaticPayouts?, defaultPayoutMethod?, stripeSecretKey?}`;
/// `null` clears the default method or the Stripe key.
#[utoipa::path(patch, path = "/settings", tag = "payouts", operation_id = "updateSettings", request_body(content = doc::payouts::SettingsInput, content_type = "application/json"), responses((status = 200, body = doc::common::Data<doc::payouts::Settings>)))]
async fn update_settings(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = caller.actor();
    actor.require_write()?;
    let map = parse_object(&body)?;
    let input = read_input(&map);
    Ok(render(&state.core.update_payout_settings(&actor, input, &state.secrets).await?))
}

/// Reads the body of `PATCH /settings` into the operation's input.
pub fn read_input(map: &Map<String, Value>) -> SettingsInput {
    let mut f = Fields::new(map);
    let payout_hold_days = f.optional_int("payoutHoldDays", 0, 365);
    let minimum_payout = match f.value("minimumPayout") {
        None => None,
        Some(v) => match decimal_text(v) {
            Some(text) => Some(text),
            None => {
                f.issue("minimumPayout", "minimumPayout must be a decimal amount such as 50.00");
                None
            }
        },
    };
    let automatic_payouts = f.optional_bool("automaticPayouts");
    let default_payout_method = optional_change(&mut f, "defaultPayoutMethod", |f, n| {
        f.optional_enum(n, &METHOD_TYPES).map(str::to_string)
    });
    let stripe_secret_key = optional_change(&mut f, "stripeSecretKey", |f, n| f.optional_string(n, 255));
    SettingsInput {
        payout_hold_days,
        minimum_payout,
        automatic_payouts,
        default_payout_method,
        stripe_secret_key,
        unreadable: f.into_issues(),
    }
}

//! The brand switcher: `POST /merchant/brand` points the session at another of the person's
//! brands (another tenant's brand answers 404).

use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::post,
    Form, Router,
};
use serde::Deserialize;

use super::{render::core_error_page, session::Page};
use crate::state::AppState;

/// The switcher's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/merchant/brand", post(switch))
}

#[derive(Deserialize, Default)]
struct SwitchForm {
    #[serde(default, rename = "merchantId")]
    merchant_id: String,
}

async fn switch(State(state): State<AppState>, page: Page, Form(form): Form<SwitchForm>) -> Response {
    match state.core.switch_brand(&page.signed_in, &form.merchant_id).await {
        Ok(()) => Redirect::to("/merchant").into_response(),
        Err(err) => core_error_page(&err),
    }
}

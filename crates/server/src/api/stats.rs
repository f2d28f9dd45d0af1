//! `GET /api/v1/stats?from=&to=`: headline numbers for a custom dashboard.

use axum::{extract::State, routing::get, Json, Router};
use refline_domain::{format_amount, Currency};
use serde_json::{json, Value};

use crate::{
    api::list::Params,
    error::ApiResult,
    http::{auth::Caller, body::exact_number},
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/stats", get(stats))
}

/// Money here is JSON numbers (the build-dashboard guide types them so), in the merchant's
/// currency; conversions that are rejected or refunded are left out.
async fn stats(State(state): State<AppState>, caller: Caller, mut params: Params) -> ApiResult<Json<Value>> {
    let from = params.time("from", false);
    let to = params.time("to", true);
    params.finish()?;
    let totals = state.store.conversion_totals(&caller.merchant_id, caller.is_test(), from, to).await?;
    let affiliates = state.store.count_active_affiliates(&caller.merchant_id).await?;
    let exponent = Currency::parse(&caller.currency).unwrap_or(Currency::USD).exponent();
    Ok(Json(json!({ "data": {
        "totalRevenue": exact_number(&format_amount(totals.revenue_minor, exponent)),
        "totalCommissions": exact_number(&format_amount(totals.commissions_minor, exponent)),
        "totalConversions": totals.conversions,
        "totalAffiliates": affiliates,
    }})))
}

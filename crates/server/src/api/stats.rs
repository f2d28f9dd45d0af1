//! `GET /api/v1/stats?from=&to=`: headline numbers for a custom dashboard.

use axum::{extract::State, routing::get, Json, Router};
use refline_domain::format_amount;
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
    let stats = state.core.stats(&caller.actor(), from, to).await?;
    Ok(Json(json!({ "data": {
        "totalRevenue": exact_number(&format_amount(stats.totals.revenue_minor, stats.exponent)),
        "totalCommissions": exact_number(&format_amount(stats.totals.commissions_minor, stats.exponent)),
        "totalConversions": stats.totals.conversions,
        "totalAffiliates": stats.active_affiliates,
    }})))
}

//! `GET /api/v1/stats?from=&to=`: headline numbers for a custom dashboard.

use axum::{extract::State, Json};
use refline_domain::format_amount;
use serde_json::{json, Map, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::list::Params,
    api::openapi as doc,
    error::ApiResult,
    http::{auth::Caller, body::exact_number},
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats))
}

/// The headline money is JSON numbers (the build-dashboard guide types them so) in the
/// merchant's currency, counting only the conversions in it; `byCurrency` has every currency's
/// totals as decimal strings, like other money. Conversions that are rejected or refunded are
/// left out.
#[utoipa::path(get, path = "/stats", tag = "reports", operation_id = "getStats", params(doc::tracking::TimeRange), responses((status = 200, body = doc::common::Data<doc::tracking::Stats>)))]
async fn stats(State(state): State<AppState>, caller: Caller, mut params: Params) -> ApiResult<Json<Value>> {
    let from = params.time("from", false);
    let to = params.time("to", true);
    params.finish()?;
    let stats = state.core.stats(&caller.actor(), from, to).await?;
    Ok(Json(render(&stats)))
}

/// The API form of the stats (also the MCP `get_stats` tool's answer).
pub(crate) fn render(stats: &refline_core::reports::Stats) -> Value {
    let exponent = stats.currency.exponent();
    let by_currency: Map<String, Value> = stats
        .by_currency
        .iter()
        .map(|(currency, t)| {
            let e = currency.exponent();
            let entry = json!({
                "revenue": format_amount(t.revenue_minor, e),
                "commissions": format_amount(t.commissions_minor, e),
                "conversions": t.conversions,
            });
            (t.currency.clone(), entry)
        })
        .collect();
    json!({ "data": {
        "totalRevenue": exact_number(&format_amount(stats.totals.revenue_minor, exponent)),
        "totalCommissions": exact_number(&format_amount(stats.totals.commissions_minor, exponent)),
        "totalConversions": stats.conversions,
        "totalAffiliates": stats.active_affiliates,
        "currency": stats.currency.code(),
        "byCurrency": by_currency,
    }})
}

//! `/portal/performance`: this month's clicks, conversions and earnings per day (the
//! dashboard's SVG bar charts, each with its table) and per program, and each program's latest
//! commissions with the customer masked. One core read: `Core::portal_performance`.

use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response, routing::get, Router};
use refline_core::portal::performance::Performance;

use super::{render::core_error_page, session::Affiliate};
use crate::{
    dashboard::{
        chart::{bars, Chart},
        render::{money, page, when},
    },
    state::AppState,
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/portal/performance", get(performance_page))
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

struct ProgramRow {
    campaign_id: String,
    commissions_total: i64,
    business: String,
    campaign: String,
    clicks: i64,
    unique_clicks: i64,
    conversions: i64,
    earnings: String,
    commissions: Vec<CommissionRow>,
}

pub(super) struct CommissionRow {
    pub(super) date: String,
    pub(super) status: &'static str,
    pub(super) amount: String,
    pub(super) customer: String,
}

struct DayRow {
    day: String,
    clicks: i64,
    unique_clicks: i64,
    conversions: i64,
    /// The day's earnings, one cell per currency of `PerformancePage::currencies`.
    earnings: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal/performance.html")]
struct PerformancePage {
    charts: Vec<Chart>,
    /// The earnings columns of the day table (upper-case codes), as the earnings charts.
    currencies: Vec<String>,
    days: Vec<DayRow>,
    programs: Vec<ProgramRow>,
}

fn build(p: Performance) -> PerformancePage {
    let labels: Vec<String> = (0..p.days)
        .map(|d| when(p.month_start + i64::try_from(d).unwrap_or(0) * DAY_MS).chars().take(10).collect())
        .collect();
    let mut charts = vec![
        bars("Clicks by day", &labels, &p.clicks, |v| v.to_string()),
        bars("Conversions by day", &labels, &p.conversions, |v| v.to_string()),
    ];
    for (currency, series) in &p.earnings {
        let title = format!("Earnings by day ({})", currency.to_uppercase());
        charts.push(bars(&title, &labels, series, |v| money(v, currency)));
    }
    let days = labels
        .iter()
        .enumerate()
        .map(|(i, day)| DayRow {
            day: day.clone(),
            clicks: p.clicks.get(i).copied().unwrap_or(0),
            unique_clicks: p.unique_clicks.get(i).copied().unwrap_or(0),
            conversions: p.conversions.get(i).copied().unwrap_or(0),
            earnings: p
                .earnings
                .iter()
                .map(|(currency, series)| money(series.get(i).copied().unwrap_or(0), currency))
                .collect(),
        })
        .collect();
    let currencies = p.earnings.iter().map(|(currency, _)| currency.to_uppercase()).collect();
    let programs = p
        .programs
        .into_iter()
        .map(|g| ProgramRow {
            campaign_id: g.campaign_id,
            commissions_total: g.commissions_total,
            business: g.business_name,
            campaign: g.campaign_name,
            clicks: g.clicks,
            unique_clicks: g.unique_clicks,
            conversions: g.conversions,
            earnings: if g.earnings.is_empty() {
                "—".to_string()
            } else {
                g.earnings.iter().map(|e| money(e.minor, &e.currency)).collect::<Vec<_>>().join(", ")
            },
            commissions: g.commissions.into_iter().map(commission_row).collect(),
        })
        .collect();
    PerformancePage { charts, currencies, days, programs }
}

/// A commission as a row of the commissions tables.
pub(super) fn commission_row(c: refline_core::portal::performance::CommissionLine) -> CommissionRow {
    CommissionRow {
        date: when(c.created_at),
        status: c.status,
        amount: money(c.commission_minor, &c.currency),
        customer: if c.customer.is_empty() { "—".to_string() } else { c.customer },
    }
}

async fn performance_page(State(state): State<AppState>, me: Affiliate) -> Response {
    match state.core.portal_performance(&me.signed_in).await {
        Ok(p) => page(StatusCode::OK, &build(p)),
        Err(err) => core_error_page(&err),
    }
}

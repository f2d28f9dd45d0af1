//! The overview at `/merchant`: this month's revenue, commissions, conversions and clicks, SVG
//! charts by day, top affiliates, recent conversions and the launch checklist — all from
//! `Core::overview`.

use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response, routing::get, Router};
use refline_core::overview::Step;

use super::{
    chart::{bars, Chart},
    render::{core_error_page, money, page, when, Chrome},
    session::Page,
};
use crate::state::AppState;

/// The overview's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/merchant", get(show))
}

/// A headline figure.
struct Figure {
    label: String,
    value: String,
}

/// A row of the top affiliates.
struct TopRow {
    id: String,
    name: String,
    conversions: i64,
    revenue: String,
    commissions: String,
}

/// A recent conversion.
struct RecentRow {
    id: String,
    at: String,
    amount: String,
    commission: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "merchant/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    month: String,
    figures: Vec<Figure>,
    charts: Vec<Chart>,
    top: Vec<TopRow>,
    recent: Vec<RecentRow>,
    checklist: Vec<Step>,
    script_seen: String,
    snippet: String,
    join_links: Vec<(String, String)>,
}

async fn show(State(state): State<AppState>, page_of: Page) -> Response {
    let overview = match state.core.overview(&page_of.actor).await {
        Ok(overview) => overview,
        Err(err) => return core_error_page(&err),
    };
    let currency = overview.currency.clone();
    let mut figures = Vec::new();
    for (code, totals) in &overview.totals {
        let suffix =
            if overview.totals.len() > 1 { format!(" ({})", code.to_uppercase()) } else { String::new() };
        figures.push(Figure { label: format!("Revenue{suffix}"), value: money(totals.revenue_minor, code) });
        figures.push(Figure {
            label: format!("Commissions{suffix}"),
            value: money(totals.commissions_minor, code),
        });
    }
    let conversions: i64 = overview.totals.iter().map(|(_, t)| t.conversions).sum();
    figures.push(Figure { label: "Conversions".into(), value: conversions.to_string() });
    figures.push(Figure {
        label: "Clicks (unique)".into(),
        value: format!("{} ({})", overview.clicks, overview.unique_clicks),
    });
    let labels: Vec<String> = overview.days.iter().map(|d| when(d.day_start)[..10].to_string()).collect();
    let of =
        |f: fn(&refline_core::overview::DayPoint) -> i64| overview.days.iter().map(f).collect::<Vec<i64>>();
    let money_of = |v: i64| money(v, &currency);
    let charts = vec![
        bars(
            &format!("Revenue by day ({})", currency.to_uppercase()),
            &labels,
            &of(|d| d.revenue_minor),
            money_of,
        ),
        bars(
            &format!("Commissions by day ({})", currency.to_uppercase()),
            &labels,
            &of(|d| d.commissions_minor),
            money_of,
        ),
        bars("Conversions by day", &labels, &of(|d| d.conversions), |v| v.to_string()),
        bars("Clicks by day", &labels, &of(|d| d.clicks), |v| v.to_string()),
    ];
    let view = OverviewPage {
        chrome: Chrome::new(&page_of, "overview", "Overview"),
        month: when(overview.month_start)[..7].to_string(),
        figures,
        charts,
        top: overview
            .top
            .iter()
            .map(|t| TopRow {
                id: t.affiliate_id.clone(),
                name: t.name.clone(),
                conversions: t.conversions,
                revenue: money(t.revenue_minor, &t.currency),
                commissions: money(t.commissions_minor, &t.currency),
            })
            .collect(),
        recent: overview
            .recent
            .iter()
            .map(|c| RecentRow {
                id: c.id.clone(),
                at: when(c.created_at),
                amount: money(c.amount_minor, &c.currency),
                commission: money(c.commission_minor, &c.currency),
                status: c.status.as_str(),
            })
            .collect(),
        checklist: overview.checklist,
        script_seen: overview
            .script_seen_at
            .map_or_else(|| "not seen yet".to_string(), |at| format!("seen since {}", when(at))),
        snippet: format!(
            "<script src=\"{}/api/tracking.js?id={}\" async></script>",
            state.core.public_url, page_of.actor.merchant_id
        ),
        join_links: overview.join_links.into_iter().map(|j| (j.name, j.url)).collect(),
    };
    page(StatusCode::OK, &view)
}

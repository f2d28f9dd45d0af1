//! `/portal/export.json` and `/portal/export.csv`: the person's own data
//! (`Core::portal_export`) as a download. The CSV is one table with a `section` column, every
//! cell neutralised against formula injection as the dashboard's exports are
//! (`payouts::export::cell`).

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use refline_core::{payouts::export::cell, portal::export::PortalExport};
use refline_domain::{format_amount_in, format_timestamp};
use serde_json::{json, Value};

use super::{render::core_error_page, session::Affiliate};
use crate::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/portal/export.json", get(export_json)).route("/portal/export.csv", get(export_csv))
}

fn amount(minor: i64, currency: &str) -> String {
    format_amount_in(minor, currency)
}

fn as_json(e: &PortalExport) -> Value {
    json!({
        "email": e.email,
        "name": e.name,
        "createdAt": format_timestamp(e.created_at),
        "programs": e.programs.iter().map(|p| json!({
            "business": p.business_name,
            "campaignId": p.campaign.id,
            "campaign": p.campaign.name,
            "status": p.status.as_str(),
            "joinedAt": format_timestamp(p.joined_at),
            "terms": p.terms,
            "trackingLink": p.tracking_link,
        })).collect::<Vec<_>>(),
        "shortLinks": e.links.iter().flat_map(|l| l.short_links.iter().map(move |s| json!({
            "campaignId": l.campaign_id,
            "code": s.view.link.code,
            "url": s.url,
            "clicks": s.view.totals.clicks,
            "uniqueClicks": s.view.totals.unique_clicks,
        }))).collect::<Vec<_>>(),
        "commissions": e.commissions.iter().map(|c| json!({
            "business": c.business_name,
            "campaignId": c.campaign_id,
            "createdAt": format_timestamp(c.created_at),
            "status": c.status,
            "commission": amount(c.commission_minor, &c.currency),
            "currency": c.currency,
            "customer": c.customer,
        })).collect::<Vec<_>>(),
        "payouts": e.payouts.iter().map(|m| json!({
            "business": m.business_name,
            "payoutMethod": m.method.as_ref().map(|x| x.to_json()),
            "balances": m.balances.iter().map(|b| json!({
                "currency": b.currency,
                "pending": amount(b.balance.pending, &b.currency),
                "onHold": amount(b.balance.on_hold, &b.currency),
                "payable": amount(b.balance.payable, &b.currency),
                "inPayout": amount(b.balance.in_payout, &b.currency),
                "paid": amount(b.balance.paid, &b.currency),
            })).collect::<Vec<_>>(),
            "history": m.payouts.iter().map(|p| json!({
                "createdAt": format_timestamp(p.payout.created_at),
                "amount": amount(p.payout.amount_minor, &p.payout.currency),
                "currency": p.payout.currency,
                "status": p.payout.status.as_str(),
                "method": p.payout.method,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// section, business, campaign, date, status, amount, currency, detail.
fn as_csv(e: &PortalExport) -> String {
    let mut out = String::new();
    let mut line = |fields: &[&str]| {
        out.push_str(&fields.iter().map(|f| cell(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    };
    line(&["section", "business", "campaign", "date", "status", "amount", "currency", "detail"]);
    let created = format_timestamp(e.created_at);
    line(&["account", "", "", &created, "", "", "", &e.email]);
    for p in &e.programs {
        let joined = format_timestamp(p.joined_at);
        let link = p.tracking_link.clone().unwrap_or_default();
        line(&["program", &p.business_name, &p.campaign.name, &joined, p.status.as_str(), "", "", &link]);
    }
    for l in &e.links {
        for s in &l.short_links {
            let clicks = s.view.totals.clicks.to_string();
            line(&["short_link", &l.business_name, &l.campaign_name, "", "", &clicks, "", &s.url]);
        }
    }
    for c in &e.commissions {
        let date = format_timestamp(c.created_at);
        let value = amount(c.commission_minor, &c.currency);
        line(&[
            "commission",
            &c.business_name,
            &c.campaign_id,
            &date,
            c.status,
            &value,
            &c.currency,
            &c.customer,
        ]);
    }
    for m in &e.payouts {
        for p in &m.payouts {
            let date = format_timestamp(p.payout.created_at);
            let value = amount(p.payout.amount_minor, &p.payout.currency);
            let status = p.payout.status.as_str();
            line(&[
                "payout",
                &m.business_name,
                "",
                &date,
                status,
                &value,
                &p.payout.currency,
                &p.payout.method,
            ]);
        }
    }
    out
}

fn download(body: String, content_type: &'static str, name: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn export_json(State(state): State<AppState>, me: Affiliate) -> Response {
    match state.core.portal_export(&me.signed_in).await {
        Ok(e) => download(
            as_json(&e).to_string(),
            "application/json",
            "attachment; filename=\"affiliate-data.json\"",
        ),
        Err(err) => core_error_page(&err),
    }
}

async fn export_csv(State(state): State<AppState>, me: Affiliate) -> Response {
    match state.core.portal_export(&me.signed_in).await {
        Ok(e) => {
            download(as_csv(&e), "text/csv; charset=utf-8", "attachment; filename=\"affiliate-data.csv\"")
        }
        Err(err) => core_error_page(&err),
    }
}

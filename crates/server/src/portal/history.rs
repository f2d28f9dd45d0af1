//! The portal's paged lists: `/portal/commissions/<campaign id>?page=N` (every commission of
//! one of the person's programs) and `/portal/payouts/<affiliate id>/history?page=N` (every
//! payout at one business), 50 a page, newest first. Someone else's id answers 404.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
    Router,
};
use refline_core::portal::history::Paging;
use serde::Deserialize;

use super::{
    payouts::{payout_line, PayoutLine},
    performance::{commission_row, CommissionRow},
    render::core_error_page,
    session::Affiliate,
};
use crate::{dashboard::render::page, state::AppState};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/commissions/{campaign_id}", get(commissions_page))
        .route("/portal/payouts/{affiliate_id}/history", get(payouts_page))
}

/// `?page=N`; anything unreadable is page 1.
#[derive(Deserialize, Default)]
struct PageQuery {
    #[serde(default)]
    page: String,
}

impl PageQuery {
    fn number(&self) -> i64 {
        self.page.trim().parse().unwrap_or(1)
    }
}

/// Previous and next links of a paged list at `base`.
struct Pager {
    page: i64,
    pages: i64,
    total: i64,
    previous: Option<String>,
    next: Option<String>,
}

impl Pager {
    fn new(base: &str, p: Paging) -> Pager {
        Pager {
            page: p.page,
            pages: p.pages,
            total: p.total,
            previous: (p.page > 1).then(|| format!("{base}?page={}", p.page.min(p.pages + 1) - 1)),
            next: (p.page < p.pages).then(|| format!("{base}?page={}", p.page + 1)),
        }
    }
}

#[derive(Template)]
#[template(path = "portal/commissions.html")]
struct CommissionsPage {
    business: String,
    campaign: String,
    rows: Vec<CommissionRow>,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "portal/payout_history.html")]
struct PayoutHistoryPage {
    business: String,
    rows: Vec<PayoutLine>,
    pager: Pager,
}

async fn commissions_page(
    State(state): State<AppState>,
    me: Affiliate,
    Path(campaign_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    match state.core.portal_commissions(&me.signed_in, &campaign_id, query.number()).await {
        Ok(found) => page(
            StatusCode::OK,
            &CommissionsPage {
                pager: Pager::new(&format!("/portal/commissions/{campaign_id}"), found.paging),
                business: found.business_name,
                campaign: found.campaign_name,
                rows: found.lines.into_iter().map(commission_row).collect(),
            },
        ),
        Err(err) => core_error_page(&err),
    }
}

async fn payouts_page(
    State(state): State<AppState>,
    me: Affiliate,
    Path(affiliate_id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    match state.core.portal_payout_history(&me.signed_in, &affiliate_id, query.number()).await {
        Ok(found) => page(
            StatusCode::OK,
            &PayoutHistoryPage {
                pager: Pager::new(&format!("/portal/payouts/{affiliate_id}/history"), found.paging),
                business: found.business_name,
                rows: found.payouts.iter().map(payout_line).collect(),
            },
        ),
        Err(err) => core_error_page(&err),
    }
}

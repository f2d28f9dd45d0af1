//! `/merchant/payouts`: balances per affiliate and currency (`balances`), the payout history
//! (`list_payouts`), a payout run (`run_payouts`, the API's `POST /payouts`), exports for PayPal,
//! Wise or a plain CSV (`export_payouts`, `GET /payouts/export`), and per payout: mark paid with
//! a reference (`complete_payout`), failed with a reason (`fail_payout`) or cancelled
//! (`cancel_payout`); an exported file's payouts paid at once (`complete_export`). Writes need
//! the team's "manage payouts" right, which the core checks; a refusal shows as a banner.

use std::collections::HashMap;

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Form, Router,
};
use refline_core::{
    payouts::{
        export::{ExportFormat, ExportInput},
        method::METHOD_TYPES,
        run::RunInput,
    },
    CoreError, ErrorKind, Issue,
};
use refline_domain::ledger::PayoutStatus;
use refline_store::{PageRequest, PayoutFilter};
use serde::Deserialize;

use super::{
    render::{core_error_page, done, money, page, refused, when, when_opt, Chrome, FormErrors},
    session::Page,
};
use crate::state::AppState;

/// Payouts per page of the history.
const PER_PAGE: i64 = 50;
/// Affiliates per page of the balances.
const BALANCES_PER_PAGE: i64 = 50;

/// The payouts routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/payouts", get(show))
        .route("/merchant/payouts/run", post(run))
        .route("/merchant/payouts/export", post(export))
        .route("/merchant/payouts/complete-export", post(complete_export))
        .route("/merchant/payouts/{id}/complete", post(complete))
        .route("/merchant/payouts/{id}/fail", post(fail))
        .route("/merchant/payouts/{id}/cancel", post(cancel))
}

/// The history's query: a status filter and the page; and the balances' page.
#[derive(Debug, Default, Clone, Deserialize)]
struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: String,
    #[serde(default, rename = "balancesPage")]
    balances_page: String,
    #[serde(default)]
    notice: String,
}

impl ListQuery {
    fn page_number(&self) -> i64 {
        self.page.parse::<i64>().unwrap_or(1).clamp(1, 1_000_000)
    }

    fn balances_page_number(&self) -> i64 {
        self.balances_page.parse::<i64>().unwrap_or(1).clamp(1, 1_000_000)
    }

    /// This page with the history at `page`.
    fn link(&self, page: i64) -> String {
        self.link_to(page, self.balances_page_number())
    }

    /// This page with the history at `page` and the balances at `balances`.
    fn link_to(&self, page: i64, balances: i64) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if !self.status.is_empty() {
            q.append_pair("status", &self.status);
        }
        if page > 1 {
            q.append_pair("page", &page.to_string());
        }
        if balances > 1 {
            q.append_pair("balancesPage", &balances.to_string());
        }
        let q = q.finish();
        if q.is_empty() {
            "/merchant/payouts".to_string()
        } else {
            format!("/merchant/payouts?{q}")
        }
    }
}

/// One affiliate's balance in one currency.
struct BalanceRow {
    affiliate_id: String,
    affiliate: String,
    currency: String,
    pending: String,
    on_hold: String,
    payable: String,
    in_payout: String,
    paid: String,
    owed_back: String,
}

/// One payout as listed.
struct PayoutRow {
    id: String,
    affiliate_id: String,
    affiliate: String,
    amount: String,
    method: String,
    status: &'static str,
    created: String,
    completed: String,
    reference: String,
    export_id: String,
    failure_reason: String,
    commissions: usize,
    can_complete: bool,
    can_fail: bool,
    can_cancel: bool,
}

/// The values a refused form is shown again with.
#[derive(Debug, Default, Clone, Deserialize)]
struct RunForm {
    #[serde(default, rename = "affiliateIds")]
    affiliate_ids: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    method: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct ExportForm {
    #[serde(default)]
    format: String,
    #[serde(default)]
    currency: String,
    #[serde(default, rename = "exportId")]
    export_id: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct CompleteExportForm {
    #[serde(default, rename = "exportId")]
    export_id: String,
    #[serde(default)]
    reference: String,
}

#[derive(Template)]
#[template(path = "merchant/payouts.html")]
struct PayoutsPage {
    chrome: Chrome,
    /// Why this person cannot change payouts, if they cannot.
    read_only: Option<String>,
    balances: Vec<BalanceRow>,
    /// Affiliates with a balance, the first and last shown, and links to the balances' pages.
    balance_affiliates: i64,
    balances_first: i64,
    balances_last: i64,
    balances_prev: Option<String>,
    balances_next: Option<String>,
    payouts: Vec<PayoutRow>,
    statuses: Vec<(&'static str, bool)>,
    methods: &'static [&'static str],
    total: i64,
    prev: Option<String>,
    next: Option<String>,
    /// Which form the errors belong to: `run`, `export`, `complete-export` or `row`.
    form: &'static str,
    errors: FormErrors,
    run: RunForm,
    export: ExportForm,
    complete: CompleteExportForm,
}

/// What to show again with a refused form.
#[derive(Default)]
struct Again {
    form: &'static str,
    errors: FormErrors,
    run: RunForm,
    export: ExportForm,
    complete: CompleteExportForm,
}

async fn render(
    state: &AppState,
    page_of: &Page,
    query: &ListQuery,
    again: Again,
    notice: Option<String>,
) -> Result<PayoutsPage, Response> {
    let actor = &page_of.actor;
    let fail = |e: CoreError| core_error_page(&e);
    let balances_number = query.balances_page_number();
    let balances_offset = (balances_number - 1) * BALANCES_PER_PAGE;
    let balances_page =
        state.core.balances_page(actor, BALANCES_PER_PAGE, balances_offset).await.map_err(fail)?;
    let balance_affiliates = balances_page.total;
    let balances = balances_page.items;
    let affiliates_shown = {
        let mut ids: Vec<&str> = balances.iter().map(|b| b.affiliate_id.as_str()).collect();
        ids.dedup();
        i64::try_from(ids.len()).unwrap_or(0)
    };
    let number = query.page_number();
    let offset = (number - 1) * PER_PAGE;
    let filter = PayoutFilter { status: PayoutStatus::parse(&query.status), ..PayoutFilter::default() };
    let found = state
        .core
        .list_payouts(actor, filter, PageRequest { limit: PER_PAGE, offset, sort: (), descending: true })
        .await
        .map_err(fail)?;
    let mut ids: Vec<String> = balances.iter().map(|b| b.affiliate_id.clone()).collect();
    ids.extend(found.items.iter().map(|p| p.payout.affiliate_id.clone()));
    let names: HashMap<String, String> = state
        .core
        .affiliate_contacts(actor, &ids)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|(id, email, name)| (id, name.filter(|n| !n.is_empty()).unwrap_or(email)))
        .collect();
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let shown = i64::try_from(found.items.len()).unwrap_or(0);
    Ok(PayoutsPage {
        chrome: Chrome::new(page_of, "payouts", "Payouts").with_notice(notice),
        read_only: actor.require_payout_write().err().map(|e| e.message),
        balances: balances
            .iter()
            .map(|b| {
                let m = |minor: i64| money(minor, &b.currency);
                BalanceRow {
                    affiliate: name_of(&b.affiliate_id),
                    affiliate_id: b.affiliate_id.clone(),
                    currency: b.currency.to_uppercase(),
                    pending: m(b.balance.pending),
                    on_hold: m(b.balance.on_hold),
                    payable: m(b.balance.payable),
                    in_payout: m(b.balance.in_payout),
                    paid: m(b.balance.paid),
                    owed_back: m(b.balance.owed_back),
                }
            })
            .collect(),
        payouts: found
            .items
            .iter()
            .map(|v| {
                let p = &v.payout;
                PayoutRow {
                    id: p.id.clone(),
                    affiliate: name_of(&p.affiliate_id),
                    affiliate_id: p.affiliate_id.clone(),
                    amount: money(p.amount_minor, &p.currency),
                    method: p.method.clone(),
                    status: p.status.as_str(),
                    created: when(p.created_at),
                    completed: when_opt(p.completed_at),
                    reference: p.reference.clone().unwrap_or_default(),
                    export_id: p.export_id.clone().unwrap_or_default(),
                    failure_reason: p.failure_reason.clone().unwrap_or_default(),
                    commissions: v.items.iter().filter(|i| i.amount_minor > 0).count(),
                    can_complete: p.status.can_become(PayoutStatus::Completed),
                    can_fail: p.status.can_become(PayoutStatus::Failed),
                    can_cancel: p.status.can_become(PayoutStatus::Cancelled),
                }
            })
            .collect(),
        balance_affiliates,
        balances_first: if affiliates_shown == 0 { 0 } else { balances_offset + 1 },
        balances_last: balances_offset + affiliates_shown,
        balances_prev: (balances_number > 1).then(|| query.link_to(number, balances_number - 1)),
        balances_next: (balances_offset + affiliates_shown < balance_affiliates)
            .then(|| query.link_to(number, balances_number + 1)),
        statuses: PayoutStatus::ALL.iter().map(|s| (s.as_str(), s.as_str() == query.status)).collect(),
        methods: &METHOD_TYPES,
        total: found.total,
        prev: (number > 1).then(|| query.link(number - 1)),
        next: (offset + shown < found.total).then(|| query.link(number + 1)),
        form: again.form,
        errors: again.errors,
        run: again.run,
        export: again.export,
        complete: again.complete,
    })
}

fn notice_text(code: &str) -> Option<String> {
    let text = match code {
        "run_made" => "The payout run was created; its payouts are listed below as pending.",
        "run_empty" => {
            "Nothing is payable right now (past its hold and above the minimum), so no payout was created."
        }
        "completed" => "The payout was marked paid.",
        "failed" => "The payout was marked failed; its commissions are payable again.",
        "cancelled" => "The payout was cancelled; its commissions are payable again.",
        "export_completed" => "Every payout of the export was marked paid.",
        _ => return None,
    };
    Some(text.to_string())
}

async fn show(State(state): State<AppState>, page_of: Page, Query(query): Query<ListQuery>) -> Response {
    let notice = notice_text(&query.notice);
    match render(&state, &page_of, &query, Again::default(), notice).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(response) => response,
    }
}

/// Shows the page again with a refused form (403 refusals as a banner, with the core's status).
async fn again(state: &AppState, page_of: &Page, err: &CoreError, again: Again) -> Response {
    match render(state, page_of, &ListQuery::default(), again, None).await {
        Ok(view) => refused(err, &view),
        Err(response) => response,
    }
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// `POST /merchant/payouts/run` (`affiliateIds`: ids separated by commas or spaces, `currency`,
/// `method`).
async fn run(State(state): State<AppState>, page_of: Page, Form(form): Form<RunForm>) -> Response {
    let affiliate_ids: Vec<String> = form
        .affiliate_ids
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut unreadable = Vec::new();
    if affiliate_ids.len() > 10_000 || affiliate_ids.iter().any(|id| id.len() > 100) {
        unreadable.push(Issue::field(
            "affiliateIds",
            "affiliateIds must be at most 10000 ids of at most 100 characters",
        ));
    }
    let method = optional(&form.method);
    if method.as_deref().is_some_and(|m| !METHOD_TYPES.contains(&m)) {
        unreadable.push(Issue::field("method", format!("method must be one of {}", METHOD_TYPES.join(", "))));
    }
    let input = RunInput { affiliate_ids, currency: optional(&form.currency), method, unreadable };
    match state.core.run_payouts(&page_of.actor, input).await {
        Ok(made) if made.is_empty() => done("/merchant/payouts", "run_empty"),
        Ok(_) => done("/merchant/payouts", "run_made"),
        Err(err) => {
            let errors = FormErrors::from_error(&err);
            again(&state, &page_of, &err, Again { form: "run", errors, run: form, ..Again::default() }).await
        }
    }
}

/// `POST /merchant/payouts/export` (`format`, `currency`, `exportId`): the file as a download.
async fn export(State(state): State<AppState>, page_of: Page, Form(form): Form<ExportForm>) -> Response {
    let result = match ExportFormat::parse(&form.format) {
        Some(format) => {
            let input = ExportInput {
                format,
                currency: optional(&form.currency),
                export_id: optional(&form.export_id),
            };
            state.core.export_payouts(&page_of.actor, input).await
        }
        None => Err(CoreError::invalid_field("format", "choose PayPal, Wise or CSV")),
    };
    match result {
        Ok(file) => {
            let name = format!("refline-payouts-{}-{}.csv", form.format, file.export_id);
            let mut response = (StatusCode::OK, file.content).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            let mut set = |name: &'static str, value: String| {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            };
            set("content-disposition", format!("attachment; filename=\"{name}\""));
            set("x-export-id", file.export_id);
            set("x-export-rows", file.rows.to_string());
            set("x-export-remaining", file.remaining.to_string());
            response
        }
        Err(err) if err.kind == ErrorKind::NotFound && form.export_id.trim().is_empty() => {
            core_error_page(&err)
        }
        Err(err) => {
            let errors = if err.kind == ErrorKind::NotFound {
                FormErrors::from_error(&CoreError::invalid_field("exportId", "no export with this id"))
            } else {
                FormErrors::from_error(&err)
            };
            again(&state, &page_of, &err, Again { form: "export", errors, export: form, ..Again::default() })
                .await
        }
    }
}

/// `POST /merchant/payouts/complete-export` (`exportId`, `reference`).
async fn complete_export(
    State(state): State<AppState>,
    page_of: Page,
    Form(form): Form<CompleteExportForm>,
) -> Response {
    let result = match optional(&form.export_id) {
        Some(id) => state.core.complete_export(&page_of.actor, &id, optional(&form.reference)).await,
        None => Err(CoreError::invalid_field("exportId", "enter the export id (exp_…) shown with the file")),
    };
    match result {
        Ok(_) => done("/merchant/payouts", "export_completed"),
        Err(err) => {
            let errors = if err.kind == ErrorKind::NotFound {
                FormErrors::from_error(&CoreError::invalid_field("exportId", "no export with this id"))
            } else {
                FormErrors::from_error(&err)
            };
            let again_with = Again { form: "complete-export", errors, complete: form, ..Again::default() };
            again(&state, &page_of, &err, again_with).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoteForm {
    #[serde(default)]
    reference: String,
    #[serde(default)]
    reason: String,
}

/// A row action's answer: back to the page, or the refusal (a missing payout is a 404 page;
/// anything else is shown as a banner above the history).
async fn after_action(
    state: &AppState,
    page_of: &Page,
    id: &str,
    result: Result<(), CoreError>,
    notice: &str,
) -> Response {
    match result {
        Ok(()) => done("/merchant/payouts", notice),
        Err(err) if err.kind == ErrorKind::NotFound => core_error_page(&err),
        Err(err) => {
            let fields = FormErrors::from_error(&err);
            let detail = ["reference", "reason"].iter().map(|f| fields.get(f)).find(|m| !m.is_empty());
            let message = format!("Payout {id}: {}", detail.unwrap_or(&err.message));
            again(
                state,
                page_of,
                &err,
                Again { form: "row", errors: FormErrors::general(&message), ..Again::default() },
            )
            .await
        }
    }
}

async fn complete(
    State(state): State<AppState>,
    page_of: Page,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Response {
    let result = state.core.complete_payout(&page_of.actor, &id, optional(&form.reference)).await.map(|_| ());
    after_action(&state, &page_of, &id, result, "completed").await
}

async fn fail(
    State(state): State<AppState>,
    page_of: Page,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Response {
    let result = state.core.fail_payout(&page_of.actor, &id, optional(&form.reason)).await.map(|_| ());
    after_action(&state, &page_of, &id, result, "failed").await
}

async fn cancel(State(state): State<AppState>, page_of: Page, Path(id): Path<String>) -> Response {
    let result = state.core.cancel_payout(&page_of.actor, &id).await.map(|_| ());
    after_action(&state, &page_of, &id, result, "cancelled").await
}

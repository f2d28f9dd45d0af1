//! `/merchant/commissions`: the review queue. Pending and fraud-flagged conversions first (the
//! core's `review_queue` order) with their fraud signals; approve or reject one
//! (`set_conversion_status`, the API's `PATCH /conversions/:id`, with the above-sale
//! confirmation resubmitting `confirmAboveSale`) or several (`set_conversion_statuses`); filters
//! by status, campaign, affiliate and dates; CSV export of the filtered list
//! (`export_conversions`).

use askama::Template;
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use refline_core::{
    sales::review::{fraud_of, BulkOutcome},
    CoreError, ErrorKind,
};
use refline_domain::{check_manual_transition, parse_timestamp, ConversionStatus};
use refline_store::ConversionFilter;
use serde::Deserialize;

use super::{
    render::{core_error_page, done, money, page, refused, when, Chrome, FormErrors},
    session::Page,
};
use crate::state::AppState;

/// Rows per page of the queue.
const PER_PAGE: i64 = 50;

/// The commissions routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/commissions", get(show))
        .route("/merchant/commissions.csv", get(export))
        .route("/merchant/commissions/bulk", post(bulk))
        .route("/merchant/commissions/{id}/status", post(set_status))
}

/// The queue's filters as the query string carries them (the API's parameter names).
#[derive(Debug, Default, Clone, Deserialize)]
struct Filter {
    #[serde(default)]
    status: String,
    #[serde(default, rename = "campaignId")]
    campaign_id: String,
    #[serde(default, rename = "affiliateId")]
    affiliate_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    notice: String,
}

impl Filter {
    /// Reads a `return` value (a query string the page put in its forms) back into filters.
    fn from_return(text: &str) -> Filter {
        serde_urlencoded::from_str(text.trim_start_matches('?')).unwrap_or_default()
    }

    /// The core's filter, or the problems with the fields.
    fn to_core(&self) -> Result<ConversionFilter, CoreError> {
        let mut issues = Vec::new();
        let status = match self.status.as_str() {
            "" => None,
            s => {
                let parsed = ConversionStatus::parse(s);
                if parsed.is_none() {
                    issues.push(refline_core::Issue::field("status", "choose a status from the list"));
                }
                parsed
            }
        };
        let mut time = |name: &str, text: &str, end: bool| match text.trim() {
            "" => None,
            t => {
                let parsed = parse_timestamp(t, end);
                if parsed.is_none() {
                    issues.push(refline_core::Issue::field(
                        name,
                        format!("{name} must be a date such as 2026-04-15"),
                    ));
                }
                parsed
            }
        };
        let from = time("from", &self.from, false);
        let to = time("to", &self.to, true);
        if !issues.is_empty() {
            return Err(CoreError::validation(issues));
        }
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(ConversionFilter {
            status,
            campaign_id: some(&self.campaign_id),
            affiliate_id: some(&self.affiliate_id),
            from,
            to,
            ..ConversionFilter::default()
        })
    }

    fn page_number(&self) -> i64 {
        self.page.parse::<i64>().unwrap_or(1).clamp(1, 1_000_000)
    }

    /// The filters as a query string (`page` when given), without `notice`.
    fn query(&self, page: Option<i64>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("status", &self.status),
            ("campaignId", &self.campaign_id),
            ("affiliateId", &self.affiliate_id),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.trim().is_empty() {
                q.append_pair(name, value.trim());
            }
        }
        if let Some(p) = page.filter(|p| *p > 1) {
            q.append_pair("page", &p.to_string());
        }
        q.finish()
    }

    /// The queue's path with these filters.
    fn path(&self) -> String {
        let q = self.query(Some(self.page_number()));
        if q.is_empty() {
            "/merchant/commissions".to_string()
        } else {
            format!("/merchant/commissions?{q}")
        }
    }
}

/// One conversion as listed.
struct Row {
    id: String,
    created: String,
    status: &'static str,
    campaign_id: String,
    campaign: String,
    affiliate_id: String,
    affiliate: String,
    affiliate_email: String,
    customer: String,
    order_id: String,
    amount: String,
    commission: String,
    fraud: Option<FraudView>,
    can_approve: bool,
    can_reject: bool,
}

struct FraudView {
    score: i64,
    level: &'static str,
    signals: String,
}

/// What a bulk action left undone.
struct BulkReport {
    /// Conversions that were not changed, with why.
    failures: Vec<(String, String)>,
    /// Those refused only for the above-sale guard (the confirmation resubmits them).
    above_sale: Vec<String>,
}

#[derive(Template)]
#[template(path = "merchant/commissions.html")]
struct QueuePage {
    chrome: Chrome,
    errors: FormErrors,
    filter: Filter,
    statuses: Vec<(&'static str, bool)>,
    campaigns: Vec<(String, String, bool)>,
    rows: Vec<Row>,
    total: i64,
    first: i64,
    last: i64,
    prev: Option<String>,
    next: Option<String>,
    /// The filters as a query string (the forms' `return`, the CSV link).
    query: String,
    report: Option<BulkReport>,
}

#[derive(Template)]
#[template(path = "merchant/commission_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    id: String,
    amount: String,
    commission: String,
    affiliate_id: String,
    back: String,
    back_path: String,
}

async fn render(
    state: &AppState,
    page_of: &Page,
    filter: Filter,
    errors: FormErrors,
    notice: Option<String>,
    report: Option<BulkReport>,
) -> Result<QueuePage, Response> {
    let actor = &page_of.actor;
    // A filter with problems lists everything; the problems show next to the fields.
    let core_filter = filter.to_core().unwrap_or_default();
    let number = filter.page_number();
    let offset = (number - 1) * PER_PAGE;
    let found = state
        .core
        .review_queue(actor, &core_filter, PER_PAGE, offset)
        .await
        .map_err(|e| core_error_page(&e))?;
    let campaigns = state.core.campaign_names(actor, 100).await.map_err(|e| core_error_page(&e))?;
    let rows: Vec<Row> = found
        .items
        .into_iter()
        .map(|r| {
            let c = &r.conversion;
            let customer = match (&c.customer_name, &c.customer_email) {
                (Some(name), Some(email)) => format!("{name} <{email}>"),
                (Some(one), None) | (None, Some(one)) => one.clone(),
                (None, None) => String::new(),
            };
            Row {
                id: c.id.clone(),
                created: when(c.created_at),
                status: c.status.as_str(),
                campaign_id: c.campaign_id.clone(),
                campaign: r.campaign_name.clone(),
                affiliate_id: c.affiliate_id.clone(),
                affiliate: r
                    .affiliate_name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| r.affiliate_email.clone()),
                affiliate_email: r.affiliate_email.clone(),
                customer,
                order_id: c.order_id.clone().unwrap_or_default(),
                amount: money(c.amount_minor, &c.currency),
                commission: money(c.commission_minor, &c.currency),
                fraud: fraud_of(c).map(|(score, level, signals)| FraudView {
                    score,
                    level,
                    signals: signals.join(", "),
                }),
                can_approve: c.status != ConversionStatus::Approved
                    && check_manual_transition(c.status, ConversionStatus::Approved).is_ok(),
                can_reject: c.status != ConversionStatus::Rejected
                    && check_manual_transition(c.status, ConversionStatus::Rejected).is_ok(),
            }
        })
        .collect();
    let shown = i64::try_from(rows.len()).unwrap_or(0);
    let link = |p: i64| {
        let q = filter.query(Some(p));
        if q.is_empty() {
            "/merchant/commissions".to_string()
        } else {
            format!("/merchant/commissions?{q}")
        }
    };
    let prev = (number > 1).then(|| link(number - 1));
    let next = (offset + shown < found.total).then(|| link(number + 1));
    Ok(QueuePage {
        chrome: Chrome::new(page_of, "commissions", "Commissions").with_notice(notice),
        errors,
        statuses: ConversionStatus::ALL.iter().map(|s| (s.as_str(), s.as_str() == filter.status)).collect(),
        campaigns: campaigns
            .into_iter()
            .map(|(id, name)| {
                let selected = id == filter.campaign_id;
                (id, name, selected)
            })
            .collect(),
        rows,
        total: found.total,
        first: if shown == 0 { 0 } else { offset + 1 },
        last: offset + shown,
        prev,
        next,
        query: filter.query(Some(number)),
        filter,
        report,
    })
}

fn notice_text(code: &str) -> Option<String> {
    let text = match code {
        "approved" => "The conversion was approved.",
        "rejected" => "The conversion was rejected; its commission is reversed.",
        "bulk_approved" => "The selected conversions were approved.",
        "bulk_rejected" => "The selected conversions were rejected.",
        _ => return None,
    };
    Some(text.to_string())
}

async fn show(State(state): State<AppState>, page_of: Page, Query(filter): Query<Filter>) -> Response {
    let notice = notice_text(&filter.notice);
    let (errors, status) = match filter.to_core() {
        Ok(_) => (FormErrors::none(), StatusCode::OK),
        Err(err) => (FormErrors::from_error(&err), StatusCode::UNPROCESSABLE_ENTITY),
    };
    match render(&state, &page_of, filter, errors, notice, None).await {
        Ok(view) => page(status, &view),
        Err(response) => response,
    }
}

/// `GET /merchant/commissions.csv?<filters>`: the filtered list as a CSV download.
async fn export(State(state): State<AppState>, page_of: Page, Query(filter): Query<Filter>) -> Response {
    let result = match filter.to_core() {
        Ok(core_filter) => state.core.export_conversions(&page_of.actor, &core_filter).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(file) => {
            let mut response = (StatusCode::OK, file.content).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"refline-commissions.csv\""),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(rows) = HeaderValue::from_str(&file.rows.to_string()) {
                headers.insert("x-export-rows", rows);
            }
            if file.truncated {
                headers.insert("x-export-truncated", HeaderValue::from_static("true"));
            }
            response
        }
        Err(err) if err.kind == ErrorKind::Invalid => {
            match render(&state, &page_of, filter, FormErrors::from_error(&err), None, None).await {
                Ok(view) => refused(&err, &view),
                Err(response) => response,
            }
        }
        Err(err) => core_error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default, rename = "confirmAboveSale")]
    confirm_above_sale: String,
    #[serde(default, rename = "return")]
    back: String,
}

fn target_of(text: &str) -> Result<ConversionStatus, CoreError> {
    match text {
        "approved" => Ok(ConversionStatus::Approved),
        "rejected" => Ok(ConversionStatus::Rejected),
        _ => Err(CoreError::invalid_field("status", "choose approve or reject")),
    }
}

/// `POST /merchant/commissions/{id}/status` (`status`, `confirmAboveSale`, `return`).
async fn set_status(
    State(state): State<AppState>,
    page_of: Page,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<StatusForm>,
) -> Response {
    let back = Filter::from_return(&form.back);
    let confirm = matches!(form.confirm_above_sale.as_str(), "true" | "on" | "1");
    let result = match target_of(&form.status) {
        Ok(target) => state.core.set_conversion_status(&page_of.actor, &id, target, confirm).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(c) => {
            done(&back.path(), if c.status == ConversionStatus::Rejected { "rejected" } else { "approved" })
        }
        Err(err) if err.code == "commission_above_sale" => {
            let c = match state.core.load_conversion(&page_of.actor, &id).await {
                Ok(c) => c,
                Err(e) => return core_error_page(&e),
            };
            let view = ConfirmPage {
                chrome: Chrome::new(&page_of, "commissions", "Confirm approval"),
                id: c.id.clone(),
                amount: money(c.amount_minor, &c.currency),
                commission: money(c.commission_minor, &c.currency),
                affiliate_id: c.affiliate_id.clone(),
                back: back.query(Some(back.page_number())),
                back_path: back.path(),
            };
            refused(&err, &view)
        }
        Err(err) if matches!(err.kind, ErrorKind::NotFound | ErrorKind::Forbidden) => core_error_page(&err),
        Err(err) => match render(&state, &page_of, back, FormErrors::from_error(&err), None, None).await {
            Ok(view) => refused(&err, &view),
            Err(response) => response,
        },
    }
}

/// `POST /merchant/commissions/bulk` (`conversionIds` repeated, `status`, `confirmAboveSale`,
/// `return`).
async fn bulk(State(state): State<AppState>, page_of: Page, body: Bytes) -> Response {
    let mut ids = Vec::new();
    let mut form = StatusForm::default();
    for (name, value) in form_urlencoded::parse(&body) {
        match name.as_ref() {
            "conversionIds" => ids.push(value.into_owned()),
            "status" => form.status = value.into_owned(),
            "confirmAboveSale" => form.confirm_above_sale = value.into_owned(),
            "return" => form.back = value.into_owned(),
            _ => {}
        }
    }
    let back = Filter::from_return(&form.back);
    let confirm = matches!(form.confirm_above_sale.as_str(), "true" | "on" | "1");
    let result = match target_of(&form.status) {
        Ok(target) => state.core.set_conversion_statuses(&page_of.actor, &ids, target, confirm).await,
        Err(err) => Err(err),
    };
    let outcomes = match result {
        Ok(outcomes) => outcomes,
        Err(err) => {
            return match render(&state, &page_of, back, FormErrors::from_error(&err), None, None).await {
                Ok(view) => refused(&err, &view),
                Err(response) => response,
            }
        }
    };
    let total = outcomes.len();
    let (done_ok, failed): (Vec<BulkOutcome>, Vec<BulkOutcome>) =
        outcomes.into_iter().partition(|o| o.result.is_ok());
    if failed.is_empty() {
        return done(&back.path(), if form.status == "rejected" { "bulk_rejected" } else { "bulk_approved" });
    }
    let verb = if form.status == "rejected" { "rejected" } else { "approved" };
    let notice = format!(
        "{} of {total} selected conversions were {verb}; {} were not (see below).",
        done_ok.len(),
        failed.len()
    );
    let mut report = BulkReport { failures: Vec::new(), above_sale: Vec::new() };
    for o in failed {
        if let Err(err) = &o.result {
            if err.code == "commission_above_sale" {
                report.above_sale.push(o.id.clone());
            }
            report.failures.push((o.id, err.message.clone()));
        }
    }
    match render(&state, &page_of, back, FormErrors::none(), Some(notice), Some(report)).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(response) => response,
    }
}

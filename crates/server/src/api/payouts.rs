//! `/api/v1/payouts` and `/api/v1/balances`: payout runs, a payout's completion, failure and
//! cancellation, exports for the manual rails, and the balances the ledger derives. Every rule is
//! the core's (`refline_core::payouts`); this reads the request and renders.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use refline_core::payouts::{
    balances::BalanceRow,
    export::{ExportFormat, ExportInput},
    method::METHOD_TYPES,
    render::PayoutView,
    run::RunInput,
};
use refline_domain::{format_amount_in, ledger::PayoutStatus};
use refline_store::PayoutFilter;
use serde_json::{json, Map, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::list::{envelope, Params},
    api::openapi as doc,
    error::{ApiError, ApiResult, Issue},
    http::{
        auth::Caller,
        body::{parse_optional_object, Fields},
    },
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_payouts, run_payouts))
        .routes(routes!(export_payouts))
        .routes(routes!(complete_export))
        .routes(routes!(send_payouts))
        .routes(routes!(get_payout))
        .routes(routes!(complete_payout))
        .routes(routes!(fail_payout))
        .routes(routes!(cancel_payout))
        .routes(routes!(balances))
}

fn data(view: &PayoutView) -> Json<Value> {
    Json(json!({ "data": view.to_json() }))
}

#[utoipa::path(get, path = "/payouts", tag = "payouts", operation_id = "listPayouts", params(doc::common::PageParams, doc::common::CreatedAtSort, doc::payouts::PayoutQuery, doc::tracking::TimeRange), responses((status = 200, body = doc::common::Page<doc::payouts::Payout>)))]
async fn list_payouts(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let statuses: Vec<&str> = PayoutStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filter = PayoutFilter {
        from: params.time("from", false),
        to: params.time("to", true),
        status: params.one_of("status", &statuses).as_deref().and_then(PayoutStatus::parse),
        affiliate_id: params.get("affiliateId").map(str::to_string),
        conversion_id: params.get("conversionId").map(str::to_string),
        currency: params.get("currency").map(str::to_lowercase),
        method: params.one_of("method", &METHOD_TYPES),
        export_id: params.get("exportId").map(str::to_string),
        ..PayoutFilter::default()
    };
    let page = params.page(&[("createdAt", ())], ());
    params.finish()?;
    let found = state.core.list_payouts(&caller.actor(), filter, page).await?;
    Ok(Json(envelope(found.items.iter().map(PayoutView::to_json).collect(), &page, found.total)))
}

/// `{affiliateIds?: [string], currency?, method?}`: one payout per affiliate and currency from
/// everything payable now. 201 with the payouts made (an empty list when nothing was due).
#[utoipa::path(post, path = "/payouts", tag = "payouts", operation_id = "runPayouts", request_body(content = doc::payouts::RunInput, content_type = "application/json"), responses((status = 201, body = doc::common::DataList<doc::payouts::Payout>)))]
async fn run_payouts(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let actor = caller.actor();
    actor.require_write()?;
    let input = read_run(&parse_optional_object(&body)?);
    let made = state.core.run_payouts(&actor, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "data": made.iter().map(PayoutView::to_json).collect::<Vec<_>>() })),
    ))
}

#[utoipa::path(get, path = "/payouts/{id}", tag = "payouts", operation_id = "getPayout", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::payouts::Payout>)))]
async fn get_payout(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(data(&state.core.get_payout(&caller.actor(), &id).await?))
}

/// `{reference?}`: the payout was paid.
#[utoipa::path(post, path = "/payouts/{id}/complete", tag = "payouts", operation_id = "completePayout", params(("id" = String, Path)), request_body(content = doc::payouts::CompleteInput, content_type = "application/json"), responses((status = 200, body = doc::common::Data<doc::payouts::Payout>)))]
async fn complete_payout(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = caller.actor();
    actor.require_write()?;
    let reference = action_note(&body, Some("reference"))?;
    Ok(data(&state.core.complete_payout(&actor, &id, reference).await?))
}

/// `{reason?}`: the payout was not paid (or its payment came back).
#[utoipa::path(post, path = "/payouts/{id}/fail", tag = "payouts", operation_id = "failPayout", params(("id" = String, Path)), request_body(content = doc::payouts::FailInput, content_type = "application/json"), responses((status = 200, body = doc::common::Data<doc::payouts::Payout>)))]
async fn fail_payout(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = caller.actor();
    actor.require_write()?;
    let reason = action_note(&body, Some("reason"))?;
    Ok(data(&state.core.fail_payout(&actor, &id, reason).await?))
}

#[utoipa::path(post, path = "/payouts/{id}/cancel", tag = "payouts", operation_id = "cancelPayout", params(("id" = String, Path)), request_body(content = doc::payouts::CancelInput, content_type = "application/json"), responses((status = 200, body = doc::common::Data<doc::payouts::Payout>)))]
async fn cancel_payout(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = caller.actor();
    actor.require_write()?;
    action_note(&body, None)?;
    Ok(data(&state.core.cancel_payout(&actor, &id).await?))
}

/// The optional body of a payout action: at most one free-text field, `name` (none for cancel).
pub fn action_note(body: &[u8], name: Option<&str>) -> ApiResult<Option<String>> {
    let map = parse_optional_object(body)?;
    let mut f = Fields::new(&map);
    let note = name.and_then(|n| f.optional_string(n, 500));
    f.finish()?;
    Ok(note)
}

/// `{payoutIds?: [string]}`: sends pending and processing `stripe_connect` payouts (all, or
/// those named) through Stripe with the merchant's key; answers them as they now are.
#[utoipa::path(post, path = "/payouts/send", tag = "payouts", operation_id = "sendPayouts", request_body(content = doc::payouts::SendInput, content_type = "application/json"), responses((status = 200, body = doc::common::DataList<doc::payouts::Payout>)))]
async fn send_payouts(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<Value>> {
    let actor = caller.actor();
    actor.require_write()?;
    let payout_ids = read_send(&parse_optional_object(&body)?)?;
    let sent =
        state.core.send_stripe_payouts(&actor, payout_ids, state.rail.as_ref(), &state.secrets).await?;
    Ok(Json(json!({ "data": sent.iter().map(PayoutView::to_json).collect::<Vec<_>>() })))
}

/// An optional array of ids (at most 10,000), each problem reported at its index.
fn read_ids(f: &mut Fields<'_>, name: &str) -> Vec<String> {
    let mut ids = Vec::new();
    match f.value(name) {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.len() <= 10_000 => {
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(id) if !id.is_empty() && id.len() <= 100 => ids.push(id.to_string()),
                    _ => f.issue_at(vec![json!(name), json!(i)], "each id must be a non-empty string"),
                }
            }
        }
        Some(_) => f.issue(name, format!("{name} must be an array of at most 10000 ids")),
    }
    ids
}

/// `{exportId*, reference?}`: every payout of an exported file was paid.
#[utoipa::path(post, path = "/payouts/complete", tag = "payouts", operation_id = "completeExport", request_body(content = doc::payouts::CompleteExport, content_type = "application/json"), responses((status = 200, body = doc::common::DataList<doc::payouts::Payout>)))]
async fn complete_export(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = caller.actor();
    actor.require_write()?;
    let (export_id, reference) = read_complete_export(&parse_optional_object(&body)?)?;
    let done = state.core.complete_export(&actor, &export_id, reference).await?;
    Ok(Json(json!({ "data": done.iter().map(PayoutView::to_json).collect::<Vec<_>>() })))
}

/// `?format=paypal|wise|csv[&currency=][&exportId=]`: a CSV file. Exporting takes the pending
/// payouts in it to `processing` (so needs a write key); `exportId` downloads a file again.
#[utoipa::path(get, path = "/payouts/export", tag = "payouts", operation_id = "exportPayouts", params(doc::payouts::ExportQuery), responses((status = 200, description = "The file; `X-Export-Id`, `X-Export-Rows` and `X-Export-Remaining` name it and say how many rows it holds and how many are left", content_type = "text/csv", body = String)))]
async fn export_payouts(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Response> {
    let format = params.one_of("format", &["paypal", "wise", "csv"]).as_deref().and_then(ExportFormat::parse);
    let currency = params.get("currency").map(str::to_string);
    let export_id = params.get("exportId").map(str::to_string);
    params.finish()?;
    let Some(format) = format else {
        return Err(ApiError::validation(vec![Issue::field(
            "format",
            "format is required: paypal, wise or csv",
        )]));
    };
    let file =
        state.core.export_payouts(&caller.actor(), ExportInput { format, currency, export_id }).await?;
    let name = format!("refline-payouts-{}.csv", file.export_id);
    let mut response = (StatusCode::OK, file.content).into_response();
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_TYPE.as_str(), "text/csv; charset=utf-8".into());
    set(header::CONTENT_DISPOSITION.as_str(), format!("attachment; filename=\"{name}\""));
    set("x-export-id", file.export_id);
    set("x-export-rows", file.rows.to_string());
    set("x-export-remaining", file.remaining.to_string());
    Ok(response)
}

/// `?affiliateId=&currency=&page=&limit=`: balances per affiliate and currency, a page of
/// affiliates at a time (each with all its rows), ordered by affiliate id.
#[utoipa::path(get, path = "/balances", tag = "payouts", operation_id = "listBalances", params(doc::common::PageParams, doc::payouts::BalanceQuery), responses((status = 200, body = doc::common::Page<doc::payouts::Balance>)))]
async fn balances(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let affiliate_id = params.get("affiliateId").map(str::to_string);
    let currency = params.get("currency").map(str::to_string);
    let page = params.page_only();
    params.finish()?;
    let found =
        state.core.balances_listed(&caller.actor(), affiliate_id, currency, page.limit, page.offset).await?;
    Ok(Json(envelope(found.items.iter().map(render_balance).collect(), &page, found.total)))
}

/// One balance; amounts in the currency's decimals.
pub fn render_balance(row: &BalanceRow) -> Value {
    let b = &row.balance;
    let m = |minor: i64| format_amount_in(minor, &row.currency);
    json!({
        "affiliateId": row.affiliate_id,
        "currency": row.currency,
        "pending": m(b.pending),
        "onHold": m(b.on_hold),
        "payable": m(b.payable),
        "inPayout": m(b.in_payout),
        "paid": m(b.paid),
        "owedBack": m(b.owed_back),
    })
}

/// Reads the body of `POST /payouts` (`{affiliateIds?, currency?, method?}`) into the run's input.
pub fn read_run(map: &Map<String, Value>) -> RunInput {
    let mut f = Fields::new(map);
    let affiliate_ids = read_ids(&mut f, "affiliateIds");
    let currency = f.optional_string("currency", 3);
    let method = f.optional_enum("method", &METHOD_TYPES).map(str::to_string);
    RunInput { affiliate_ids, currency, method, unreadable: f.into_issues() }
}

/// Reads the body of `POST /payouts/send` (`{payoutIds?}`).
pub fn read_send(map: &Map<String, Value>) -> ApiResult<Vec<String>> {
    let mut f = Fields::new(map);
    let payout_ids = read_ids(&mut f, "payoutIds");
    f.finish()?;
    Ok(payout_ids)
}

/// Reads the body of `POST /payouts/complete` (`{exportId, reference?}`).
pub fn read_complete_export(map: &Map<String, Value>) -> ApiResult<(String, Option<String>)> {
    let mut f = Fields::new(map);
    let export_id = f.required_string("exportId", 100);
    let reference = f.optional_string("reference", 500);
    f.finish()?;
    let Some(export_id) = export_id else { return Err(ApiError::internal("validated field missing")) };
    Ok((export_id, reference))
}

//! Schemas every resource shares: the error envelope, the `{"data": …}` and list envelopes,
//! paging parameters and click counts. Documentation types only: the handlers render with
//! `serde_json`, and the contract test and Schemathesis hold the two together.

use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// Every error answer: `{"error": {"code", "message", "details"?, "requestId"?}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// The error itself. `code` is stable and meant for machines; `message` may change.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable machine-readable code (each operation lists the codes it can answer).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Validation issues (an array of `{path, message}`) or the code's documented details.
    pub details: Option<Value>,
    /// The request's id in the server's log (the `X-Request-Id` header).
    pub request_id: Option<String>,
}

/// One problem of a `validation_error`: where (`["body field", 0]`, `["query", "page"]`) and what.
#[derive(Serialize, ToSchema)]
pub struct Issue {
    pub path: Vec<Value>,
    pub message: String,
}

/// `{"data": <object>}`: the answer of every read, create and change.
#[derive(Serialize, ToSchema)]
pub struct Data<T> {
    pub data: T,
}

/// `{"data": [...]}`: a list that is not paged (payout runs, sends, completions).
#[derive(Serialize, ToSchema)]
pub struct DataList<T> {
    pub data: Vec<T>,
}

/// The list envelope: one page of items and where it sits.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub pagination: Pagination,
}

/// Where a page sits. A page past the end has `"data": []`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    #[schema(minimum = 1)]
    pub page: i64,
    #[schema(minimum = 1, maximum = 100)]
    pub limit: i64,
    #[schema(minimum = 0)]
    pub total: i64,
    #[schema(minimum = 0)]
    pub total_pages: i64,
}

/// `page` and `limit` of every list (values out of range are refused, never clamped).
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// Items per page.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// `sort=createdAt:asc|desc` (a bare field sorts ascending; the default is descending).
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreatedAtSort {
    #[param(pattern = r"^createdAt(:(asc|desc))?$")]
    pub sort: Option<String>,
}

/// `{"data": {"id", "deleted": true}}`.
#[derive(Serialize, ToSchema)]
pub struct Deleted {
    pub id: String,
    pub deleted: bool,
}

/// Click counts as campaigns, affiliates and links show them.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClickStats {
    pub clicks: i64,
    pub unique_clicks: i64,
    pub bot_clicks: i64,
    pub head_requests: i64,
}

/// An affiliate's payout details: `{"type": "paypal", "email"}`, `{"type": "stripe_connect",
/// "accountId"}`, `{"type": "wise", "name", "email", "currency"}` or `{"type": "manual"}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutMethod {
    #[schema(pattern = "^(paypal|stripe_connect|wise|manual)$")]
    pub r#type: String,
    pub email: Option<String>,
    pub account_id: Option<String>,
    pub name: Option<String>,
    pub currency: Option<String>,
}

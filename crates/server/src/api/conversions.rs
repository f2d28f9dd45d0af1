//! `/api/v1/conversions`: record a sale (the seed page), list, read, approve or reject.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use refline_core::sales::conversions::{NewConversion, SORTS};
use refline_domain::{format_timestamp, ConversionStatus, ConversionType, Mode};
use refline_store::{
    render::{conversion_created, conversion_read, money},
    ConversionFilter, ConversionSort,
};
use serde_json::{json, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::list::{envelope, Params},
    api::openapi as doc,
    error::{ApiError, ApiResult},
    http::{
        auth::Caller,
        body::{parse_object, Fields},
    },
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversions, create_conversion))
        .routes(routes!(get_conversion, update_conversion))
}

#[utoipa::path(post, path = "/conversions", tag = "conversions", operation_id = "createConversion", request_body(content = doc::program::NewConversion, content_type = "application/json"), responses((status = 201, body = doc::common::Data<doc::program::ConversionCreated>)))]
async fn create_conversion(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let actor = caller.actor();
    actor.require_write()?;
    let map = parse_object(&body)?;
    let conversion = state.core.record_conversion(&actor, caller.plan, read_new_conversion(&map)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "data": conversion_created(&conversion) }))))
}

/// Reads the seed's body (or an MCP tool's arguments) into the operation's input: types and
/// lengths here, every rule in the core.
pub fn read_new_conversion(map: &serde_json::Map<String, Value>) -> NewConversion {
    let mut f = Fields::new(map);
    let input = NewConversion {
        campaign_id: f.required_string("campaignId", 100),
        affiliate_id: f.required_string("affiliateId", 100),
        amount: f.required_number_text("amount", "the sale in major units, e.g. 99.00"),
        order_id: f.optional_string("orderId", 255),
        click_id: f.optional_string("clickId", 255),
        customer_email: f.optional_string("customerEmail", 254),
        customer_name: f.optional_string("customerName", 200),
        currency: f.optional_string("currency", 3),
        recurring: f
            .optional_enum("conversionType", &["one_time", "recurring"])
            .and_then(ConversionType::parse)
            == Some(ConversionType::Recurring),
        parent_conversion_id: f.optional_string("parentConversionId", 100),
        unreadable: Vec::new(),
    };
    NewConversion { unreadable: f.into_issues(), ..input }
}

#[utoipa::path(get, path = "/conversions", tag = "conversions", operation_id = "listConversions", params(doc::common::PageParams, doc::program::ConversionQuery), responses((status = 200, body = doc::common::Page<doc::program::Conversion>)))]
async fn list_conversions(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let statuses: Vec<&str> = ConversionStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filter = ConversionFilter {
        mode: params.flag("isTest").map_or(caller.kind.mode(), Mode::from_is_test),
        status: params.one_of("status", &statuses).and_then(|s| ConversionStatus::parse(&s)),
        campaign_id: params.get("campaignId").map(str::to_string),
        affiliate_id: params.get("affiliateId").map(str::to_string),
        from: params.time("from", false),
        to: params.time("to", true),
    };
    let page = params.page(SORTS, ConversionSort::CreatedAt);
    params.finish()?;
    let found = state.core.list_conversions(&caller.actor(), &filter, page).await?;
    Ok(Json(envelope(found.items.iter().map(conversion_read).collect(), &page, found.total)))
}

#[utoipa::path(get, path = "/conversions/{id}", tag = "conversions", operation_id = "getConversion", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::program::Conversion>)))]
async fn get_conversion(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let detail = state.core.get_conversion(&caller.actor(), &id).await?;
    let conversion = &detail.conversion;
    let mut data = conversion_read(conversion);
    // Amounts owed back after a refund of a paid commission (clawbacks), in this view only:
    // lists stay one read.
    if let Some(object) = data.as_object_mut() {
        let rows: Vec<Value> = detail
            .adjustments
            .iter()
            .map(|a| {
                json!({
                    "id": a.id,
                    "amount": money(conversion, a.amount_minor),
                    "currency": a.currency,
                    "reason": a.reason,
                    "createdAt": format_timestamp(a.created_at),
                })
            })
            .collect();
        object.insert("adjustments".into(), Value::Array(rows));
    }
    Ok(Json(json!({ "data": data })))
}

#[utoipa::path(patch, path = "/conversions/{id}", tag = "conversions", operation_id = "updateConversion", params(("id" = String, Path)), request_body(content = doc::program::ConversionChange, content_type = "application/json"), responses((status = 200, body = doc::common::Data<doc::program::Conversion>)))]
async fn update_conversion(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = caller.actor();
    actor.require_write()?;
    let (target, confirm) = read_status_change(&parse_object(&body)?)?;
    let updated = state.core.set_conversion_status(&actor, &id, target, confirm).await?;
    Ok(Json(json!({ "data": conversion_read(&updated) })))
}

/// Reads the body of `PATCH /conversions/{id}`: the new status (`approved` or `rejected`) and
/// whether a commission above the sale is confirmed.
pub fn read_status_change(map: &serde_json::Map<String, Value>) -> ApiResult<(ConversionStatus, bool)> {
    let mut f = Fields::new(map);
    let target = f.required_enum("status", &["approved", "rejected"]).and_then(ConversionStatus::parse);
    let confirm = f.optional_bool("confirmAboveSale").unwrap_or(false);
    f.finish()?;
    let Some(target) = target else {
        return Err(ApiError::internal("validated fields missing"));
    };
    Ok((target, confirm))
}

//! `/api/v1/coupons`: discount codes registered to an affiliate on a campaign. A sale that
//! carries no tracking reference is credited by its coupon (processor coupon id, then
//! promotion-code id, then the code text). Refline only registers codes that already exist in
//! the processor; the discount fields are labels.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use refline_core::{connection_input::provider_names, coupons::CouponInput};
use refline_domain::{format_amount_in, format_timestamp};
use refline_processors::Provider;
use refline_store::{Coupon, CouponFilter};
use serde_json::{json, Map, Value};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    api::list::{envelope, Params},
    api::openapi as doc,
    error::ApiResult,
    http::{
        auth::Caller,
        body::{exact_number, parse_object, Fields},
    },
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_coupons, create_coupon))
        .routes(routes!(get_coupon, delete_coupon))
}

/// The API form of a coupon.
pub fn render(c: &Coupon) -> Value {
    let amount_off = match (c.amount_off_minor, c.currency.as_deref()) {
        (Some(minor), Some(code)) => exact_number(&format_amount_in(minor, code)),
        _ => Value::Null,
    };
    json!({
        "id": c.id,
        "code": c.code,
        "campaignId": c.campaign_id,
        "affiliateId": c.affiliate_id,
        "provider": c.provider,
        "providerCouponId": c.provider_coupon_id,
        "providerPromotionCodeId": c.provider_promotion_code_id,
        "percentOff": c.percent_off,
        "amountOff": amount_off,
        "currency": c.currency,
        "duration": c.duration,
        "durationInMonths": c.duration_in_months,
        "createdAt": format_timestamp(c.created_at),
    })
}

/// Reads a registration: types, choices and lengths here; the code rule, the discount rules,
/// the membership check and idempotency in the core (`refline_core::coupons`).
pub fn read_input(map: &Map<String, Value>) -> CouponInput {
    let mut f = Fields::new(map);
    let code = f.required_string("code", 100);
    let campaign_id = f.required_string("campaignId", 255);
    let affiliate_id = f.required_string("affiliateId", 255);
    let provider = f.value("provider").and_then(|v| {
        let found = v.as_str().and_then(Provider::parse);
        if found.is_none() {
            f.issue("provider", format!("provider must be one of: {}", provider_names().join(", ")));
        }
        found
    });
    let provider_coupon_id = f.optional_string("providerCouponId", 255);
    let provider_promotion_code_id = f.optional_string("providerPromotionCodeId", 255);
    let create_in_provider = f.optional_bool("createInProvider") == Some(true);
    let percent_off = f.optional_int("percentOff", 1, 100);
    let amount_off = f.optional_decimal_text("amountOff");
    let currency = f.optional_string("currency", 3);
    let duration = f.optional_enum("duration", &["once", "forever", "repeating"]).map(str::to_string);
    let duration_in_months = f.optional_int("durationInMonths", 1, 1200);
    CouponInput {
        code,
        campaign_id,
        affiliate_id,
        provider,
        provider_coupon_id,
        provider_promotion_code_id,
        create_in_provider,
        percent_off,
        percent_off_sent: f.has("percentOff"),
        amount_off,
        amount_off_sent: f.has("amountOff"),
        currency,
        duration,
        duration_in_months,
        unreadable: f.into_issues(),
    }
}

/// `{code*, campaignId*, affiliateId*, provider?, providerCouponId?, providerPromotionCodeId?,
/// percentOff? | amountOff? + currency?, duration?, durationInMonths?}`. Registering the same code
/// again for the same affiliate and campaign answers 200 with the coupon (idempotent); for
/// anyone else, 409 `duplicate`.
#[utoipa::path(post, path = "/coupons", tag = "coupons", operation_id = "createCoupon", request_body(content = doc::integrations::NewCoupon, content_type = "application/json"), responses((status = 201, body = doc::common::Data<doc::integrations::Coupon>), (status = 200, description = "Already registered to this affiliate and campaign", body = doc::common::Data<doc::integrations::Coupon>)))]
async fn create_coupon(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let actor = caller.actor();
    // Rights before the body, so a read-only key learns that first.
    actor.require_write()?;
    let map = parse_object(&body)?;
    let done = state.core.register_coupon(&actor, read_input(&map)).await?;
    let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({ "data": render(&done.coupon) }))))
}

#[utoipa::path(get, path = "/coupons", tag = "coupons", operation_id = "listCoupons", params(doc::common::PageParams, doc::common::CreatedAtSort, doc::integrations::CouponQuery), responses((status = 200, body = doc::common::Page<doc::integrations::Coupon>)))]
async fn list_coupons(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let page = params.page(&[("createdAt", ())], ());
    let names = provider_names();
    let filter = CouponFilter {
        code: params.get("code").map(str::to_string),
        provider: params.one_of("provider", &names),
        campaign_id: params.get("campaignId").map(str::to_string),
        affiliate_id: params.get("affiliateId").map(str::to_string),
    };
    params.finish()?;
    let found = state.core.list_coupons(&caller.actor(), &filter, page).await?;
    Ok(Json(envelope(found.items.iter().map(render).collect(), &page, found.total)))
}

#[utoipa::path(get, path = "/coupons/{id}", tag = "coupons", operation_id = "getCoupon", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::integrations::Coupon>)))]
async fn get_coupon(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let coupon = state.core.get_coupon(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": render(&coupon) })))
}

#[utoipa::path(delete, path = "/coupons/{id}", tag = "coupons", operation_id = "deleteCoupon", params(("id" = String, Path)), responses((status = 200, body = doc::common::Data<doc::common::Deleted>)))]
async fn delete_coupon(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.core.delete_coupon(&caller.actor(), &id).await?;
    Ok(Json(json!({ "data": { "id": id, "deleted": true } })))
}

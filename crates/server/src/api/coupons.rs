//! `/api/v1/coupons`: discount codes registered to an affiliate on a campaign. A sale that
//! carries no tracking reference is credited by its coupon (processor coupon id, then
//! promotion-code id, then the code text). Refline only registers codes that already exist in
//! the processor; the discount fields are labels.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
    Json, Router,
};
use refline_domain::{format_amount, format_timestamp, parse_amount, Currency};
use refline_processors::Provider;
use refline_store::{Coupon, CouponFilter, StoreError};
use serde_json::{json, Value};

use crate::{
    api::{
        integration_input::provider_names,
        list::{envelope, Params},
    },
    error::{ApiError, ApiResult},
    http::{
        auth::Caller,
        body::{exact_number, parse_object, Fields},
    },
    ids::new_id,
    state::AppState,
};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/coupons", get(list_coupons).post(create_coupon))
        .route("/coupons/{id}", get(get_coupon).delete(delete_coupon))
}

/// The API form of a coupon.
pub fn render(c: &Coupon) -> Value {
    let amount_off = match (c.amount_off_minor, c.currency.as_deref()) {
        (Some(minor), Some(code)) => {
            let exponent = Currency::parse(code).map(|c| c.exponent()).unwrap_or(2);
            exact_number(&format_amount(minor, exponent))
        }
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

/// A code customers type: 1–100 characters, none of them whitespace or control characters.
fn valid_code(code: &str) -> bool {
    (1..=100).contains(&code.chars().count()) && !code.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The discount labels: `percentOff` or `amountOff` (+ `currency`, default the merchant's),
/// `duration`, `durationInMonths`. Written into `coupon`.
fn read_discount(f: &mut Fields<'_>, caller: &Caller, coupon: &mut Coupon) {
    coupon.percent_off = f.optional_int("percentOff", 1, 100);
    let amount_text = f.optional_decimal_text("amountOff");
    let currency_code = f.optional_string("currency", 3);
    if f.has("percentOff") && amount_text.is_some() {
        f.issue("amountOff", "give either percentOff or amountOff, not both");
    }
    let currency = if amount_text.is_some() || currency_code.is_some() {
        match Currency::parse(currency_code.as_deref().unwrap_or(&caller.currency)) {
            Ok(c) => Some(c),
            Err(_) => {
                f.issue("currency", "currency must be a supported ISO 4217 code such as usd or eur");
                None
            }
        }
    } else {
        None
    };
    if let (Some(text), Some(currency)) = (amount_text, currency) {
        match parse_amount(&text, currency.exponent()) {
            Ok(minor) if minor > 0 => {
                coupon.amount_off_minor = Some(minor);
                coupon.currency = Some(currency.code().to_string());
            }
            Ok(_) => f.issue("amountOff", "amountOff must be positive"),
            Err(e) => f.issue("amountOff", format!("amountOff {e}")),
        }
    } else if currency_code.is_some() && !f.has("amountOff") {
        f.issue("currency", "currency applies only with amountOff");
    }
    coupon.duration = f.optional_enum("duration", &["once", "forever", "repeating"]).map(str::to_string);
    coupon.duration_in_months = f.optional_int("durationInMonths", 1, 1200);
    match (coupon.duration.as_deref(), coupon.duration_in_months) {
        (Some("repeating"), None) => {
            f.issue("durationInMonths", "durationInMonths is required with duration repeating")
        }
        (Some("once" | "forever") | None, Some(_)) => {
            f.issue("durationInMonths", "durationInMonths applies only with duration repeating")
        }
        _ => {}
    }
}

/// `{code*, campaignId*, affiliateId*, provider?, providerCouponId?, providerPromotionCodeId?,
/// percentOff? | amountOff? + currency?, duration?, durationInMonths?}`. Registering the same code
/// again for the same affiliate and campaign answers 200 with the coupon (idempotent); for
/// anyone else, 409 `duplicate`.
async fn create_coupon(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let map = parse_object(&body)?;
    let mut f = Fields::new(&map);
    let code = f.required_string("code", 100);
    if code.as_deref().is_some_and(|c| !valid_code(c)) {
        f.issue("code", "code must be 1 to 100 characters without spaces");
    }
    let campaign_id = f.required_string("campaignId", 255);
    let affiliate_id = f.required_string("affiliateId", 255);
    let names = provider_names();
    // LinkJolt registers codes for Stripe unless told otherwise.
    let provider = match f.value("provider") {
        None => Some(Provider::Stripe),
        Some(v) => {
            let found = v.as_str().and_then(Provider::parse);
            if found.is_none() {
                f.issue("provider", format!("provider must be one of: {}", names.join(", ")));
            }
            found
        }
    };
    let provider_coupon_id = f.optional_string("providerCouponId", 255);
    let provider_promotion_code_id = f.optional_string("providerPromotionCodeId", 255);
    if f.optional_bool("createInProvider") == Some(true) {
        f.issue(
            "createInProvider",
            "Creating codes in the payment processor is not supported yet: create the code in your \
             processor, then register it here without createInProvider",
        );
    }
    let now = state.config.clock.now();
    let mut coupon = Coupon {
        id: new_id("cpn"),
        merchant_id: caller.merchant_id.clone(),
        campaign_id: String::new(),
        affiliate_id: String::new(),
        code: String::new(),
        code_key: String::new(),
        provider: provider.map(|p| p.as_str().to_string()),
        provider_coupon_id,
        provider_promotion_code_id,
        percent_off: None,
        amount_off_minor: None,
        currency: None,
        duration: None,
        duration_in_months: None,
        created_at: now,
    };
    read_discount(&mut f, &caller, &mut coupon);
    f.finish()?;
    let (Some(code), Some(campaign_id), Some(affiliate_id)) = (code, campaign_id, affiliate_id) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    state
        .store
        .get_membership(&caller.merchant_id, &campaign_id, &affiliate_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Affiliate membership on this campaign"))?;
    coupon.code_key = Coupon::key_of(&code);
    coupon.code = code;
    coupon.campaign_id = campaign_id;
    coupon.affiliate_id = affiliate_id;
    if let Some(existing) = state.store.get_coupon_by_code(&caller.merchant_id, &coupon.code_key).await? {
        return already_registered(&existing, &coupon);
    }
    match state.store.insert_coupon(&coupon).await {
        Ok(()) => Ok((StatusCode::CREATED, Json(json!({ "data": render(&coupon) })))),
        // Registered by a concurrent request between the lookup and the insert.
        Err(err @ StoreError::Conflict(_)) => {
            match state.store.get_coupon_by_code(&caller.merchant_id, &coupon.code_key).await? {
                Some(existing) => already_registered(&existing, &coupon),
                None => Err(err.into()),
            }
        }
        Err(err) => Err(err.into()),
    }
}

/// The answer when the merchant already has the code: idempotent success for the same credit,
/// a conflict for another one.
fn already_registered(existing: &Coupon, wanted: &Coupon) -> ApiResult<(StatusCode, Json<Value>)> {
    if existing.affiliate_id == wanted.affiliate_id && existing.campaign_id == wanted.campaign_id {
        return Ok((StatusCode::OK, Json(json!({ "data": render(existing) }))));
    }
    Err(ApiError::duplicate(
        format!("The code {} is already registered to another affiliate or campaign", existing.code),
        json!({ "id": existing.id, "code": existing.code }),
    ))
}

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
    let found = state.store.list_coupons(&caller.merchant_id, &filter, page).await?;
    Ok(Json(envelope(found.items.iter().map(render).collect(), &page, found.total)))
}

async fn get_coupon(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let coupon = state
        .store
        .get_coupon(&caller.merchant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Coupon"))?;
    Ok(Json(json!({ "data": render(&coupon) })))
}

async fn delete_coupon(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if !state.store.delete_coupon(&caller.merchant_id, &id).await? {
        return Err(ApiError::not_found("Coupon"));
    }
    Ok(Json(json!({ "data": { "id": id, "deleted": true } })))
}

//! `/api/v1/conversions`: record a sale (the seed page), list, read, approve or reject.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
    Json, Router,
};
use refline_domain::{
    above_sale_guard, canonical_email, check_manual_transition, format_amount, format_timestamp,
    is_valid_email, parse_amount, ConversionStatus, Currency, Transition, TransitionError,
};
use refline_store::{AttributionQuery, Conversion, ConversionFilter, ConversionSort};
use serde_json::{json, Map, Value};

use crate::{
    api::list::{envelope, Params},
    clock::now_ms,
    error::{ApiError, ApiResult},
    http::{
        auth::Caller,
        body::{exact_number, parse_object, Fields},
    },
    service::record_conversion::{record_sale, Refusal, SaleInput},
    state::AppState,
    terms,
};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/conversions", get(list_conversions).post(create_conversion))
        .route("/conversions/{id}", get(get_conversion).patch(update_conversion))
}

const SORTS: &[(&str, ConversionSort)] =
    &[("createdAt", ConversionSort::CreatedAt), ("amount", ConversionSort::Amount)];

async fn create_conversion(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let map = parse_object(&body)?;
    let mut f = Fields::new(&map);
    let campaign_id = f.required_string("campaignId", 100);
    let affiliate_id = f.required_string("affiliateId", 100);
    let amount_text = f.required_number_text("amount", "the sale in major units, e.g. 99.00");
    let order_id = f.optional_string("orderId", 255);
    let click_id = f.optional_string("clickId", 255);
    let customer_email = f.optional_string("customerEmail", 254).map(|e| canonical_email(&e));
    if customer_email.as_deref().is_some_and(|e| !is_valid_email(e)) {
        f.issue("customerEmail", "customerEmail must be a valid email address");
    }
    let customer_name = f.optional_string("customerName", 200);
    let currency_code = f.optional_string("currency", 3);
    let conversion_type = f.optional_enum("conversionType", &["one_time", "recurring"]).unwrap_or("one_time");
    let parent_id = f.optional_string("parentConversionId", 100);
    if parent_id.is_some() && conversion_type != "recurring" {
        f.issue("parentConversionId", "parentConversionId is only allowed with conversionType recurring");
    }
    let currency = match &currency_code {
        None => None,
        Some(code) => match Currency::parse(code) {
            Ok(c) => Some(c),
            Err(_) => {
                f.issue("currency", "currency must be a supported ISO 4217 code such as usd or eur");
                None
            }
        },
    };
    f.finish()?;
    let (Some(campaign_id), Some(affiliate_id), Some(amount_text)) = (campaign_id, affiliate_id, amount_text)
    else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let attribution = state
        .store
        .find_attribution(&AttributionQuery {
            merchant_id: &caller.merchant_id,
            campaign_id: &campaign_id,
            affiliate_id: &affiliate_id,
            click_id: click_id.as_deref(),
            order_id: order_id.as_deref(),
            is_test: caller.is_test(),
        })
        .await?
        .ok_or_else(|| ApiError::not_found("Campaign"))?;
    // A retry of a recorded sale is a duplicate whatever changed since (clients treat 409 as
    // success), so this answer comes before the checks that could now refuse it.
    if let Some(existing_id) = attribution.duplicate_id.clone() {
        return Err(refusal_to_error(Refusal::Duplicate(existing_id)));
    }
    let affiliate = attribution.affiliate().ok_or_else(|| ApiError::not_found("Affiliate"))?;
    let click = attribution.click();
    let membership_status = attribution.membership_status;
    let campaign = attribution.campaign;
    let campaign_currency = terms::currency_of(&campaign);
    let currency = currency.unwrap_or(campaign_currency);
    // Campaign revenue, affiliate earnings, tiers and caps add sales up; without exchange rates
    // only sales in one currency can be added, so a campaign records sales in its own currency.
    if currency != campaign_currency {
        return Err(ApiError::invalid_field(
            "currency",
            format!(
                "currency must be the campaign's ({}); Refline does not convert currencies, so convert the amount or use a campaign in {}",
                campaign_currency.code(),
                currency.code()
            ),
        ));
    }
    let amount_minor = match parse_amount(&amount_text, currency.exponent()) {
        Ok(v) if v > 0 => v,
        Ok(_) => return Err(ApiError::invalid_field("amount", "amount must be positive")),
        Err(e) => return Err(ApiError::invalid_field("amount", format!("amount {e}"))),
    };
    let parent = match &parent_id {
        None => None,
        Some(id) => Some(
            state
                .store
                .get_conversion(&caller.merchant_id, id)
                .await?
                .filter(|p| p.is_test == caller.is_test())
                .ok_or_else(|| ApiError::not_found("Parent conversion"))?,
        ),
    };
    let sale = SaleInput {
        campaign,
        affiliate,
        membership_status,
        click,
        amount_minor,
        currency,
        order_id,
        click_id,
        customer_email,
        customer_name,
        conversion_type,
        parent,
        source: "api".into(),
        is_test: caller.is_test(),
        plan: caller.plan,
        now: now_ms(),
        allow_pending: false,
        trial: false,
        id: None,
    };
    let conversion = record_sale(state.store.as_ref(), &state.writer, &state.config.limits, sale)
        .await
        .map_err(refusal_to_error)?;
    Ok((StatusCode::CREATED, Json(json!({ "data": render_created(&conversion) }))))
}

fn refusal_to_error(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::AffiliateNotApproved(why) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "affiliate_not_approved",
            format!("The affiliate is {why}; only affiliates approved on the campaign can be credited"),
        ),
        Refusal::CampaignInactive => ApiError::new(
            StatusCode::BAD_REQUEST,
            "campaign_inactive",
            "The campaign is inactive (paused); activate it to record conversions",
        ),
        Refusal::RecurringDisabled => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "recurring_commission_disabled",
            "The campaign pays no recurring commission; enable recurringCommissionEnabled first",
        ),
        Refusal::RecurringLimitReached => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "recurring_limit_reached",
            "This renewal is past the campaign's recurring commission limit",
        ),
        Refusal::ParentMismatch(why) => ApiError::invalid_field("parentConversionId", why),
        Refusal::CapReached => ApiError::new(
            StatusCode::FORBIDDEN,
            "earnings_limit_reached",
            "Your plan's monthly tracked-sales limit is reached; upgrade to keep recording conversions",
        ),
        Refusal::Duplicate(existing_id) => ApiError::duplicate(
            "A conversion with this orderId already exists",
            json!({ "conversionId": existing_id }),
        ),
        Refusal::Store(err) => err.into(),
    }
}

async fn list_conversions(
    State(state): State<AppState>,
    caller: Caller,
    mut params: Params,
) -> ApiResult<Json<Value>> {
    let statuses: Vec<&str> = ConversionStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filter = ConversionFilter {
        is_test: params.flag("isTest").unwrap_or(caller.is_test()),
        status: params.one_of("status", &statuses),
        campaign_id: params.get("campaignId").map(str::to_string),
        affiliate_id: params.get("affiliateId").map(str::to_string),
        from: params.time("from", false),
        to: params.time("to", true),
    };
    let page = params.page(SORTS, ConversionSort::CreatedAt);
    params.finish()?;
    let found = state.store.list_conversions(&caller.merchant_id, &filter, page).await?;
    Ok(Json(envelope(found.items.iter().map(render).collect(), &page, found.total)))
}

async fn get_conversion(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let conversion = load(&state, &caller, &id).await?;
    let mut data = render(&conversion);
    // Amounts owed back after a refund of a paid commission (clawbacks), in this view only:
    // lists stay one read.
    let adjustments = state.store.adjustments_for(&caller.merchant_id, &conversion.id).await?;
    if let Some(object) = data.as_object_mut() {
        let exponent = Currency::parse(&conversion.currency).map_or(2, |c| c.exponent());
        let rows: Vec<Value> = adjustments
            .iter()
            .map(|a| {
                json!({
                    "id": a.id,
                    "amount": format_amount(a.amount_minor, exponent),
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

async fn update_conversion(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let map = parse_object(&body)?;
    let mut f = Fields::new(&map);
    let target = f.required_enum("status", &["approved", "rejected"]).and_then(ConversionStatus::parse);
    let confirm = f.optional_bool("confirmAboveSale").unwrap_or(false);
    f.finish()?;
    let Some(target) = target else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let conversion = load(&state, &caller, &id).await?;
    let current = ConversionStatus::parse(&conversion.status)
        .ok_or_else(|| ApiError::internal("unknown conversion status"))?;
    let transition = check_manual_transition(current, target).map_err(|e| {
        let message = match e {
            TransitionError::Terminal => {
                "Refunded conversions are final and cannot change status".to_string()
            }
            other => format!("{other}"),
        };
        ApiError::invalid_transition(message)
    })?;
    if transition == Transition::NoOp {
        return Ok(Json(json!({ "data": render(&conversion) })));
    }
    if target == ConversionStatus::Approved
        && !confirm
        && above_sale_guard(conversion.amount_minor, conversion.commission_minor)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "commission_above_sale",
            "The commission is more than 5x the sale (or the sale is zero); send confirmAboveSale: true to approve anyway",
        )
        .with_details(json!({ "amount": money(&conversion, conversion.amount_minor), "commission": money(&conversion, conversion.commission_minor) })));
    }
    let now = now_ms();
    let moved = state
        .store
        .update_conversion_status(
            &caller.merchant_id,
            &id,
            current.as_str(),
            target.as_str(),
            now,
            !caller.is_test(),
        )
        .await?;
    if !moved {
        return Err(ApiError::changed_concurrently("conversion"));
    }
    let updated = load(&state, &caller, &id).await?;
    Ok(Json(json!({ "data": render(&updated) })))
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Conversion> {
    state
        .store
        .get_conversion(&caller.merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Conversion"))
}

fn exponent(c: &Conversion) -> u8 {
    Currency::parse(&c.currency).unwrap_or(Currency::USD).exponent()
}

fn money(c: &Conversion, minor: i64) -> String {
    format_amount(minor, exponent(c))
}

fn fraud(c: &Conversion) -> Option<Value> {
    let score = c.fraud_score?;
    let signals: Vec<&str> =
        c.fraud_signals.as_deref().unwrap_or("").split(',').filter(|s| !s.is_empty()).collect();
    let level = refline_domain::RiskLevel::from_score(u8::try_from(score).unwrap_or(100));
    Some(json!({ "score": score, "level": level.as_str(), "signals": signals, "flaggedForReview": true }))
}

/// The 201 body of `POST /conversions`: exactly the seed's fields (money as JSON numbers with
/// the currency's decimals), plus `source`, and `isTest`/`fraud` only when they apply.
fn render_created(c: &Conversion) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(c.id));
    out.insert("campaignId".into(), json!(c.campaign_id));
    out.insert("affiliateId".into(), json!(c.affiliate_id));
    out.insert("amount".into(), exact_number(&money(c, c.amount_minor)));
    out.insert("commission".into(), exact_number(&money(c, c.commission_minor)));
    out.insert("currency".into(), json!(c.currency));
    out.insert("status".into(), json!(c.status));
    out.insert("orderId".into(), json!(c.order_id));
    out.insert("conversionType".into(), json!(c.conversion_type));
    out.insert("createdAt".into(), json!(format_timestamp(c.created_at)));
    out.insert("source".into(), json!(c.source));
    if let Some(parent) = &c.parent_conversion_id {
        out.insert("parentConversionId".into(), json!(parent));
        out.insert("paymentNumber".into(), json!(c.payment_number));
    }
    if c.is_test {
        out.insert("isTest".into(), json!(true));
    }
    if let Some(fraud) = fraud(c) {
        out.insert("fraud".into(), fraud);
    }
    Value::Object(out)
}

/// The form of a conversion in reads: money as decimal strings, as in LinkJolt's reference.
fn render(c: &Conversion) -> Value {
    json!({
        "id": c.id,
        "campaignId": c.campaign_id,
        "affiliateId": c.affiliate_id,
        "amount": money(c, c.amount_minor),
        "commission": money(c, c.commission_minor),
        "currency": c.currency,
        "status": c.status,
        "orderId": c.order_id,
        "clickId": c.click_id,
        "customerEmail": c.customer_email,
        "customerName": c.customer_name,
        "conversionType": c.conversion_type,
        "parentConversionId": c.parent_conversion_id,
        "paymentNumber": c.payment_number,
        "source": c.source,
        "isTest": c.is_test,
        "fraud": fraud(c),
        "createdAt": format_timestamp(c.created_at),
        "updatedAt": format_timestamp(c.updated_at),
    })
}

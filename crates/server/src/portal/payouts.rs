//! `/portal/payouts`: per merchant, the balance by currency, the payout history and the payout
//! details form (PayPal, Wise, Stripe Connect, or none). The form's fields are read into the
//! API's `payoutMethod` JSON and checked by `PayoutMethod::from_json` (one rule for both
//! doors); `Core::portal_set_payout_method` stores it on the person's own affiliate row.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Form, Router,
};
use refline_core::{
    payouts::method::PayoutMethod, portal::payouts::MerchantPayouts, CoreError, ErrorKind, Issue,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{render::core_error_page, session::Affiliate};
use crate::{
    dashboard::{
        render::{done, money, page, refused, when, when_opt, FormErrors},
        Notice,
    },
    state::AppState,
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/payouts", get(payouts_page))
        .route("/portal/payouts/method", post(set_method))
}

struct BalanceLine {
    currency: String,
    pending: String,
    on_hold: String,
    payable: String,
    in_payout: String,
    paid: String,
}

pub(super) struct PayoutLine {
    pub(super) date: String,
    pub(super) amount: String,
    pub(super) status: &'static str,
    pub(super) method: String,
    pub(super) completed: String,
}

/// The form's values (the stored method, or what was typed).
#[derive(Deserialize, Default, Clone)]
struct MethodForm {
    #[serde(default)]
    affiliate_id: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    paypal_email: String,
    #[serde(default)]
    wise_name: String,
    #[serde(default)]
    wise_email: String,
    #[serde(default)]
    wise_currency: String,
    #[serde(default)]
    stripe_account_id: String,
}

impl MethodForm {
    fn of(affiliate_id: &str, method: Option<&PayoutMethod>) -> MethodForm {
        let mut form = MethodForm { affiliate_id: affiliate_id.to_string(), ..MethodForm::default() };
        match method {
            Some(PayoutMethod::PayPal { email }) => {
                form.kind = "paypal".into();
                form.paypal_email = email.clone();
            }
            Some(PayoutMethod::Wise { name, email, currency }) => {
                form.kind = "wise".into();
                form.wise_name = name.clone();
                form.wise_email = email.clone();
                form.wise_currency = currency.to_uppercase();
            }
            Some(PayoutMethod::StripeConnect { account_id }) => {
                form.kind = "stripe_connect".into();
                form.stripe_account_id = account_id.clone();
            }
            Some(PayoutMethod::Manual) => form.kind = "manual".into(),
            None => {}
        }
        form
    }

    /// The method asked for (`None`: clear), or the issues under the form's field names.
    fn method(&self) -> Result<Option<PayoutMethod>, Vec<Issue>> {
        let value: Value = match self.kind.as_str() {
            "" | "none" => return Ok(None),
            "paypal" => json!({ "type": "paypal", "email": self.paypal_email }),
            "wise" => json!({
                "type": "wise", "name": self.wise_name, "email": self.wise_email, "currency": self.wise_currency
            }),
            "stripe_connect" => json!({ "type": "stripe_connect", "accountId": self.stripe_account_id }),
            // "manual" is the merchant's arrangement, not the affiliate's to choose.
            _ => return Err(vec![Issue::field("type", "choose PayPal, Wise, Stripe Connect or none")]),
        };
        PayoutMethod::from_json(&value, "payoutMethod").map(Some).map_err(|issues| {
            issues
                .into_iter()
                .map(|issue| {
                    let sub = issue.path.get(1).and_then(Value::as_str).unwrap_or("type");
                    let field = match (self.kind.as_str(), sub) {
                        ("paypal", "email") => "paypal_email",
                        ("wise", "name") => "wise_name",
                        ("wise", "email") => "wise_email",
                        ("wise", "currency") => "wise_currency",
                        ("stripe_connect", "accountId") => "stripe_account_id",
                        _ => "type",
                    };
                    Issue::field(field, issue.message)
                })
                .collect()
        })
    }
}

struct MerchantSection {
    business: String,
    /// The person's affiliate row there (the history pages' link).
    affiliate_id: String,
    /// Payouts in all; more than shown links to the history pages.
    payouts_total: i64,
    balances: Vec<BalanceLine>,
    payouts: Vec<PayoutLine>,
    form: MethodForm,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "portal/payouts.html")]
struct PayoutsPage {
    csrf: String,
    notice: Option<&'static str>,
    merchants: Vec<MerchantSection>,
}

/// A payout as a row of the history tables.
pub(super) fn payout_line(v: &refline_core::payouts::render::PayoutView) -> PayoutLine {
    PayoutLine {
        date: when(v.payout.created_at),
        amount: money(v.payout.amount_minor, &v.payout.currency),
        status: v.payout.status.as_str(),
        method: v.payout.method.clone(),
        completed: when_opt(v.payout.completed_at),
    }
}

fn section(m: MerchantPayouts) -> MerchantSection {
    MerchantSection {
        affiliate_id: m.affiliate_id.clone(),
        payouts_total: m.payouts_total,
        business: m.business_name,
        balances: m
            .balances
            .iter()
            .map(|b| BalanceLine {
                currency: b.currency.to_uppercase(),
                pending: money(b.balance.pending, &b.currency),
                on_hold: money(b.balance.on_hold, &b.currency),
                payable: money(b.balance.payable, &b.currency),
                in_payout: money(b.balance.in_payout, &b.currency),
                paid: money(b.balance.paid, &b.currency),
            })
            .collect(),
        payouts: m.payouts.iter().map(payout_line).collect(),
        form: MethodForm::of(&m.affiliate_id, m.method.as_ref()),
        errors: FormErrors::none(),
    }
}

async fn render(
    state: &AppState,
    me: Affiliate,
    notice: Option<&'static str>,
    refusal: Option<(&CoreError, MethodForm)>,
) -> Response {
    let found = match state.core.portal_payouts(&me.signed_in).await {
        Ok(found) => found,
        Err(err) => return core_error_page(&err),
    };
    let mut merchants: Vec<MerchantSection> = found.into_iter().map(section).collect();
    let Some((err, typed)) = refusal else {
        return page(StatusCode::OK, &PayoutsPage { csrf: me.csrf, notice, merchants });
    };
    if let Some(s) = merchants.iter_mut().find(|s| s.form.affiliate_id == typed.affiliate_id) {
        s.errors = FormErrors::from_error(err);
        s.form = typed;
    }
    refused(err, &PayoutsPage { csrf: me.csrf, notice: None, merchants })
}

async fn payouts_page(
    State(state): State<AppState>,
    me: Affiliate,
    Query(notice): Query<Notice>,
) -> Response {
    let notice = (notice.notice == "saved").then_some("Your payout details are saved.");
    render(&state, me, notice, None).await
}

async fn set_method(State(state): State<AppState>, me: Affiliate, Form(form): Form<MethodForm>) -> Response {
    let method = match form.method() {
        Ok(method) => method,
        Err(issues) => {
            let err = CoreError::validation(issues);
            return render(&state, me, None, Some((&err, form))).await;
        }
    };
    match state.core.portal_set_payout_method(&me.signed_in, &form.affiliate_id, method).await {
        Ok(()) => done("/portal/payouts", "saved"),
        Err(err) if err.kind == ErrorKind::NotFound => core_error_page(&err),
        Err(err) => render(&state, me, None, Some((&err, form))).await,
    }
}

//! `/portal/account`: the coupons assigned to the person, their name, and a password change
//! (current password required). Each form calls one core operation.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Form, Router,
};
use refline_core::CoreError;
use serde::Deserialize;

use super::{
    render::core_error_page,
    session::{Affiliate, PortalViewer},
};
use crate::{
    dashboard::{
        render::{done, page, refused, FormErrors},
        Notice,
    },
    state::AppState,
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/account", get(account_page))
        .route("/portal/account/profile", post(set_name))
        .route("/portal/account/password", post(change_password))
        .route("/portal/account/mails", post(set_mail))
}

/// One switch of the "Mails" section.
struct MailLine {
    merchant_id: String,
    business: String,
    kind: String,
    label: String,
    subscribed: bool,
}

struct CouponLine {
    business: String,
    campaign: String,
    code: String,
}

#[derive(Template)]
#[template(path = "portal/account.html")]
struct AccountPage {
    csrf: String,
    notice: Option<&'static str>,
    email: String,
    name: String,
    coupons: Vec<CouponLine>,
    mails: Vec<MailLine>,
    /// `profile` or `password`: the form refused.
    refused_form: &'static str,
    errors: FormErrors,
}

async fn render(
    state: &AppState,
    me: Affiliate,
    notice: Option<&'static str>,
    name: Option<String>,
    refusal: Option<(&'static str, &CoreError)>,
) -> Response {
    let coupons = match state.core.portal_coupons(&me.signed_in).await {
        Ok(found) => found
            .into_iter()
            .map(|c| CouponLine { business: c.business_name, campaign: c.campaign_name, code: c.coupon.code })
            .collect(),
        Err(err) => return core_error_page(&err),
    };
    let mails = match state.core.mail_preferences(&me.signed_in).await {
        Ok(found) => found
            .into_iter()
            .map(|m| MailLine {
                merchant_id: m.merchant_id,
                business: m.business_name,
                kind: m.kind,
                label: m.label,
                subscribed: m.subscribed,
            })
            .collect(),
        Err(err) => return core_error_page(&err),
    };
    let person = &me.signed_in.person;
    let template = AccountPage {
        mails,
        csrf: me.csrf.clone(),
        notice,
        email: person.email.clone(),
        name: name.unwrap_or_else(|| person.name.clone().unwrap_or_default()),
        coupons,
        refused_form: refusal.map_or("", |r| r.0),
        errors: refusal.map_or_else(FormErrors::none, |r| FormErrors::from_error(r.1)),
    };
    match refusal {
        Some((_, err)) => refused(err, &template),
        None => page(StatusCode::OK, &template),
    }
}

async fn account_page(
    State(state): State<AppState>,
    me: Affiliate,
    Query(notice): Query<Notice>,
) -> Response {
    let notice = match notice.notice.as_str() {
        "profile" => Some("Your name is saved."),
        "password" => Some("Your password is changed; your other sessions are signed out."),
        "mails" => Some("Your mail choice is saved."),
        _ => None,
    };
    render(&state, me, notice, None, None).await
}

#[derive(Deserialize, Default)]
struct NameForm {
    #[serde(default)]
    name: String,
}

async fn set_name(State(state): State<AppState>, me: Affiliate, Form(form): Form<NameForm>) -> Response {
    match state.core.portal_set_name(&me.signed_in, &form.name).await {
        Ok(()) => done("/portal/account", "profile"),
        Err(err) => render(&state, me, None, Some(form.name), Some(("profile", &err))).await,
    }
}

#[derive(Deserialize, Default)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    me: Affiliate,
    viewer: PortalViewer,
    Form(form): Form<PasswordForm>,
) -> Response {
    let changed = state
        .core
        .portal_change_password(&me.signed_in, &form.current_password, &form.new_password, &viewer.context)
        .await;
    match changed {
        Ok(()) => done("/portal/account", "password"),
        Err(err) => render(&state, me, None, None, Some(("password", &err))).await,
    }
}

#[derive(Deserialize, Default)]
struct MailForm {
    #[serde(default)]
    merchant_id: String,
    #[serde(default)]
    kind: String,
    /// `on` to get the mail again, anything else to stop it.
    #[serde(default)]
    subscribed: String,
}

/// Turns one optional mail of one business on or off (resubscribing after a one-click
/// unsubscribe, or stopping it from here).
async fn set_mail(State(state): State<AppState>, me: Affiliate, Form(form): Form<MailForm>) -> Response {
    let on = form.subscribed == "on";
    match state.core.set_mail_preference(&me.signed_in, &form.merchant_id, &form.kind, on).await {
        Ok(()) => done("/portal/account", "mails"),
        Err(err) if err.details.is_some() => render(&state, me, None, None, Some(("mails", &err))).await,
        Err(err) => core_error_page(&err),
    }
}

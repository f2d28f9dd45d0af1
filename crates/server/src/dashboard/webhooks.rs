//! `/merchant/webhooks`: the endpoints that receive Refline's signed events. Create one (URL and
//! events; its signing secret is shown once, on the page that answers), change its events,
//! rotate its secret (shown once again), re-activate it, delete it; per endpoint the delivery log
//! with replay, and "send test" which sends a `webhook.test` event now and shows the answer.
//!
//! The same core operations as `/api/v1/webhooks` (`create_endpoint`, `update_endpoint`,
//! `delete_endpoint`, `test_endpoint` through `state.dispatcher`, `list_deliveries`,
//! `retry_delivery`), with the node's SSRF policy and catch-up window.

use askama::Template;
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Router,
};
use refline_core::{
    outbound::{delivered, EndpointInput, EndpointOut, OutboundRules, TestDispatch},
    Issue,
};
use refline_domain::EVENTS;
use refline_store::PageRequest;

use super::{
    render::{core_error_page, done, page, refused, when, when_opt, Chrome, FormErrors},
    session::Page,
    Notice,
};
use crate::{outbound::sign::standard_secret, state::AppState};

/// How many endpoints and deliveries a page lists.
const LISTED: i64 = 100;

/// The webhook routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/webhooks", get(show).post(create))
        .route("/merchant/webhooks/{id}", get(detail))
        .route("/merchant/webhooks/{id}/events", post(change_events))
        .route("/merchant/webhooks/{id}/rotate", post(rotate))
        .route("/merchant/webhooks/{id}/reactivate", post(reactivate))
        .route("/merchant/webhooks/{id}/delete", post(remove))
        .route("/merchant/webhooks/{id}/test", post(send_test))
        .route("/merchant/webhooks/{id}/deliveries/{delivery_id}/retry", post(retry))
}

/// This node's rules for the core, as the API passes them.
fn rules(state: &AppState) -> OutboundRules<'_> {
    OutboundRules { targets: &state.targets, catch_up_window_ms: state.config.webhooks.catch_up_window_ms }
}

/// An event checkbox.
struct EventBox {
    name: &'static str,
    checked: bool,
}

fn event_boxes(chosen: &[String]) -> Vec<EventBox> {
    EVENTS.iter().map(|name| EventBox { name, checked: chosen.iter().any(|c| c == name) }).collect()
}

/// One endpoint as listed.
struct EndpointRow {
    id: String,
    url: String,
    events: String,
    status: String,
    disabled_reason: String,
    failures: i64,
    created: String,
}

impl EndpointRow {
    fn of(out: &EndpointOut) -> EndpointRow {
        let e = &out.endpoint;
        EndpointRow {
            id: e.id.clone(),
            url: e.url.clone(),
            events: e.event_names().join(", "),
            status: e.status.clone(),
            disabled_reason: e.disabled_reason.clone().unwrap_or_default(),
            failures: e.consecutive_failures,
            created: when(e.created_at),
        }
    }
}

/// A signing secret shown once.
struct ShownSecret {
    secret: String,
    standard: String,
}

impl ShownSecret {
    fn of(out: &EndpointOut) -> Option<ShownSecret> {
        out.show_secret.then(|| ShownSecret {
            secret: out.endpoint.secret.clone(),
            standard: standard_secret(&out.endpoint.secret),
        })
    }
}

#[derive(Template)]
#[template(path = "merchant/webhooks.html")]
struct ListPage {
    chrome: Chrome,
    endpoints: Vec<EndpointRow>,
    /// The endpoint just created and its secret, shown this once.
    created: Option<(EndpointRow, ShownSecret)>,
    url: String,
    events: Vec<EventBox>,
    errors: FormErrors,
}

async fn render_list(
    state: &AppState,
    page_of: &Page,
    created: Option<(EndpointRow, ShownSecret)>,
    sent: (String, Vec<String>),
    errors: FormErrors,
    notice: Option<String>,
) -> Result<ListPage, Response> {
    let page_req = PageRequest { limit: LISTED, offset: 0, sort: (), descending: false };
    let found = state.core.list_endpoints(&page_of.actor, page_req).await.map_err(|e| core_error_page(&e))?;
    Ok(ListPage {
        chrome: Chrome::new(page_of, "webhooks", "Webhooks").with_notice(notice),
        endpoints: found.items.iter().map(EndpointRow::of).collect(),
        created,
        url: sent.0,
        events: event_boxes(&sent.1),
        errors,
    })
}

fn notice_text(code: &str) -> Option<String> {
    let text = match code {
        "deleted" => "The endpoint was deleted with its deliveries.",
        "events" => "The endpoint's events were saved.",
        "reactivated" => "The endpoint is active again; what it missed recently is queued.",
        "retried" => "The delivery is queued to be sent again now.",
        _ => return None,
    };
    Some(text.to_string())
}

async fn show(State(state): State<AppState>, page_of: Page, Query(notice): Query<Notice>) -> Response {
    match render_list(
        &state,
        &page_of,
        None,
        (String::new(), Vec::new()),
        FormErrors::none(),
        notice_text(&notice.notice),
    )
    .await
    {
        Ok(view) => page(StatusCode::OK, &view),
        Err(response) => response,
    }
}

/// `url` and the checked `events` of a form (a repeated field, so read from the raw body).
fn read_form(body: &Bytes) -> (String, Vec<String>) {
    let mut url = String::new();
    let mut events = Vec::new();
    for (name, value) in form_urlencoded::parse(body) {
        match name.as_ref() {
            "url" => url = value.trim().to_string(),
            "events" => events.push(value.into_owned()),
            _ => {}
        }
    }
    (url, events)
}

/// The core's input from a form: an empty URL is reported missing (the API's "required").
fn input_of(url: &str, events: &[String], with_url: bool) -> EndpointInput {
    let mut unreadable = Vec::new();
    let url = if !with_url {
        None
    } else if url.is_empty() {
        unreadable.push(Issue::field("url", "url is required"));
        None
    } else if url.len() > 2048 {
        unreadable.push(Issue::field("url", "url must be at most 2048 characters"));
        None
    } else {
        Some(url.to_string())
    };
    EndpointInput { url, events: Some(events.to_vec()), unreadable, ..EndpointInput::default() }
}

async fn create(State(state): State<AppState>, page_of: Page, body: Bytes) -> Response {
    let (url, events) = read_form(&body);
    match state.core.create_endpoint(&page_of.actor, input_of(&url, &events, true), rules(&state)).await {
        Ok(out) => {
            let created = ShownSecret::of(&out).map(|secret| (EndpointRow::of(&out), secret));
            match render_list(
                &state,
                &page_of,
                created,
                (String::new(), Vec::new()),
                FormErrors::none(),
                None,
            )
            .await
            {
                Ok(view) => page(StatusCode::CREATED, &view),
                Err(response) => response,
            }
        }
        Err(err) => {
            match render_list(&state, &page_of, None, (url, events), FormErrors::from_error(&err), None).await
            {
                Ok(view) => refused(&err, &view),
                Err(response) => response,
            }
        }
    }
}

/// One attempt of a delivery.
struct AttemptRow {
    attempt: i64,
    status_code: String,
    duration_ms: i64,
    error: String,
    at: String,
}

/// One delivery as the log lists it.
struct DeliveryRow {
    id: String,
    event: String,
    status: String,
    attempts: i64,
    last: String,
    created: String,
    delivered: String,
    log: Vec<AttemptRow>,
}

/// What a test dispatch got back.
struct TestResult {
    delivered: bool,
    status_code: String,
    duration_ms: i64,
    response_body: String,
    error: String,
}

impl TestResult {
    fn of(sent: &TestDispatch) -> TestResult {
        let a = &sent.attempt;
        TestResult {
            delivered: sent.delivered,
            status_code: a.status_code.map_or_else(|| "no answer".to_string(), |c| c.to_string()),
            duration_ms: a.duration_ms,
            response_body: a.response_body.clone().unwrap_or_default(),
            error: a.error.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "merchant/webhook.html")]
struct DetailPage {
    chrome: Chrome,
    endpoint: EndpointRow,
    events: Vec<EventBox>,
    secret: Option<ShownSecret>,
    test: Option<TestResult>,
    deliveries: Vec<DeliveryRow>,
    total: i64,
    errors: FormErrors,
}

/// What the detail page shows beside the endpoint.
#[derive(Default)]
struct Extras {
    secret: Option<ShownSecret>,
    test: Option<TestResult>,
    errors: FormErrors,
    notice: Option<String>,
}

async fn render_detail(
    state: &AppState,
    page_of: &Page,
    id: &str,
    extras: Extras,
) -> Result<DetailPage, Response> {
    let out = state.core.get_endpoint(&page_of.actor, id).await.map_err(|e| core_error_page(&e))?;
    let page_req = PageRequest { limit: LISTED, offset: 0, sort: (), descending: true };
    let found =
        state.core.list_deliveries(&page_of.actor, id, page_req).await.map_err(|e| core_error_page(&e))?;
    let chosen: Vec<String> = out.endpoint.event_names().into_iter().map(str::to_string).collect();
    Ok(DetailPage {
        chrome: Chrome::new(page_of, "webhooks", "Webhook endpoint").with_notice(extras.notice),
        endpoint: EndpointRow::of(&out),
        events: event_boxes(&chosen),
        secret: extras.secret,
        test: extras.test,
        deliveries: found
            .items
            .iter()
            .map(|d| DeliveryRow {
                id: d.delivery.id.clone(),
                event: d.delivery.event.clone(),
                status: d.delivery.status.clone(),
                attempts: d.delivery.attempts,
                last: match (&d.delivery.last_status_code, &d.delivery.last_error) {
                    (Some(code), _) => code.to_string(),
                    (None, Some(error)) => error.clone(),
                    (None, None) => String::new(),
                },
                created: when(d.delivery.created_at),
                delivered: when_opt(d.delivery.delivered_at),
                log: d
                    .attempts
                    .iter()
                    .map(|a| AttemptRow {
                        attempt: a.attempt,
                        status_code: a.status_code.map_or_else(|| "—".to_string(), |c| c.to_string()),
                        duration_ms: a.duration_ms,
                        error: if delivered(a) { String::new() } else { a.error.clone().unwrap_or_default() },
                        at: when(a.created_at),
                    })
                    .collect(),
            })
            .collect(),
        total: found.total,
        errors: extras.errors,
    })
}

async fn detail(
    State(state): State<AppState>,
    page_of: Page,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Response {
    let extras = Extras { notice: notice_text(&notice.notice), ..Extras::default() };
    match render_detail(&state, &page_of, &id, extras).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(response) => response,
    }
}

/// Runs a change of endpoint `id`: back to its page, its new secret shown there once, or the
/// page again with the refusal next to its field.
async fn update(state: &AppState, page_of: &Page, id: &str, input: EndpointInput, notice: &str) -> Response {
    match state.core.update_endpoint(&page_of.actor, id, input, rules(state)).await {
        Ok(out) if out.show_secret => {
            let extras = Extras { secret: ShownSecret::of(&out), ..Extras::default() };
            match render_detail(state, page_of, id, extras).await {
                Ok(view) => page(StatusCode::OK, &view),
                Err(response) => response,
            }
        }
        Ok(_) => done(&format!("/merchant/webhooks/{id}"), notice),
        Err(err) if err.details.is_some() => {
            let extras = Extras { errors: FormErrors::from_error(&err), ..Extras::default() };
            match render_detail(state, page_of, id, extras).await {
                Ok(view) => refused(&err, &view),
                Err(response) => response,
            }
        }
        Err(err) => core_error_page(&err),
    }
}

async fn change_events(
    State(state): State<AppState>,
    page_of: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (_, events) = read_form(&body);
    update(&state, &page_of, &id, input_of("", &events, false), "events").await
}

async fn rotate(State(state): State<AppState>, page_of: Page, Path(id): Path<String>) -> Response {
    update(
        &state,
        &page_of,
        &id,
        EndpointInput { rotate_secret: true, ..EndpointInput::default() },
        "rotated",
    )
    .await
}

async fn reactivate(State(state): State<AppState>, page_of: Page, Path(id): Path<String>) -> Response {
    update(
        &state,
        &page_of,
        &id,
        EndpointInput { reactivate: true, ..EndpointInput::default() },
        "reactivated",
    )
    .await
}

async fn remove(State(state): State<AppState>, page_of: Page, Path(id): Path<String>) -> Response {
    match state.core.delete_endpoint(&page_of.actor, &id).await {
        Ok(()) => done("/merchant/webhooks", "deleted"),
        Err(err) => core_error_page(&err),
    }
}

async fn send_test(State(state): State<AppState>, page_of: Page, Path(id): Path<String>) -> Response {
    match state.core.test_endpoint(&page_of.actor, &id, &state.dispatcher).await {
        Ok(sent) => {
            let extras = Extras { test: Some(TestResult::of(&sent)), ..Extras::default() };
            match render_detail(&state, &page_of, &id, extras).await {
                Ok(view) => page(StatusCode::OK, &view),
                Err(response) => response,
            }
        }
        Err(err) => core_error_page(&err),
    }
}

async fn retry(
    State(state): State<AppState>,
    page_of: Page,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Response {
    match state.core.retry_delivery(&page_of.actor, &id, &delivery_id).await {
        Ok(_) => done(&format!("/merchant/webhooks/{id}"), "retried"),
        Err(err) => core_error_page(&err),
    }
}

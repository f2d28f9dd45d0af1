//! `/merchant/integrations`, the Integration Hub: for each payment processor the webhook URL to
//! paste into it, a form to connect it (its signing secret; GoPay's API credentials), and per
//! connection a page to rotate or drop secrets, disconnect, and read its delivery log with
//! replay. Also the tracking snippet with a copy button and whether the script has been seen
//! (`tracking_seen_at`, as `GET /api/v1/me` reports it).
//!
//! The same core operations as `/api/v1/integrations` and `…/deliveries` (`create_connection`,
//! `update_connection`, `delete_connection`, `list_processor_deliveries`,
//! `replay_processor_delivery`), with secrets sealed by `state.secrets`. Secrets are never shown
//! back: only their last four characters.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Form, Router,
};
use refline_core::{
    campaigns::Change,
    connection_deliveries::is_finished,
    connection_input::{ConnectionChange, NewConnection, Text, MAX_SECRET_CHARS},
    connections::{webhook_url, ConnectionOut},
    CoreError, Issue,
};
use refline_processors::Provider;
use refline_store::PageRequest;
use serde::Deserialize;

use super::{
    render::{core_error_page, done, page, refused, when, when_opt, Chrome, FormErrors},
    session::Page,
    Notice,
};
use crate::state::AppState;

/// How many connections and deliveries a page lists.
const LISTED: i64 = 100;

/// The hub's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/integrations", get(show).post(connect))
        .route("/merchant/integrations/{id}", get(detail))
        .route("/merchant/integrations/{id}/secret", post(rotate))
        .route("/merchant/integrations/{id}/drop-previous", post(drop_previous))
        .route("/merchant/integrations/{id}/delete", post(disconnect))
        .route("/merchant/integrations/{id}/deliveries/{delivery_id}/replay", post(replay))
}

/// A processor's display name.
fn provider_label(provider: &str) -> &'static str {
    match provider {
        "stripe" => "Stripe",
        "paddle" => "Paddle Billing",
        "paddle_classic" => "Paddle Classic",
        "lemonsqueezy" => "Lemon Squeezy",
        "gumroad" => "Gumroad",
        "gopay" => "GoPay",
        "creem" => "Creem",
        "polar" => "Polar",
        _ => "Processor",
    }
}

/// What the processor calls the secret to paste.
fn secret_label(provider: &str) -> &'static str {
    match provider {
        "paddle_classic" => "Public key (PEM)",
        "gopay" => "Webhook secret (optional)",
        "gumroad" => "Token (the ?token= of the ping URL)",
        _ => "Webhook signing secret",
    }
}

/// One connection as listed.
struct ConnRow {
    id: String,
    status: String,
    label: String,
    hint: String,
    has_previous: bool,
    updated: String,
}

impl ConnRow {
    fn of(out: &ConnectionOut) -> ConnRow {
        let i = &out.integration;
        ConnRow {
            id: i.id.clone(),
            status: i.status.clone(),
            label: i.label.clone().unwrap_or_default(),
            hint: if i.secret_hint.is_empty() { "(hidden)".into() } else { format!("…{}", i.secret_hint) },
            has_previous: i.previous_secret_sealed.is_some(),
            updated: when(i.updated_at),
        }
    }
}

/// A processor on the hub.
struct ProviderRow {
    name: &'static str,
    label: &'static str,
    secret_label: &'static str,
    webhook_url: String,
    connections: Vec<ConnRow>,
}

/// What a refused connect form sent back (never its secrets).
#[derive(Default)]
struct Sent {
    provider: String,
    label: String,
    goid: String,
    client_id: String,
    api_base_url: String,
}

#[derive(Template)]
#[template(path = "merchant/integrations.html")]
struct HubPage {
    chrome: Chrome,
    snippet: String,
    script_seen: Option<String>,
    providers: Vec<ProviderRow>,
    sent: Sent,
    errors: FormErrors,
}

async fn render_hub(
    state: &AppState,
    page_of: &Page,
    sent: Sent,
    errors: FormErrors,
    notice: Option<String>,
) -> Result<HubPage, Response> {
    let page_req = PageRequest { limit: LISTED, offset: 0, sort: (), descending: false };
    let found =
        state.core.list_connections(&page_of.actor, page_req).await.map_err(|e| core_error_page(&e))?;
    let seen = state.core.tracking_seen_at(&page_of.actor).await.map_err(|e| core_error_page(&e))?;
    let merchant_id = &page_of.actor.merchant_id;
    let public = state.config.public_url.trim_end_matches('/');
    let providers = Provider::ALL
        .iter()
        .map(|p| ProviderRow {
            name: p.as_str(),
            label: provider_label(p.as_str()),
            secret_label: secret_label(p.as_str()),
            webhook_url: webhook_url(public, p.as_str(), merchant_id),
            connections: found
                .items
                .iter()
                .filter(|c| c.integration.provider == p.as_str())
                .map(ConnRow::of)
                .collect(),
        })
        .collect();
    Ok(HubPage {
        chrome: Chrome::new(page_of, "integrations", "Integration Hub").with_notice(notice),
        snippet: format!(r#"<script src="{public}/api/tracking.js?id={merchant_id}"></script>"#),
        script_seen: seen.map(when),
        providers,
        sent,
        errors,
    })
}

fn notice_text(code: &str) -> Option<String> {
    let text = match code {
        "connected" => "Connected. Paste the webhook URL into the processor; its deliveries show on the connection's page.",
        "rotated" => "The new secret is saved. The previous one keeps verifying until you drop it.",
        "dropped" => "The previous secret was dropped; only the current one verifies now.",
        "disconnected" => "Disconnected: the processor's webhooks are refused from now on.",
        "replayed" => "The delivery is queued to be processed again.",
        _ => return None,
    };
    Some(text.to_string())
}

async fn show(State(state): State<AppState>, page_of: Page, Query(notice): Query<Notice>) -> Response {
    match render_hub(&state, &page_of, Sent::default(), FormErrors::none(), notice_text(&notice.notice)).await
    {
        Ok(view) => page(StatusCode::OK, &view),
        Err(response) => response,
    }
}

/// A form value as the core's [`Text`]: an empty input is "not sent" (forms send every field).
fn text(name: &str, value: &str, max: usize) -> Text {
    if value.trim().is_empty() {
        Text::Missing
    } else {
        Text::of(name, Some(value.to_string()), max)
    }
}

#[derive(Deserialize, Default)]
struct ConnectForm {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    label: String,
    #[serde(default, rename = "webhookSecret")]
    webhook_secret: String,
    #[serde(default)]
    goid: String,
    #[serde(default, rename = "clientId")]
    client_id: String,
    #[serde(default, rename = "clientSecret")]
    client_secret: String,
    #[serde(default, rename = "apiBaseUrl")]
    api_base_url: String,
}

async fn connect(State(state): State<AppState>, page_of: Page, Form(form): Form<ConnectForm>) -> Response {
    let provider = Provider::parse(form.provider.trim());
    let unreadable = if provider.is_none() {
        vec![Issue::field("provider", "choose one of the processors listed")]
    } else {
        Vec::new()
    };
    let input = NewConnection {
        provider,
        label: text("label", &form.label, 200),
        webhook_secret: text("webhookSecret", &form.webhook_secret, MAX_SECRET_CHARS),
        goid: text("goid", &form.goid, 20),
        api_base_url: text("apiBaseUrl", &form.api_base_url, 2048),
        client_id: text("clientId", &form.client_id, 255),
        client_secret: text("clientSecret", &form.client_secret, MAX_SECRET_CHARS),
        unreadable,
    };
    match state.core.create_connection(&page_of.actor, input, &state.secrets).await {
        Ok(out) => done(&format!("/merchant/integrations/{}", out.integration.id), "connected"),
        Err(err) => {
            let sent = Sent {
                provider: form.provider,
                label: form.label,
                goid: form.goid,
                client_id: form.client_id,
                api_base_url: form.api_base_url,
            };
            match render_hub(&state, &page_of, sent, FormErrors::from_error(&err), None).await {
                Ok(view) => refused(&err, &view),
                Err(response) => response,
            }
        }
    }
}

/// One delivery as the log lists it.
struct DeliveryRow {
    id: String,
    event_type: String,
    event_id: String,
    verified_by: String,
    status: String,
    outcome: String,
    conversion_id: String,
    attempts: i64,
    received: String,
    processed: String,
    replayable: bool,
}

#[derive(Template)]
#[template(path = "merchant/integration.html")]
struct DetailPage {
    chrome: Chrome,
    conn: ConnRow,
    provider: String,
    provider_label: &'static str,
    secret_label: &'static str,
    webhook_url: String,
    deliveries: Vec<DeliveryRow>,
    total: i64,
    errors: FormErrors,
}

async fn render_detail(
    state: &AppState,
    page_of: &Page,
    id: &str,
    errors: FormErrors,
    notice: Option<String>,
) -> Result<DetailPage, Response> {
    let out = state.core.get_connection(&page_of.actor, id).await.map_err(|e| core_error_page(&e))?;
    let page_req = PageRequest { limit: LISTED, offset: 0, sort: (), descending: true };
    let found = state
        .core
        .list_processor_deliveries(&page_of.actor, id, page_req)
        .await
        .map_err(|e| core_error_page(&e))?;
    let provider = out.integration.provider.clone();
    let title = format!("{} connection", provider_label(&provider));
    Ok(DetailPage {
        chrome: Chrome::new(page_of, "integrations", &title).with_notice(notice),
        conn: ConnRow::of(&out),
        provider_label: provider_label(&provider),
        secret_label: secret_label(&provider),
        provider,
        webhook_url: out.webhook_url.clone(),
        deliveries: found
            .items
            .iter()
            .map(|e| DeliveryRow {
                replayable: is_finished(e),
                id: e.id.clone(),
                event_type: e.event_type.clone().unwrap_or_default(),
                event_id: e.dedupe_key.clone(),
                verified_by: e.verification.clone(),
                status: e.status.clone(),
                outcome: e.outcome.clone().unwrap_or_default(),
                conversion_id: e.conversion_id.clone().unwrap_or_default(),
                attempts: e.attempts,
                received: when(e.received_at),
                processed: when_opt(e.processed_at),
            })
            .collect(),
        total: found.total,
        errors,
    })
}

async fn detail(
    State(state): State<AppState>,
    page_of: Page,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Response {
    match render_detail(&state, &page_of, &id, FormErrors::none(), notice_text(&notice.notice)).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(response) => response,
    }
}

/// Runs a change of connection `id`; back to its page, or the page again with the refusal.
async fn change(
    state: &AppState,
    page_of: &Page,
    id: &str,
    change: ConnectionChange,
    notice: &str,
) -> Response {
    match state.core.update_connection(&page_of.actor, id, change, &state.secrets).await {
        Ok(_) => done(&format!("/merchant/integrations/{id}"), notice),
        Err(err) if err.details.is_some() || err.kind == refline_core::ErrorKind::Invalid => {
            match render_detail(state, page_of, id, FormErrors::from_error(&err), None).await {
                Ok(view) => refused(&err, &view),
                Err(response) => response,
            }
        }
        Err(err) => core_error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct SecretForm {
    #[serde(default, rename = "webhookSecret")]
    webhook_secret: String,
}

async fn rotate(
    State(state): State<AppState>,
    page_of: Page,
    Path(id): Path<String>,
    Form(form): Form<SecretForm>,
) -> Response {
    // This form's one field: reported when empty, since a rotation without a secret is no change.
    if form.webhook_secret.trim().is_empty() {
        let err = CoreError::invalid_field("webhookSecret", "enter the new webhook secret");
        return match render_detail(&state, &page_of, &id, FormErrors::from_error(&err), None).await {
            Ok(view) => refused(&err, &view),
            Err(response) => response,
        };
    }
    let secret = text("webhookSecret", &form.webhook_secret, MAX_SECRET_CHARS);
    let input =
        ConnectionChange { webhook_secret: secret, label: Change::Keep, ..ConnectionChange::default() };
    change(&state, &page_of, &id, input, "rotated").await
}

async fn drop_previous(State(state): State<AppState>, page_of: Page, Path(id): Path<String>) -> Response {
    let input =
        ConnectionChange { drop_previous_secret: true, label: Change::Keep, ..ConnectionChange::default() };
    change(&state, &page_of, &id, input, "dropped").await
}

async fn disconnect(State(state): State<AppState>, page_of: Page, Path(id): Path<String>) -> Response {
    match state.core.delete_connection(&page_of.actor, &id).await {
        Ok(()) => done("/merchant/integrations", "disconnected"),
        Err(err) => core_error_page(&err),
    }
}

async fn replay(
    State(state): State<AppState>,
    page_of: Page,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Response {
    match state.core.replay_processor_delivery(&page_of.actor, &id, &delivery_id).await {
        Ok(_) => done(&format!("/merchant/integrations/{id}"), "replayed"),
        Err(err) => core_error_page(&err),
    }
}

//! `POST /api/track/click`: the beacon the script sends when a visitor lands with `tc` + `aff`.
//!
//! The script sends `text/plain` (a CORS "simple" request: no preflight, works with
//! `navigator.sendBeacon`), so the body is read as JSON whatever its content type. It proposes
//! the click id itself, so the referral it saved before sending already holds the id the
//! server records; a malformed proposal is replaced by a server id.

use axum::{
    body::Bytes,
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use refline_domain::{classify_user_agent, ClickKind};
use serde_json::{json, Value};

use super::{click_writer::RawClick, peer_of, request_facts, RequestFacts};
use crate::{
    ids::{new_ordered_id, ordered_id_time},
    state::AppState,
};

/// Longest page URL or referrer kept.
pub const MAX_URL: usize = 2048;

pub(super) async fn preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
            (header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS")),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Content-Type")),
            (header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400")),
        ],
    )
        .into_response()
}

pub(super) async fn click(State(state): State<AppState>, request: Request) -> Response {
    let facts = request_facts(&request, peer_of(&request), &state.config);
    let body = match axum::body::to_bytes(request.into_body(), 16 * 1024).await {
        Ok(body) => body,
        Err(_) => {
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "error": { "code": "payload_too_large", "message": "Beacon body is too large" } }),
            )
        }
    };
    match record(&state, facts, &body).await {
        Ok(answer_body) => answer(StatusCode::OK, answer_body),
        Err(message) => answer(
            StatusCode::BAD_REQUEST,
            json!({ "error": { "code": "validation_error", "message": message } }),
        ),
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Json(body),
    )
        .into_response()
}

fn text(map: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    map.get(name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A visitor's page URL or referrer, at most `MAX_URL` bytes. (The click writer removes control
/// characters from every click, whichever door it came through.)
fn truncated(value: Option<String>) -> Option<String> {
    value.map(|v| {
        let mut end = v.len().min(MAX_URL);
        while !v.is_char_boundary(end) {
            end -= 1;
        }
        v[..end].to_string()
    })
}

/// What a beacon body says, read without any state: the three names of the link (present,
/// trimmed, not empty; whether they name a link is the caller's business), the click id the
/// script proposes, and the page URL and referrer cut to `MAX_URL` bytes. Public so the fuzz
/// targets (`fuzz/`) reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeaconBody {
    pub merchant_id: String,
    pub tc: String,
    pub aff: String,
    pub click_id: Option<String>,
    pub url: Option<String>,
    pub referrer: Option<String>,
}

/// Reads a beacon body (JSON whatever its content type); the error is the message of the 400.
pub fn read_body(body: &[u8]) -> Result<BeaconBody, &'static str> {
    let map = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        _ => return Err("Body must be a JSON object with merchantId, tc and aff"),
    };
    let (Some(merchant_id), Some(tc), Some(aff)) =
        (text(&map, "merchantId"), text(&map, "tc"), text(&map, "aff"))
    else {
        return Err("merchantId, tc and aff are required");
    };
    Ok(BeaconBody {
        merchant_id,
        tc,
        aff,
        click_id: text(&map, "clickId"),
        url: truncated(text(&map, "url")),
        referrer: truncated(text(&map, "referrer")),
    })
}

/// What the beacon answers: `{"tracked": true, "clickId": …}` or `{"tracked": false}` for a
/// pair that tracks nothing (unknown, another merchant's, inactive, rejected affiliate).
async fn record(state: &AppState, facts: RequestFacts, body: &Bytes) -> Result<Value, &'static str> {
    let BeaconBody { merchant_id, tc, aff, click_id, url, referrer } = read_body(body)?;
    let untracked = Ok(json!({ "tracked": false, "clickId": null }));
    if !super::is_token(&tc) || !super::is_token(&aff) {
        return untracked;
    }
    let link = match state.tracking.links.pair(state.store.as_ref(), &tc, &aff).await {
        Ok(Some(link)) if link.target.merchant_id == merchant_id => link,
        Ok(_) => return untracked,
        Err(err) => {
            // The visitor's referral is already saved in the browser; say so rather than fail.
            tracing::warn!(%err, "beacon could not resolve its link");
            return untracked;
        }
    };
    let now = state.config.clock.now();
    state.tracking.seen.note(&state.store, &merchant_id, now);
    if !super::tracks(&link.target) {
        return untracked;
    }
    let id = click_id.filter(|id| is_click_id(id, now)).unwrap_or_else(|| new_ordered_id("click", now));
    let kind = classify_user_agent(facts.user_agent.as_deref());
    let click = RawClick {
        id: id.clone(),
        link,
        source: refline_store::tracking::SOURCE_BEACON,
        ip: facts.ip,
        user_agent: facts.user_agent,
        kind,
        landing_url: url,
        referrer: referrer.or_else(|| truncated(facts.referrer)),
        at_ms: now,
    };
    state.tracking.writer.submit(click, state.config.tracking.ack_after_commit).await;
    Ok(json!({ "tracked": true, "clickId": id, "bot": kind == ClickKind::Bot }))
}

/// A click id the script may propose: our own format, made within ten minutes of now (so a
/// client cannot file its click far from its time in the newest-first lists).
fn is_click_id(id: &str, now: i64) -> bool {
    ordered_id_time("click", id).is_some_and(|at| (at - now).abs() <= 10 * 60 * 1000)
}

//! `GET /api/tracking.js?id=<merchantId>`: the tracking script with the merchant's settings.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Instant,
};

use axum::{
    extract::{RawQuery, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{ids::sha256_hex, state::AppState};

const SOURCE: &str = include_str!("../../assets/tracking.js");

/// The default referral window, in days (LinkJolt's 30).
pub const DEFAULT_WINDOW_DAYS: i64 = 30;

/// A rendered script and its validator.
#[derive(Debug)]
pub struct Script {
    body: String,
    etag: String,
}

/// A merchant's rendered script (`None`: no such merchant) and when it was rendered.
type CachedScript = (Option<Arc<Script>>, Instant);

/// Rendered scripts per merchant (and unknown merchant ids, so requests for them do not reach
/// the store each time), cleared with the link cache.
#[derive(Debug, Default)]
pub struct ScriptCache {
    scripts: RwLock<HashMap<String, CachedScript>>,
}

impl ScriptCache {
    /// Forgets every rendered script.
    pub fn clear(&self) {
        if let Ok(mut scripts) = self.scripts.write() {
            scripts.clear();
        }
    }
}

/// The script for a merchant: the shared code with its id, API origin and the referral
/// windows of campaigns that differ from 30 days.
pub fn render(merchant_id: &str, public_url: &str, windows: &[(String, i64)]) -> Script {
    let windows: serde_json::Map<String, serde_json::Value> =
        windows.iter().map(|(code, days)| (code.clone(), json!(days))).collect();
    let config = json!({ "m": merchant_id, "u": public_url, "d": DEFAULT_WINDOW_DAYS, "w": windows })
        .to_string()
        .replace('<', "\\u003c");
    let body = minified().replace("__CONFIG__", &config);
    let etag = format!("\"{}\"", &sha256_hex(body.as_bytes())[..32]);
    Script { body, etag }
}

pub(super) async fn tracking_js(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let id = url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .find(|(name, _)| name == "id")
        .map(|(_, value)| value.into_owned());
    let Some(merchant_id) = id.filter(|id| super::is_token(id)) else {
        return script_error(StatusCode::BAD_REQUEST, "missing or malformed ?id=<merchantId>");
    };
    let script = match load(&state, &merchant_id).await {
        Ok(Some(script)) => script,
        Ok(None) => return script_error(StatusCode::NOT_FOUND, "unknown merchant id"),
        Err(err) => {
            tracing::warn!(%err, "tracking script unavailable");
            return script_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable");
        }
    };
    state.tracking.seen.note(&state.store, &merchant_id, state.config.clock.now());
    let cache = [
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
        (header::CONTENT_TYPE, HeaderValue::from_static("application/javascript; charset=utf-8")),
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
    ];
    let etag = HeaderValue::from_str(&script.etag).unwrap_or(HeaderValue::from_static("\"\""));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == script.etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, cache, [(header::ETAG, etag)]).into_response();
    }
    (StatusCode::OK, cache, [(header::ETAG, etag)], script.body.clone()).into_response()
}

async fn load(state: &AppState, merchant_id: &str) -> refline_store::StoreResult<Option<Arc<Script>>> {
    let cache = &state.tracking.scripts;
    let ttl = state.config.tracking.cache_ttl;
    if let Ok(scripts) = cache.scripts.read() {
        if let Some((script, at)) = scripts.get(merchant_id) {
            if at.elapsed() < ttl {
                return Ok(script.clone());
            }
        }
    }
    let script = match state.store.get_merchant(merchant_id).await? {
        None => None,
        Some(_) => {
            let windows = state.store.cookie_windows(merchant_id, DEFAULT_WINDOW_DAYS).await?;
            Some(Arc::new(render(merchant_id, &state.config.public_url, &windows)))
        }
    };
    if let Ok(mut scripts) = cache.scripts.write() {
        if scripts.len() >= 10_000 {
            scripts.clear();
        }
        scripts.insert(merchant_id.to_string(), (script.clone(), Instant::now()));
    }
    Ok(script)
}

/// The source without comments and indentation: a few hundred bytes less on every page view.
/// (The script is written for this: no comment markers inside strings or regexes, `//` only at
/// line starts.)
fn minified() -> String {
    let body = SOURCE.split_once("*/").map_or(SOURCE, |(_, rest)| rest);
    body.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A script that explains itself in the browser console instead of failing silently.
fn script_error(status: StatusCode, message: &str) -> Response {
    let body = format!("console.warn({});", json!(format!("Refline tracking: {message}")));
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/javascript; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_stays_small_and_carries_its_settings() {
        let script = render("mer_abc", "https://t.example", &[("SUMMER24".into(), 60)]);
        assert!(script.body.len() < 4096, "{} bytes", script.body.len());
        assert!(script
            .body
            .contains(r#"{"m":"mer_abc","u":"https://t.example","d":30,"w":{"SUMMER24":60}}"#));
        assert!(!script.body.contains("__CONFIG__"));
        assert_ne!(script.etag, render("mer_abd", "https://t.example", &[]).etag);
    }
}

//! `GET /redirect?tc=…&aff=…` and `GET /l/<code>`: record the click, send the visitor on.
//!
//! The hot path: the link comes from [`super::cache::LinkCache`], the click goes to the
//! batching writer, and the answer is a bare 302. Nothing here waits on a disk write.

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{self, header, HeaderValue, Method, StatusCode},
    response::{Html, IntoResponse, Response},
};
use refline_domain::classify_user_agent;
use refline_store::StoreResult;

use super::{cache::ResolvedLink, click_writer::RawClick, peer_of, request_facts, RequestFacts};
use crate::{ids::new_ordered_id, state::AppState};

pub(super) async fn hosted_link(State(state): State<AppState>, request: Request) -> Response {
    answer_hosted_link(&state, &request, peer_of(&request)).await
}

/// What a visit's answer needs from its request, read before anything is awaited (so the
/// answer's future holds no borrow of the request and works for any body type).
struct Visit {
    query: String,
    head: bool,
    facts: RequestFacts,
}

impl Visit {
    fn read<B>(request: &http::Request<B>, peer: Option<SocketAddr>, state: &AppState) -> Visit {
        Visit {
            query: request.uri().query().unwrap_or("").to_string(),
            head: request.method() == Method::HEAD,
            facts: request_facts(request, peer, &state.config),
        }
    }
}

/// `GET /redirect`: the router's handler above and the fast lane ([`crate::http::fast_lane`])
/// both answer through here.
pub fn answer_hosted_link<'a, B>(
    state: &'a AppState,
    request: &http::Request<B>,
    peer: Option<SocketAddr>,
) -> impl Future<Output = Response> + Send + 'a {
    let visit = Visit::read(request, peer, state);
    async move {
        let Some((tc, aff)) = read_link_query(&visit.query) else {
            return unknown_link(state);
        };
        let found = state.tracking.links.pair(state.store.as_ref(), &tc, &aff).await;
        follow(state, found, refline_store::tracking::SOURCE_REDIRECT, visit).await
    }
}

/// The `tc` and `aff` of a hosted link's raw query (the last of a repeated name wins), when
/// both are present and are tokens ([`super::is_token`]); otherwise the link is unknown.
/// Public, like [`passed_on`], so the fuzz targets (`fuzz/`) reach them.
pub fn read_link_query(raw: &str) -> Option<(String, String)> {
    let (mut tc, mut aff) = (None, None);
    for (name, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        match name.as_ref() {
            "tc" => tc = Some(value.into_owned()),
            "aff" => aff = Some(value.into_owned()),
            _ => {}
        }
    }
    let (tc, aff) = (tc?, aff?);
    (super::is_token(&tc) && super::is_token(&aff)).then_some((tc, aff))
}

/// The link's own query minus the tracking parameters, re-encoded as `&name=value` pairs to
/// pass on to the landing page (`utm_source` and the like).
pub fn passed_on(query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut extra = url::form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if !refline_domain::TRACKING_PARAMS.contains(&name.as_ref()) {
            extra.append_pair(&name, &value);
            any = true;
        }
    }
    if any {
        format!("&{}", extra.finish())
    } else {
        String::new()
    }
}

pub(super) async fn short_link(State(state): State<AppState>, request: Request) -> Response {
    answer_short_link(&state, &request, peer_of(&request)).await
}

/// `GET /l/<code>` (see [`answer_hosted_link`]).
pub fn answer_short_link<'a, B>(
    state: &'a AppState,
    request: &http::Request<B>,
    peer: Option<SocketAddr>,
) -> impl Future<Output = Response> + Send + 'a {
    // The raw segment, not axum's decoded `Path`: a code is plain `[A-Za-z0-9_-]`, so anything
    // percent-encoded (invalid UTF-8, control characters) is simply an unknown link, answered
    // with the page a visitor can read rather than a JSON error.
    let code = request.uri().path().strip_prefix("/l/").unwrap_or("").to_string();
    let visit = Visit::read(request, peer, state);
    async move {
        if !refline_domain::is_valid_short_code(&code) {
            return unknown_link(state);
        }
        let found = state.tracking.links.short(state.store.as_ref(), &code).await;
        follow(state, found, refline_store::tracking::SOURCE_SHORT_LINK, visit).await
    }
}

async fn follow(
    state: &AppState,
    found: StoreResult<Option<Arc<ResolvedLink>>>,
    source: &'static str,
    visit: Visit,
) -> Response {
    let link = match found {
        Ok(Some(link)) => link,
        Ok(None) => return unknown_link(state),
        Err(err) => {
            tracing::warn!(%err, "link could not be resolved");
            return unavailable();
        }
    };
    let (Some(landing), Some(destination)) = (&link.landing, &link.target.target_url) else {
        return unknown_link(state);
    };
    if !super::tracks(&link.target) {
        // An inactive campaign or a rejected affiliate: the visitor still gets where the link
        // promised, but nothing is credited.
        return found_at(destination.clone());
    }
    if visit.head {
        let location = landing.without_click();
        state.tracking.writer.head(link).await;
        return found_at(location);
    }
    let now = state.config.clock.now();
    let id = new_ordered_id("click", now);
    let location = landing.with_click_and(&id, &passed_on(&visit.query));
    let facts = visit.facts;
    let response = found_at(location);
    let click = RawClick {
        id,
        link,
        source,
        ip: facts.ip,
        kind: classify_user_agent(facts.user_agent.as_deref()),
        user_agent: facts.user_agent,
        // Where a redirect sends people is the campaign's landing page; the row stays small.
        landing_url: None,
        referrer: facts.referrer,
        at_ms: now,
    };
    state.tracking.writer.submit(click, state.config.tracking.ack_after_commit).await;
    response
}

/// Takes the location by value: the header value then owns its bytes without a copy.
fn found_at(location: String) -> Response {
    match HeaderValue::try_from(location) {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                // Every visit must reach us to be counted; no shared cache may answer for us.
                (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
            ],
        )
            .into_response(),
        Err(_) => (StatusCode::NOT_FOUND, Html(NOT_FOUND_PAGE)).into_response(),
    }
}

/// Unknown, removed or destination-less links: the configured fallback, or a plain 404 page.
fn unknown_link(state: &AppState) -> Response {
    match state.config.tracking.fallback_url.as_deref() {
        Some(fallback) => found_at(fallback.to_string()),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            Html(NOT_FOUND_PAGE),
        )
            .into_response(),
    }
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, HeaderValue::from_static("1"))],
        Html("<!doctype html><title>Try again</title><p>This link is briefly unavailable. Please try again.</p>"),
    )
        .into_response()
}

const NOT_FOUND_PAGE: &str =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Link not found</title></head>\
<body><h1>Link not found</h1><p>This referral link is unknown or no longer active.</p></body></html>";

//! One loopback stand-in for the cursor- and page-paged sources (spec §C.2/§C.4): Tolt v1 and
//! v2, FirstPromoter v2 and PartnerStack v2, sharing everything but what differs between them —
//! how a key is checked, how a page is asked for and which envelope answers it. Knobs for what
//! importers must survive, as in `import_fake_rewardful.rs`: a 429 with `Retry-After` or a 500
//! at chosen requests, and 500 for every request after N answered pages (an outage).

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use base64::Engine as _;
use serde_json::{json, Value};
use tokio::{net::TcpListener, task::JoinHandle};

/// Which API the fake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// `{success, has_more, total_count, data}`, `starting_after=<last id>`, `program_id`;
    /// customers as `{data: {data: [...]}}`.
    #[default]
    ToltV1,
    /// `{success, message, data, has_more, next_cursor}`, `starting_after=<next_cursor>`.
    ToltV2,
    /// `page`/`per_page`, bare arrays (promoters: `{data, meta.pagination}`), `ACCOUNT-ID`.
    FirstPromoter,
    /// `{data: {items, has_more}}`, `starting_after=<last key>`, HTTP Basic `public:secret`.
    PartnerStack,
}

impl Flavor {
    /// The importer's name of the source.
    pub fn source(self) -> &'static str {
        match self {
            Flavor::ToltV1 | Flavor::ToltV2 => "tolt",
            Flavor::FirstPromoter => "firstpromoter",
            Flavor::PartnerStack => "partnerstack",
        }
    }

    /// The field holding an object's id.
    fn id_key(self) -> &'static str {
        if self == Flavor::PartnerStack {
            "key"
        } else {
            "id"
        }
    }
}

/// What the fake serves and how it misbehaves.
#[derive(Debug, Default)]
pub struct FakeState {
    pub flavor: Flavor,
    /// The bearer token accepted (PartnerStack: `public:secret` for Basic).
    pub key: String,
    /// FirstPromoter's `ACCOUNT-ID` (a wrong one is a 403, as FirstPromoter answers).
    pub account_id: String,
    /// Tolt's program (every list requires `program_id`).
    pub program_id: String,
    /// The lists, by path below the base (`partners`, `links/partnership/<key>`, …).
    pub lists: BTreeMap<String, Vec<Value>>,
    /// Every request, `<path> <page or cursor>`, in order (refused ones too).
    pub requests: Vec<String>,
    /// Request numbers (1-based) answered 429 with `Retry-After: 1`.
    pub throttle_at: Vec<usize>,
    /// Request numbers answered 500.
    pub fail_at: Vec<usize>,
    /// After this many answered pages, every request is a 500 (until set back to `None`).
    pub fail_after: Option<usize>,
    /// Pages answered.
    pub answered: usize,
}

impl FakeState {
    /// The list at `path`, for fixtures and tests that change the source.
    pub fn list(&mut self, path: &str) -> &mut Vec<Value> {
        self.lists.entry(path.to_string()).or_default()
    }
}

/// A running fake.
pub struct FakeSource {
    /// `http://127.0.0.1:<port>/api`
    pub base: String,
    pub flavor: Flavor,
    pub state: Arc<Mutex<FakeState>>,
    task: JoinHandle<()>,
}

impl Drop for FakeSource {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeSource {
    pub async fn start(state: FakeState) -> FakeSource {
        let flavor = state.flavor;
        let state = Arc::new(Mutex::new(state));
        let app = Router::new().route("/api/{*path}", get(list)).with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeSource { base, flavor, state, task }
    }

    /// Runs `f` on the state.
    pub fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Requests made so far.
    pub fn requests(&self) -> Vec<String> {
        self.with(|s| s.requests.clone())
    }
}

/// The knobs every fake shares (this one and `import_fake_rewardful.rs`): request `n` (1-based)
/// answered 429 with `Retry-After: 1` when in `throttle_at`, 500 when in `fail_at` or once
/// `answered` pages reached `fail_after`; `None`: answer normally.
pub fn misbehave(
    n: usize,
    throttle_at: &[usize],
    fail_at: &[usize],
    fail_after: Option<usize>,
    answered: usize,
) -> Option<Response> {
    if throttle_at.contains(&n) {
        let body = Json(json!({"success": false, "error": "Too many requests"}));
        return Some((StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], body).into_response());
    }
    if fail_at.contains(&n) || fail_after.is_some_and(|k| answered >= k) {
        return Some((StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response());
    }
    None
}

/// Whether the request carries the fake's credentials; the refusal otherwise.
fn refused(s: &FakeState, headers: &HeaderMap) -> Option<Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let expected = match s.flavor {
        Flavor::PartnerStack => format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(&s.key)),
        _ => format!("Bearer {}", s.key),
    };
    if header("authorization") != expected {
        let body = json!({"success": false, "error": {"message": "Invalid API key provided"}});
        return Some((StatusCode::UNAUTHORIZED, Json(body)).into_response());
    }
    if s.flavor == Flavor::FirstPromoter && header("account-id") != s.account_id {
        let body = json!({"message": "Account not found or access denied", "code": "forbidden"});
        return Some((StatusCode::FORBIDDEN, Json(body)).into_response());
    }
    None
}

async fn list(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut s = state.lock().unwrap();
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let at = param("starting_after").or_else(|| param("page")).unwrap_or_else(|| "first".into());
    s.requests.push(format!("{path} {at}"));
    let n = s.requests.len();
    if let Some(refusal) = refused(&s, &headers) {
        return refusal;
    }
    if let Some(failure) = misbehave(n, &s.throttle_at, &s.fail_at, s.fail_after, s.answered) {
        return failure;
    }
    let flavor = s.flavor;
    let tolt = matches!(flavor, Flavor::ToltV1 | Flavor::ToltV2);
    if tolt && param("program_id").as_deref() != Some(s.program_id.as_str()) {
        let body = json!({"success": false, "error": {"message": "program_id is required"}});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let Some(all) = s.lists.get(&path) else {
        return (StatusCode::NOT_FOUND, Json(json!({"success": false, "message": "not found"})))
            .into_response();
    };
    let size_param = if flavor == Flavor::FirstPromoter { "per_page" } else { "limit" };
    let limit: usize = param(size_param).and_then(|l| l.parse().ok()).unwrap_or(10).clamp(1, 100);
    let start = match (flavor, param("starting_after"), param("page")) {
        (Flavor::FirstPromoter, _, page) => {
            (page.and_then(|p| p.parse().ok()).unwrap_or(1usize).max(1) - 1) * limit
        }
        (Flavor::ToltV2, Some(cursor), _) => match cursor.strip_prefix("cur_").and_then(|c| c.parse().ok()) {
            Some(index) => index,
            None => return (StatusCode::BAD_REQUEST, "not a cursor of ours").into_response(),
        },
        (_, Some(after), _) => {
            match all.iter().position(|o| o[flavor.id_key()].as_str() == Some(after.as_str())) {
                Some(i) => i + 1,
                None => return (StatusCode::BAD_REQUEST, "no such starting_after").into_response(),
            }
        }
        (_, None, _) => 0,
    };
    let page: Vec<Value> = all.iter().skip(start).take(limit).cloned().collect();
    let more = start + limit < all.len();
    let total = all.len();
    let body = match flavor {
        Flavor::ToltV1 if path == "customers" => {
            json!({"success": true, "has_more": more, "total_count": total, "data": {"data": page}})
        }
        Flavor::ToltV1 => json!({"success": true, "has_more": more, "total_count": total, "data": page}),
        Flavor::ToltV2 => json!({"success": true, "message": "Success", "data": page, "has_more": more,
                                  "next_cursor": if more { json!(format!("cur_{}", start + limit)) } else { Value::Null }}),
        Flavor::FirstPromoter if path == "promoters" => {
            let current = start / limit + 1;
            json!({"data": page, "meta": {"pagination": {"current_page": current, "total_count": total,
                   "next_page": if more { json!(current + 1) } else { Value::Null }}}})
        }
        Flavor::FirstPromoter => json!(page),
        Flavor::PartnerStack => json!({"data": {"items": page, "has_more": more}}),
    };
    s.answered += 1;
    Json(body).into_response()
}

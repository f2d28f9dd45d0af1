//! A loopback stand-in for Rewardful's API (spec §C.2/§C.4): HTTP Basic with the API secret,
//! `page`/`limit` paging capped at a small page size (so a handful of objects spans pages),
//! `{pagination, data}` answers, and knobs for what importers must survive: a 429 with
//! `Retry-After` or a 500 at a chosen request, and 500 for every request after N (an outage),
//! which the test can end.

use std::sync::{Arc, Mutex};

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use base64::Engine as _;
use refline_processors::fixtures::rfc3339;
use serde_json::{json, Value};
use tokio::{net::TcpListener, task::JoinHandle};

use crate::import_fake_sources::misbehave;

/// What the fake serves and how it misbehaves.
#[derive(Debug, Default)]
pub struct FakeState {
    /// The API secret it accepts.
    pub key: String,
    /// The most objects a page holds, whatever `limit` asks.
    pub page_size: usize,
    pub campaigns: Vec<Value>,
    pub affiliates: Vec<Value>,
    pub coupons: Vec<Value>,
    pub referrals: Vec<Value>,
    pub commissions: Vec<Value>,
    /// Every request, `<resource> page <n>`, in order (refused ones too).
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

/// A running fake.
pub struct FakeRewardful {
    /// `http://127.0.0.1:<port>/v1`
    pub base: String,
    pub state: Arc<Mutex<FakeState>>,
    task: JoinHandle<()>,
}

impl Drop for FakeRewardful {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeRewardful {
    pub async fn start(state: FakeState) -> FakeRewardful {
        let state = Arc::new(Mutex::new(state));
        let app = Router::new().route("/v1/{resource}", get(list)).with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeRewardful { base, state, task }
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

async fn list(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path(resource): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut s = state.lock().unwrap();
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let page: usize = param("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    s.requests.push(format!("{resource} page {page}"));
    let n = s.requests.len();
    let expected =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:", s.key)));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "Invalid API Secret"}))).into_response();
    }
    if let Some(failure) = misbehave(n, &s.throttle_at, &s.fail_at, s.fail_after, s.answered) {
        return failure;
    }
    let all = match resource.as_str() {
        "campaigns" => &s.campaigns,
        "affiliates" => &s.affiliates,
        "affiliate_coupons" => &s.coupons,
        "referrals" => &s.referrals,
        "commissions" => &s.commissions,
        _ => return (StatusCode::NOT_FOUND, "no such resource").into_response(),
    };
    let limit =
        param("limit").and_then(|l| l.parse().ok()).unwrap_or(25usize).clamp(1, 100).min(s.page_size.max(1));
    let start = (page - 1) * limit;
    let data: Vec<Value> = all.iter().skip(start).take(limit).cloned().collect();
    let total = all.len();
    let pages = total.div_ceil(limit).max(1);
    let next = if page < pages { json!(page + 1) } else { Value::Null };
    s.answered += 1;
    Json(json!({
        "pagination": {
            "previous_page": if page > 1 { json!(page - 1) } else { Value::Null },
            "current_page": page, "next_page": next, "count": data.len(), "limit": limit,
            "total_pages": pages, "total_count": total,
        },
        "data": data,
    }))
    .into_response()
}

/// The states the fixture's commissions cycle through, and what Refline makes of them.
pub const STATES: [(&str, &str); 4] =
    [("pending", "pending"), ("due", "approved"), ("paid", "paid"), ("voided", "rejected")];

/// A program: two campaigns (20 % for 12 months with a 30-day hold; 15.00 flat for 3
/// payments), nine affiliates (five active, one pending, one disabled whose token cannot be a
/// short-link code, one with an unusable email, one on a campaign that does not exist), two
/// coupons (one archived), four referrals (one without a Stripe customer), and fourteen
/// commissions (twelve cycling pending/due/paid/voided, one voided by a full refund, one in
/// EUR).
pub fn program(key: &str, page_size: usize) -> FakeState {
    let campaigns = vec![
        json!({"id": "camp-pct", "name": "Main program", "reward_type": "percent", "commission_percent": 20.0,
               "commission_amount_cents": null, "max_commission_period_months": 12, "max_commissions": null,
               "days_until_commissions_are_due": 30, "minimum_payout_cents": 5000,
               "url": "https://shop.example/"}),
        json!({"id": "camp-fix", "name": "Flat", "reward_type": "amount", "commission_amount_cents": 1500,
               "commission_percent": null, "max_commission_period_months": null, "max_commissions": 3,
               "days_until_commissions_are_due": 0, "url": "https://shop.example/flat"}),
    ];
    let people = [
        ("aff-1", "alice@partner.test", "active", "camp-pct", "alice"),
        ("aff-2", "bob@partner.test", "active", "camp-pct", "bob"),
        ("aff-3", "carol@partner.test", "active", "camp-pct", "carol"),
        ("aff-4", "dave@partner.test", "active", "camp-fix", "dave"),
        ("aff-5", "erin@partner.test", "active", "camp-fix", "erin"),
        ("aff-6", "frank@partner.test", "pending", "camp-pct", "frank"),
        ("aff-7", "grace@partner.test", "disabled", "camp-pct", "g"),
        ("aff-8", "not-an-email", "active", "camp-pct", "henry"),
        ("aff-9", "ivan@partner.test", "active", "camp-gone", "ivan"),
    ];
    let affiliates = people
        .iter()
        .map(|(id, email, state, campaign, token)| {
            json!({"id": id, "email": email, "first_name": id.to_uppercase(), "last_name": "Partner",
                   "state": state, "created_at": "2024-01-05T10:00:00.000Z",
                   "campaign": {"id": campaign, "name": "x"},
                   "links": [{"id": format!("link-{id}"), "url": format!("https://shop.example/?via={token}"),
                              "token": token, "visitors": 3, "leads": 1, "conversions": 1}]})
        })
        .collect();
    let coupons = vec![
        json!({"id": "cpn-1", "token": "ALICE10", "external_id": "promo_alice", "affiliate_id": "aff-1",
               "archived": false}),
        json!({"id": "cpn-2", "token": "OLD", "external_id": "promo_old", "affiliate_id": "aff-2", "archived": true}),
    ];
    let referrals = vec![
        json!({"id": "ref-1", "affiliate": {"id": "aff-1"}, "stripe_customer_id": "cus_alice1",
               "conversion_state": "conversion", "customer": {"platform": "stripe", "id": "cus_alice1",
               "email": "buyer1@customer.test"}}),
        json!({"id": "ref-2", "affiliate": {"id": "aff-2"}, "stripe_customer_id": "cus_bob1",
               "conversion_state": "conversion", "customer": {"email": "buyer2@customer.test"}}),
        json!({"id": "ref-3", "affiliate": {"id": "aff-4"}, "stripe_customer_id": "cus_dave1",
               "conversion_state": "lead", "customer": null}),
        json!({"id": "ref-4", "affiliate": {"id": "aff-3"}, "stripe_customer_id": null,
               "conversion_state": "lead", "customer": null}),
    ];
    let mut commissions = Vec::new();
    for i in 0..12usize {
        let affiliate = format!("aff-{}", i % 5 + 1);
        let fixed = i % 5 >= 3;
        let sale = 10_000 + 100 * i as i64;
        let amount = if fixed { 1500 } else { sale / 5 };
        let (state, _) = STATES[i % 4];
        let customer = match i % 5 {
            0 => json!({"stripe_customer_id": "cus_alice1", "customer": {"email": "buyer1@customer.test"}}),
            1 => json!({"stripe_customer_id": "cus_bob1", "customer": {"email": "buyer2@customer.test"}}),
            _ => json!({"stripe_customer_id": null}),
        };
        commissions.push(commission(
            &format!("com-{i}"),
            &affiliate,
            state,
            amount,
            sale,
            0,
            "USD",
            customer,
            i,
        ));
    }
    commissions.push(commission(
        "com-refunded",
        "aff-2",
        "voided",
        2000,
        10_000,
        10_000,
        "USD",
        json!({}),
        20,
    ));
    commissions.push(commission("com-eur", "aff-1", "due", 500, 2500, 0, "EUR", json!({}), 21));
    FakeState {
        key: key.into(),
        page_size,
        campaigns,
        affiliates,
        coupons,
        referrals,
        commissions,
        ..Default::default()
    }
}

#[allow(clippy::too_many_arguments)]
pub fn commission(
    id: &str,
    affiliate: &str,
    state: &str,
    amount: i64,
    sale: i64,
    refunded: i64,
    currency: &str,
    referral: Value,
    day: usize,
) -> Value {
    let campaign = if matches!(affiliate, "aff-4" | "aff-5") { "camp-fix" } else { "camp-pct" };
    // Recent history (24 to 45 days ago), so a renewal today is within the campaign's terms.
    let now_s = refline_server::clock::now_ms() / 1000;
    let at = rfc3339(now_s - (45 - day as i64) * 86_400);
    let paid_at = rfc3339(now_s - 10 * 86_400);
    json!({
        "id": id, "amount": amount, "currency": currency, "state": state,
        "created_at": at, "updated_at": at,
        "due_at": at, "paid_at": if state == "paid" { json!(paid_at) } else { Value::Null },
        "voided_at": if state == "voided" { json!(at) } else { Value::Null },
        "campaign": {"id": campaign},
        "sale": {"id": format!("sale-{id}"), "currency": currency, "charged_at": at,
                 "sale_amount_cents": sale, "charge_amount_cents": sale, "refund_amount_cents": refunded,
                 "tax_amount_cents": 0, "affiliate": {"id": affiliate}, "referral": referral},
    })
}

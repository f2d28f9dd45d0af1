//! API-key authentication, plan rights and per-key rate limits for `/api/v1`.
//!
//! Order matters: unknown keys are answered 401 (counted per client IP, so key guessing is
//! slowed too); a known key is rate-limited before its plan is consulted, so every answer to a
//! known key carries its `X-RateLimit-*` headers.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use refline_core::{Actor, Door, Rights};
use refline_domain::{classify_key, ApiAccess, KeyKind, Plan};
use subtle::ConstantTimeEq;

use crate::{
    error::ApiError,
    http::{audit::AuditActor, client_ip::client_ip, rate_limit::RateDecision},
    ids::sha256_hex,
    state::AppState,
};

/// Marks a request that asks only for what needs no plan (the MCP door's no-account tools,
/// `mcp::access`): its key is still checked, but a plan without API access is let through.
#[derive(Debug, Clone, Copy)]
pub struct PlanFree;

/// The authenticated caller of an `/api/v1` request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's id.
    pub key_id: String,
    /// Live or test.
    pub kind: KeyKind,
    /// The merchant the key belongs to.
    pub merchant_id: String,
    /// The merchant's name.
    pub merchant_name: String,
    /// The merchant's plan.
    pub plan: Plan,
    /// The merchant's default currency.
    pub currency: String,
    /// The key's rate-limit state after this request.
    pub rate: RateDecision,
}

impl Caller {
    /// The core's actor for this key: its merchant, mode and plan rights, through the API.
    pub fn actor(&self) -> Actor {
        Actor {
            merchant_id: self.merchant_id.clone(),
            mode: self.kind.mode(),
            rights: Actor::api_rights(self.plan).unwrap_or(Rights::ReadOnly),
            currency: self.currency.clone(),
            door: Door::ApiKey { key_id: self.key_id.clone() },
        }
    }

    /// The same actor through the MCP door (`/mcp`, `refline mcp`): same merchant, mode and
    /// rights; the audit log says `mcp`.
    pub fn mcp_actor(&self) -> Actor {
        Actor { door: Door::Mcp { key_id: self.key_id.clone() }, ..self.actor() }
    }

    /// True for `lj_pk_test_` keys.
    pub fn is_test(&self) -> bool {
        self.kind.mode().is_test()
    }

    /// `403 live_key_required` for test keys: what `what` names is shared by live and test
    /// traffic, so a test integration must not be able to alter the real program.
    pub fn require_live(&self, what: &str) -> Result<(), crate::error::ApiError> {
        if self.is_test() {
            return Err(crate::error::ApiError::new(
                StatusCode::FORBIDDEN,
                "live_key_required",
                format!("{what} can only be created or changed with a live key"),
            ));
        }
        Ok(())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| ApiError::unauthorized("Missing API key"))
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Sets the `X-RateLimit-*` headers of `rate`.
pub fn set_rate_headers(headers: &mut HeaderMap, rate: &RateDecision) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(rate.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(rate.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(rate.reset));
}

/// `429 rate_limit_exceeded` with `Retry-After` until the window resets.
pub fn too_many(rate: &RateDecision, now: i64) -> ApiError {
    let mut err = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        format!("Rate limit of {} requests per minute exceeded; retry after the reset", rate.limit),
    );
    err.retry_after = Some(u64::try_from(rate.reset - now / 1000).unwrap_or(1).max(1));
    err
}

/// Answers with rate headers and the actor for the audit log. A handler that refused the
/// request under a tighter limit of its own (`POST /affiliates/invite`) has set that limit's
/// headers already; they stay.
fn finish(mut response: Response, rate: &RateDecision, actor: AuditActor) -> Response {
    if !response.headers().contains_key("x-ratelimit-limit") {
        set_rate_headers(response.headers_mut(), rate);
    }
    response.extensions_mut().insert(actor);
    response
}

/// Middleware: authenticates the key, enforces rate limit and plan rights, and hands the
/// [`Caller`] to the handler.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let now = state.config.clock.now();
    let owner = match bearer_token(req.headers()) {
        Some(token) if classify_key(token).is_some() => {
            let hash = sha256_hex(token.as_bytes());
            // From the node's memory of keys when read in the last second (`key_cache`).
            match state.keys.owner(state.store.as_ref(), &hash).await {
                // The lookup is by hash; comparing again in constant time keeps the check
                // timing-safe even though the lookup may be answered from a cache.
                Ok(owner) => owner.filter(|o| {
                    o.revoked_at.is_none() && bool::from(o.key_hash.as_bytes().ct_eq(hash.as_bytes()))
                }),
                Err(err) => return ApiError::from(err).into_response(),
            }
        }
        _ => None,
    };
    let Some(owner) = owner else {
        let ip = client_ip(&req, &state.config).map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
        let limit = state.config.unauthenticated_per_minute;
        let rate = state.limiter.hit(&format!("ip:{ip}"), limit, now).await;
        let err = if !rate.allowed {
            too_many(&rate, now)
        } else if req.headers().contains_key(header::AUTHORIZATION) {
            ApiError::unauthorized("Invalid or revoked API key")
        } else {
            ApiError::unauthorized("Missing API key: send Authorization: Bearer <key>")
        };
        let actor = AuditActor { merchant_id: None, api_key_id: None, user_id: None };
        return finish(err.into_response(), &rate, actor);
    };
    let actor = AuditActor {
        merchant_id: Some(owner.merchant_id.clone()),
        api_key_id: Some(owner.key_id.clone()),
        user_id: None,
    };
    let plan = owner.plan;
    let rate = state.limiter.hit(&owner.key_id, state.config.limits.rate_for(plan), now).await;
    let refusal = if !rate.allowed {
        Some(too_many(&rate, now))
    } else if owner.archived_at.is_some() {
        Some(ApiError::new(
            StatusCode::FORBIDDEN,
            "brand_archived",
            "This key's brand is archived; its owner can reactivate it in the dashboard",
        ))
    } else {
        match plan.api_access() {
            ApiAccess::None if req.extensions().get::<PlanFree>().is_some() => None,
            ApiAccess::None => Some(ApiError::new(
                StatusCode::FORBIDDEN,
                "plan_required",
                format!("The {} plan has no API access; upgrade to Pro or higher", plan.as_str()),
            )),
            // Read-only keys (Pro) reach their handler: whether a request writes is the core
            // operation's to decide (`Actor::require_write`), not the HTTP method's.
            ApiAccess::ReadOnly | ApiAccess::ReadWrite => None,
        }
    };
    if let Some(err) = refusal {
        return finish(err.into_response(), &rate, actor);
    }
    let kind = owner.kind;
    req.extensions_mut().insert(Caller {
        key_id: owner.key_id.clone(),
        kind,
        merchant_id: owner.merchant_id.clone(),
        merchant_name: owner.merchant_name.clone(),
        plan,
        currency: owner.currency.clone(),
        rate,
    });
    finish(next.run(req).await, &rate, actor)
}

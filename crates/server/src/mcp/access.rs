//! Which `/mcp` requests need an API key. Spec §10.3: the three no-account tools
//! (`get_linkjolt_plans`, `plan_affiliate_program`, `switch_from_another_tool`) work without a
//! key and on any plan, like LinkJolt's relay without `LINKJOLT_API_KEY`. So a single JSON-RPC
//! message that only opens the conversation (`initialize`, `ping`, notifications,
//! `server/discover`), lists tools, or calls one of those three is admitted without a key,
//! rate-limited per client address; with a key, it is authenticated as usual but the plan's
//! API access is not required. Everything else goes through the API's own authentication
//! unchanged (401 without a key, 403 `plan_required` on Starter). The Host/Origin guard runs
//! before this, for every request.

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use crate::{
    error::ApiError,
    http::{
        auth::{authenticate, set_rate_headers, too_many, PlanFree},
        client_ip::client_ip,
    },
    state::AppState,
};

/// The tools that need no account.
pub const OPEN_TOOLS: [&str; 3] =
    ["get_linkjolt_plans", "plan_affiliate_program", "switch_from_another_tool"];

/// Whether `name` needs no account.
pub fn is_open_tool(name: &str) -> bool {
    OPEN_TOOLS.contains(&name)
}

/// Whether a request body is one JSON-RPC message asking only for what needs no account.
/// Batches, responses and anything unreadable need a key (rmcp answers the malformed ones).
fn asks_only_open(body: &[u8]) -> bool {
    let Ok(Value::Object(message)) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let Some(method) = message.get("method").and_then(Value::as_str) else {
        return false;
    };
    match method {
        "initialize" | "ping" | "tools/list" | "server/discover" => true,
        "tools/call" => message
            .get("params")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .is_some_and(is_open_tool),
        other => other.starts_with("notifications/"),
    }
}

/// Middleware of `/mcp` in place of the API's `authenticate` (which it calls for everything that
/// needs a key).
pub async fn admit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return authenticate(State(state), req, next).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, state.config.max_body_bytes).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Request body is too large",
        )
        .into_response();
    };
    let open = asks_only_open(&bytes);
    let mut req = Request::from_parts(parts, Body::from(bytes));
    if !open {
        return authenticate(State(state), req, next).await;
    }
    req.extensions_mut().insert(PlanFree);
    if req.headers().contains_key(header::AUTHORIZATION) {
        // A key that is sent is checked (a wrong one is still 401), but any plan may ask.
        return authenticate(State(state), req, next).await;
    }
    let now = state.config.clock.now();
    let ip = client_ip(&req, &state.config).map_or_else(|| "unknown".into(), |ip| ip.to_string());
    // Its own bucket: keyless MCP use must not eat into the budget of failed API logins.
    let rate =
        state.limiter.hit(&format!("mcp-open:{ip}"), state.config.unauthenticated_per_minute, now).await;
    let mut response = if rate.allowed { next.run(req).await } else { too_many(&rate, now).into_response() };
    set_rate_headers(response.headers_mut(), &rate);
    response
}

#[cfg(test)]
mod tests {
    use super::asks_only_open;

    #[test]
    fn only_single_messages_for_open_things_pass_without_a_key() {
        let open = [
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_linkjolt_plans"}}"#,
        ];
        for body in open {
            assert!(asks_only_open(body.as_bytes()), "{body}");
        }
        let closed = [
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_campaigns"}}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}}"#,
            r#"[{"jsonrpc":"2.0","id":2,"method":"tools/list"}]"#,
            r#"{"jsonrpc":"2.0","id":4,"method":"resources/list"}"#,
            r#"{"jsonrpc":"2.0","id":4,"result":{}}"#,
            "not json",
        ];
        for body in closed {
            assert!(!asks_only_open(body.as_bytes()), "{body}");
        }
    }
}

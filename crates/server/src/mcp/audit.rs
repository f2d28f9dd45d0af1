//! The MCP door's audit entries, like the API's: every refused request (401/403), and every tool
//! call that writes or is refused, with the operation the core reported and the LinkJolt code.
//! A tool call is one entry (`method` `tools/call`, `path` `/mcp/tools/<name>`), whichever HTTP
//! request carried it.

use axum::{
    extract::{Request, State},
    http::{header, request::Parts, StatusCode},
    middleware::Next,
    response::Response,
};
use refline_core::audit::AuditRecord;
use refline_store::AuditEntry;

use crate::{
    error::ErrorCode,
    http::{audit::AuditActor, auth::Caller, client_ip::client_ip},
    state::AppState,
};

/// Middleware of `/mcp`: records requests refused before any tool ran (bad key, plan, host).
pub async fn audit_refusals(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(&req, &state.config).map(|ip| ip.to_string());
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let method = req.method().to_string();
    let response = next.run(req).await;
    if !matches!(response.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        return response;
    }
    let actor = response.extensions().get::<AuditActor>().cloned();
    state
        .audit
        .record(AuditEntry {
            merchant_id: actor.as_ref().and_then(|a| a.merchant_id.clone()),
            api_key_id: actor.and_then(|a| a.api_key_id),
            user_id: None,
            door: "mcp".into(),
            operation: None,
            target_id: None,
            method: Some(method),
            path: Some("/mcp".into()),
            status_code: Some(i64::from(response.status().as_u16())),
            error_code: response.extensions().get::<ErrorCode>().map(|c| c.0.to_string()),
            ip_address: ip,
            user_agent,
            created_at: state.config.clock.now(),
        })
        .await;
    response
}

/// One tool call's entry.
pub struct ToolCall<'a> {
    /// The tool.
    pub tool: &'a str,
    /// The status the API would have answered.
    pub status: StatusCode,
    /// The error's code, if refused.
    pub error_code: Option<&'static str>,
    /// What the core reported, if an operation ran.
    pub operation: Option<AuditRecord>,
}

/// Records a tool call of `caller` made over the HTTP request `parts`.
pub async fn record_tool_call(state: &AppState, caller: &Caller, parts: Option<&Parts>, call: ToolCall<'_>) {
    let ip = parts.and_then(|p| {
        let mut req = axum::http::Request::new(());
        *req.headers_mut() = p.headers.clone();
        if let Some(info) = p.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>() {
            req.extensions_mut().insert(*info);
        }
        client_ip(&req, &state.config).map(|ip| ip.to_string())
    });
    let user_agent = parts
        .and_then(|p| p.headers.get(header::USER_AGENT))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let error_code = call.error_code.or_else(|| call.operation.as_ref().and_then(|o| o.error_code));
    state
        .audit
        .record(AuditEntry {
            merchant_id: Some(caller.merchant_id.clone()),
            api_key_id: Some(caller.key_id.clone()),
            user_id: None,
            door: "mcp".into(),
            operation: call.operation.as_ref().map(|o| o.operation.to_string()),
            target_id: call.operation.and_then(|o| o.target_id),
            method: Some("tools/call".into()),
            path: Some(format!("/mcp/tools/{}", call.tool)),
            status_code: Some(i64::from(call.status.as_u16())),
            error_code: error_code.map(str::to_string),
            ip_address: ip,
            user_agent,
            created_at: state.config.clock.now(),
        })
        .await;
}

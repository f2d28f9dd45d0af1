//! The MCP door: `/mcp`, the Model Context Protocol over Streamable HTTP (rmcp, the official
//! Rust SDK), for AI assistants that run the program (Claude, ChatGPT, Cursor, VS Code).
//!
//! Every tool is a thin adapter: it reads its arguments with the REST API's readers, calls the
//! same core operation as the matching `/api/v1` handler with the key's actor (door `mcp`), and
//! answers the API's JSON. Requests pass, in order: the edge, the [`guard`] (Host and Origin,
//! so a DNS-rebinding page cannot drive a local server), [`access`] (the three no-account tools,
//! listing and the handshake need no key, rate-limited per address; everything else goes through
//! the API's own authentication, `http::auth::authenticate`: key, plan, rate limit, 401/403/429
//! in the API envelope), then
//! rmcp's service, which hands the request's parts (with the [`crate::http::auth::Caller`]) to
//! [`server::ReflineMcp`].
//!
//! The service is stateless (no `Mcp-Session-Id`) and answers JSON, so any node of a cluster
//! answers any request and every request is authenticated on its own. Revisions served: every
//! one rmcp knows, 2024-11-05 through 2026-07-28; 2025-06-18 (LinkJolt's connector) and
//! 2026-07-28 (stateless, `server/discover`) are tested.

mod access;
mod answer;
mod audit;
mod guard;
mod guide;
mod program;
mod search;
mod server;
mod setup;
mod team;
mod tools;

use axum::{middleware, Router};
use rmcp::transport::streamable_http_server::{
    session::never::NeverSessionManager, StreamableHttpServerConfig, StreamableHttpService,
};

use crate::state::AppState;

pub use tools::tool_names;

/// `/mcp` with its guard and the API's authentication.
pub fn router(state: AppState) -> Router<AppState> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        // Host and Origin are checked by `guard`, which knows the public URL and trusted proxies.
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_max_request_body_bytes(state.config.max_body_bytes);
    let service_state = state.clone();
    let service = StreamableHttpService::new(
        move || Ok(server::ReflineMcp::new(service_state.clone())),
        NeverSessionManager::default().into(),
        config,
    );
    Router::new()
        .route_service("/mcp", service)
        .layer(middleware::from_fn_with_state(state.clone(), access::admit))
        .layer(middleware::from_fn_with_state(state.clone(), audit::audit_refusals))
        .layer(middleware::from_fn_with_state(state, guard::check_host_and_origin))
}

//! The MCP server handler: `initialize`/`server/discover` info, `tools/list` from the catalogue
//! and `tools/call`, which finds the key's [`Caller`] in the HTTP request (put there by the API's
//! authentication), runs the tool's adapter with the key's actor through the MCP door, and
//! records the call in the audit log like an API request.

use axum::http::{request::Parts, StatusCode};
use rmcp::{
    model::{
        CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult, PaginatedRequestParams,
        ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    ErrorData as McpError, RoleServer, ServerHandler,
};
use serde_json::{Map, Value};

use crate::{
    error::ApiError,
    http::{audit::with_operation_slot, auth::Caller},
    mcp::{
        answer::{to_result, ToolOutcome},
        audit::{record_tool_call, ToolCall},
        guide, program, search, setup,
        tools::{specs, to_tool, Kind},
    },
    state::AppState,
};

const INSTRUCTIONS: &str = "Refline runs a business's affiliate program (LinkJolt-compatible): campaigns, affiliates, tracked sales (conversions) and their commissions, coupons and payouts. These tools are for the business paying affiliates; someone who wants to earn as an affiliate should join through a campaign's join link instead. Start with get_setup_status; ids come from the list_* tools or search. Money is in major units (99.00). Errors carry a code (not_found, duplicate, insufficient_permissions, earnings_limit_reached, validation_error, ...) and a `next` hint.";

/// One MCP service per request (the transport is stateless); cheap to make.
#[derive(Clone)]
pub struct ReflineMcp {
    state: AppState,
}

impl ReflineMcp {
    /// A handler over the server's state.
    pub fn new(state: AppState) -> Self {
        ReflineMcp { state }
    }

    async fn dispatch(&self, name: &str, caller: &Caller, args: Option<&Map<String, Value>>) -> ToolOutcome {
        let state = &self.state;
        let actor = caller.mcp_actor();
        let map = program::arguments(args)?;
        match name {
            "get_linkjolt_plans" => guide::plans(state, caller),
            "plan_affiliate_program" => guide::plan_program(&map),
            "switch_from_another_tool" => guide::switch_from(state, &map),
            "get_account" => program::account(state, caller, &actor).await,
            "get_setup_status" => setup::setup_status(state, &actor).await,
            "update_business" => setup::update_business(state, &actor, &map).await,
            "check_tracking" => setup::check_tracking(state, &actor, &map).await,
            "get_tracking_instructions" => setup::tracking_instructions(state, &actor),
            "list_campaigns" => program::list_campaigns(state, &actor, &map).await,
            "get_campaign" => program::get_campaign(state, &actor, &map).await,
            "create_campaign" => program::create_campaign(state, &actor, &map).await,
            "update_campaign" => program::update_campaign(state, &actor, &map).await,
            "list_affiliates" => program::list_affiliates(state, &actor, &map).await,
            "invite_affiliate" => program::invite_affiliate(state, caller, &actor, &map).await,
            "update_affiliate_status" => program::update_affiliate_status(state, &actor, &map).await,
            "list_coupons" => program::list_coupons(state, &actor, &map).await,
            "create_coupon" => program::create_coupon(state, &actor, &map).await,
            "list_conversions" => program::list_conversions(state, &actor, &map).await,
            "create_conversion" => program::create_conversion(state, caller, &actor, &map).await,
            "update_conversion" => program::update_conversion(state, &actor, &map).await,
            "list_payouts" => program::list_payouts(state, &actor, &map).await,
            "get_program_overview" => program::program_overview(state, &actor).await,
            "get_stats" => program::get_stats(state, &actor, &map).await,
            "list_team_members" => program::team(state, &actor).await,
            "search" => search::search(state, &actor, &map).await,
            "fetch" => search::fetch(state, &actor, &map).await,
            _ => Err(ApiError::internal("tool in the catalogue without an adapter")),
        }
    }
}

impl ServerHandler for ReflineMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("refline", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(specs().iter().map(to_tool).collect()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let name = request.name.to_string();
        let Some(spec) = specs().into_iter().find(|s| s.name == name) else {
            return Err(McpError::invalid_params(format!("Unknown tool: {name}"), None));
        };
        let parts = context.extensions.get::<Parts>();
        let Some(caller) = parts.and_then(|p| p.extensions.get::<Caller>()).cloned() else {
            // Authentication runs before the service; a request without a caller never gets here.
            return Ok(to_result(Err(ApiError::unauthorized("Missing API key"))).into());
        };
        let (outcome, operation) =
            with_operation_slot(self.dispatch(&name, &caller, request.arguments.as_ref())).await;
        let (status, error_code) = match &outcome {
            // The status the API answers: 201 for what a create made (a repeated coupon is 200).
            Ok(value) if name.starts_with("create_") && value.get("created") != Some(&Value::Bool(false)) => {
                (StatusCode::CREATED, None)
            }
            Ok(_) => (StatusCode::OK, None),
            Err(err) => (err.status, Some(err.code)),
        };
        let writes = matches!(spec.kind, Kind::Write { .. });
        let refused = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
        if writes || refused || operation.is_some() {
            let call = ToolCall { tool: &name, status, error_code, operation };
            record_tool_call(&self.state, &caller, parts, call).await;
        }
        Ok(to_result(outcome).into())
    }
}

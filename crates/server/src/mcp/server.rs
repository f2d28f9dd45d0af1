//! The MCP server handler: `initialize`/`server/discover` info, `tools/list` from the catalogue
//! and `tools/call`, which finds the key's [`Caller`] in the HTTP request (put there by the API's
//! authentication), runs the tool's adapter with the key's actor through the MCP door, and
//! records the call in the audit log like an API request. Without a key (or with a Starter
//! key) only the no-account tools are listed and run (`access`).

use axum::http::{request::Parts, StatusCode};
use refline_domain::ApiAccess;
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
        access::is_open_tool,
        answer::{to_result, ToolOutcome},
        audit::{record_tool_call, ToolCall},
        guide, program, search, setup, team,
        tools::{specs, to_tool, Kind},
    },
    state::AppState,
};

/// The key's caller, put in the HTTP request by the API's authentication; `None` for a request
/// `access::admit` let through without a key.
fn caller_of(context: &RequestContext<RoleServer>) -> Option<Caller> {
    context.extensions.get::<Parts>().and_then(|p| p.extensions.get::<Caller>()).cloned()
}

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

    async fn dispatch(
        &self,
        name: &str,
        caller: Option<&Caller>,
        args: Option<&Map<String, Value>>,
    ) -> ToolOutcome {
        let state = &self.state;
        let map = program::arguments(args)?;
        match name {
            "get_linkjolt_plans" => return guide::plans(state, caller),
            "plan_affiliate_program" => return guide::plan_program(&map),
            "switch_from_another_tool" => return guide::switch_from(state, caller, &map),
            _ => {}
        }
        // `access::admit` lets no other tool through without a key on a plan with API access.
        let Some(caller) = caller.filter(|c| c.plan.api_access() != ApiAccess::None) else {
            return Err(ApiError::unauthorized("This tool needs an API key of a Pro plan or higher"));
        };
        let actor = caller.mcp_actor();
        match name {
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
            "list_team_members" => team::list(state, &actor).await,
            "invite_team_member" => team::invite(state, &actor, &map).await,
            "update_team_member" => team::update(state, &actor, &map).await,
            "remove_team_member" => team::remove(state, &actor, &map).await,
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

    /// Every tool for a key whose plan has API access; the no-account tools otherwise (no key,
    /// or a Starter key), which are all such a caller can run.
    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let everything = caller_of(&context).is_some_and(|c| c.plan.api_access() != ApiAccess::None);
        let tools = specs().iter().filter(|s| everything || is_open_tool(s.name)).map(to_tool).collect();
        Ok(ListToolsResult::with_all_items(tools))
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
        let caller = caller_of(&context);
        let (outcome, operation) =
            with_operation_slot(self.dispatch(&name, caller.as_ref(), request.arguments.as_ref())).await;
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
        // A keyless call (a no-account tool) reads nothing of any brand: nothing to audit.
        if let Some(caller) = caller.filter(|_| writes || refused || operation.is_some()) {
            let call = ToolCall { tool: &name, status, error_code, operation };
            record_tool_call(&self.state, &caller, parts, call).await;
        }
        Ok(to_result(outcome).into())
    }
}

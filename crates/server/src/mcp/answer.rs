//! A tool's answer: the REST API's JSON as structured content (and as text, for clients that
//! only read text), or an MCP tool error (`isError: true`) carrying the API's error — its
//! LinkJolt code, message and details — plus what the assistant should do next.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{json, Value};

use crate::error::ApiError;

/// What a tool adapter answers: the API's body, or the API's error.
pub type ToolOutcome = Result<Value, ApiError>;

/// The MCP result of an outcome.
pub fn to_result(outcome: ToolOutcome) -> CallToolResult {
    match outcome {
        Ok(value) => CallToolResult::structured(value),
        Err(err) => tool_error(&err),
    }
}

/// `isError: true` with `{"error": {code, message, details?, next}}`.
pub fn tool_error(err: &ApiError) -> CallToolResult {
    let next = next_step(err.code);
    let mut error = json!({ "code": err.code, "message": err.message, "next": next });
    if let (Some(details), Some(obj)) = (&err.details, error.as_object_mut()) {
        obj.insert("details".into(), (**details).clone());
    }
    let body = json!({ "error": error });
    let mut result = CallToolResult::structured_error(body.clone());
    result.content = vec![
        ContentBlock::text(format!("Error {}: {} {}", err.code, err.message, next)),
        ContentBlock::text(body.to_string()),
    ];
    result
}

/// What to tell the assistant to do about an error, by its stable code.
pub fn next_step(code: &str) -> &'static str {
    match code {
        "validation_error" => {
            "Fix the arguments listed in details (each names its field) and call the tool again."
        }
        "not_found" => {
            "The id is not one of this brand's: look it up with the matching list_* tool or search, then retry with that id."
        }
        "duplicate" => {
            "This already exists (details name the existing record); treat it as done and do not create it again."
        }
        "insufficient_permissions" => {
            "This key cannot do this (a Pro key is read-only); ask the user for an Ultimate or Scale key with write access, or do it in the dashboard."
        }
        "live_key_required" => "This change needs a live key (lj_pk_…), not a test key; ask the user for one.",
        "earnings_limit_reached" => {
            "The plan's monthly tracked-sales cap is reached; the sale was not recorded. Tell the user to upgrade the plan (get_linkjolt_plans) or wait for next month."
        }
        "affiliate_not_approved" => {
            "Approve the affiliate on this campaign first (update_affiliate_status with action approve), then retry."
        }
        "commission_above_sale" => {
            "The commission is over 5x the sale; confirm with the user, then retry with confirmAboveSale: true."
        }
        "invalid_transition" => {
            "The record is not in a state that allows this change; read it again (fetch) and tell the user its current status."
        }
        "plan_required" | "plan_limit" => {
            "The brand's plan does not allow this; see get_linkjolt_plans and ask the user to upgrade."
        }
        "rate_limit_exceeded" => "Too many requests this minute; wait for the reset and retry.",
        "fetch_failed" => "Check the URL with the user (it must be a public https page) and try again.",
        _ => "Tell the user what failed; retrying later may help if it was temporary.",
    }
}

//! Tools that advise rather than touch records: the plans, suggested commission terms, and how
//! to move from another affiliate tool.

use refline_domain::{format_amount, ApiAccess, Plan};
use serde_json::{json, Map, Value};

use crate::{
    error::ApiError,
    http::{auth::Caller, body::Fields},
    mcp::answer::ToolOutcome,
    state::AppState,
};

const PLANS: [Plan; 4] = [Plan::Starter, Plan::Pro, Plan::Ultimate, Plan::Scale];

/// `get_linkjolt_plans`: each plan's rights with this server's limits, and the caller's plan
/// when a key was sent (the tool needs none).
pub fn plans(state: &AppState, caller: Option<&Caller>) -> ToolOutcome {
    let limits = &state.config.limits;
    let rows: Vec<Value> = PLANS
        .iter()
        .map(|plan| {
            let (api, connector) = match plan.api_access() {
                ApiAccess::None => ("none", "none: the API and this connector need Pro or higher"),
                ApiAccess::ReadOnly => ("read", "read tools only (lists, setup status, stats)"),
                ApiAccess::ReadWrite => ("read and write", "every tool, writes included"),
            };
            json!({
                "plan": plan.as_str(),
                "api": api,
                "connector": connector,
                "rateLimitPerMinute": limits.rate_for(*plan),
                "monthlyTrackedSalesCap": limits.cap_for(*plan).map(|minor| format_amount(minor, 2)),
                "capCurrency": "usd",
            })
        })
        .collect();
    Ok(json!({
        "plans": rows,
        "yourPlan": caller.map(|c| c.plan.as_str()),
        "pricing": "Refline is self-hosted: its operator sets plans per brand (refline merchant create --plan); no share of affiliate revenue is taken.",
        "capRule": "Past the monthly cap, new sales are not recorded toward commissions until the next month; test keys skip the cap.",
    }))
}

/// `plan_affiliate_program`: a suggestion from stated benchmarks.
///
/// Benchmarks (documented in docs/MCP.md): SaaS 20–30 % recurring for 12 months; e-commerce
/// 5–15 % one-time; info products 30–50 %; services 10–20 %. The suggested rate is the range's
/// middle, lowered so the commission stays at most a third of the gross margin when one is
/// given, and never under the range's floor (a lower rate is then flagged).
pub fn plan_program(map: &Map<String, Value>) -> ToolOutcome {
    let mut f = Fields::new(map);
    let kind = f.required_enum("businessType", &["saas", "ecommerce", "info_product", "service"]);
    let margin = number(&mut f, "grossMarginPercent", 0.0, 100.0);
    let average = number(&mut f, "averageSale", 0.0, 1e12);
    let recurring = f.optional_bool("recurring");
    f.finish()?;
    let Some(kind) = kind else { return Err(ApiError::internal("validated field missing")) };
    let (low, high, why) = match kind {
        "saas" => (20.0, 30.0, "SaaS programs commonly pay 20-30 % of each payment for the first 12 months"),
        "ecommerce" => (5.0, 15.0, "online stores commonly pay 5-15 % of the order"),
        "info_product" => (30.0, 50.0, "courses and digital products commonly pay 30-50 %: margins are high"),
        _ => (10.0, 20.0, "services commonly pay 10-20 % of the first invoice"),
    };
    let middle = f64::midpoint(low, high);
    let ceiling = margin.map(|m| m / 3.0);
    let mut rate = ceiling.map_or(middle, |c| middle.min(c)).max(low);
    let too_thin = ceiling.is_some_and(|c| c < low);
    if too_thin {
        rate = low;
    }
    let rate = rate.round();
    let recurring = recurring.unwrap_or(kind == "saas");
    let per_sale = average.map(|a| format!("{:.2}", a * rate / 100.0));
    Ok(json!({
        "suggestion": {
            "commissionType": "percentage",
            "commissionValue": format!("{rate}"),
            "recurringCommissionEnabled": recurring,
            "recurringCommissionMode": "duration",
            "recurringCommissionDuration": if recurring { Some(12) } else { None },
            "cookieWindowDays": if kind == "ecommerce" { 30 } else { 60 },
            "autoApproveAffiliates": false,
        },
        "commissionPerSale": per_sale,
        "benchmark": { "low": low, "high": high, "source": why },
        "warning": too_thin.then_some("At this margin even the benchmark's floor is over a third of the margin: consider a fixed commission instead."),
        "next": "If the user agrees, call create_campaign with these values (and a name and targetUrl).",
    }))
}

fn number(f: &mut Fields<'_>, name: &str, min: f64, max: f64) -> Option<f64> {
    let value = f.value(name)?;
    match value.as_f64() {
        Some(n) if n >= min && n <= max => Some(n),
        _ => {
            f.issue(name, format!("{name} must be a number from {min} to {max}"));
            None
        }
    }
}

/// `switch_from_another_tool`.
pub fn switch_from(state: &AppState, map: &Map<String, Value>) -> ToolOutcome {
    let mut f = Fields::new(map);
    let tool = f.optional_enum("tool", &["rewardful", "tolt", "firstpromoter", "affonso", "other"]);
    f.finish()?;
    let public = state.config.public_url.trim_end_matches('/');
    let from = tool.unwrap_or("other");
    // What `refline import` (docs/MIGRATING.md) covers today; the rest is by hand below.
    let importer = match from {
        "rewardful" => json!({
            "available": true,
            "command": "refline import rewardful --brand <merchantId> --api-key <Rewardful API secret> [--dry-run]",
            "brings": "campaigns, affiliates and their memberships, referral tokens (as short links /l/<token>), coupons, referred customers (so processor renewals stay credited) and commissions with their status; paid history enters the ledger as paid. Safe to run again; an interrupted run resumes.",
            "docs": "docs/MIGRATING.md",
        }),
        _ => json!({
            "available": false,
            "note": "refline import covers Rewardful today; Tolt, FirstPromoter, PartnerStack and CSV files are planned. Until then, move the program with the steps below.",
        }),
    };
    Ok(json!({
        "from": from,
        "importer": importer,
        "today": [
            "Create the campaigns with create_campaign (same commission terms).",
            "Add affiliates through the API (POST /api/v1/affiliates) or share each campaign's join link.",
            "Register existing discount codes with create_coupon so coupon sales are still credited.",
            "Backfill past sales with create_conversion (orderId keeps them unique).",
            "Swap the old script for Refline's (get_tracking_instructions) and connect the payment processor.",
        ],
        "dashboard": format!("{public}/merchant/campaigns"),
    }))
}

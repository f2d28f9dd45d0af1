//! Tools that advise rather than touch records: the plans, suggested commission terms, and how
//! to move from another affiliate tool.

use refline_domain::{format_amount, ApiAccess, Plan};
use refline_import::SOURCES;
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

/// The tools `switch_from_another_tool` knows: every API source `refline import` has
/// ([`refline_import::SOURCES`], so a new importer shows up here without a change), CSV files,
/// and Affonso and anything else, which have no importer (their way in is a CSV export).
pub fn switch_sources() -> Vec<&'static str> {
    let mut names = SOURCES.to_vec();
    names.extend(["csv", "affonso", "other"]);
    names
}

/// What `refline import <name>` needs besides `--brand`, as (arguments, where they come from).
fn import_arguments(name: &str) -> (&'static str, &'static str) {
    match name {
        "rewardful" => ("--api-key <Rewardful API secret>", "Rewardful: Company settings > API > API secret"),
        "tolt" => (
            "--api-key <Tolt API key> --program-id <prg_...> --campaign <campaignId>",
            "Tolt: Settings > Integrations > API key; the program id (prg_...) of the program to move",
        ),
        "firstpromoter" => (
            "--api-key <FirstPromoter API key> --account-id <Account ID> --campaign <campaignId>",
            "FirstPromoter: Settings > Integrations > API keys (the key and the Account ID)",
        ),
        "partnerstack" => (
            "--api-key <public key>:<secret key> --campaign <campaignId>",
            "PartnerStack: Settings > Integrations > PartnerStack API keys (public and secret)",
        ),
        "csv" => (
            "--affiliates affiliates.csv [--commissions commissions.csv] [--campaign <campaignId>]",
            "a spreadsheet or any tool's export: an affiliates file (email, name, status, token, coupon...) and optionally a commissions file",
        ),
        _ => ("--api-key <API key>", "the tool's API settings"),
    }
}

/// What `refline import <name>` brings across (docs/MIGRATING.md has the tables).
fn brings(name: &str) -> &'static str {
    match name {
        "rewardful" => "Campaigns with their terms, affiliates with their status, referral tokens (as short links /l/<token>, so old links keep working), coupons, referred customers (so processor renewals stay credited) and commissions with their status.",
        "tolt" => "Partners with their status, their links (as short links /l/<value>), promotion codes, customers (for renewals) and commissions with their status.",
        "firstpromoter" => "Promoters on each campaign with their status, ref tokens (as short links), promo codes, referred customers (for renewals) and cash commissions with their status.",
        "partnerstack" => "Partnerships with their status, their share links (as short links), customers (for renewals) and rewards that have a transaction; PartnerStack's API has no coupons.",
        "csv" => "Affiliates (with referral tokens as short links, coupons and PayPal emails) and, from a second file, commissions with their status.",
        _ => "Affiliates, their links and their commissions.",
    }
}

/// `switch_from_another_tool`: the importer for the tool (command and the dashboard's Migrate
/// page), what it brings, and the steps around it; for a tool without an importer, the CSV way
/// and the steps by hand. `caller` (when a key was sent) fills in the brand.
pub fn switch_from(state: &AppState, caller: Option<&Caller>, map: &Map<String, Value>) -> ToolOutcome {
    let names = switch_sources();
    let mut f = Fields::new(map);
    let tool = f.optional_enum("tool", &names);
    f.finish()?;
    let public = state.config.public_url.trim_end_matches('/');
    let from = tool.unwrap_or("other");
    let brand = caller.map_or("<merchantId>", |c| c.merchant_id.as_str());
    let migrate_page = format!("{public}/merchant/migrate");
    let importers: Vec<&str> = names.iter().copied().filter(|n| !matches!(*n, "affonso" | "other")).collect();
    // Only Rewardful's API gives commission terms; everything else lands on a campaign made first
    // (docs/MIGRATING.md).
    let needs_campaign = from != "rewardful";
    let importer = if importers.contains(&from) {
        let (arguments, keys) = import_arguments(from);
        json!({
            "available": true,
            "command": format!("refline import {from} --brand {brand} {arguments} [--dry-run]"),
            "needs": keys,
            "migratePage": migrate_page,
            "campaigns": if from == "rewardful" {
                "Rewardful's campaigns come across with their commission terms."
            } else if from == "csv" {
                "Rows land on campaigns the brand already has (a campaign column, or --campaign)."
            } else {
                "This tool's API gives no commission terms: create the campaign first (create_campaign, the program's terms) and pass its id as --campaign (the Migrate page's campaign field), or give --commission 20% on the command line to make one per source campaign."
            },
            "brings": format!("{} Paid history enters the ledger as paid; nothing is mailed and no webhook is sent.", brings(from)),
            "safeToRepeat": "Running it again creates nothing new and brings what changed; an interrupted run resumes. Run it once more right before switching the tracking script.",
            "docs": format!("docs/MIGRATING.md#{}", if from == "csv" { "csv-files" } else { from }),
        })
    } else {
        json!({
            "available": false,
            "note": format!("Refline has no importer for {from}; export its affiliates and commissions as CSV files and import them with refline import csv (or the Migrate page), or move the program by hand with the steps below."),
            "csvCommand": format!("refline import csv --brand {brand} --affiliates affiliates.csv [--commissions commissions.csv] [--campaign <campaignId>] [--dry-run]"),
            "migratePage": migrate_page,
            "docs": "docs/MIGRATING.md#csv-files",
        })
    };
    let mut steps = Vec::new();
    if needs_campaign {
        steps.push("Create the campaign(s) with create_campaign, with the same commission terms.");
    }
    if importers.contains(&from) {
        steps.push("Run the importer: the command above (a Refline operator, on the server), or the dashboard's Migrate page (the brand's owner or an admin).");
    } else {
        steps.extend([
            "Import the affiliates and past commissions from CSV files (above), or add affiliates through the API (POST /api/v1/affiliates) or each campaign's join link.",
            "Register existing discount codes with create_coupon so coupon sales are still credited.",
            "Backfill past sales with create_conversion (orderId keeps them unique).",
        ]);
    }
    steps.extend([
        "Swap the old script for Refline's (get_tracking_instructions), connect the payment processor, and confirm with check_tracking.",
        "Check the result with get_program_overview, list_affiliates and list_conversions.",
    ]);
    Ok(json!({
        "from": from,
        "importer": importer,
        "importers": importers,
        "steps": steps,
        "dashboard": format!("{public}/merchant/campaigns"),
    }))
}

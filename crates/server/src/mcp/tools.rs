//! The tool catalogue: LinkJolt's tool names, input schemas (with descriptions and the same
//! limits the API's readers enforce), annotations as spec §10.3 gives them, and output schemas
//! for the tools that answer records (structured output: the REST API's JSON).

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{json, Value};

/// How a tool touches the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads only.
    Read,
    /// Writes; `destructive` when it changes or removes what exists, `idempotent` when
    /// repeating it changes nothing more.
    Write {
        /// Changes existing records.
        destructive: bool,
        /// Safe to repeat.
        idempotent: bool,
    },
}

/// What a tool answers, for its output schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// `{"data": [...], "pagination": {...}}`.
    List,
    /// `{"data": {...}}`.
    Record,
    /// Free-form JSON object (guides and checks).
    Object,
}

/// One tool.
pub struct Spec {
    /// LinkJolt's name.
    pub name: &'static str,
    /// Short human title.
    pub title: &'static str,
    /// What it does, for the assistant.
    pub description: &'static str,
    /// Reads or writes.
    pub kind: Kind,
    /// Its answer's shape.
    pub output: Output,
    /// Whether it reaches outside Refline (fetching the merchant's page).
    pub open_world: bool,
    /// The JSON schema of its arguments.
    pub input: Value,
}

const RO: Kind = Kind::Read;
const CREATE: Kind = Kind::Write { destructive: false, idempotent: false };
const CREATE_IDEMPOTENT: Kind = Kind::Write { destructive: false, idempotent: true };
const CHANGE: Kind = Kind::Write { destructive: true, idempotent: true };

fn schema(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

fn id(description: &str) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": 100, "description": description })
}

fn text(description: &str, max: u32) -> Value {
    json!({ "type": "string", "maxLength": max, "description": description })
}

fn one_of(description: &str, values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values, "description": description })
}

fn flag(description: &str) -> Value {
    json!({ "type": "boolean", "description": description })
}

fn int(description: &str, min: i64, max: i64) -> Value {
    json!({ "type": "integer", "minimum": min, "maximum": max, "description": description })
}

fn decimal(description: &str) -> Value {
    json!({ "type": ["number", "string"], "description": description })
}

fn date(description: &str) -> Value {
    json!({ "type": "string", "maxLength": 40, "description": format!("{description} ISO-8601 date (2026-04-15) or date-time (2026-04-15T10:30:00Z).") })
}

/// `page`, `limit` and `sort` over `fields`, merged into `extra`.
fn paged(fields: &[&str], mut extra: Value) -> Value {
    let sorts: Vec<String> = fields.iter().flat_map(|f| [format!("{f}:asc"), format!("{f}:desc")]).collect();
    if let Some(obj) = extra.as_object_mut() {
        obj.insert("page".into(), int("Page number, from 1 (default 1).", 1, 1_000_000));
        obj.insert("limit".into(), int("Items per page, 1 to 100 (default 25).", 1, 100));
        obj.insert(
            "sort".into(),
            json!({ "type": "string", "enum": sorts, "description": "field:direction (default newest first)." }),
        );
    }
    extra
}

fn campaign_fields(creating: bool) -> Value {
    let mut p = json!({
        "name": { "type": "string", "minLength": 1, "maxLength": 200, "description": "Campaign name shown to affiliates." },
        "commissionType": one_of("percentage of each sale, or a fixed amount per sale.", &["percentage", "fixed"]),
        "commissionValue": decimal("Commission: a percentage (20 = 20 %) or an amount in major units (10.00)."),
        "targetUrl": text("Where tracking links send visitors (https://…).", 2048),
        "description": text("Shown on the join page.", 5000),
        "isPublic": flag("Listed publicly (default true)."),
        "autoApproveAffiliates": flag("Approve people who join at once (default false)."),
        "cookieWindowDays": int("Days a referral is remembered (default 30).", 1, 365),
        "holdDays": int("Days a commission waits before it can be paid.", 0, 365),
        "recurringCommissionEnabled": flag("Pay commission on renewals too."),
        "recurringCommissionMode": one_of("Limit renewals by duration (months) or by number of payments.", &["duration", "payments"]),
        "recurringCommissionType": one_of("Renewals earn the same commission or a custom value.", &["same", "custom"]),
        "recurringCommissionValue": decimal("Custom renewal commission (with type custom)."),
        "recurringCommissionCount": int("How many renewal payments earn commission (mode payments).", 1, 1200),
        "recurringCommissionDuration": int("How many months of renewals earn commission (mode duration).", 1, 1200),
    });
    if let Some(obj) = p.as_object_mut() {
        if creating {
            obj.insert("currency".into(), text("ISO 4217 code (default the brand's currency).", 3));
        } else {
            obj.insert("campaignId".into(), id("The campaign to change."));
            obj.insert(
                "status".into(),
                one_of("Pause (inactive) or resume (active).", &["active", "inactive"]),
            );
        }
    }
    p
}

/// `role` and the two grantable rights, merged into `extra`.
fn team_fields(mut extra: Value) -> Value {
    if let Some(obj) = extra.as_object_mut() {
        obj.insert("role".into(), one_of("admin (every right) or member.", &crate::mcp::team::ROLES));
        obj.insert("managePayouts".into(), flag("A member may manage payouts (default false)."));
        obj.insert("manageApiKeys".into(), flag("A member may manage API keys (default false)."));
    }
    extra
}

/// Every tool, in the order `tools/list` answers them.
#[allow(clippy::too_many_lines)]
pub fn specs() -> Vec<Spec> {
    vec![
        Spec {
            name: "get_linkjolt_plans",
            title: "Plans and limits",
            description: "Refline's plans (Starter, Pro, Ultimate, Scale): what each can do through the API and this connector, its monthly tracked-sales cap and rate limit, and this brand's plan. Self-hosted Refline bills nobody.",
            kind: RO, output: Output::Object, open_world: false,
            input: schema(json!({}), &[]),
        },
        Spec {
            name: "plan_affiliate_program",
            title: "Suggest commission terms",
            description: "Suggests commission terms from published industry benchmarks (SaaS 20-30 % recurring, e-commerce 5-15 %, info products 30-50 %), adjusted to the margin and price given. Advice only: nothing is created.",
            kind: RO, output: Output::Object, open_world: false,
            input: schema(json!({
                "businessType": one_of("What is sold.", &["saas", "ecommerce", "info_product", "service"]),
                "averageSale": json!({ "type": "number", "exclusiveMinimum": 0, "description": "Typical order or monthly subscription value, major units." }),
                "grossMarginPercent": json!({ "type": "number", "minimum": 0, "maximum": 100, "description": "Gross margin, percent (optional)." }),
                "recurring": flag("Customers pay every month or year."),
            }), &["businessType"]),
        },
        Spec {
            name: "switch_from_another_tool",
            title: "Move from another affiliate tool",
            description: "How to move a program from Rewardful, Tolt, FirstPromoter, PartnerStack, CSV files, Affonso or another tool to Refline: the importer's command and the dashboard's Migrate page, what comes across, and the steps around it.",
            kind: RO, output: Output::Object, open_world: false,
            input: schema(json!({ "tool": one_of("The tool used today (csv: a spreadsheet or any tool's export).", &crate::mcp::guide::switch_sources()) }), &[]),
        },
        Spec {
            name: "get_account",
            title: "Who am I",
            description: "The brand this key belongs to, the key's type (live or test), permissions, plan and rate-limit state (GET /api/v1/me).",
            kind: RO, output: Output::Record, open_world: false,
            input: schema(json!({}), &[]),
        },
        Spec {
            name: "get_setup_status",
            title: "Launch checklist",
            description: "The launch checklist: business details, a campaign, a payment connection, a first affiliate, a first sale; whether the tracking script was seen on the site; each campaign's join link; and where to finish each step.",
            kind: RO, output: Output::Object, open_world: false,
            input: schema(json!({}), &[]),
        },
        Spec {
            name: "update_business",
            title: "Update business details",
            description: "Saves the brand's business name and website (https:// is added when missing). Live keys only. Replaces the current values.",
            kind: CHANGE, output: Output::Object, open_world: false,
            input: schema(json!({
                "businessName": { "type": "string", "minLength": 2, "maxLength": 200, "description": "Business name shown to affiliates." },
                "website": text("The business website, e.g. acme.com or https://acme.com.", 2048),
            }), &[]),
        },
        Spec {
            name: "check_tracking",
            title: "Check the tracking script",
            description: "Fetches a page of the merchant's site (default: the business website) and reports whether Refline's tracking script tag is on it, whether the script has ever run, and what to do next.",
            kind: RO, output: Output::Object, open_world: true,
            input: schema(json!({ "url": text("Page to check (https://…); default the business website.", 2048) }), &[]),
        },
        Spec {
            name: "get_tracking_instructions",
            title: "Tracking setup",
            description: "The script tag to add to every page, how links and the checkout carry the referral, and the webhook address of each payment processor.",
            kind: RO, output: Output::Object, open_world: false,
            input: schema(json!({}), &[]),
        },
        Spec {
            name: "list_campaigns",
            title: "List campaigns",
            description: "The brand's campaigns with their commission terms, conversions, revenue and affiliate counts (GET /api/v1/campaigns).",
            kind: RO, output: Output::List, open_world: false,
            input: schema(paged(&["createdAt", "name"], json!({})), &[]),
        },
        Spec {
            name: "get_campaign",
            title: "Get a campaign",
            description: "One campaign in full detail, including its affiliate count and join link (GET /api/v1/campaigns/{id}).",
            kind: RO, output: Output::Record, open_world: false,
            input: schema(json!({ "campaignId": id("The campaign's id (from list_campaigns).") }), &["campaignId"]),
        },
        Spec {
            name: "create_campaign",
            title: "Create a campaign",
            description: "Creates a campaign (POST /api/v1/campaigns); answers it with its joinUrl to share with affiliates. Live keys only; needs write access.",
            kind: CREATE, output: Output::Record, open_world: false,
            input: schema(campaign_fields(true), &["name", "commissionType", "commissionValue"]),
        },
        Spec {
            name: "update_campaign",
            title: "Update a campaign",
            description: "Changes the fields given of a campaign (PATCH /api/v1/campaigns/{id}); answers the campaign with `changed`, the fields that actually changed. Live keys only; needs write access.",
            kind: CHANGE, output: Output::Record, open_world: false,
            input: schema(campaign_fields(false), &["campaignId"]),
        },
        Spec {
            name: "list_affiliates",
            title: "List affiliates",
            description: "Affiliates per campaign membership with status, earnings, clicks and tracking link (GET /api/v1/affiliates).",
            kind: RO, output: Output::List, open_world: false,
            input: schema(paged(&["joinedAt", "name", "email"], json!({
                "campaignId": id("Only this campaign's affiliates."),
                "status": one_of("Only memberships in this state.", &["pending", "approved", "rejected"]),
            })), &[]),
        },
        Spec {
            name: "invite_affiliate",
            title: "Invite an affiliate",
            description: "Sends a branded invitation to join a campaign (POST /api/v1/affiliates/invite).",
            kind: CREATE_IDEMPOTENT, output: Output::Record, open_world: false,
            input: schema(json!({
                "email": { "type": "string", "format": "email", "minLength": 3, "maxLength": 254, "description": "Who to invite." },
                "campaignId": id("The campaign to join."),
                "name": text("Their name.", 200),
            }), &["email", "campaignId"]),
        },
        Spec {
            name: "update_affiliate_status",
            title: "Approve or reject an affiliate",
            description: "Approves or rejects an affiliate's membership of one campaign (PATCH /api/v1/affiliates/{id}). Rejection is final. Needs write access.",
            kind: CHANGE, output: Output::Record, open_world: false,
            input: schema(json!({
                "affiliateId": id("The affiliate."),
                "campaignId": id("The campaign whose membership changes."),
                "action": one_of("approve or reject.", &["approve", "reject"]),
            }), &["affiliateId", "campaignId", "action"]),
        },
        Spec {
            name: "list_coupons",
            title: "List coupons",
            description: "Discount codes registered to affiliates (GET /api/v1/coupons).",
            kind: RO, output: Output::List, open_world: false,
            input: schema(paged(&["createdAt"], json!({
                "code": text("Look up one code.", 100),
                "provider": text("Only this processor's codes (stripe, paddle, …).", 40),
                "campaignId": id("Only this campaign."),
                "affiliateId": id("Only this affiliate."),
            })), &[]),
        },
        Spec {
            name: "create_coupon",
            title: "Register a coupon",
            description: "Registers a discount code (that exists in the payment processor) to an affiliate on a campaign, so sales with it are credited (POST /api/v1/coupons). Repeating it answers the same coupon. Needs write access.",
            kind: CREATE_IDEMPOTENT, output: Output::Record, open_world: false,
            input: schema(json!({
                "code": { "type": "string", "minLength": 1, "maxLength": 100, "description": "The code customers type." },
                "campaignId": id("The campaign."),
                "affiliateId": id("The affiliate credited."),
                "provider": text("The processor (stripe, paddle, lemonsqueezy, …).", 40),
                "providerCouponId": text("The processor's coupon id.", 255),
                "providerPromotionCodeId": text("The processor's promotion-code id.", 255),
                "createInProvider": flag("Create the code in the processor too. Not supported yet: true is refused with a message saying so; create the code in the processor, then register it."),
                "percentOff": int("Label: percent off.", 1, 100),
                "amountOff": decimal("Label: amount off, major units."),
                "currency": text("Currency of amountOff.", 3),
                "duration": one_of("Label: how long the discount lasts.", &["once", "forever", "repeating"]),
                "durationInMonths": int("Months, with duration repeating.", 1, 1200),
            }), &["code", "campaignId", "affiliateId"]),
        },
        Spec {
            name: "list_conversions",
            title: "List conversions",
            description: "Tracked sales and their commissions, newest first (GET /api/v1/conversions). A test key sees test conversions.",
            kind: RO, output: Output::List, open_world: false,
            input: schema(paged(&["createdAt", "amount"], json!({
                "status": one_of("Only this status.", &["pending", "approved", "paid", "rejected", "refunded", "trial"]),
                "campaignId": id("Only this campaign."),
                "affiliateId": id("Only this affiliate."),
                "from": date("Created at or after:"),
                "to": date("Created at or before (a date means the end of that day):"),
            })), &[]),
        },
        Spec {
            name: "create_conversion",
            title: "Record a sale",
            description: "Records a sale for an affiliate on a campaign (POST /api/v1/conversions); the commission is computed from the campaign's terms, tiers included. Re-sending an orderId answers the duplicate error. A test key records a test conversion. Needs write access (Ultimate or Scale).",
            kind: CREATE, output: Output::Record, open_world: false,
            input: schema(json!({
                "campaignId": id("Campaign to credit."),
                "affiliateId": id("Affiliate to credit; must be approved on the campaign."),
                "amount": json!({ "type": "number", "exclusiveMinimum": 0, "description": "Sale amount in major units (99.00, not cents)." }),
                "orderId": text("Your unique order id; re-sending it answers duplicate.", 255),
                "clickId": text("The click that referred the sale; turns on fraud checks.", 255),
                "customerEmail": text("With clickId, turns on self-referral detection.", 254),
                "customerName": text("Shown on the commissions page.", 200),
                "currency": text("ISO 4217 code; default the campaign's.", 3),
                "conversionType": one_of("one_time (default) or recurring (a renewal).", &["one_time", "recurring"]),
                "parentConversionId": id("For a renewal: the first sale's conversion."),
            }), &["campaignId", "affiliateId", "amount"]),
        },
        Spec {
            name: "update_conversion",
            title: "Approve or reject a conversion",
            description: "Approves or rejects a pending conversion (PATCH /api/v1/conversions/{id}). Refunded conversions cannot change. A commission over 5x its sale needs confirmAboveSale. Needs write access.",
            kind: CHANGE, output: Output::Record, open_world: false,
            input: schema(json!({
                "conversionId": id("The conversion."),
                "status": one_of("The new status.", &["approved", "rejected"]),
                "confirmAboveSale": flag("Approve even though the commission is over 5x the sale."),
            }), &["conversionId", "status"]),
        },
        Spec {
            name: "list_payouts",
            title: "List payouts",
            description: "Payouts to affiliates, for reconciliation (GET /api/v1/payouts).",
            kind: RO, output: Output::List, open_world: false,
            input: schema(paged(&["createdAt"], json!({
                "status": one_of("Only this status.", &["pending", "processing", "completed", "failed", "cancelled"]),
                "affiliateId": id("Only this affiliate."),
                "conversionId": id("The payout that paid this conversion."),
                "from": date("Created at or after:"),
                "to": date("Created at or before:"),
            })), &[]),
        },
        Spec {
            name: "get_program_overview",
            title: "This month",
            description: "This month's snapshot: revenue, commissions and conversions per currency, clicks, top affiliates by commission and the newest conversions.",
            kind: RO, output: Output::Record, open_world: false,
            input: schema(json!({}), &[]),
        },
        Spec {
            name: "get_stats",
            title: "Stats",
            description: "Totals between two dates: revenue, commissions, conversions and active affiliates (GET /api/v1/stats).",
            kind: RO, output: Output::Record, open_world: false,
            input: schema(json!({ "from": date("From:"), "to": date("To:") }), &[]),
        },
        Spec {
            name: "list_team_members",
            title: "Team",
            description: "The people on the brand's team (owner first) with their role, rights and whether they accepted, and the plan's seats. Change them with invite_team_member, update_team_member and remove_team_member.",
            kind: RO, output: Output::Object, open_world: false,
            input: schema(json!({}), &[]),
        },
        Spec {
            name: "invite_team_member",
            title: "Invite a team member",
            description: "Mails an invitation to join the brand's team as admin or member, with the rights given (admins have both). Takes a seat of the plan. Live key with write access only.",
            kind: CREATE, output: Output::Record, open_world: false,
            input: schema(team_fields(json!({
                "email": { "type": "string", "format": "email", "minLength": 3, "maxLength": 254, "description": "Who to invite." },
            })), &["email", "role"]),
        },
        Spec {
            name: "update_team_member",
            title: "Change a team member",
            description: "Sets a member's role and rights (the owner's cannot change). Live key with write access only.",
            kind: CHANGE, output: Output::Record, open_world: false,
            input: schema(team_fields(json!({ "userId": id("The member (from list_team_members).") })), &["userId", "role"]),
        },
        Spec {
            name: "remove_team_member",
            title: "Remove a team member",
            description: "Removes a member from the brand's team, or withdraws an invitation (the owner cannot be removed). Live key with write access only.",
            kind: CHANGE, output: Output::Record, open_world: false,
            input: schema(json!({ "userId": id("The member (from list_team_members).") }), &["userId"]),
        },
        Spec {
            name: "search",
            title: "Search",
            description: "Finds campaigns by name, affiliates by name or email, coupons by code, and conversions by id, order id, customer name or customer email (this key's mode); answers ids for fetch.",
            kind: RO, output: Output::Object, open_world: false,
            input: schema(json!({ "query": { "type": "string", "minLength": 2, "maxLength": 200, "description": "What to look for (at least 2 characters)." } }), &["query"]),
        },
        Spec {
            name: "fetch",
            title: "Fetch a record",
            description: "The full record of an id from search (or any campaign, affiliate, conversion, coupon or payout id).",
            kind: RO, output: Output::Record, open_world: false,
            input: schema(json!({ "id": { "type": "string", "minLength": 1, "maxLength": 200, "description": "An id such as cmp_…, aff_…, conv_…, cpn_… or po_…" } }), &["id"]),
        },
    ]
}

/// The names of every tool (for tests and docs).
pub fn tool_names() -> Vec<&'static str> {
    specs().iter().map(|s| s.name).collect()
}

fn object_of(value: Value) -> Arc<JsonObject> {
    Arc::new(match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    })
}

fn output_schema(output: Output) -> Value {
    let error =
        json!({ "type": "object", "description": "Present instead of data when the call failed (isError)." });
    match output {
        Output::List => json!({ "type": "object", "properties": {
            "data": { "type": "array", "items": { "type": "object" } },
            "pagination": { "type": "object", "properties": {
                "page": { "type": "integer" }, "limit": { "type": "integer" },
                "total": { "type": "integer" }, "totalPages": { "type": "integer" } } },
            "error": error } }),
        Output::Record => {
            json!({ "type": "object", "properties": { "data": { "type": "object" }, "error": error } })
        }
        Output::Object => json!({ "type": "object" }),
    }
}

/// The MCP form of a spec.
pub fn to_tool(spec: &Spec) -> Tool {
    let annotations = match spec.kind {
        Kind::Read => {
            ToolAnnotations::with_title(spec.title).read_only(true).destructive(false).idempotent(true)
        }
        Kind::Write { destructive, idempotent } => ToolAnnotations::with_title(spec.title)
            .read_only(false)
            .destructive(destructive)
            .idempotent(idempotent),
    }
    .open_world(spec.open_world);
    Tool::new(spec.name, spec.description, object_of(spec.input.clone()))
        .with_title(spec.title)
        .with_raw_output_schema(object_of(output_schema(spec.output)))
        .annotate(annotations)
}

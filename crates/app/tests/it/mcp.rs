//! The MCP door (`/mcp`): JSON-RPC over Streamable HTTP against the real server, on both engines.
//! Protocol 2025-06-18 (LinkJolt's connector) and 2026-07-28 (stateless), every tool's schema,
//! the seed's flow through tools, rights, test keys, tenants and the refusals of the transport.

use refline_store::{Affiliate, Campaign, Membership};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{Engine, TestApp},
};

const SEED_BODY: &str = include_str!("../fixtures/seed-conversion.json");

/// Speaks JSON-RPC to `/mcp` with a key, as a 2025-06-18 client does after `initialize`.
pub struct Mcp<'a> {
    app: &'a TestApp,
    key: Option<String>,
    version: &'static str,
}

/// One HTTP answer of `/mcp`.
pub struct McpReply {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
}

impl<'a> Mcp<'a> {
    pub fn new(app: &'a TestApp, key: &str) -> Self {
        Mcp { app, key: Some(key.to_string()), version: "2025-06-18" }
    }

    /// Without `Authorization`: what a client without an API key can do.
    pub fn anonymous(app: &'a TestApp) -> Self {
        Mcp { app, key: None, version: "2025-06-18" }
    }

    pub async fn post(&self, body: Value, headers: &[(&str, &str)]) -> McpReply {
        let mut request = self
            .app
            .client()
            .post(self.app.url("/mcp"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        McpReply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
    }

    pub async fn initialize(&self) -> Value {
        let reply = self
            .post(
                json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": self.version,
                    "capabilities": {},
                    "clientInfo": { "name": "refline-test", "version": "1" } } }),
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let note = self
            .post(
                json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
                &[("mcp-protocol-version", self.version)],
            )
            .await;
        assert!(note.status.is_success(), "{}", note.text);
        reply.body["result"].clone()
    }

    pub async fn request(&self, method: &str, params: Value) -> Value {
        let reply = self
            .post(
                json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": params }),
                &[("mcp-protocol-version", self.version)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{method}: {}", reply.text);
        reply.body
    }

    /// `tools/call`: the result object.
    pub async fn call(&self, tool: &str, arguments: Value) -> Value {
        let body = self.request("tools/call", json!({ "name": tool, "arguments": arguments })).await;
        assert!(body.get("error").is_none(), "{tool}: {body}");
        body["result"].clone()
    }

    /// A successful call's structured content.
    pub async fn ok(&self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments).await;
        assert_eq!(result["isError"], false, "{tool}: {result}");
        result["structuredContent"].clone()
    }

    /// A failed call's error object (`code`, `message`, `next`, `details`).
    pub async fn err(&self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments).await;
        assert_eq!(result["isError"], true, "{tool} should fail: {result}");
        let error = result["structuredContent"]["error"].clone();
        assert!(error["next"].as_str().is_some_and(|n| !n.is_empty()), "{result}");
        assert!(result["content"][0]["text"].as_str().unwrap().contains(error["code"].as_str().unwrap()));
        error
    }
}

/// The guide's fixture: `camp_abc` (20 %) and the approved `aff_xyz`.
pub async fn seed_fixture(app: &TestApp, merchant_id: &str) {
    seed_fixture_in(app.store.as_ref(), merchant_id).await;
}

/// [`seed_fixture`] written straight into a store (a database a `refline serve` will open).
pub async fn seed_fixture_in(store: &dyn refline_store::Store, merchant_id: &str) {
    let now = refline_server::clock::now_ms();
    let campaign = Campaign {
        name: "Summer Launch".into(),
        target_url: Some("https://example.com/pricing".into()),
        ..Campaign::with_defaults("camp_abc", merchant_id, "SUMMER24", "usd", now)
    };
    store.insert_campaign(&campaign).await.unwrap();
    let affiliate = Affiliate {
        id: "aff_xyz".into(),
        merchant_id: merchant_id.into(),
        email: "jane@partner.test".into(),
        name: Some("Jane".into()),
        created_via: "api".into(),
        created_at: now,
        payout_method: None,
    };
    let membership = Membership {
        campaign_id: "camp_abc".into(),
        affiliate_id: "aff_xyz".into(),
        merchant_id: merchant_id.into(),
        status: refline_domain::MembershipStatus::Approved,
        joined_at: now,
        updated_at: now,
    };
    store.create_affiliate(&affiliate, &membership, refline_domain::Mode::Test).await.unwrap();
}

const LIST_TOOLS: &[&str] =
    &["list_campaigns", "list_affiliates", "list_coupons", "list_conversions", "list_payouts"];
const WRITE_TOOLS: &[&str] = &[
    "update_business",
    "create_campaign",
    "update_campaign",
    "invite_affiliate",
    "update_affiliate_status",
    "create_coupon",
    "create_conversion",
    "update_conversion",
    "invite_team_member",
    "update_team_member",
    "remove_team_member",
];

/// (tool, readOnlyHint, destructiveHint, idempotentHint): spec §10.3's table, and Refline's
/// additions (get_account, get_stats, the team tools) by the same rule.
const ANNOTATIONS: &[(&str, bool, bool, bool)] = &[
    ("get_linkjolt_plans", true, false, true),
    ("plan_affiliate_program", true, false, true),
    ("switch_from_another_tool", true, false, true),
    ("get_account", true, false, true),
    ("get_setup_status", true, false, true),
    ("update_business", false, true, true),
    ("check_tracking", true, false, true),
    ("get_tracking_instructions", true, false, true),
    ("list_campaigns", true, false, true),
    ("get_campaign", true, false, true),
    ("create_campaign", false, false, false),
    ("update_campaign", false, true, true),
    ("list_affiliates", true, false, true),
    ("invite_affiliate", false, false, true),
    ("update_affiliate_status", false, true, true),
    ("list_coupons", true, false, true),
    ("create_coupon", false, false, true),
    ("list_conversions", true, false, true),
    ("create_conversion", false, false, false),
    ("update_conversion", false, true, true),
    ("list_payouts", true, false, true),
    ("get_program_overview", true, false, true),
    ("get_stats", true, false, true),
    ("list_team_members", true, false, true),
    ("invite_team_member", false, false, false),
    ("update_team_member", false, true, true),
    ("remove_team_member", false, true, true),
    ("search", true, false, true),
    ("fetch", true, false, true),
];

/// (tool, the inputs spec §10.3 (and §3.2, §3.4, §3.5 it points to) names, the required ones).
const SPEC_INPUTS: &[(&str, &[&str], &[&str])] = &[
    ("update_business", &["businessName", "website"], &[]),
    ("check_tracking", &["url"], &[]),
    ("list_campaigns", &["page", "limit", "sort"], &[]),
    ("get_campaign", &["campaignId"], &["campaignId"]),
    (
        "create_campaign",
        &[
            "name",
            "commissionType",
            "commissionValue",
            "isPublic",
            "targetUrl",
            "description",
            "autoApproveAffiliates",
            "recurringCommissionMode",
            "recurringCommissionType",
            "recurringCommissionCount",
            "recurringCommissionValue",
            "recurringCommissionDuration",
        ],
        &["name", "commissionType", "commissionValue"],
    ),
    (
        "update_campaign",
        &[
            "campaignId",
            "name",
            "description",
            "targetUrl",
            "status",
            "commissionType",
            "commissionValue",
            "isPublic",
            "autoApproveAffiliates",
            "recurringCommissionMode",
            "recurringCommissionValue",
        ],
        &["campaignId"],
    ),
    ("list_affiliates", &["page", "limit", "sort", "status", "campaignId"], &[]),
    ("invite_affiliate", &["email", "campaignId", "name"], &["email", "campaignId"]),
    (
        "update_affiliate_status",
        &["affiliateId", "campaignId", "action"],
        &["affiliateId", "campaignId", "action"],
    ),
    ("list_coupons", &["code", "provider", "campaignId", "affiliateId", "page", "limit"], &[]),
    (
        "create_coupon",
        &[
            "code",
            "campaignId",
            "affiliateId",
            "provider",
            "createInProvider",
            "percentOff",
            "amountOff",
            "currency",
            "duration",
            "durationInMonths",
        ],
        &["code", "campaignId", "affiliateId"],
    ),
    (
        "list_conversions",
        &["status", "campaignId", "affiliateId", "from", "to", "page", "limit", "sort"],
        &[],
    ),
    (
        "create_conversion",
        &[
            "campaignId",
            "affiliateId",
            "amount",
            "orderId",
            "clickId",
            "customerEmail",
            "customerName",
            "currency",
            "conversionType",
            "parentConversionId",
        ],
        &["campaignId", "affiliateId", "amount"],
    ),
    ("update_conversion", &["conversionId", "status", "confirmAboveSale"], &["conversionId", "status"]),
    ("list_payouts", &["from", "to", "status", "affiliateId", "conversionId", "page", "limit"], &[]),
    ("search", &["query"], &["query"]),
    ("fetch", &["id"], &["id"]),
];

async fn every_tool_has_a_schema(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("pro").await;
    let mcp = Mcp::new(&app, &m.key);
    let info = mcp.initialize().await;
    assert_eq!(info["protocolVersion"], "2025-06-18");
    assert_eq!(info["serverInfo"]["name"], "refline");
    assert!(info["capabilities"]["tools"].is_object(), "{info}");
    assert!(info["instructions"].as_str().unwrap().contains("affiliate"));
    let listed = mcp.request("tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().unwrap().clone();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, refline_server::mcp::tool_names());
    for expected in [
        "get_linkjolt_plans",
        "plan_affiliate_program",
        "switch_from_another_tool",
        "get_setup_status",
        "update_business",
        "check_tracking",
        "get_tracking_instructions",
        "list_campaigns",
        "get_campaign",
        "create_campaign",
        "update_campaign",
        "list_affiliates",
        "invite_affiliate",
        "update_affiliate_status",
        "list_coupons",
        "create_coupon",
        "list_conversions",
        "create_conversion",
        "update_conversion",
        "list_payouts",
        "get_program_overview",
        "search",
        "fetch",
        "get_stats",
    ] {
        assert!(names.contains(&expected), "missing {expected}");
    }
    for tool in &tools {
        let name = tool["name"].as_str().unwrap();
        let schema = &tool["inputSchema"];
        assert_eq!(schema["type"], "object", "{name}");
        assert!(schema["properties"].is_object(), "{name}");
        assert!(tool["description"].as_str().unwrap().len() > 20, "{name}");
        for (field, prop) in schema["properties"].as_object().unwrap() {
            assert!(prop["description"].as_str().is_some_and(|d| !d.is_empty()), "{name}.{field}");
        }
        for required in schema["required"].as_array().unwrap() {
            assert!(schema["properties"].get(required.as_str().unwrap()).is_some(), "{name}: {required}");
        }
        let a = &tool["annotations"];
        let writes = WRITE_TOOLS.contains(&name);
        assert_eq!(a["readOnlyHint"], !writes, "{name}");
        assert!(a["destructiveHint"].is_boolean() && a["idempotentHint"].is_boolean(), "{name}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{name}");
        if LIST_TOOLS.contains(&name) {
            assert_eq!(tool["outputSchema"]["properties"]["data"]["type"], "array", "{name}");
            assert_eq!(schema["properties"]["limit"]["maximum"], 100, "{name}");
        }
    }
    let tool = |n: &str| tools.iter().find(|t| t["name"] == n).unwrap_or_else(|| panic!("{n}")).clone();
    // Every tool's annotations, as spec §10.3 gives them (RO; W with D(estructive), I(dempotent)).
    for (name, read_only, destructive, idempotent) in ANNOTATIONS {
        let a = &tool(name)["annotations"];
        assert_eq!(
            (a["readOnlyHint"].as_bool(), a["destructiveHint"].as_bool(), a["idempotentHint"].as_bool()),
            (Some(*read_only), Some(*destructive), Some(*idempotent)),
            "{name}"
        );
        assert_eq!(a["openWorldHint"], *name == "check_tracking", "{name}");
    }
    assert_eq!(ANNOTATIONS.len(), tools.len(), "every tool is in the table");
    // Every input the spec names, and its required ones.
    for (name, inputs, required) in SPEC_INPUTS {
        let schema = &tool(name)["inputSchema"];
        for input in *inputs {
            assert!(schema["properties"].get(*input).is_some(), "{name}.{input}");
        }
        assert_eq!(schema["required"], json!(required), "{name}");
    }
    let schema = |n: &str| tool(n)["inputSchema"].clone();
    assert_eq!(schema("create_conversion")["required"], json!(["campaignId", "affiliateId", "amount"]));
    assert_eq!(schema("search")["properties"]["query"]["minLength"], 2);
    assert_eq!(
        schema("update_affiliate_status")["properties"]["action"]["enum"],
        json!(["approve", "reject"])
    );
    // An unknown tool is a protocol error, not a tool error.
    let unknown = mcp.request("tools/call", json!({ "name": "drop_tables", "arguments": {} })).await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    app.stop().await;
}

async fn seed_flow_through_tools(engine: Engine) {
    // The fixture's ids are fixed: a database of its own on PostgreSQL.
    let app = TestApp::start(&engine.isolated().await).await;
    let m = app.merchant("ultimate").await;
    seed_fixture(&app, &m.id).await;
    let mcp = Mcp::new(&app, &m.key);
    mcp.initialize().await;

    let campaigns = mcp.ok("list_campaigns", json!({})).await;
    assert_eq!(campaigns["data"][0]["id"], "camp_abc");
    assert_eq!(campaigns["data"][0]["commissionValue"], "20");
    assert_eq!(campaigns["pagination"]["total"], 1);
    // The same JSON as the REST API's.
    let rest = app.get(&m.key, "/api/v1/campaigns").await;
    assert_eq!(campaigns, rest.body);
    let affiliates = mcp.ok("list_affiliates", json!({ "campaignId": "camp_abc" })).await;
    assert_eq!(affiliates["data"][0]["id"], "aff_xyz");
    assert_eq!(affiliates["data"][0]["status"], "approved");

    let seed: Value = serde_json::from_str(SEED_BODY).unwrap();
    let result = mcp.call("create_conversion", seed.clone()).await;
    assert_eq!(result["isError"], false, "{result}");
    let data = &result["structuredContent"]["data"];
    assert!(data["id"].as_str().unwrap().starts_with("conv_"));
    assert_eq!(data["status"], "pending");
    assert_eq!(data["orderId"], "invoice-2026-001");
    // Money as the API writes it: numbers with the currency's decimals.
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains(r#""amount":99.00,"commission":19.80"#), "{text}");

    let again = mcp.err("create_conversion", seed).await;
    assert_eq!(again["code"], "duplicate");
    assert_eq!(again["details"]["conversionId"], data["id"]);

    let listed = mcp.ok("list_conversions", json!({ "status": "pending" })).await;
    assert_eq!(listed["data"][0]["commission"], "19.80");
    let id = data["id"].as_str().unwrap();
    let approved = mcp.ok("update_conversion", json!({ "conversionId": id, "status": "approved" })).await;
    assert_eq!(approved["data"]["status"], "approved");
    let fetched = mcp.ok("fetch", json!({ "id": id })).await;
    assert_eq!(
        (fetched["type"].as_str(), fetched["data"]["status"].as_str()),
        (Some("conversion"), Some("approved"))
    );
    let found = mcp.ok("search", json!({ "query": "summer" })).await;
    assert_eq!(found["results"][0]["id"], "camp_abc");
    let found = mcp.ok("search", json!({ "query": "jane@partner" })).await;
    assert_eq!(found["results"][0]["id"], "aff_xyz");
    let overview = mcp.ok("get_program_overview", json!({})).await;
    assert_eq!(overview["data"]["conversionsCount"], 1, "{overview}");
    assert_eq!(overview["data"]["commissions"], "19.80");
    let team = mcp.ok("list_team_members", json!({})).await;
    assert!(team["data"].as_array().unwrap().is_empty(), "{team}");
    assert!(team["seats"]["included"].as_u64().is_some(), "{team}");
    let stats = mcp.ok("get_stats", json!({})).await;
    assert_eq!(stats["data"]["totalConversions"], 1);

    // Every write tool call is in the audit log through the mcp door.
    let entries = app.request_audit_entries(Some(&m.id), 3).await;
    let mcp_calls: Vec<_> = entries.iter().filter(|e| e.door == "mcp").collect();
    let created = mcp_calls
        .iter()
        .find(|e| e.path.as_deref() == Some("/mcp/tools/create_conversion") && e.error_code.is_none())
        .expect("create_conversion audited");
    assert_eq!(created.operation.as_deref(), Some("conversion.record"), "{created:?}");
    assert_eq!(created.status_code, Some(201));
    assert_eq!(created.api_key_id.as_deref().map(|k| k.starts_with("key_")), Some(true));
    assert!(mcp_calls.iter().any(|e| e.error_code.as_deref() == Some("duplicate")));
    assert!(mcp_calls.iter().any(|e| e.operation.as_deref() == Some("conversion.status")));
    app.stop().await;
}

async fn rights_modes_and_tenants(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let pro = app.merchant("pro").await;
    let m = app.merchant("ultimate").await;
    let other = app.merchant("ultimate").await;
    let camp = app.campaign(&m.key, json!({})).await["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&m.key, &camp, "aff@mcp.test").await;
    let theirs =
        app.campaign(&other.key, json!({ "name": "Theirs" })).await["id"].as_str().unwrap().to_string();
    let their_aff = app.affiliate(&other.key, &theirs, "theirs@mcp.test").await;

    // A read-only (Pro) key reads but cannot write: the core's rights check.
    let read_only = Mcp::new(&app, &pro.key);
    read_only.ok("list_campaigns", json!({})).await;
    for (tool, args) in [
        ("create_campaign", json!({ "name": "X", "commissionType": "percentage", "commissionValue": 10 })),
        ("create_conversion", json!({ "campaignId": camp, "affiliateId": aff, "amount": 10 })),
        ("update_conversion", json!({ "conversionId": "conv_x", "status": "approved" })),
        ("invite_affiliate", json!({ "email": "a@b.test", "campaignId": camp })),
    ] {
        assert_eq!(read_only.err(tool, args).await["code"], "insufficient_permissions", "{tool}");
    }

    // Another merchant's ids are not found, reading or writing.
    let mcp = Mcp::new(&app, &m.key);
    assert_eq!(mcp.err("get_campaign", json!({ "campaignId": theirs })).await["code"], "not_found");
    let e = mcp
        .err("create_conversion", json!({ "campaignId": theirs, "affiliateId": their_aff, "amount": 10 }))
        .await;
    assert_eq!(e["code"], "not_found");
    let e = mcp
        .err(
            "update_affiliate_status",
            json!({ "affiliateId": their_aff, "campaignId": theirs, "action": "reject" }),
        )
        .await;
    assert_eq!(e["code"], "not_found");
    assert_eq!(mcp.err("fetch", json!({ "id": theirs })).await["code"], "not_found");
    assert!(mcp.ok("search", json!({ "query": "Theirs" })).await["results"].as_array().unwrap().is_empty());

    // A test key's conversion is a test conversion, seen by test reads only.
    let test = Mcp::new(&app, &m.test_key);
    let made = test
        .ok(
            "create_conversion",
            json!({ "campaignId": camp, "affiliateId": aff, "amount": 50, "orderId": "t-1" }),
        )
        .await;
    assert_eq!(made["data"]["isTest"], true, "{made}");
    assert_eq!(test.ok("list_conversions", json!({})).await["pagination"]["total"], 1);
    assert_eq!(mcp.ok("list_conversions", json!({})).await["pagination"]["total"], 0);
    // Test keys cannot change what live and test share.
    let e = test
        .err("create_campaign", json!({ "name": "T", "commissionType": "fixed", "commissionValue": 5 }))
        .await;
    assert_eq!(e["code"], "live_key_required");

    // Writes through tools, answered like the API.
    let created = mcp.ok("create_campaign", json!({ "name": "Via MCP", "commissionType": "percentage", "commissionValue": 15, "targetUrl": "https://shop.example.com" })).await;
    let new_id = created["data"]["id"].as_str().unwrap().to_string();
    assert!(created["data"]["joinUrl"].as_str().unwrap().contains("/join/"));
    let updated = mcp.ok("update_campaign", json!({ "campaignId": new_id, "commissionValue": 25 })).await;
    assert_eq!(updated["data"]["changed"], json!(["commissionValue"]));
    assert_eq!(app.get(&m.key, &format!("/api/v1/campaigns/{new_id}")).await.data()["commissionValue"], "25");
    let coupon = json!({ "code": "SAVE10", "campaignId": camp, "affiliateId": aff, "percentOff": 10 });
    assert_eq!(mcp.ok("create_coupon", coupon.clone()).await["created"], true);
    assert_eq!(mcp.ok("create_coupon", coupon).await["created"], false);
    assert_eq!(mcp.ok("list_coupons", json!({ "code": "SAVE10" })).await["pagination"]["total"], 1);
    let rejected = mcp
        .ok("update_affiliate_status", json!({ "affiliateId": aff, "campaignId": camp, "action": "reject" }))
        .await;
    assert_eq!(rejected["data"]["memberships"][0]["status"], "rejected");
    let e =
        mcp.err("create_conversion", json!({ "campaignId": camp, "affiliateId": aff, "amount": 5 })).await;
    assert_eq!(e["code"], "affiliate_not_approved");
    assert_eq!(mcp.ok("list_payouts", json!({})).await["pagination"]["total"], 0);

    // Invitations: the API's operation, its duplicate rule and its 10 a minute per key.
    let invited = mcp.ok("invite_affiliate", json!({ "email": "new@aff.test", "campaignId": camp })).await;
    assert_eq!(invited["data"]["status"], "pending");
    assert_eq!(invited["data"]["emailSent"], true);
    let id = invited["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.get(&m.key, &format!("/api/v1/affiliates/invite/{id}")).await.data()["email"],
        "new@aff.test"
    );
    let e = mcp.err("invite_affiliate", json!({ "email": "new@aff.test", "campaignId": camp })).await;
    assert_eq!(e["code"], "duplicate");
    // Someone already on the campaign (here: rejected on it) cannot be invited to it again.
    let e = mcp.err("invite_affiliate", json!({ "email": "aff@mcp.test", "campaignId": camp })).await;
    assert_eq!(
        (e["code"].as_str(), e["details"]["affiliateId"].as_str()),
        (Some("duplicate"), Some(aff.as_str()))
    );
    let mut limited = None;
    for n in 0..12 {
        let r = mcp
            .call("invite_affiliate", json!({ "email": format!("n{n}@aff.test"), "campaignId": camp }))
            .await;
        if r["isError"] == true {
            limited = Some(r["structuredContent"]["error"]["code"].clone());
            break;
        }
    }
    assert_eq!(limited, Some(json!("rate_limit_exceeded")), "the 10 a minute hold over MCP too");
    app.stop().await;
}

async fn validation_and_hostile_arguments(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let camp = app.campaign(&m.key, json!({})).await["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&m.key, &camp, "v@mcp.test").await;
    let mcp = Mcp::new(&app, &m.key);
    let e = mcp.err("create_conversion", json!({ "affiliateId": aff, "amount": "lots" })).await;
    assert_eq!(e["code"], "validation_error");
    let paths: Vec<String> =
        e["details"].as_array().unwrap().iter().map(|d| d["path"][0].to_string()).collect();
    assert!(
        paths.contains(&"\"campaignId\"".to_string()) && paths.contains(&"\"amount\"".to_string()),
        "{e}"
    );
    let e =
        mcp.err("create_conversion", json!({ "campaignId": camp, "affiliateId": aff, "amount": -5 })).await;
    assert_eq!(e["code"], "validation_error", "{e}");
    // A control character anywhere in the arguments is refused, as in an API body.
    let e = mcp
        .err(
            "create_conversion",
            json!({ "campaignId": camp, "affiliateId": aff, "amount": 5, "orderId": "a\u{0}b" }),
        )
        .await;
    assert_eq!(e["code"], "validation_error");
    assert_eq!(e["details"][0]["path"][0], "orderId");
    let e = mcp.err("list_conversions", json!({ "limit": 1000, "sort": "id;drop" })).await;
    assert_eq!(e["code"], "validation_error");
    assert_eq!(e["details"].as_array().unwrap().len(), 2, "{e}");
    let e = mcp.err("search", json!({ "query": "x" })).await;
    assert_eq!(e["code"], "validation_error");
    let long = "x".repeat(300);
    assert_eq!(mcp.err("get_campaign", json!({ "campaignId": long })).await["code"], "validation_error");
    assert!(mcp.ok("search", json!({ "query": "%_' OR 1=1 --" })).await["results"]
        .as_array()
        .unwrap()
        .is_empty());
    let e =
        mcp.err("update_business", json!({ "businessName": "Acme", "website": "javascript:alert(1)" })).await;
    assert_eq!(e["code"], "validation_error");
    let saved =
        mcp.ok("update_business", json!({ "businessName": "Acme", "website": "acme.example.com" })).await;
    assert_eq!(saved["data"]["website"], "https://acme.example.com");
    let status = mcp.ok("get_setup_status", json!({})).await;
    assert_eq!(status["business"]["needsDetails"], false);
    assert!(status["tracking"]["scriptTag"].as_str().unwrap().contains(&m.id));
    // check_tracking refuses private addresses (the SSRF rule of outbound webhooks).
    let e = mcp.err("check_tracking", json!({ "url": "https://127.0.0.1/" })).await;
    assert_eq!(e["code"], "validation_error", "{e}");
    let e = mcp.err("check_tracking", json!({ "url": "http://example.com/" })).await;
    assert_eq!(e["code"], "validation_error", "{e}");
    let plans = mcp.ok("get_linkjolt_plans", json!({})).await;
    assert_eq!(plans["yourPlan"], "ultimate");
    let plan = mcp
        .ok(
            "plan_affiliate_program",
            json!({ "businessType": "saas", "averageSale": 50, "grossMarginPercent": 80 }),
        )
        .await;
    assert_eq!(plan["suggestion"]["commissionValue"], "25");
    assert_eq!(plan["commissionPerSale"], "12.50");
    assert_eq!(
        mcp.err("plan_affiliate_program", json!({ "businessType": "casino" })).await["code"],
        "validation_error"
    );
    // switch_from_another_tool names every importer there is, with the key's brand filled in.
    let migrate = format!("{}/merchant/migrate", app.base);
    for (tool, arguments) in [
        ("rewardful", "--api-key"),
        ("tolt", "--program-id"),
        ("firstpromoter", "--account-id"),
        ("partnerstack", "--api-key <public key>:<secret key>"),
        ("csv", "--affiliates affiliates.csv"),
    ] {
        let answer = mcp.ok("switch_from_another_tool", json!({ "tool": tool })).await;
        let importer = &answer["importer"];
        assert_eq!(importer["available"], true, "{answer}");
        let command = importer["command"].as_str().unwrap();
        assert!(command.starts_with(&format!("refline import {tool} --brand {} ", m.id)), "{command}");
        assert!(command.contains(arguments), "{command}");
        assert_eq!(importer["migratePage"], migrate.as_str());
        assert_eq!(answer["importers"], json!(["rewardful", "tolt", "firstpromoter", "partnerstack", "csv"]));
        // Only Rewardful brings its terms: every other way starts with a campaign.
        let first = answer["steps"][0].as_str().unwrap();
        assert_eq!(first.contains("create_campaign"), tool != "rewardful", "{tool}: {first}");
    }
    // A tool without an importer: the CSV way and the steps by hand.
    let affonso = mcp.ok("switch_from_another_tool", json!({ "tool": "affonso" })).await;
    assert_eq!(affonso["importer"]["available"], false, "{affonso}");
    assert!(affonso["importer"]["csvCommand"].as_str().unwrap().starts_with("refline import csv --brand"));
    assert!(affonso["steps"].as_array().unwrap().len() > 3, "{affonso}");
    let e = mcp.err("switch_from_another_tool", json!({ "tool": "kajabi" })).await;
    assert_eq!(e["code"], "validation_error");
    // update_business: a business name of at least 2 characters (spec §10.3).
    let e = mcp.err("update_business", json!({ "businessName": " A " })).await;
    assert_eq!(
        (e["code"].as_str(), e["details"][0]["path"][0].as_str()),
        (Some("validation_error"), Some("businessName"))
    );
    assert!(mcp.ok("get_tracking_instructions", json!({})).await["webhookUrls"]["stripe"]
        .as_str()
        .unwrap()
        .contains(&m.id));
    assert_eq!(mcp.ok("get_account", json!({})).await["data"]["keyType"], "live");
    app.stop().await;
}

async fn check_tracking_reads_the_page(engine: Engine) {
    // A local page with the tag (private targets allowed, as a development server would).
    let app = TestApp::start_with(&engine, |c| c.webhooks.allow_private_targets = true).await;
    let m = app.merchant("pro").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = format!("http://{}", listener.local_addr().unwrap());
    let tag =
        format!(r#"<html><script src="{}/api/tracking.js?id={}" async></script></html>"#, app.base, m.id);
    let page = axum::Router::new()
        .route("/with", axum::routing::get(move || async move { axum::response::Html(tag) }))
        .route("/without", axum::routing::get(|| async { axum::response::Html("<html></html>") }));
    tokio::spawn(async move { axum::serve(listener, page).await });
    let mcp = Mcp::new(&app, &m.key);
    let found = mcp.ok("check_tracking", json!({ "url": format!("{site}/with") })).await;
    assert_eq!(found["scriptTagFound"], true, "{found}");
    assert_eq!(found["scriptSeen"], false);
    assert!(found["next"].as_str().unwrap().contains("not run yet"));
    let missing = mcp.ok("check_tracking", json!({ "url": format!("{site}/without") })).await;
    assert_eq!(missing["scriptTagFound"], false);
    // Once the script ran, it is reported seen.
    let script = app.client().get(app.url(&format!("/api/tracking.js?id={}", m.id))).send().await.unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    let mut seen = Value::Null;
    for _ in 0..50 {
        seen = mcp.ok("check_tracking", json!({ "url": format!("{site}/with") })).await;
        if seen["scriptSeen"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seen["scriptSeen"], true, "{seen}");
    let e = mcp.err("check_tracking", json!({ "url": "http://127.0.0.1:1/" })).await;
    assert_eq!(e["code"], "fetch_failed");
    app.stop().await;
}

async fn transport_refusals(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let starter = app.merchant("starter").await;
    let list = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} });
    // Listing needs no key (the no-account tools, mcp_access.rs); a program tool does.
    let campaigns = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": { "name": "list_campaigns", "arguments": {} } });
    let anonymous = Mcp::anonymous(&app);
    let reply = anonymous.post(campaigns.clone(), &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["error"]["code"], "unauthorized", "{}", reply.text);
    let reply = Mcp::new(&app, "lj_pk_not_a_real_key_at_all_000000").post(list.clone(), &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["error"]["message"], "Invalid or revoked API key");
    let reply = Mcp::new(&app, &starter.key).post(campaigns.clone(), &[]).await;
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("plan_required"))
    );
    let mcp = Mcp::new(&app, &m.key);
    // Rate headers, as on the API.
    let response = app
        .client()
        .post(app.url("/mcp"))
        .bearer_auth(&m.key)
        .header("accept", "application/json, text/event-stream")
        .json(&list)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-ratelimit-limit"], "300");
    // DNS rebinding: a foreign Host or browser Origin is refused before the key is looked at.
    let reply = mcp.post(list.clone(), &[("host", "evil.example")]).await;
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_host"))
    );
    let reply = mcp.post(list.clone(), &[("origin", "https://evil.example")]).await;
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_origin"))
    );
    let reply = mcp.post(list.clone(), &[("origin", &app.base)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // Failed authentications are audited through the mcp door.
    app.audit_entry(None, |e| e.door == "mcp" && e.status_code == Some(401)).await;
    app.stop().await;
}

async fn behind_a_reverse_proxy(engine: Engine) {
    // The public URL is the proxy's; the proxy (this machine) connects to the loopback address.
    let app = TestApp::start_with(&engine, |c| {
        c.public_url = "https://refline.example.com".into();
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let m = app.merchant("pro").await;
    let mcp = Mcp::new(&app, &m.key);
    let list = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} });
    let origin = ("origin", "https://refline.example.com");
    for headers in [
        vec![],
        vec![("host", "refline.example.com"), origin],
        vec![("x-forwarded-host", "refline.example.com"), origin],
        vec![("x-forwarded-host", "refline.example.com:443")],
    ] {
        let reply = mcp.post(list.clone(), &headers).await;
        assert_eq!(reply.status, StatusCode::OK, "{headers:?}: {}", reply.text);
    }
    for (headers, code) in [
        (vec![("x-forwarded-host", "evil.example")], "forbidden_host"),
        (vec![("host", "refline.example.com:8443")], "forbidden_host"),
        (vec![("origin", "http://refline.example.com")], "forbidden_origin"),
        (vec![("origin", "https://refline.example.com.evil.example")], "forbidden_origin"),
    ] {
        let reply = mcp.post(list.clone(), &headers).await;
        assert_eq!(
            (reply.status, reply.body["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some(code)),
            "{headers:?}"
        );
    }
    app.stop().await;
}

async fn newest_revision_is_stateless(engine: Engine) {
    // The fixture's ids are fixed: a database of its own on PostgreSQL.
    let app = TestApp::start(&engine.isolated().await).await;
    let m = app.merchant("ultimate").await;
    seed_fixture(&app, &m.id).await;
    let mcp = Mcp::new(&app, &m.key);
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { "name": "refline-test", "version": "1" },
    });
    let headers = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "server/discover")];
    let discover = mcp
        .post(
            json!({ "jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": { "_meta": meta } }),
            &headers,
        )
        .await;
    assert_eq!(discover.status, StatusCode::OK, "{}", discover.text);
    let versions = discover.body["result"]["supportedVersions"].to_string();
    assert!(versions.contains("2026-07-28") && versions.contains("2025-06-18"), "{}", discover.text);
    let headers = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "list_campaigns"),
    ];
    let call = mcp
        .post(
            json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call",
                    "params": { "name": "list_campaigns", "arguments": {}, "_meta": meta } }),
            &headers,
        )
        .await;
    assert_eq!(call.status, StatusCode::OK, "{}", call.text);
    assert_eq!(call.body["result"]["structuredContent"]["data"][0]["id"], "camp_abc", "{}", call.text);
    assert!(call.body["result"].get("isError").is_some());
    app.stop().await;
}

engine_tests!(
    every_tool_has_a_schema,
    seed_flow_through_tools,
    rights_modes_and_tenants,
    validation_and_hostile_arguments,
    check_tracking_reads_the_page,
    transport_refusals,
    behind_a_reverse_proxy,
    newest_revision_is_stateless,
);

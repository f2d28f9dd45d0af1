//! Issue 15's gaps of the MCP door, on both engines: the three no-account tools without a key
//! (and on any plan) while everything else still needs one, the per-address limit of keyless
//! calls; the plan's cap and a capability that has not landed, each said in the tool's answer;
//! `search` over order ids and customers; the team tools.

use refline_domain::Plan;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    engine_tests,
    mcp::Mcp,
    support::{Engine, TestApp},
};

const OPEN: [&str; 3] = ["get_linkjolt_plans", "plan_affiliate_program", "switch_from_another_tool"];

fn call(id: i64, tool: &str, arguments: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": tool, "arguments": arguments } })
}

fn listed_names(body: &Value) -> Vec<String> {
    body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

async fn no_account_tools_need_no_key(engine: Engine) {
    // A database of its own: the audit log read below holds this test's entries only.
    let app = TestApp::start(&engine.isolated().await).await;
    let m = app.merchant("ultimate").await;
    let starter = app.merchant("starter").await;
    let anonymous = Mcp::anonymous(&app);
    let info = anonymous.initialize().await;
    assert_eq!(info["protocolVersion"], "2025-06-18");

    // Without a key: the three no-account tools are listed and answer.
    let listed = anonymous.request("tools/list", json!({})).await;
    assert_eq!(listed_names(&listed), OPEN);
    let plans = anonymous.ok("get_linkjolt_plans", json!({})).await;
    assert_eq!(plans["plans"].as_array().unwrap().len(), 4, "{plans}");
    assert_eq!(plans["yourPlan"], Value::Null);
    let suggested = anonymous.ok("plan_affiliate_program", json!({ "businessType": "saas" })).await;
    assert_eq!(suggested["suggestion"]["commissionType"], "percentage");
    let switch = anonymous.ok("switch_from_another_tool", json!({ "tool": "tolt" })).await;
    assert_eq!(switch["from"], "tolt");
    // Without a key there is no brand to name: the command keeps a placeholder.
    let command = switch["importer"]["command"].as_str().unwrap();
    assert!(command.starts_with("refline import tolt --brand <merchantId> "), "{command}");
    // Their arguments are still checked.
    let wrong = anonymous.err("plan_affiliate_program", json!({ "businessType": "casino" })).await;
    assert_eq!(wrong["code"], "validation_error");

    // Every other tool still needs a key: the API's 401, audited through the mcp door.
    let reply = anonymous.post(call(3, "list_campaigns", json!({})), &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "unauthorized");
    app.audit_entry(None, |e| e.door == "mcp" && e.status_code == Some(401)).await;
    // A batch that hides a keyed call among open ones needs a key too.
    let batch = json!([call(4, "get_linkjolt_plans", json!({})), call(5, "list_campaigns", json!({}))]);
    assert_eq!(anonymous.post(batch, &[]).await.status, StatusCode::UNAUTHORIZED);

    // A key that is sent is checked, even for an open tool.
    let reply = Mcp::new(&app, "lj_pk_not_a_real_key_at_all_000000")
        .post(call(6, "get_linkjolt_plans", json!({})), &[])
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);

    // A Starter key (no API access) gets the open tools, and its plan; nothing else.
    let low = Mcp::new(&app, &starter.key);
    assert_eq!(listed_names(&low.request("tools/list", json!({})).await), OPEN);
    assert_eq!(low.ok("get_linkjolt_plans", json!({})).await["yourPlan"], "starter");
    let reply = low.post(call(7, "list_campaigns", json!({})), &[]).await;
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("plan_required"))
    );

    // A key with API access lists everything.
    let full = Mcp::new(&app, &m.key);
    assert_eq!(
        listed_names(&full.request("tools/list", json!({})).await).len(),
        refline_server::mcp::tool_names().len()
    );
    assert_eq!(full.ok("get_linkjolt_plans", json!({})).await["yourPlan"], "ultimate");

    // The transport's checks hold without a key: a foreign Host is refused first.
    let reply = anonymous.post(call(8, "get_linkjolt_plans", json!({})), &[("host", "evil.example")]).await;
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_host"))
    );
    app.stop().await;
}

async fn keyless_calls_are_limited_per_address(engine: Engine) {
    let app = TestApp::start_with(&engine, |c| {
        c.unauthenticated_per_minute = 3;
        c.limits.set_rate(Plan::Pro, 2);
    })
    .await;
    let anonymous = Mcp::anonymous(&app);
    for n in 0..3 {
        let reply = anonymous.post(call(n, "get_linkjolt_plans", json!({})), &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.body["result"]["isError"], false);
    }
    let reply = anonymous.post(call(9, "get_linkjolt_plans", json!({})), &[]).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "rate_limit_exceeded");
    // A keyed call is counted under its key, not the address.
    let m = app.merchant("ultimate").await;
    Mcp::new(&app, &m.key).ok("get_linkjolt_plans", json!({})).await;

    // A key's limit is the API's: one budget a minute for /api/v1 and /mcp together.
    let pro = app.merchant("pro").await;
    let mcp = Mcp::new(&app, &pro.key);
    mcp.ok("list_campaigns", json!({})).await;
    assert_eq!(app.get(&pro.key, "/api/v1/campaigns").await.status, StatusCode::OK);
    let reply = mcp.post(call(10, "list_campaigns", json!({})), &[]).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "rate_limit_exceeded");
    app.stop().await;
}

async fn search_finds_orders_and_customers(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let other = app.merchant("ultimate").await;
    let camp = app.campaign(&m.key, json!({})).await["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&m.key, &camp, "aff@search.test").await;
    let sale =
        json!({ "orderId": "ORD-77_81", "customerName": "Grace Hopper", "customerEmail": "grace@navy.test" });
    let made = app.convert(&m.key, &camp, &aff, json!(120), sale).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let id = made.data()["id"].as_str().unwrap().to_string();
    let test_sale = json!({ "orderId": "ORD-77_99", "customerName": "Grace Test" });
    assert_eq!(app.convert(&m.test_key, &camp, &aff, json!(5), test_sale).await.status, StatusCode::CREATED);
    let their_camp = app.campaign(&other.key, json!({})).await["id"].as_str().unwrap().to_string();
    let their_aff = app.affiliate(&other.key, &their_camp, "theirs@search.test").await;
    let theirs = json!({ "orderId": "ORD-77_00", "customerName": "Grace Other" });
    assert_eq!(
        app.convert(&other.key, &their_camp, &their_aff, json!(9), theirs).await.status,
        StatusCode::CREATED
    );

    let mcp = Mcp::new(&app, &m.key);
    let conversions = |found: &Value| -> Vec<String> {
        found["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == "conversion")
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    // By order id (any case, `_` literal), customer name and customer email: the live sale only.
    for query in ["ord-77_8", "hopper", "GRACE@NAVY", "Grace"] {
        let found = mcp.ok("search", json!({ "query": query })).await;
        assert_eq!(conversions(&found), vec![id.clone()], "{query}: {found}");
    }
    let found = mcp.ok("search", json!({ "query": "hopper" })).await;
    let hit =
        found["results"].as_array().unwrap().iter().find(|r| r["type"] == "conversion").unwrap().clone();
    assert_eq!(
        (hit["title"].as_str(), hit["customerName"].as_str()),
        (Some("ORD-77_81"), Some("Grace Hopper"))
    );
    // `_` and `%` match themselves only.
    assert!(conversions(&mcp.ok("search", json!({ "query": "ORD-77%" })).await).is_empty());
    assert!(conversions(&mcp.ok("search", json!({ "query": "ORD_77" })).await).is_empty());
    // The id itself still finds it, once.
    assert_eq!(conversions(&mcp.ok("search", json!({ "query": id })).await), vec![id.clone()]);
    // A test key searches test conversions.
    let test = Mcp::new(&app, &m.test_key);
    let found = test.ok("search", json!({ "query": "grace" })).await;
    assert_eq!(found["results"].as_array().unwrap().iter().filter(|r| r["type"] == "conversion").count(), 1);
    assert_eq!(found["results"][0]["title"], "ORD-77_99", "{found}");
    // Hostile text is only text.
    let hostile = mcp.ok("search", json!({ "query": "' OR 1=1 --" })).await;
    assert!(conversions(&hostile).is_empty(), "{hostile}");
    app.stop().await;
}

async fn team_tools_run_the_team(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("ultimate").await;
    let pro = app.merchant("pro").await;
    let other = app.merchant("ultimate").await;
    let mcp = Mcp::new(&app, &m.key);

    let invited = mcp
        .ok(
            "invite_team_member",
            json!({ "email": "Ada@Team.test", "role": "member", "managePayouts": true }),
        )
        .await;
    let member = &invited["data"];
    assert_eq!(member["email"], "ada@team.test", "{invited}");
    assert_eq!((member["role"].as_str(), member["managePayouts"].as_bool()), (Some("member"), Some(true)));
    assert_eq!(member["manageApiKeys"], false);
    assert_eq!(member["acceptedAt"], Value::Null);
    let user_id = member["userId"].as_str().unwrap().to_string();
    let team = mcp.ok("list_team_members", json!({})).await;
    assert_eq!(team["seats"]["taken"], 1, "{team}");
    let e = mcp.err("invite_team_member", json!({ "email": "ada@team.test", "role": "admin" })).await;
    assert_eq!(e["code"], "duplicate");
    let e = mcp.err("invite_team_member", json!({ "email": "x@team.test", "role": "owner" })).await;
    assert_eq!(e["code"], "validation_error");

    let changed = mcp.ok("update_team_member", json!({ "userId": user_id, "role": "admin" })).await;
    assert_eq!(changed["data"]["role"], "admin");
    assert_eq!(
        (changed["data"]["managePayouts"].as_bool(), changed["data"]["manageApiKeys"].as_bool()),
        (Some(true), Some(true))
    );

    // Rights: a read-only key and a test key cannot change the team; another brand's member is
    // not found.
    let read_only = Mcp::new(&app, &pro.key);
    let e = read_only.err("invite_team_member", json!({ "email": "y@team.test", "role": "member" })).await;
    assert_eq!(e["code"], "insufficient_permissions");
    let test = Mcp::new(&app, &m.test_key);
    let e = test.err("remove_team_member", json!({ "userId": user_id })).await;
    assert_eq!(e["code"], "live_key_required");
    let e = Mcp::new(&app, &other.key).err("remove_team_member", json!({ "userId": user_id })).await;
    assert_eq!(e["code"], "not_found");

    let removed = mcp.ok("remove_team_member", json!({ "userId": user_id })).await;
    assert_eq!(removed["data"]["removed"], true);
    assert!(mcp.ok("list_team_members", json!({})).await["data"].as_array().unwrap().is_empty());
    assert_eq!(mcp.err("remove_team_member", json!({ "userId": user_id })).await["code"], "not_found");

    // Each change is one audit entry through the mcp door, with the core's operation.
    // (Entries are written in the background: wait until the last one is there.)
    let has = |entries: &[refline_store::AuditEntry], operation: &str| {
        entries.iter().any(|e| e.door == "mcp" && e.operation.as_deref() == Some(operation))
    };
    let mut entries = app.audit_entries(Some(&m.id), 3).await;
    for _ in 0..50 {
        if has(&entries, "team.remove") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        entries = app.audit_entries(Some(&m.id), 3).await;
    }
    for operation in ["team.invite", "team.update", "team.remove"] {
        assert!(has(&entries, operation), "{operation}: {entries:?}");
    }
    app.stop().await;
}

async fn caps_and_missing_capabilities_say_so(engine: Engine) {
    // Ultimate's monthly cap lowered to 150.00 so a few sales reach it.
    let app = TestApp::start_with(&engine, |c| c.limits.set_cap(Plan::Ultimate, Some(15_000))).await;
    let m = app.merchant("ultimate").await;
    let camp = app.campaign(&m.key, json!({})).await["id"].as_str().unwrap().to_string();
    let aff = app.affiliate(&m.key, &camp, "capped@mcp.test").await;
    let mcp = Mcp::new(&app, &m.key);
    let sale = |amount: i64| json!({ "campaignId": camp, "affiliateId": aff, "amount": amount });
    mcp.ok("create_conversion", sale(100)).await;
    mcp.ok("create_conversion", sale(100)).await;
    // Past the cap: the tool error carries the code and says what to do.
    let e = mcp.err("create_conversion", sale(1)).await;
    assert_eq!(e["code"], "earnings_limit_reached", "{e}");
    assert!(e["next"].as_str().unwrap().contains("get_linkjolt_plans"), "{e}");
    // Test keys skip the cap, as on the API.
    let test = Mcp::new(&app, &m.test_key);
    assert_eq!(test.ok("create_conversion", sale(1)).await["data"]["isTest"], true);

    // Creating a code in the processor has not landed: the tool says so on the field.
    let coupon = json!({ "code": "NEW10", "campaignId": camp, "affiliateId": aff, "createInProvider": true });
    let e = mcp.err("create_coupon", coupon).await;
    assert_eq!(
        (e["code"].as_str(), e["details"][0]["path"][0].as_str()),
        (Some("validation_error"), Some("createInProvider"))
    );
    assert!(e["details"][0]["message"].as_str().unwrap().contains("not supported yet"), "{e}");
    app.stop().await;
}

engine_tests!(
    no_account_tools_need_no_key,
    caps_and_missing_capabilities_say_so,
    keyless_calls_are_limited_per_address,
    search_finds_orders_and_customers,
    team_tools_run_the_team,
);

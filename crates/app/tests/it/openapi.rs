//! The OpenAPI contract (`GET /api/v1/openapi.json`, issue 18): a valid 3.1 document whose
//! operations are exactly the routes the server answers, and its HTML rendering at `/api/docs`,
//! served from the binary. Schemathesis (`scripts/schemathesis.sh`) checks the answers against
//! the schemas; these tests check the document's shape and its coverage.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    engine_tests,
    support::{Engine, TestApp},
};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const DOCUMENT: &str = "/api/v1/openapi.json";

async fn document(app: &TestApp) -> Value {
    let reply = app.send(Method::GET, None, DOCUMENT, None).await;
    assert_eq!(reply.status, StatusCode::OK, "served without a key: {}", reply.text);
    assert!(reply.header("content-type").unwrap_or("").starts_with("application/json"));
    reply.body
}

/// `(method, path)` of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                found.insert((method.to_string(), path.clone()));
            }
        }
    }
    found
}

/// Every `$ref` anywhere in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.push(target);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

async fn document_is_openapi_3_1_and_every_ref_resolves(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3.1."), "{}", doc["openapi"]);
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());

    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 50, "schemas are shared by reference");
    for target in found {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {target}"));
        assert!(doc.pointer(pointer).is_some(), "$ref {target} does not resolve");
    }

    let mut ids = BTreeSet::new();
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][&method];
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no operationId"));
        assert!(ids.insert(id.to_string()), "operationId {id} twice");
        assert!(op["responses"].as_object().is_some_and(|r| r.keys().any(|s| s.starts_with('2'))));
        // Every `{name}` of the path is a declared path parameter.
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        let in_path: BTreeSet<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        assert_eq!(declared, in_path, "{method} {path}");
        if path == DOCUMENT {
            assert_eq!(op["security"], json!([]), "the document is public");
            continue;
        }
        // The conventions every API operation carries.
        for (status, code) in
            [("401", "unauthorized"), ("429", "rate_limit_exceeded"), ("500", "internal_error")]
        {
            let codes = &op["responses"][status]["content"]["application/json"]["schema"]["properties"]
                ["error"]["properties"]["code"]["enum"];
            assert!(codes.as_array().is_some_and(|c| c.contains(&json!(code))), "{method} {path} {status}");
        }
        assert!(
            op["responses"]["200"]["headers"]["X-RateLimit-Limit"].is_object()
                || op["responses"]["201"]["headers"]["X-RateLimit-Limit"].is_object()
                || op["responses"]["202"]["headers"]["X-RateLimit-Limit"].is_object()
        );
        assert!(op["responses"]["429"]["headers"]["Retry-After"].is_object());
        let idempotent = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
        assert_eq!(idempotent, method == "post" || method == "patch", "{method} {path}: Idempotency-Key");
        assert!(path.starts_with("/api/v1/"), "{path}");
    }
    assert!(ids.len() >= 56, "every /api/v1 operation and the document: {}", ids.len());
    app.stop().await;
}

/// `path` with each `{parameter}` filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "id_that_does_not_exist" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The router's own "no such route" answers (not an operation's 404 for an unknown id).
fn unrouted(status: StatusCode, body: &Value) -> bool {
    status == StatusCode::METHOD_NOT_ALLOWED
        || (status == StatusCode::NOT_FOUND && body["error"]["message"] == "No such endpoint")
}

async fn documented_operations_are_exactly_the_routes(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let m = app.merchant("scale").await;
    let doc = document(&app).await;
    let documented = operations(&doc);
    // Every documented operation is routed.
    for (method, path) in &documented {
        let verb = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let body = matches!(method.as_str(), "post" | "patch").then(|| json!({}));
        let reply = app.send(verb, Some(&m.key), &concrete(path), body.as_ref()).await;
        assert!(
            !unrouted(reply.status, &reply.body),
            "{method} {path} is documented but not routed: {}",
            reply.text
        );
        assert!(reply.status.as_u16() < 500, "{method} {path}: {}", reply.text);
    }
    // And no other method is routed on a documented path.
    let paths: BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if documented.contains(&(method.to_string(), path.clone())) {
                continue;
            }
            let verb = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = app.send(verb, Some(&m.key), &concrete(path), None).await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is routed but not documented"
            );
        }
    }
    app.stop().await;
}

async fn docs_page_renders_the_document_without_a_cdn(engine: Engine) {
    let app = TestApp::start(&engine).await;
    let page = app.send(Method::GET, None, "/api/docs/", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").unwrap_or("").starts_with("text/html"));
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    assert!(!page.text.contains("://"), "every asset is served from the binary: {}", page.text);
    let init = app.send(Method::GET, None, "/api/docs/swagger-initializer.js", None).await;
    assert_eq!(init.status, StatusCode::OK);
    assert!(init.text.contains(DOCUMENT), "{}", init.text);
    let bundle = app.send(Method::GET, None, "/api/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(bundle.text.len() > 100_000, "the vendored renderer");
    app.stop().await;
}

engine_tests!(
    document_is_openapi_3_1_and_every_ref_resolves,
    documented_operations_are_exactly_the_routes,
    docs_page_renders_the_document_without_a_cdn,
);

/// Routes reach the router only through `utoipa_axum::routes!`, which adds each with its path
/// item: a plain axum route in the API's files would exist undocumented.
#[test]
fn api_routes_are_added_only_with_their_path_items() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src/api");
    let mut files = vec![dir.clone()];
    let mut checked = 0;
    while let Some(entry) = files.pop() {
        if entry.is_dir() {
            files.extend(std::fs::read_dir(&entry).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&entry).unwrap();
        for (n, line) in text.lines().enumerate() {
            let plain_router =
                line.match_indices("Router::new()").any(|(i, _)| !line[..i].ends_with("OpenApi"));
            let plain_route = [".route(", ".route_service(", ".nest_service(", "routing::"]
                .iter()
                .any(|p| line.contains(p));
            assert!(!plain_router && !plain_route, "{}:{}: {line}", entry.display(), n + 1);
        }
        checked += 1;
    }
    assert!(checked > 15);
}

//! What every `/api/v1` operation shares, added to the generated document in one place: the
//! bearer key, the `X-RateLimit-*` headers on every answer (and `Retry-After` on 429),
//! `Idempotency-Key` on `POST` and `PATCH` (what `http::idempotency` honours), the error answers
//! each operation can give with their codes (the envelope as a component), the links
//! Schemathesis follows from a created object to its reads and changes, and the document's own
//! path item.

use serde_json::{json, Map, Value};

use super::DOCUMENT_PATH;

/// An HTTP status and an `error.code` answered with it.
type Code = (u16, &'static str);

/// Error codes beyond the ones every operation of its kind shares (see [`error_codes`]):
/// method, path under `/api/v1`, codes.
const EXTRA_CODES: &[(&str, &str, &[Code])] = &[
    ("post", "/campaigns", &[(403, "live_key_required")]),
    ("patch", "/campaigns/{id}", &[(403, "live_key_required")]),
    ("post", "/affiliates", &[(409, "duplicate")]),
    ("patch", "/affiliates/{id}", &[(409, "invalid_transition")]),
    ("post", "/affiliates/invite", &[(409, "duplicate"), (409, "invalid_transition")]),
    ("delete", "/affiliates/invite/{id}", &[(409, "invalid_transition")]),
    (
        "post",
        "/conversions",
        &[
            (400, "affiliate_not_approved"),
            (400, "campaign_inactive"),
            (403, "earnings_limit_reached"),
            (409, "duplicate"),
            (422, "recurring_commission_disabled"),
            (422, "recurring_limit_reached"),
        ],
    ),
    ("patch", "/conversions/{id}", &[(409, "invalid_transition"), (422, "commission_above_sale")]),
    ("post", "/links", &[(409, "code_taken")]),
    ("post", "/coupons", &[(409, "duplicate")]),
    ("post", "/integrations", &[(403, "live_key_required"), (409, "duplicate")]),
    ("patch", "/integrations/{id}", &[(403, "live_key_required")]),
    ("delete", "/integrations/{id}", &[(403, "live_key_required")]),
    ("post", "/webhooks/{id}/test", &[(409, "webhook_disabled")]),
    ("post", "/webhooks/{id}/deliveries/{delivery_id}/retry", &[(409, "delivery_in_progress")]),
    ("post", "/payouts/{id}/complete", &[(409, "invalid_transition")]),
    ("post", "/payouts/{id}/fail", &[(409, "invalid_transition")]),
    ("post", "/payouts/{id}/cancel", &[(409, "invalid_transition")]),
    ("post", "/payouts/complete", &[(409, "invalid_transition")]),
    ("post", "/payouts/send", &[(422, "stripe_not_configured")]),
    // An `exportId` that names no export of this merchant.
    ("get", "/payouts/export", &[(404, "not_found")]),
    ("patch", "/settings", &[(403, "live_key_required")]),
];

/// From a 201 to the reads and changes of what it created (`$response.body#/data/id`).
const LINKS: &[(&str, &[(&str, &str)])] = &[
    ("/campaigns", &[("getCampaign", "id"), ("updateCampaign", "id")]),
    ("/affiliates", &[("getAffiliate", "id"), ("updateAffiliate", "id")]),
    ("/affiliates/invite", &[("getInvitation", "id"), ("revokeInvitation", "id")]),
    ("/conversions", &[("getConversion", "id"), ("updateConversion", "id")]),
    ("/links", &[("getLink", "id"), ("deleteLink", "id")]),
    ("/coupons", &[("getCoupon", "id"), ("deleteCoupon", "id")]),
    (
        "/integrations",
        &[("getIntegration", "id"), ("updateIntegration", "id"), ("listIntegrationDeliveries", "id")],
    ),
    ("/webhooks", &[("getWebhook", "id"), ("updateWebhook", "id"), ("listWebhookDeliveries", "id")]),
];

/// Every error status and code an operation can answer: what the request plumbing gives any
/// operation of its kind, then [`EXTRA_CODES`].
pub fn error_codes(method: &str, path: &str, has_body: bool) -> Vec<Code> {
    let write = method != "get";
    // The edge refuses control characters in the path or query (400) and the reader a
    // malformed query or body; the key (401), the limit (429) and the plan (403) come first.
    let mut codes = vec![
        (400, "validation_error"),
        (401, "unauthorized"),
        (403, "plan_required"),
        (429, "rate_limit_exceeded"),
        (500, "internal_error"),
        (503, "service_unavailable"),
    ];
    if write {
        codes.push((403, "insufficient_permissions"));
    }
    if write || path.contains('{') {
        codes.push((404, "not_found"));
    }
    if matches!(method, "post" | "patch") {
        codes.push((409, "idempotency_key_in_use"));
        codes.push((422, "idempotency_key_reused"));
    }
    if has_body {
        codes.push((408, "request_timeout"));
        codes.push((413, "payload_too_large"));
    }
    for (m, p, extra) in EXTRA_CODES {
        if *m == method && *p == path {
            codes.extend_from_slice(extra);
        }
    }
    codes.sort_unstable();
    codes.dedup();
    codes
}

fn rate_headers() -> Value {
    let header = |description: &str| json!({ "description": description, "schema": { "type": "integer" } });
    json!({
        "X-RateLimit-Limit": header("Requests allowed per minute"),
        "X-RateLimit-Remaining": header("Requests left in the current minute, after this one"),
        "X-RateLimit-Reset": header("Unix time in seconds when the window resets"),
    })
}

/// One error answer: the envelope, its `code` limited to `codes`.
fn error_response(status: u16, codes: &[&str]) -> Value {
    let mut headers = rate_headers();
    if status == 429 {
        headers["Retry-After"] = json!({ "description": "Seconds until the window resets (at least 1)", "schema": { "type": "integer" } });
    }
    let list: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    json!({
        "description": list.join(", "),
        "headers": headers,
        "content": { "application/json": { "schema": {
            "allOf": [{ "$ref": "#/components/schemas/ErrorEnvelope" }],
            "properties": { "error": { "properties": { "code": { "enum": codes } } } },
        }}},
    })
}

fn idempotency_header() -> Value {
    json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "1–255 visible ASCII characters. A repeat with the same method, path and \
            body within 24 h replays the first answer (`Idempotent-Replayed: true`); another \
            body is 422 `idempotency_key_reused`; one still running is 409 \
            `idempotency_key_in_use`.",
        "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7E]([\\x20-\\x7E]*[\\x21-\\x7E])?$" },
    })
}

fn operation(method: &str, api_path: &str, op: &mut Map<String, Value>) {
    let has_body = op.contains_key("requestBody");
    if matches!(method, "post" | "patch") {
        let params = op.entry("parameters").or_insert_with(|| json!([]));
        if let Some(list) = params.as_array_mut() {
            list.push(idempotency_header());
        }
    }
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { return };
    for (status, response) in responses.iter_mut() {
        response["headers"] = rate_headers();
        if response["description"].as_str().is_none_or(str::is_empty) {
            let said = match status.as_str() {
                "201" => "Created",
                "202" => "Accepted: queued to be processed again",
                _ => "OK",
            };
            response["description"] = json!(said);
        }
    }
    let codes = error_codes(method, api_path, has_body);
    let mut statuses: Vec<u16> = codes.iter().map(|(s, _)| *s).collect();
    statuses.dedup();
    for status in statuses {
        let of: Vec<&str> = codes.iter().filter(|(s, _)| *s == status).map(|(_, c)| *c).collect();
        responses.insert(status.to_string(), error_response(status, &of));
    }
    for (created_at, targets) in LINKS {
        if method == "post" && *created_at == api_path {
            let links: Map<String, Value> = targets
                .iter()
                .map(|(target, param)| {
                    let link =
                        json!({ "operationId": target, "parameters": { *param: "$response.body#/data/id" } });
                    (target.to_string(), link)
                })
                .collect();
            if let Some(created) = responses.get_mut("201") {
                created["links"] = Value::Object(links);
            }
        }
    }
}

/// Adds the conventions to the generated document (`doc` is utoipa's output as JSON).
pub fn apply(doc: &mut Value) {
    doc["components"]["securitySchemes"] = json!({
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `lj_pk_…` (live) or `lj_pk_test_…` (test)",
        }
    });
    doc["security"] = json!([{ "bearer": [] }]);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let api_path = path.strip_prefix("/api/v1").unwrap_or(path).to_string();
            let Some(item) = item.as_object_mut() else { continue };
            for (method, op) in item.iter_mut() {
                if let Some(op) = op.as_object_mut() {
                    operation(method, &api_path, op);
                }
            }
        }
        paths.insert(
            DOCUMENT_PATH.to_string(),
            json!({ "get": {
                "tags": ["account"],
                "summary": "This document",
                "operationId": "getOpenApi",
                "security": [],
                "responses": { "200": {
                    "description": "The OpenAPI 3.1 document of /api/v1",
                    "content": { "application/json": { "schema": { "type": "object" } } },
                }},
            }}),
        );
    }
}

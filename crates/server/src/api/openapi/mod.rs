//! The OpenAPI 3.1 contract of `/api/v1`, built from the same table as the router
//! (`api::routes`: every route is added with `utoipa_axum::routes!` from its handler's
//! `#[utoipa::path]`), served without a key at `GET /api/v1/openapi.json`, and rendered by the
//! vendored Swagger UI at `GET /api/docs`.
//!
//! The schema types live here, one file per group of resources; they describe what the
//! handlers render with `serde_json` and are checked against the running server by the
//! contract test (`tests/it/openapi.rs`) and Schemathesis (`scripts/schemathesis.sh`). What
//! every operation shares (the key, the rate-limit headers, `Idempotency-Key`, the error answers
//! and their codes) is added once by `conventions`.

pub mod common;
mod conventions;
pub mod integrations;
pub mod payouts;
pub mod program;
pub mod tracking;

use std::sync::OnceLock;

use axum::Router;
use serde_json::Value;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";
/// Where its HTML rendering is served.
pub const UI_PATH: &str = "/api/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Refline API",
        version = "1",
        description = "Refline's REST API, wire-compatible with LinkJolt's. Every operation takes \
            `Authorization: Bearer lj_pk_…` (live) or `lj_pk_test_…` (test); errors share one \
            envelope; lists share one pagination envelope; money in answers is a decimal string \
            with the currency's decimals unless noted. The reference is docs/API.md."
    ),
    components(schemas(common::ErrorEnvelope, common::ErrorBody, common::Issue)),
    tags(
        (name = "account", description = "The key and its merchant"),
        (name = "campaigns", description = "Campaigns and their commission terms"),
        (name = "affiliates", description = "Affiliates, memberships and invitations"),
        (name = "conversions", description = "Sales and their commissions"),
        (name = "clicks", description = "Recorded clicks"),
        (name = "links", description = "Short links"),
        (name = "integrations", description = "Payment-processor connections and their deliveries"),
        (name = "coupons", description = "Coupons that credit affiliates"),
        (name = "webhooks", description = "Outbound webhook endpoints and deliveries"),
        (name = "payouts", description = "Payouts, balances and payout settings"),
        (name = "reports", description = "Headline numbers"),
    )
)]
struct ApiDoc;

/// The document as JSON (built once: it depends on the code only).
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.merge(OpenApiRouter::<AppState>::new().nest("/api/v1", super::routes()).into_openapi());
        let mut json = serde_json::to_value(&doc).unwrap_or_default();
        conventions::apply(&mut json);
        json
    })
}

/// `GET /api/v1/openapi.json` and `GET /api/docs` (no key: the contract is public).
pub fn router() -> Router<AppState> {
    SwaggerUi::new(UI_PATH).external_url_unchecked(DOCUMENT_PATH, document().clone()).into()
}

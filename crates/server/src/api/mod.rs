//! The `/api/v1` REST API: one router per resource, behind authentication, idempotency and the
//! audit log.

pub mod affiliates;
pub mod campaigns;
pub mod clicks;
pub mod conversions;
pub mod coupons;
pub mod integration_deliveries;
pub mod integration_input;
pub mod integrations;
pub mod invitations;
pub mod links;
pub mod list;
pub mod me;
pub mod openapi;
pub mod payouts;
pub mod settings;
pub mod stats;
pub mod webhooks;

use axum::{http::StatusCode, middleware, response::IntoResponse, Router};
use utoipa_axum::router::OpenApiRouter;

use crate::{
    error::ApiError,
    http::{audit::audit_requests, auth::authenticate, idempotency::idempotent_writes},
    state::AppState,
};

/// Every `/api/v1` operation with its path item: the one table both the router and the OpenAPI
/// document (`openapi::document`) are built from, so a route cannot exist undocumented. Paths
/// are relative to `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(me::router())
        .merge(campaigns::router())
        .merge(affiliates::router())
        .merge(invitations::router())
        .merge(conversions::router())
        .merge(clicks::router())
        .merge(links::router())
        .merge(integration_deliveries::router())
        .merge(integrations::router())
        .merge(coupons::router())
        .merge(stats::router())
        .merge(webhooks::router())
        .merge(payouts::router())
        .merge(settings::router())
}

/// `/api/v1` with its middleware: audit (outermost, sees the final answer) → authentication and
/// limits → idempotency → handlers. What a write sets off (waking workers, clearing caches) is
/// the core operation's business, not a middleware's.
pub fn router(state: AppState) -> Router<AppState> {
    let (routes, _) = routes().split_for_parts();
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), idempotent_writes))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(middleware::from_fn_with_state(state, audit_requests))
}

/// 404 in the API envelope.
pub async fn not_found() -> impl IntoResponse {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such endpoint")
}

/// 405 in the API envelope.
pub async fn method_not_allowed() -> impl IntoResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not support that method",
    )
}

//! Inbound webhooks: what payment processors send to Refline. The HTTP side lives here (the
//! receivers that verify and store deliveries, and GoPay's payment lookup); the inbox worker that
//! turns them into conversions, renewals, trials, refunds and chargebacks is the core's
//! `refline_core::inbound`. (Outbound webhooks, Refline's events to merchants, are `outbound`.)
//!
//! The receiver's only job is to verify the raw bytes and store the delivery in the inbox in
//! the same request, then answer 200: a crash after the answer loses nothing, and a redelivery
//! of a stored event is recognised by its event id. Everything else happens in the worker.

pub mod gopay;
pub mod receive;

// What a stored delivery does lives in the core of operations; these names stay so existing
// paths keep working.
pub use refline_core::inbound::{amounts, attribution, links, process, worker};

use axum::{middleware, routing::any, Router};

use crate::{http::audit::audit_deliveries, state::AppState};

/// Receiver routes: `/api/webhooks/<provider>/merchant/<merchantId>` (the Stripe path is the one
/// LinkJolt documents; the others follow its pattern).
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/webhooks/{provider}/merchant/{merchant_id}", any(receive::receive))
        // Every delivery and every refused signature is in the audit log.
        .layer(middleware::from_fn_with_state(state, audit_deliveries))
}

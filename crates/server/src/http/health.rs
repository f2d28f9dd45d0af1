//! Probes for load balancers and orchestrators.
//!
//! - `/healthz`: the process is alive and answering; touches nothing else, so a slow or down
//!   database never makes a supervisor restart healthy processes.
//! - `/readyz`: this node can serve: the database answers within 5 s and has every migration
//!   this binary carries (a node started against an older schema, or one whose database went
//!   away, is taken out of the balancer's rotation rather than answering 5xx). 503 otherwise,
//!   in the error envelope with `details.reason`.

use std::time::Duration;

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use crate::{error::ApiError, state::AppState};

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// `GET /healthz`.
pub async fn healthz(State(state): State<AppState>) -> Response {
    Json(json!({ "status": "ok", "engine": state.store.engine() })).into_response()
}

/// `GET /readyz`.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let not_ready = |reason: &str, message: String, extra: serde_json::Value| {
        let mut details = json!({ "reason": reason });
        if let (Some(d), Some(e)) = (details.as_object_mut(), extra.as_object()) {
            d.extend(e.clone());
        }
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message)
            .with_details(details)
            .into_response()
    };
    match tokio::time::timeout(READY_TIMEOUT, state.store.readiness()).await {
        Ok(Ok(readiness)) if readiness.is_current() => Json(json!({
            "status": "ready",
            "engine": state.store.engine(),
            "migrations": { "applied": readiness.applied, "expected": readiness.expected },
        }))
        .into_response(),
        Ok(Ok(readiness)) => not_ready(
            "migrations_pending",
            format!(
                "The database lacks {} of this binary's migrations; restart a node of this version to apply them",
                readiness.missing.len()
            ),
            json!({ "missing": readiness.missing }),
        ),
        Ok(Err(err)) => {
            tracing::warn!(%err, "readiness: database query failed");
            not_ready("database_error", "The database cannot be queried".into(), json!({}))
        }
        Err(_) => not_ready(
            "database_timeout",
            format!("The database did not answer within {} s", READY_TIMEOUT.as_secs()),
            json!({}),
        ),
    }
}

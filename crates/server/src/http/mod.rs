//! HTTP plumbing shared by all API routes: body parsing, auth, limits, audit, idempotency.

pub mod audit;
pub mod auth;
pub mod body;
pub mod client_ip;
pub mod connection;
pub mod edge;
pub mod fast_lane;
pub mod health;
pub mod idempotency;
pub mod key_cache;
pub mod rate_limit;
pub mod request_id;

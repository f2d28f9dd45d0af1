//! Outbound webhooks to merchants: settings, target (SSRF) checks, signing, sending, and the
//! delivery worker. Events enter the outbox in the store, in the transaction of their change.

pub mod dispatch;
pub mod settings;
pub mod sign;
pub mod target;
pub mod worker;

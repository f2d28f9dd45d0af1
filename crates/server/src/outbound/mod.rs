//! Outbound webhooks: Refline's events sent to merchants' endpoints — settings, target (SSRF)
//! checks, signing, sending, and the delivery worker. Events enter the outbox in the store, in
//! the transaction of their change. (Inbound webhooks, from payment processors, are `inbound`.)

pub mod dispatch;
pub mod settings;
pub mod sign;
pub mod target;
pub mod worker;

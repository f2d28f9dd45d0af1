//! Payout rails, the HTTP side: Stripe transfers (the core's `TransferRail`) and the automatic
//! payout schedule. What a payout is and when it is due is the core's (`refline_core::payouts`).

pub mod schedule;
pub mod stripe;

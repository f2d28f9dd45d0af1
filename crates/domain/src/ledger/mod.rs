//! The commission ledger: every change to what an affiliate has earned or been paid is an
//! append-only entry, and every balance is derived from the entries.
//!
//! A commission (one conversion) carries two running totals, both sums of its entries:
//! **earned** (accrued, adjusted, reversed, clawback) and **paid** (paid, returned). Their
//! difference, the *outstanding* amount, is what is still owed to the affiliate (positive) or
//! owed back by the affiliate (negative, after a refund of a paid commission). Which balance the
//! outstanding amount counts in (pending, on hold, payable, in a payout, owed back) follows from
//! the conversion's status, its hold and whether an open payout holds it ([`bucket`]). Amounts of
//! different currencies are never added: [`Balances`] keeps one [`Balance`] per currency.
//!
//! Pure: no I/O, no clock (the caller passes `now`).

mod balance;
mod entry;
mod payout;

pub use balance::{bucket, Balance, Balances, Bucket};
pub use entry::{change_entry, expected_earned, CommissionTotals, EntryKind};
pub use payout::{plan_payouts, Candidate, PayoutPlan, PayoutStatus, WaitingPayout};

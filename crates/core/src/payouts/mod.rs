//! Payouts and the commission ledger: settings, payout runs, a payout's life, balances, exports
//! and `ledger verify`. The ledger's rules are `refline_domain::ledger`; these operations read
//! and write through the store, which appends ledger entries in the same transaction as each
//! change of money.

pub mod balances;
pub mod export;
pub mod lifecycle;
pub mod method;
pub mod reads;
pub mod render;
pub mod run;
pub mod settings;
pub mod stripe;
pub mod verify;

pub use method::PayoutMethod;

//! Pure business rules of Refline: money, rates, commissions, tiers, recurring
//! limits, status lifecycles, plans, API keys, fraud scoring, the commission ledger,
//! calendar maths and email validation.
//!
//! Nothing in this crate performs I/O, reads a clock or draws random numbers, and
//! no floating point is used anywhere near money: amounts are integer minor units
//! (`i64`) and rates are integer fractions, so every result is exact and
//! reproducible. Every module is public and also re-exported at the crate root, so
//! both `refline_domain::money::parse_amount` and `refline_domain::parse_amount`
//! work.

pub mod api_key;
pub mod calendar;
pub mod commission;
mod decimal;
pub mod email;
pub mod fraud;
pub mod ledger;
pub mod lifecycle;
pub mod masking;
pub mod mode;
pub mod money;
pub mod ordered_id;
pub mod plan;
pub mod rate;
pub mod recurring;
pub mod refund;
#[cfg(feature = "sqlx")]
mod stored;
pub mod team;
pub mod text;
pub mod tracking;
pub mod trial;
pub mod webhook;

pub use api_key::*;
pub use calendar::*;
pub use commission::*;
pub use email::*;
pub use fraud::*;
pub use lifecycle::*;
pub use masking::*;
pub use mode::*;
pub use money::*;
pub use ordered_id::*;
pub use plan::*;
pub use rate::*;
pub use recurring::*;
pub use refund::*;
pub use team::*;
pub use text::*;
pub use tracking::*;
pub use trial::*;
pub use webhook::*;

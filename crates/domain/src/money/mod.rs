//! Money: ISO 4217 currencies with their minor-unit exponents, and exact
//! conversion between JSON number literals and integer minor units.

mod amount;
mod currency;

pub use amount::*;
pub use currency::*;

//! Money: ISO 4217 currencies with their minor-unit exponents, exact
//! conversion between JSON number literals and integer minor units, and the
//! exchange-rate table the monthly earnings cap counts other currencies with.

mod amount;
mod currency;
mod exchange;

pub use amount::*;
pub use currency::*;
pub use exchange::*;

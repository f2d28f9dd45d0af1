//! Commission: how much an affiliate earns on a sale, which tier applies, and
//! when an approval needs an extra confirmation.

mod guard;
mod kind;
mod rule;
mod tier;

pub use guard::*;
pub use kind::*;
pub use rule::*;
pub use tier::*;

//! Status lifecycles of conversions and program memberships, and which manual
//! status changes a merchant may make.

mod conversion;
mod membership;
mod transition;

pub use conversion::*;
pub use membership::*;
pub use transition::*;

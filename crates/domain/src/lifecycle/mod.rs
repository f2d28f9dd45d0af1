//! Status lifecycles of conversions, program memberships and campaigns, and which manual
//! status changes a merchant may make.

mod campaign;
mod conversion;
mod membership;
mod transition;

pub use campaign::*;
pub use conversion::*;
pub use membership::*;
pub use transition::*;

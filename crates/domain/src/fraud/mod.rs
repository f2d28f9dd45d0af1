//! Self-referral detection: email normalization, free-mail domains and the
//! scoring of a conversion against the referring affiliate's identity.

mod assessment;
mod domains;
mod normalize;

pub use assessment::*;
pub use domains::*;
pub use normalize::*;

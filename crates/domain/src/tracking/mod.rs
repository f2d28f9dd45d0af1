//! Tracking rules: who a click came from (people or bots), the reference a sale carries back,
//! where a tracked visitor lands, and when a repeat click still counts as a new visitor.

pub mod bots;
pub mod landing;
pub mod reference;
pub mod short_code;
pub mod unique;

pub use bots::*;
pub use landing::*;
pub use reference::*;
pub use short_code::*;
pub use unique::*;

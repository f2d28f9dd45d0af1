//! Recording sales: the checks every door runs (`record`), the group-commit writer that stores
//! them (`writer`), the operations of the conversions resource (`conversions`) and the node's
//! memory of what a sale is attributed to (`attribution_cache`).

pub mod attribution_cache;
pub mod conversions;
pub mod record;
pub mod review;
pub mod writer;

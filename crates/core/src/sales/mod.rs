//! Recording sales: the checks every door runs (`record`), the group-commit writer that stores
//! them (`writer`), and the operations of the conversions resource (`conversions`).

pub mod conversions;
pub mod record;
pub mod review;
pub mod writer;

//! Business flows shared by every way in now live in the core of operations (`refline-core`);
//! these names stay so existing paths keep working.

pub use refline_core::sales::{record as record_conversion, writer as conversion_writer};

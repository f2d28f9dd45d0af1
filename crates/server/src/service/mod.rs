//! Business flows shared by every way in (API today, processor webhooks next): they load what
//! they need, ask the pure domain rules, and write through the store.

pub mod conversion_writer;
pub mod record_conversion;

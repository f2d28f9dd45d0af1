//! SQL shared by both engines, as macros that each engine crate expands against its own
//! concrete sqlx pool.
//!
//! Why macros: sqlx queries are generic over the database, but writing that genericity as
//! trait bounds (`for<'q> String: Encode<'q, DB>` for every type, executor bounds…) makes every
//! function signature unreadable. Expanding the same text per engine keeps one copy of every
//! statement while each engine still compiles against its native driver. Engines provide
//! `reader()`, `writer()` and `begin_write()`; everything else here is portable SQL
//! (`$n` placeholders, `ON CONFLICT`, `RETURNING`, integer money, unix-ms times).

mod affiliate;
mod campaign;
mod conversion;
mod integration;
mod merchant;
mod misc;
mod processor;
#[doc(hidden)]
pub mod tracking;
mod webhook;

/// Implements every storage trait except [`crate::Store`] itself for an engine type.
/// `$skip_locked` is appended to row-claiming subqueries: `FOR UPDATE SKIP LOCKED` where several
/// writers run at once (PostgreSQL), empty where writes are serialised anyway (SQLite).
#[macro_export]
macro_rules! impl_portable_store {
    ($engine:ty, $skip_locked:expr) => {
        $crate::__impl_webhook_store!($engine, $skip_locked);
        $crate::__impl_merchant_store!($engine);
        $crate::__impl_campaign_store!($engine);
        $crate::__impl_affiliate_store!($engine);
        $crate::__impl_conversion_store!($engine);
        $crate::__impl_audit_store!($engine);
        $crate::__impl_idempotency_store!($engine);
        $crate::__impl_report_store!($engine);
        $crate::__impl_tracking_store!($engine);
        $crate::__impl_processor_store!($engine, $skip_locked);
        $crate::__impl_integration_store!($engine);
    };
}

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

/// `SUM` of a money column (minor units) that cannot overflow on either engine: SQLite's `SUM`
/// raises "integer overflow" past `i64` and PostgreSQL's cast of its `numeric` sum back to
/// `BIGINT` fails, either of which would turn every later read of the total into an error.
/// The sum is taken in two parts (whole 10^9 units and the rest, neither of which can overflow
/// for any realistic row count, since every door bounds a sale by
/// `refline_domain::max_sale_minor`), recombined exactly, and saturated at `i64::MAX` when the
/// true total is above about 9.22 × 10^18 minor units.
#[doc(hidden)]
#[macro_export]
macro_rules! __sum_minor {
    ($column:literal) => {
        concat!(
            "(CASE WHEN COALESCE(SUM(",
            $column,
            " / 1000000000), 0) + COALESCE(SUM(",
            $column,
            " % 1000000000), 0) / 1000000000 >= 9223372036 THEN 9223372036854775807 ELSE CAST(COALESCE(SUM(",
            $column,
            " / 1000000000), 0) * 1000000000 + COALESCE(SUM(",
            $column,
            " % 1000000000), 0) AS BIGINT) END)"
        )
    };
}

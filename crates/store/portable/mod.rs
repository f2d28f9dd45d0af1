//! The SQL both engines run: one copy of the text, compiled once per engine.
//!
//! This directory is not a module of `refline-store`. Each engine crate includes it with
//! `#[path = "../../store/portable/mod.rs"] mod portable;`, after naming at its crate root:
//!
//! - `Engine`: its store type, with `reader()`, `writer()` (pools) and `begin_write()` (a write
//!   transaction started the way that engine needs);
//! - `Db`: its sqlx database (`sqlx::Sqlite`, `sqlx::Postgres`);
//! - `skip_locked!()`: the clause appended to row-claiming subqueries, `FOR UPDATE SKIP LOCKED`
//!   where several writers run at once (PostgreSQL), empty where writes are serialised anyway
//!   (SQLite). A macro, not a constant, so `concat!` keeps those statements static text.
//! - `for_update!()`: the clause locking rows a transaction reads before deciding on them
//!   (`FOR UPDATE` on PostgreSQL, empty on SQLite).
//! - `xact_lock_function!()`: `Some` function taking a lock held until the transaction ends on
//!   a (namespace, key) pair (`pg_advisory_xact_lock`), or `None` where one writer runs at a
//!   time (SQLite), which then skips the statement altogether.
//! - `keep_batch_statements!()`: whether statements shaped by a batch's size stay prepared on
//!   the connection (`true` on PostgreSQL, `false` on SQLite; see the end of this comment).
//!
//! Why this shape:
//! - Native drivers: every query here compiles against one concrete sqlx database, exactly as if
//!   it had been written in the engine crate.
//! - No generic bound soup: code generic over `DB: sqlx::Database` would need
//!   `for<'q> T: Encode<'q, DB> + Type<DB>` for every bound type plus executor and row bounds on
//!   every function, burying the SQL under signatures.
//! - Ordinary code: rustfmt formats these files (it follows `#[path]` modules) and rust-analyzer
//!   navigates them, which neither does for `macro_rules!` bodies (the earlier shape).
//!
//! Everything here is portable SQL: `$n` placeholders, `ON CONFLICT`, `RETURNING`, integer
//! money, unix-ms times. Decisions that need no database (batch planning and its retry, outbox
//! rows and which event a change announces, a delivery's next status, idempotent replays) are
//! pure functions in `refline-store`, unit tested there; these files read, call them and write.
//! One file per aggregate, plus `batch.rs` (recording a batch of sales) and `refund.rs`
//! (applying a refund), the two multi-step writes.
//!
//! Statements built with `sqlx::QueryBuilder` (their text depends on how many rows or ids a batch
//! has) run with `.persistent(keep_batch_statements!())`: each engine says whether they stay
//! prepared on the connection (PostgreSQL) or are compiled, run and dropped (SQLite, where
//! cached they held 45 MB of the process after a burst of deliveries).

/// `SUM` of a money column (minor units) that cannot overflow on either engine: SQLite's `SUM`
/// raises "integer overflow" past `i64` and PostgreSQL's cast of its `numeric` sum back to
/// `BIGINT` fails, either of which would turn every later read of the total into an error.
/// The sum is taken in two parts (whole 10^9 units and the rest, neither of which can overflow
/// for any realistic row count, since every door bounds a sale by
/// `refline_domain::max_sale_minor`), recombined exactly, and saturated at `i64::MAX` when the
/// true total is above about 9.22 × 10^18 minor units. A macro so it can sit inside `concat!`.
macro_rules! sum_minor {
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

/// The saturating total of a rollup's money `$prefix` (`revenue` or `commission`): the sums of
/// its `_hi` (billions) and `_lo` (remainder) parts recombined exactly as [`sum_minor!`] does over
/// the rows, so a rollup read equals a recount (see `refline_store::rollup`).
macro_rules! sum_parts {
    ($prefix:literal) => {
        concat!(
            "(CASE WHEN COALESCE(SUM(",
            $prefix,
            "_hi), 0) + COALESCE(SUM(",
            $prefix,
            "_lo), 0) / 1000000000 >= 9223372036 THEN 9223372036854775807 ELSE CAST(COALESCE(SUM(",
            $prefix,
            "_hi), 0) * 1000000000 + COALESCE(SUM(",
            $prefix,
            "_lo), 0) AS BIGINT) END)"
        )
    };
}

mod account;
mod affiliate;
mod affiliate_mail;
mod batch;
mod campaign;
mod cluster;
mod conversion;
mod import;
mod import_affiliates;
mod import_page;
mod integration;
mod ledger;
mod mail;
mod merchant;
mod misc;
mod ops;
mod payout;
mod portal;
mod portal_report;
mod processor;
mod refund;
mod rollup;
mod script;
mod session;
mod tracking;
mod trial;
mod webhook;

/// A connection of this engine; what a write transaction dereferences to, so helpers that run
/// several statements inside one take `&mut Conn`.
type Conn = <crate::Db as sqlx::Database>::Connection;

//! Importers: move a program from another affiliate platform into Refline, safely re-runnable
//! (`refline import <source>`, docs/MIGRATING.md).
//!
//! This crate is a door. Each source (`rewardful.rs`, `tolt.rs`, `firstpromoter.rs`,
//! `partnerstack.rs`) pages through the source's public REST
//! API with [`client::SourceClient`] (timeouts, the source's rate limit, `429` with
//! `Retry-After`, bounded retries of `5xx` and timeouts, one clear error for a refused key) and
//! maps what it reads into the core's source-neutral inputs (`refline_core::import`); the
//! [`runner`] hands each to the core's import operation, keeps a checkpoint per page so an
//! interrupted run resumes, and counts what happened into a [`report::Report`]. The core decides
//! everything else: the same rules as the API, the ledger, idempotency, and that imported
//! history announces nothing.

pub mod client;
pub mod csv_file;
pub mod error;
pub mod firstpromoter;
mod mapping;
mod paging;
pub mod partnerstack;
pub mod progress;
pub mod report;
pub mod rewardful;
pub mod runner;
pub mod settings;
pub mod source;
pub mod sources;
pub mod tolt;
mod values;

pub use error::ImportError;
pub use report::Report;
pub use runner::{run_import, ImportOptions};
pub use source::{Batch, Record, Source, Step};
pub use sources::{api_source, ApiAccess};

/// The API sources `refline import` knows, each made by [`api_source`] (files come through
/// `csv`, [`csv_file::CsvSource`]).
pub const SOURCES: &[&str] = &["rewardful", "tolt", "firstpromoter", "partnerstack"];

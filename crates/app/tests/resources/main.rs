//! Integration tests of the `/api/v1` resources and conventions: authentication, plans, rate
//! limits, tenancy, errors, pagination, campaigns and affiliates. The real server on port 0,
//! spoken to over HTTP, on SQLite and (with `REFLINE_TEST_POSTGRES_URL`) PostgreSQL.

// Tests fail loudly on anything unexpected; unwrap is the point here.
#![allow(clippy::unwrap_used)]

#[path = "../it/support.rs"]
mod support;

mod util;

mod affiliates;
mod auth;
mod campaigns;

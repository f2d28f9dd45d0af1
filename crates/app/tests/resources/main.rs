//! Integration tests of the `/api/v1` resources and conventions: authentication, plans, rate
//! limits, tenancy, errors, pagination, campaigns and affiliates. The real server on port 0,
//! spoken to over HTTP, on SQLite and (with `REFLINE_TEST_POSTGRES_URL`) PostgreSQL.

// Tests fail loudly on anything unexpected; unwrap is the point here.
#![allow(clippy::unwrap_used)]

#[path = "../it/support.rs"]
mod support;

/// Like `engine_tests!` for one test that shows a known server bug: both engine variants are
/// `#[ignore]`d with the reason, as `module::name::sqlite` and `module::name::postgres`. Run
/// them with `--ignored` to see the bug.
macro_rules! engine_bug_test {
    ($name:ident, $reason:literal) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = $reason]
            async fn sqlite() {
                super::$name($crate::support::Engine::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = $reason]
            async fn postgres() {
                if let Some(engine) = $crate::support::Engine::postgres() {
                    super::$name(engine).await
                }
            }
        }
    };
}

mod util;

mod affiliates;
mod auth;
mod campaigns;

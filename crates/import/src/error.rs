//! Why an import stopped (as opposed to one object skipped, which the report counts).

use refline_core::CoreError;

/// An import that cannot go on. Everything done before it is kept, with the run's checkpoint,
/// so the next run resumes.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The source refused the API key (401/403).
    #[error("{source_name} refused the API key (HTTP {status}): check --api-key (and --account-id)")]
    BadKey {
        /// The source.
        source_name: &'static str,
        /// 401 or 403.
        status: u16,
    },
    /// The source kept failing (5xx, timeouts, connection errors, or 429s) after every retry.
    #[error(
        "{source_name} is unavailable: {detail} (after {attempts} attempts); run the import again to resume"
    )]
    Unavailable {
        /// The source.
        source_name: &'static str,
        /// The last failure.
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The source answered a request with an error that retrying cannot fix.
    #[error("{source_name} refused {path} (HTTP {status}): {body}")]
    Refused {
        /// The source.
        source_name: &'static str,
        /// The request's path.
        path: String,
        /// Its status.
        status: u16,
        /// The start of the answer.
        body: String,
    },
    /// The source answered something that is not the JSON documented.
    #[error("{source_name} answered {path} with unreadable JSON: {detail}")]
    Unreadable {
        /// The source.
        source_name: &'static str,
        /// The request's path.
        path: String,
        /// What was wrong.
        detail: String,
    },
    /// The merchant or its data could not be used (no such merchant, the database is down).
    #[error("{}: {}", .0.code, .0.message)]
    Core(#[from] CoreError),
    /// The options make no sense (an unknown source, a bad base URL).
    #[error("{0}")]
    Usage(String),
}

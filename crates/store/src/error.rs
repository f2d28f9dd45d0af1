//! Storage errors, classified so the server can answer precisely without parsing messages.

/// What went wrong in the store, in terms the API layer can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule of the schema refused the write.
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    /// The transaction lost a race (deadlock, serialization) and rolled back; run it again.
    #[error("transient database conflict: {0}")]
    Retryable(String),
    /// The database refused a value of this write (PostgreSQL's "data exception" class 22,
    /// e.g. U+0000 in text or a number out of range; SQLite's "too big" and "mismatch"): the
    /// input was bad, running it again cannot help, and other writes are unaffected.
    #[error("value refused by the database: {0}")]
    Invalid(String),
    /// The database could not be reached or timed out.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken database.
    #[error("database error: {0}")]
    Other(String),
}

/// Result alias for store calls.
pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.constraint().unwrap_or(db.message()).to_string())
            }
            // Deadlock and serialization failures (PostgreSQL) and a busy SQLite: the
            // transaction rolled back and may simply be run again.
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("40P01" | "40001" | "5" | "6" | "517")) =>
            {
                StoreError::Retryable(err.to_string())
            }
            sqlx::Error::Database(db)
                if db
                    .code()
                    .is_some_and(|code| code.starts_with("22") || matches!(code.as_ref(), "18" | "20")) =>
            {
                StoreError::Invalid(err.to_string())
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Other(err.to_string()),
        }
    }
}

impl StoreError {
    /// True when running the same write again may succeed (a lost race, an unreachable
    /// database); false when the write itself is at fault.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Retryable(_) | StoreError::Unavailable(_))
    }

    /// True when the error is a uniqueness conflict on the named constraint. SQLite reports the
    /// columns ("conversions.merchant_id, …") instead of the constraint name, so callers pass a
    /// fragment that appears in either form.
    pub fn is_conflict_on(&self, fragment: &str) -> bool {
        matches!(self, StoreError::Conflict(what) if what.contains(fragment))
    }
}

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
    /// The database refused a row of this write (a value it cannot store, such as U+0000 in
    /// PostgreSQL text or a number out of range, or a constraint other than uniqueness): the
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
            // The server went away or cannot write now: PostgreSQL connection exceptions (08),
            // shutdown or crash of the server (57P0x), a read-only replica after a failover
            // (25006); SQLite's I/O error, full disk and read-only database (primary codes 10,
            // 13 and 8 inside its extended codes, which have at most four digits).
            sqlx::Error::Database(db) if db.code().is_some_and(|code| is_outage(&code)) => {
                StoreError::Unavailable(err.to_string())
            }
            sqlx::Error::Database(db) if db.code().is_some_and(|code| is_refused_row(&code)) => {
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
    /// database).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Retryable(_) | StoreError::Unavailable(_))
    }

    /// True when a row of the write is at fault (a value the database refuses, a constraint it
    /// breaks): writing the other rows without it can succeed. Anything else (an outage, a bug)
    /// says nothing about the rows, and splitting a batch over it would only repeat it.
    pub fn is_row_fault(&self) -> bool {
        matches!(self, StoreError::Invalid(_) | StoreError::Conflict(_))
    }

    /// True when the error is a uniqueness conflict on the named constraint. SQLite reports the
    /// columns ("conversions.merchant_id, …") instead of the constraint name, so callers pass a
    /// fragment that appears in either form.
    pub fn is_conflict_on(&self, fragment: &str) -> bool {
        matches!(self, StoreError::Conflict(what) if what.contains(fragment))
    }
}

fn is_outage(code: &str) -> bool {
    if code.starts_with("08") || code.starts_with("57P") || code == "25006" {
        return true;
    }
    code.len() <= 4 && code.parse::<u32>().is_ok_and(|extended| matches!(extended & 0xff, 8 | 10 | 13))
}

/// A value or a constraint of the row is at fault: PostgreSQL's data exceptions (22: U+0000 in
/// text, a number out of range) and integrity violations (23: not null, foreign key, check;
/// unique ones are `Conflict`, matched first); SQLite's too big (18), mismatch (20) and every
/// constraint (19, with its extended codes).
fn is_refused_row(code: &str) -> bool {
    if code.starts_with("22") || code.starts_with("23") {
        return true;
    }
    code.len() <= 4 && code.parse::<u32>().is_ok_and(|extended| matches!(extended & 0xff, 18..=20))
}

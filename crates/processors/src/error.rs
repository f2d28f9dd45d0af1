//! Errors of verification and parsing, each with a stable code for logs and responses.

/// Why a delivery failed authentication. Answer 400/401 so the processor retries (useful
/// while a merchant fixes a rotated secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no secret is configured for this connection")]
    NoSecret,
    #[error("configured secret is unusable: {0}")]
    InvalidSecret(String),
    #[error("the delivery carries no signature")]
    MissingSignature,
    #[error("signature header is malformed: {0}")]
    Malformed(String),
    #[error("no signature matches any configured secret")]
    BadSignature,
    #[error("signed timestamp {signed_at} is more than {tolerance_s} s away from now ({now})")]
    TimestampOutOfTolerance { signed_at: i64, now: i64, tolerance_s: i64 },
}

impl VerifyError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::NoSecret => "no_secret",
            VerifyError::InvalidSecret(_) => "invalid_secret",
            VerifyError::MissingSignature => "missing_signature",
            VerifyError::Malformed(_) => "malformed_signature",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::TimestampOutOfTolerance { .. } => "timestamp_out_of_tolerance",
        }
    }
}

/// Why a verified delivery could not be understood. Store it for a human; retrying will not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("body is not valid {0}")]
    Body(&'static str),
    #[error("missing or invalid field `{0}`")]
    Field(String),
    #[error("invalid amount in `{field}`: {detail}")]
    Amount { field: String, detail: String },
    #[error("provider {0} has no payload to parse this way")]
    Unsupported(&'static str),
}

impl ParseError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Body(_) => "malformed_body",
            ParseError::Field(_) => "missing_field",
            ParseError::Amount { .. } => "invalid_amount",
            ParseError::Unsupported(_) => "unsupported",
        }
    }

    pub(crate) fn field(name: impl Into<String>) -> ParseError {
        ParseError::Field(name.into())
    }
}

//! The outcome types shared by every status-transition check.

use super::ConversionStatus;

/// What an allowed status change amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The status changes; the caller persists it and runs side effects.
    Change,
    /// The target equals the current status; nothing to do, so repeated
    /// requests are idempotent.
    NoOp,
}

/// Why a requested status change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Only `approved` and `rejected` may be requested manually.
    #[error("status can only be set to approved or rejected")]
    TargetNotAllowed,
    /// The current status is final (refunded conversions, rejected memberships).
    // One message serves both lifecycles because the variant is shared.
    #[error("this status is final and cannot change")]
    Terminal,
    /// The change is not part of the conversion lifecycle.
    #[error("cannot change status from {from} to {to}")]
    Invalid {
        /// Current status.
        from: ConversionStatus,
        /// Requested status.
        to: ConversionStatus,
    },
}

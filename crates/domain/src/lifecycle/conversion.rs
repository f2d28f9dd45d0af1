//! Conversion statuses and the manual (merchant PATCH) transition rules.

use std::fmt;

use super::{Transition, TransitionError};

/// Where a conversion is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversionStatus {
    /// A trial started; no money has moved yet.
    Trial,
    /// Awaiting merchant review.
    Pending,
    /// Approved and owed to the affiliate.
    Approved,
    /// Included in a payout.
    Paid,
    /// Rejected by the merchant.
    Rejected,
    /// The customer was refunded; final.
    Refunded,
}

impl ConversionStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [ConversionStatus; 6] = [
        ConversionStatus::Trial,
        ConversionStatus::Pending,
        ConversionStatus::Approved,
        ConversionStatus::Paid,
        ConversionStatus::Rejected,
        ConversionStatus::Refunded,
    ];

    /// Every status, in lifecycle order (same as [`ConversionStatus::ALL`]).
    pub fn all() -> [ConversionStatus; 6] {
        Self::ALL
    }

    /// Stable lower-case text form, e.g. `"pending"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversionStatus::Trial => "trial",
            ConversionStatus::Pending => "pending",
            ConversionStatus::Approved => "approved",
            ConversionStatus::Paid => "paid",
            ConversionStatus::Rejected => "rejected",
            ConversionStatus::Refunded => "refunded",
        }
    }

    /// Inverse of [`ConversionStatus::as_str`] (exact, lower-case).
    pub fn parse(text: &str) -> Option<ConversionStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a conversion in this status counts as a sale (totals, earnings, tier volume):
    /// all but rejected and refunded ones. The SQL aggregates say the same with
    /// `status NOT IN ('rejected', 'refunded')`.
    pub fn counts_as_sale(self) -> bool {
        match self {
            ConversionStatus::Trial
            | ConversionStatus::Pending
            | ConversionStatus::Approved
            | ConversionStatus::Paid => true,
            ConversionStatus::Rejected | ConversionStatus::Refunded => false,
        }
    }
}

impl fmt::Display for ConversionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of sale a conversion records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversionType {
    /// A single sale (also a trial's zero-amount conversion).
    OneTime,
    /// A payment of a subscription: its first sale or a renewal.
    Recurring,
}

impl ConversionType {
    /// Every type.
    pub const ALL: [ConversionType; 2] = [ConversionType::OneTime, ConversionType::Recurring];

    /// Stable text form: `"one_time"` or `"recurring"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversionType::OneTime => "one_time",
            ConversionType::Recurring => "recurring",
        }
    }

    /// Inverse of [`ConversionType::as_str`] (exact, lower-case).
    pub fn parse(text: &str) -> Option<ConversionType> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// `Recurring` for a subscription payment, `OneTime` otherwise.
    pub fn of(recurring: bool) -> ConversionType {
        if recurring {
            ConversionType::Recurring
        } else {
            ConversionType::OneTime
        }
    }
}

impl fmt::Display for ConversionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a merchant's manual status change of a conversion.
///
/// Only `approved` and `rejected` can be requested. Pending → approved,
/// pending → rejected and approved → rejected are changes; asking for the
/// current approved/rejected status is a no-op. Refunded conversions never
/// change; paid, trial and rejected conversions cannot be (re-)approved or
/// rejected by hand.
pub fn check_manual_transition(
    from: ConversionStatus,
    to: ConversionStatus,
) -> Result<Transition, TransitionError> {
    use ConversionStatus::{Approved, Pending, Refunded, Rejected};

    if from == Refunded {
        return Err(TransitionError::Terminal);
    }
    if !matches!(to, Approved | Rejected) {
        return Err(TransitionError::TargetNotAllowed);
    }
    if from == to {
        return Ok(Transition::NoOp);
    }
    match (from, to) {
        (Pending, Approved) | (Pending, Rejected) | (Approved, Rejected) => Ok(Transition::Change),
        _ => Err(TransitionError::Invalid { from, to }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConversionStatus::*;

    #[test]
    fn text_round_trips() {
        for status in ConversionStatus::all() {
            assert_eq!(ConversionStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert_eq!(Trial.as_str(), "trial");
        assert_eq!(Refunded.as_str(), "refunded");
        assert_eq!(ConversionStatus::parse("Pending"), None);
        assert_eq!(ConversionStatus::parse(""), None);
        assert!(Pending.counts_as_sale() && Paid.counts_as_sale() && Trial.counts_as_sale());
        assert!(!Rejected.counts_as_sale() && !Refunded.counts_as_sale());
        for kind in ConversionType::ALL {
            assert_eq!(ConversionType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ConversionType::of(true).as_str(), "recurring");
        assert_eq!(ConversionType::of(false).as_str(), "one_time");
        assert_eq!(ConversionType::parse("weekly"), None);
    }

    #[test]
    fn every_manual_transition() {
        use Transition::{Change, NoOp};
        use TransitionError::{TargetNotAllowed, Terminal};
        let invalid = |from, to| Err(TransitionError::Invalid { from, to });
        let expected =
            |from: ConversionStatus, to: ConversionStatus| -> Result<Transition, TransitionError> {
                match (from, to) {
                    (Refunded, _) => Err(Terminal),
                    (_, Trial | Pending | Paid | Refunded) => Err(TargetNotAllowed),
                    (Pending, Approved | Rejected) | (Approved, Rejected) => Ok(Change),
                    (Approved, Approved) | (Rejected, Rejected) => Ok(NoOp),
                    (Trial | Paid | Rejected, Approved) | (Trial | Paid, Rejected) => invalid(from, to),
                }
            };
        for from in ConversionStatus::ALL {
            for to in ConversionStatus::ALL {
                assert_eq!(check_manual_transition(from, to), expected(from, to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn spot_checks_and_messages() {
        assert_eq!(check_manual_transition(Pending, Approved), Ok(Transition::Change));
        assert_eq!(check_manual_transition(Approved, Approved), Ok(Transition::NoOp));
        assert_eq!(
            check_manual_transition(Paid, Rejected),
            Err(TransitionError::Invalid { from: Paid, to: Rejected })
        );
        assert_eq!(
            check_manual_transition(Rejected, Approved).unwrap_err().to_string(),
            "cannot change status from rejected to approved"
        );
        assert!(check_manual_transition(Refunded, Approved).unwrap_err().to_string().contains("final"));
    }
}

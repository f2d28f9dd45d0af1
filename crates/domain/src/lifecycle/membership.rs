//! Affiliate program membership statuses and the merchant's review transitions.

use std::fmt;

use super::{Transition, TransitionError};

/// An affiliate's standing in a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MembershipStatus {
    /// Applied, awaiting review.
    Pending,
    /// Accepted into the program.
    Approved,
    /// Turned down or removed; final.
    Rejected,
}

impl MembershipStatus {
    /// Every status.
    pub const ALL: [MembershipStatus; 3] =
        [MembershipStatus::Pending, MembershipStatus::Approved, MembershipStatus::Rejected];

    /// Stable lower-case text form, e.g. `"approved"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Pending => "pending",
            MembershipStatus::Approved => "approved",
            MembershipStatus::Rejected => "rejected",
        }
    }

    /// Inverse of [`MembershipStatus::as_str`] (exact, lower-case).
    pub fn parse(text: &str) -> Option<MembershipStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for MembershipStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a merchant's change of a membership status.
///
/// Pending → approved/rejected and approved → rejected are changes; approved →
/// approved and rejected → rejected are no-ops. Rejection is final
/// ([`TransitionError::Terminal`] for any other change away from it), and
/// nothing can be moved back to pending ([`TransitionError::TargetNotAllowed`]).
pub fn check_membership_transition(
    from: MembershipStatus,
    to: MembershipStatus,
) -> Result<Transition, TransitionError> {
    use MembershipStatus::{Pending, Rejected};

    if from == to && to != Pending {
        return Ok(Transition::NoOp);
    }
    if from == Rejected {
        return Err(TransitionError::Terminal);
    }
    if to == Pending {
        return Err(TransitionError::TargetNotAllowed);
    }
    Ok(Transition::Change)
}

#[cfg(test)]
mod tests {
    use super::*;
    use MembershipStatus::*;

    #[test]
    fn text_round_trips() {
        for status in MembershipStatus::ALL {
            assert_eq!(MembershipStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(MembershipStatus::parse("PENDING"), None);
    }

    #[test]
    fn every_transition() {
        use Transition::{Change, NoOp};
        use TransitionError::{TargetNotAllowed, Terminal};
        let cases = [
            (Pending, Pending, Err(TargetNotAllowed)),
            (Pending, Approved, Ok(Change)),
            (Pending, Rejected, Ok(Change)),
            (Approved, Pending, Err(TargetNotAllowed)),
            (Approved, Approved, Ok(NoOp)),
            (Approved, Rejected, Ok(Change)),
            (Rejected, Pending, Err(Terminal)),
            (Rejected, Approved, Err(Terminal)),
            (Rejected, Rejected, Ok(NoOp)),
        ];
        for (from, to, expected) in cases {
            assert_eq!(check_membership_transition(from, to), expected, "{from} -> {to}");
        }
    }
}

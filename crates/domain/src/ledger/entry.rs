//! Ledger entries and the running totals of one commission.

use std::fmt;

use crate::ConversionStatus;

/// What an entry records. Signs: earned-side entries add to what the affiliate earned
/// (accrued is positive, the others usually negative); paid-side entries add to what was paid
/// (paid is positive for a commission and negative when a payout nets a clawback; returned is
/// the opposite of an earlier paid entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    /// A sale's commission was recorded.
    Accrued,
    /// The commission changed before any of it was paid (a partial refund).
    Adjusted,
    /// The commission was cancelled before any of it was paid (rejection, full refund,
    /// chargeback): the entry takes the commission back to zero.
    Reversed,
    /// Money was refunded after the commission was paid: the affiliate owes this back; it is
    /// netted against the affiliate's next payout.
    Clawback,
    /// A payout that held this commission completed.
    Paid,
    /// A completed payout failed afterwards (a reversed transfer, a bounced manual payment):
    /// what it paid is owed to the affiliate again.
    Returned,
}

impl EntryKind {
    /// Every kind.
    pub const ALL: [EntryKind; 6] = [
        EntryKind::Accrued,
        EntryKind::Adjusted,
        EntryKind::Reversed,
        EntryKind::Clawback,
        EntryKind::Paid,
        EntryKind::Returned,
    ];

    /// Stable lower-case text form.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Accrued => "accrued",
            EntryKind::Adjusted => "adjusted",
            EntryKind::Reversed => "reversed",
            EntryKind::Clawback => "clawback",
            EntryKind::Paid => "paid",
            EntryKind::Returned => "returned",
        }
    }

    /// Inverse of [`EntryKind::as_str`].
    pub fn parse(text: &str) -> Option<EntryKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// True for the entries that change what was earned (the others change what was paid).
    pub fn is_earning(self) -> bool {
        matches!(self, EntryKind::Accrued | EntryKind::Adjusted | EntryKind::Reversed | EntryKind::Clawback)
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Earned and paid so far of one commission, summed from its entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommissionTotals {
    /// Sum of accrued, adjusted, reversed and clawback entries.
    pub earned: i64,
    /// Sum of paid and returned entries.
    pub paid: i64,
}

impl CommissionTotals {
    /// Totals of `entries`. Sums saturate rather than wrap (no realistic ledger comes near).
    pub fn of(entries: impl IntoIterator<Item = (EntryKind, i64)>) -> CommissionTotals {
        let mut totals = CommissionTotals::default();
        for (kind, amount) in entries {
            totals.apply(kind, amount);
        }
        totals
    }

    /// Adds one entry.
    pub fn apply(&mut self, kind: EntryKind, amount: i64) {
        if kind.is_earning() {
            self.earned = self.earned.saturating_add(amount);
        } else {
            self.paid = self.paid.saturating_add(amount);
        }
    }

    /// Still owed to the affiliate (positive) or owed back by them (negative).
    pub fn outstanding(self) -> i64 {
        self.earned.saturating_sub(self.paid)
    }
}

/// The entry that records a change of a commission from what it earns now (`totals.earned`) to
/// `new_earned`: `None` when nothing changes. Once any of it was paid, history is not rewritten:
/// a decrease is a clawback, owed back and netted against the next payout. Before that, a change
/// to zero is a reversal and any other change an adjustment.
pub fn change_entry(totals: CommissionTotals, new_earned: i64) -> Option<(EntryKind, i64)> {
    let delta = new_earned.checked_sub(totals.earned)?;
    if delta == 0 {
        return None;
    }
    let kind = if totals.paid > 0 && delta < 0 {
        EntryKind::Clawback
    } else if new_earned == 0 {
        EntryKind::Reversed
    } else {
        EntryKind::Adjusted
    };
    Some((kind, delta))
}

/// What a conversion earns now, as the conversion itself says it: nothing once rejected or
/// refunded (its `commission` stays as computed, for the record), otherwise its commission less
/// what refunds after payment clawed back (`clawed_back`, negative or zero).
pub fn expected_earned(status: ConversionStatus, commission_minor: i64, clawed_back_minor: i64) -> i64 {
    match status {
        ConversionStatus::Rejected | ConversionStatus::Refunded => 0,
        _ => commission_minor.saturating_add(clawed_back_minor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use EntryKind::*;

    #[test]
    fn what_a_conversion_earns() {
        assert_eq!(expected_earned(ConversionStatus::Approved, 1000, 0), 1000);
        assert_eq!(expected_earned(ConversionStatus::Paid, 1000, -300), 700);
        assert_eq!(expected_earned(ConversionStatus::Rejected, 1000, 0), 0);
        assert_eq!(expected_earned(ConversionStatus::Refunded, 1000, 0), 0);
    }

    #[test]
    fn text_round_trips() {
        for kind in EntryKind::ALL {
            assert_eq!(EntryKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EntryKind::parse("Paid"), None);
    }

    #[test]
    fn totals_split_earned_and_paid() {
        let t = CommissionTotals::of([(Accrued, 1000), (Adjusted, -200), (Paid, 800), (Clawback, -300)]);
        assert_eq!(t, CommissionTotals { earned: 500, paid: 800 });
        assert_eq!(t.outstanding(), -300, "owed back");
        let t = CommissionTotals::of([(Accrued, 1000), (Paid, 1000), (Returned, -1000)]);
        assert_eq!(t.outstanding(), 1000, "a returned payout is owed again");
    }

    #[test]
    fn changes_before_and_after_payment() {
        let unpaid = CommissionTotals { earned: 1000, paid: 0 };
        assert_eq!(change_entry(unpaid, 1000), None);
        assert_eq!(change_entry(unpaid, 600), Some((Adjusted, -400)));
        assert_eq!(change_entry(unpaid, 0), Some((Reversed, -1000)));
        let paid = CommissionTotals { earned: 1000, paid: 1000 };
        assert_eq!(change_entry(paid, 600), Some((Clawback, -400)));
        assert_eq!(change_entry(paid, 0), Some((Clawback, -1000)), "paid history is never reversed");
    }

    proptest! {
        #[test]
        fn a_change_entry_lands_exactly_on_the_new_amount(
            earned in 0i64..1_000_000_000, paid in 0i64..1_000_000_000, new in 0i64..1_000_000_000,
        ) {
            let totals = CommissionTotals { earned, paid };
            match change_entry(totals, new) {
                None => prop_assert_eq!(earned, new),
                Some((kind, delta)) => {
                    let mut after = totals;
                    after.apply(kind, delta);
                    prop_assert_eq!(after.earned, new);
                    prop_assert_eq!(after.paid, paid, "a change of commission never touches what was paid");
                    prop_assert!(kind.is_earning());
                    if paid > 0 && delta < 0 { prop_assert_eq!(kind, Clawback); }
                }
            }
        }
    }
}

//! What a refund or chargeback does to a commission.
//!
//! Choices (documented in docs/INTEGRATIONS.md): a full refund or chargeback reverses an unpaid
//! commission (the conversion becomes `refunded`, terminal); a partial refund reduces it in
//! proportion to the money returned; once a commission was paid, history is not rewritten: the
//! refunded share is recorded as an amount owed back (clawback).

use crate::ConversionStatus;

/// The effect of a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundEffect {
    /// The whole sale was refunded before payout: the conversion becomes `refunded`.
    Reverse,
    /// Part of the sale was refunded before payout: the commission becomes this.
    Reduce {
        /// The new commission, minor units.
        commission_minor: i64,
    },
    /// The commission was paid: the affiliate owes this back.
    Clawback {
        /// Amount owed back for this refund, minor units (> 0).
        owed_minor: i64,
    },
    /// Nothing changes (already refunded, rejected, or no more money returned than before).
    Nothing,
}

/// The commission share of `refunded` out of `amount`, rounded down (never more than earned).
fn share(commission: i64, refunded: i64, amount: i64) -> i64 {
    if amount <= 0 {
        return 0;
    }
    let refunded = refunded.clamp(0, amount);
    i64::try_from(i128::from(commission) * i128::from(refunded) / i128::from(amount)).unwrap_or(commission)
}

/// What a refund bringing the sale's refunded total from `refunded_before` to `refunded_after`
/// does to a conversion in `status` with sale `amount_minor` and commission
/// `original_commission_minor` (before any refund).
pub fn refund_effect(
    status: ConversionStatus,
    amount_minor: i64,
    original_commission_minor: i64,
    refunded_before: i64,
    refunded_after: i64,
) -> RefundEffect {
    let after = refunded_after.clamp(0, amount_minor.max(0));
    if after <= refunded_before {
        return RefundEffect::Nothing;
    }
    match status {
        ConversionStatus::Rejected | ConversionStatus::Refunded => RefundEffect::Nothing,
        ConversionStatus::Paid => {
            let owed = share(original_commission_minor, after, amount_minor)
                - share(original_commission_minor, refunded_before, amount_minor);
            if owed > 0 {
                RefundEffect::Clawback { owed_minor: owed }
            } else {
                RefundEffect::Nothing
            }
        }
        ConversionStatus::Trial | ConversionStatus::Pending | ConversionStatus::Approved => {
            if after >= amount_minor {
                RefundEffect::Reverse
            } else {
                RefundEffect::Reduce {
                    commission_minor: original_commission_minor
                        - share(original_commission_minor, after, amount_minor),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ConversionStatus::*;

    #[test]
    fn a_full_refund_reverses_an_unpaid_commission() {
        assert_eq!(refund_effect(Pending, 9_900, 1_980, 0, 9_900), RefundEffect::Reverse);
        assert_eq!(
            refund_effect(Approved, 9_900, 1_980, 0, 20_000),
            RefundEffect::Reverse,
            "over-refunds cap at the sale"
        );
    }

    #[test]
    fn a_partial_refund_reduces_in_proportion() {
        assert_eq!(
            refund_effect(Pending, 10_000, 2_000, 0, 2_500),
            RefundEffect::Reduce { commission_minor: 1_500 }
        );
        assert_eq!(
            refund_effect(Approved, 10_000, 2_000, 2_500, 5_000),
            RefundEffect::Reduce { commission_minor: 1_000 }
        );
    }

    #[test]
    fn a_refund_after_payout_is_owed_back() {
        assert_eq!(
            refund_effect(Paid, 10_000, 2_000, 0, 10_000),
            RefundEffect::Clawback { owed_minor: 2_000 }
        );
        assert_eq!(
            refund_effect(Paid, 10_000, 2_000, 2_500, 10_000),
            RefundEffect::Clawback { owed_minor: 1_500 }
        );
    }

    #[test]
    fn repeats_and_final_states_change_nothing() {
        assert_eq!(refund_effect(Pending, 10_000, 2_000, 2_500, 2_500), RefundEffect::Nothing);
        assert_eq!(refund_effect(Refunded, 10_000, 2_000, 0, 10_000), RefundEffect::Nothing);
        assert_eq!(refund_effect(Rejected, 10_000, 2_000, 0, 5_000), RefundEffect::Nothing);
    }

    proptest! {
        /// Refunding in steps never takes back more than was earned, whatever the order of
        /// partial amounts.
        #[test]
        fn clawbacks_never_exceed_the_commission(amount in 1i64..1_000_000, rate in 0i64..=100, steps in proptest::collection::vec(0i64..1_000_000, 1..6)) {
            let commission = amount * rate / 100;
            let (mut before, mut owed) = (0, 0);
            let mut totals = steps;
            totals.sort_unstable();
            for after in totals {
                if let RefundEffect::Clawback { owed_minor } = refund_effect(Paid, amount, commission, before, after) {
                    owed += owed_minor;
                }
                before = before.max(after.min(amount));
            }
            prop_assert!(owed <= commission);
        }
    }
}

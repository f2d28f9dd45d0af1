//! Recurring commissions: whether a subscription renewal still earns one.

use crate::calendar::add_months;

/// How long renewals of a referred subscription keep earning commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecurringLimit {
    /// Every renewal earns.
    Unlimited,
    /// Only the first `n` payments earn, counting the first sale as payment 1.
    Payments(u32),
    /// Only payments within `n` calendar months of the first sale earn.
    Months(u32),
}

/// Whether a renewal earns commission under `limit`.
///
/// `payment_number` counts the first sale as 1, so the first renewal is 2.
/// For [`RecurringLimit::Months`] the window is half-open: a renewal exactly
/// `n` calendar months after the first sale (see [`add_months`]) is outside.
pub fn renewal_within_limit(
    limit: RecurringLimit,
    payment_number: u32,
    first_sale_ms: i64,
    renewal_ms: i64,
) -> bool {
    match limit {
        RecurringLimit::Unlimited => true,
        RecurringLimit::Payments(n) => payment_number <= n,
        RecurringLimit::Months(n) => renewal_ms < add_months(first_sale_ms, n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_timestamp;

    fn ts(text: &str) -> i64 {
        parse_timestamp(text, false).unwrap()
    }

    #[test]
    fn unlimited_always_earns() {
        assert!(renewal_within_limit(RecurringLimit::Unlimited, u32::MAX, 0, i64::MAX));
    }

    #[test]
    fn payments_count_the_first_sale() {
        let limit = RecurringLimit::Payments(3);
        assert!(renewal_within_limit(limit, 2, 0, 0));
        assert!(renewal_within_limit(limit, 3, 0, 0));
        assert!(!renewal_within_limit(limit, 4, 0, 0));
        assert!(!renewal_within_limit(RecurringLimit::Payments(1), 2, 0, 0));
    }

    #[test]
    fn months_use_calendar_months_half_open() {
        let first = ts("2026-01-31T12:00:00Z");
        let limit = RecurringLimit::Months(1);
        assert!(renewal_within_limit(limit, 2, first, ts("2026-02-28T11:59:59Z")));
        assert!(!renewal_within_limit(limit, 2, first, ts("2026-02-28T12:00:00Z")));
        let limit = RecurringLimit::Months(12);
        let first = ts("2026-03-15T00:00:00Z");
        assert!(renewal_within_limit(limit, 13, first, ts("2027-03-14T23:59:59Z")));
        assert!(!renewal_within_limit(limit, 13, first, ts("2027-03-15T00:00:00Z")));
        assert!(!renewal_within_limit(RecurringLimit::Months(0), 2, first, first));
    }
}

//! Recurring commissions: whether a subscription renewal still earns one.

use std::fmt;

use crate::calendar::add_months;

/// What limits a campaign's recurring commission: a span of months or a count of payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecurringMode {
    /// Months since the first sale.
    Duration,
    /// Payments, the first sale included.
    Payments,
}

impl RecurringMode {
    /// Every mode.
    pub const ALL: [RecurringMode; 2] = [RecurringMode::Duration, RecurringMode::Payments];

    /// Stable text form: `"duration"` or `"payments"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecurringMode::Duration => "duration",
            RecurringMode::Payments => "payments",
        }
    }

    /// Inverse of [`RecurringMode::as_str`].
    pub fn parse(text: &str) -> Option<RecurringMode> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// The limit this mode sets with the campaign's payment count or month count (`None`, or
    /// a value out of range, is no limit).
    pub fn limit(self, payments: Option<i64>, months: Option<i64>) -> RecurringLimit {
        let to_u32 = |v: Option<i64>| v.and_then(|n| u32::try_from(n).ok());
        match self {
            RecurringMode::Payments => {
                to_u32(payments).map_or(RecurringLimit::Unlimited, RecurringLimit::Payments)
            }
            RecurringMode::Duration => {
                to_u32(months).map_or(RecurringLimit::Unlimited, RecurringLimit::Months)
            }
        }
    }
}

impl fmt::Display for RecurringMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How renewals are priced: like the first sale, or with the campaign's own recurring value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecurringType {
    /// The first sale's commission.
    Same,
    /// A custom recurring commission value.
    Custom,
}

impl RecurringType {
    /// Every type.
    pub const ALL: [RecurringType; 2] = [RecurringType::Same, RecurringType::Custom];

    /// Stable text form: `"same"` or `"custom"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecurringType::Same => "same",
            RecurringType::Custom => "custom",
        }
    }

    /// Inverse of [`RecurringType::as_str`].
    pub fn parse(text: &str) -> Option<RecurringType> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

impl fmt::Display for RecurringType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    fn modes_and_types_round_trip() {
        for mode in RecurringMode::ALL {
            assert_eq!(RecurringMode::parse(mode.as_str()), Some(mode));
        }
        for kind in RecurringType::ALL {
            assert_eq!(RecurringType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(RecurringMode::parse("weeks"), None);
        assert_eq!(RecurringType::parse("Same"), None);
    }

    #[test]
    fn a_mode_reads_its_own_limit() {
        assert_eq!(RecurringMode::Payments.limit(Some(3), Some(12)), RecurringLimit::Payments(3));
        assert_eq!(RecurringMode::Duration.limit(Some(3), Some(12)), RecurringLimit::Months(12));
        assert_eq!(RecurringMode::Duration.limit(Some(3), None), RecurringLimit::Unlimited);
        assert_eq!(RecurringMode::Payments.limit(Some(-1), None), RecurringLimit::Unlimited);
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

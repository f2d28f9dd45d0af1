//! The overview's rollups (migration `0012_overview_rollups`): what each change to a conversion
//! adds to its day and to its affiliate's month, decided here without I/O; the engines write it
//! in the transaction of the change, so the rollups always equal a recount of the rows.
//!
//! A conversion counts while its status is neither rejected nor refunded. Its money is kept as
//! the value's billions and remainder (`v / 10^9`, `v % 10^9`, truncated as SQL and Rust both
//! do): summing those parts is exactly what `sum_minor!` does over the rows, so a read of the
//! rollups gives the same saturating total as a recount, and no stored sum can overflow.

use std::collections::BTreeMap;

use refline_domain::{month_start, ConversionStatus, Mode};

use crate::Conversion;

const BILLION: i64 = 1_000_000_000;
const DAY_MS: i64 = 86_400_000;

/// Whether a conversion in `status` is in the overview's figures.
pub fn counts(status: ConversionStatus) -> bool {
    !matches!(status, ConversionStatus::Rejected | ConversionStatus::Refunded)
}

/// The UTC day number (days since the epoch) of unix ms `at`, as `created_at / 86400000` in SQL.
pub fn day_of(at: i64) -> i64 {
    at / DAY_MS
}

/// Sums kept by a rollup row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    /// Σ amount / 10^9.
    pub revenue_hi: i64,
    /// Σ amount % 10^9.
    pub revenue_lo: i64,
    /// Σ commission / 10^9.
    pub commission_hi: i64,
    /// Σ commission % 10^9.
    pub commission_lo: i64,
    /// Conversions.
    pub conversions: i64,
}

impl Sums {
    /// One conversion's amount and commission, counted `sign` times (+1 in, −1 out).
    fn of(amount: i64, commission: i64, sign: i64) -> Sums {
        Sums {
            revenue_hi: sign * (amount / BILLION),
            revenue_lo: sign * (amount % BILLION),
            commission_hi: sign * (commission / BILLION),
            commission_lo: sign * (commission % BILLION),
            conversions: sign,
        }
    }

    fn add(&mut self, o: Sums) {
        // Wrapping is unreachable (each part moves by under 10^9 a conversion) and never panics.
        self.revenue_hi = self.revenue_hi.wrapping_add(o.revenue_hi);
        self.revenue_lo = self.revenue_lo.wrapping_add(o.revenue_lo);
        self.commission_hi = self.commission_hi.wrapping_add(o.commission_hi);
        self.commission_lo = self.commission_lo.wrapping_add(o.commission_lo);
        self.conversions = self.conversions.wrapping_add(o.conversions);
    }

    fn is_zero(&self) -> bool {
        *self == Sums::default()
    }
}

/// A conversion's day row key: merchant, mode, day, currency.
pub type DayKey = (String, Mode, i64, String);
/// A conversion's month row key: merchant, mode, month start (unix ms), affiliate, currency.
pub type MonthKey = (String, Mode, i64, String, String);

/// What a set of changes adds to the rollups, summed per row and in key order, so concurrent
/// transactions lock rollup rows in one order (and every change writes them last).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RollupDelta {
    /// Per day row.
    pub days: BTreeMap<DayKey, Sums>,
    /// Per affiliate-month row.
    pub months: BTreeMap<MonthKey, Sums>,
}

impl RollupDelta {
    /// Conversion `c` as it is now, counted `sign` times, if its status counts.
    fn put(&mut self, c: &Conversion, sign: i64) {
        if !counts(c.status) {
            return;
        }
        self.put_values(c, c.amount_minor, c.commission_minor, sign);
    }

    fn put_values(&mut self, c: &Conversion, amount: i64, commission: i64, sign: i64) {
        let sums = Sums::of(amount, commission, sign);
        let day = (c.merchant_id.clone(), c.mode, day_of(c.created_at), c.currency.clone());
        self.days.entry(day).or_default().add(sums);
        let month = (
            c.merchant_id.clone(),
            c.mode,
            month_start(c.created_at),
            c.affiliate_id.clone(),
            c.currency.clone(),
        );
        self.months.entry(month).or_default().add(sums);
    }

    /// Newly stored conversions.
    pub fn inserted<'a>(rows: impl IntoIterator<Item = &'a Conversion>) -> RollupDelta {
        let mut delta = RollupDelta::default();
        for c in rows {
            delta.put(c, 1);
        }
        delta
    }

    /// `c` (as it is after the change) moved from status `from` to its status.
    pub fn status_changed(c: &Conversion, from: ConversionStatus) -> RollupDelta {
        let mut delta = RollupDelta::default();
        match (counts(from), counts(c.status)) {
            (true, false) => delta.put_values(c, c.amount_minor, c.commission_minor, -1),
            (false, true) => delta.put_values(c, c.amount_minor, c.commission_minor, 1),
            _ => {}
        }
        delta
    }

    /// `c` (as it is after the change, status unchanged) had commission `before`.
    pub fn commission_changed(c: &Conversion, before: i64) -> RollupDelta {
        RollupDelta::values_changed(c, c.amount_minor, before)
    }

    /// `c` (as it is after the change, in a status that counts before and after) had amount
    /// `amount` and commission `commission` (a priced trial converted by its first payment).
    pub fn values_changed(c: &Conversion, amount: i64, commission: i64) -> RollupDelta {
        let mut delta = RollupDelta::default();
        if counts(c.status) && (amount, commission) != (c.amount_minor, c.commission_minor) {
            // Out with the old values, in with the new (the count cancels out): each value's
            // parts, so the parts stay those of the rows.
            delta.put_values(c, amount, commission, -1);
            delta.put_values(c, c.amount_minor, c.commission_minor, 1);
        }
        delta.days.retain(|_, s| !s.is_zero());
        delta.months.retain(|_, s| !s.is_zero());
        delta
    }

    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.days.is_empty() && self.months.is_empty()
    }
}

/// Human clicks of one merchant and day, in key order.
pub fn click_days<'a>(stored: impl IntoIterator<Item = &'a crate::Click>) -> Vec<(String, i64, i64, i64)> {
    let mut by_day: BTreeMap<(&str, i64), (i64, i64)> = BTreeMap::new();
    for k in stored {
        if k.kind != "human" {
            continue;
        }
        let entry = by_day.entry((k.merchant_id.as_str(), day_of(k.created_at))).or_default();
        entry.0 += 1;
        entry.1 += i64::from(k.is_unique);
    }
    by_day.into_iter().map(|((m, day), (clicks, unique))| (m.to_string(), day, clicks, unique)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversion(amount: i64, commission: i64, status: ConversionStatus) -> Conversion {
        Conversion {
            affiliate_id: "aff".into(),
            currency: "USD".into(),
            amount_minor: amount,
            commission_minor: commission,
            status,
            created_at: 3 * DAY_MS + 5,
            ..Conversion::sample("conv_1")
        }
    }

    /// The saturating total `sum_minor!` computes from the parts.
    fn total(hi: i64, lo: i64) -> i64 {
        if hi + lo / BILLION >= 9_223_372_036 {
            i64::MAX
        } else {
            hi * BILLION + lo
        }
    }

    #[test]
    fn an_insert_adds_a_counted_conversion_to_its_day_and_month() {
        let c = conversion(2_500_000_123, 250, ConversionStatus::Pending);
        let d = RollupDelta::inserted([&c]);
        let day = d.days.get(&("m".into(), c.mode, 3, "USD".into())).copied().unwrap_or_default();
        assert_eq!(total(day.revenue_hi, day.revenue_lo), 2_500_000_123);
        assert_eq!(total(day.commission_hi, day.commission_lo), 250);
        assert_eq!(day.conversions, 1);
        assert_eq!(d.months.len(), 1);
        assert!(RollupDelta::inserted([&conversion(5, 1, ConversionStatus::Rejected)]).is_empty());
    }

    #[test]
    fn a_rejection_takes_out_exactly_what_the_insert_put_in() {
        let before = conversion(1_999_999_999, 7, ConversionStatus::Pending);
        let mut after = before.clone();
        after.status = ConversionStatus::Rejected;
        let mut sum = RollupDelta::inserted([&before]);
        for (k, s) in RollupDelta::status_changed(&after, ConversionStatus::Pending).days {
            sum.days.entry(k).or_default().add(s);
        }
        assert!(sum.days.values().all(Sums::is_zero));
        // Approve → paid moves nothing.
        let mut paid = before.clone();
        paid.status = ConversionStatus::Paid;
        assert!(RollupDelta::status_changed(&paid, ConversionStatus::Approved).is_empty());
    }

    #[test]
    fn a_commission_change_keeps_the_parts_of_the_new_value() {
        let mut c = conversion(100, 3_000_000_001, ConversionStatus::Approved);
        let before = c.commission_minor;
        c.commission_minor = 999_999_999;
        let d = RollupDelta::commission_changed(&c, before);
        let day = d.days.values().next().copied().unwrap_or_default();
        assert_eq!(day.commission_hi, -3);
        assert_eq!(day.commission_lo, 999_999_998);
        assert_eq!(day.conversions, 0);
        assert_eq!(day.revenue_hi + day.revenue_lo, 0);
        assert!(RollupDelta::commission_changed(&c, c.commission_minor).is_empty());
    }
}

//! The sanity guard that asks a merchant to confirm implausibly large commissions.

/// A commission above this many times the sale is almost certainly a typo.
const MAX_PLAUSIBLE_MULTIPLE: i128 = 5;

/// True when approving needs explicit confirmation: the commission exceeds five
/// times the sale, or the sale is zero and the commission is positive.
pub fn above_sale_guard(sale_minor: i64, commission_minor: i64) -> bool {
    let exceeds = i128::from(commission_minor) > MAX_PLAUSIBLE_MULTIPLE * i128::from(sale_minor);
    exceeds || (sale_minor == 0 && commission_minor > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_more_than_five_times_the_sale() {
        assert!(!above_sale_guard(1000, 1980));
        assert!(!above_sale_guard(1000, 5000));
        assert!(above_sale_guard(1000, 5001));
        assert!(above_sale_guard(i64::MAX / 6, i64::MAX));
    }

    #[test]
    fn zero_sale_with_positive_commission_is_flagged() {
        assert!(above_sale_guard(0, 1));
        assert!(!above_sale_guard(0, 0));
    }
}

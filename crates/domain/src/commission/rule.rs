//! Commission rules and the exact commission computation.

use crate::rate::Percent;

/// How the commission on a sale is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommissionRule {
    /// A share of the sale amount.
    Percentage(Percent),
    /// A flat amount in minor units (must be > 0, see [`CommissionRule::is_valid`]).
    Fixed(i64),
}

impl CommissionRule {
    /// Whether the rule is well-formed: percentages always are (the type enforces
    /// it), fixed amounts must be positive.
    pub fn is_valid(&self) -> bool {
        match self {
            CommissionRule::Percentage(_) => true,
            CommissionRule::Fixed(amount) => *amount > 0,
        }
    }
}

/// Percent (100) times the 1/10000 scale of [`Percent`].
const PERCENT_DENOMINATOR: i128 = 100 * 10_000;

/// Commission in minor units for a sale of `sale_minor` under `rule`.
///
/// Percentages round to the nearest minor unit with halves going away from
/// zero (half-up for positive sales, so 502.5 → 503; a negative sale mirrors the
/// positive one so a refund reverses exactly what was paid). The product is
/// computed in `i128` so no sale amount can overflow. Fixed rules ignore the
/// sale amount.
pub fn commission_for(rule: &CommissionRule, sale_minor: i64) -> i64 {
    match rule {
        CommissionRule::Fixed(amount) => *amount,
        CommissionRule::Percentage(rate) => {
            let product = i128::from(sale_minor) * i128::from(rate.ten_thousandths());
            let magnitude = (product.abs() * 2 + PERCENT_DENOMINATOR) / (2 * PERCENT_DENOMINATOR);
            let signed = if product < 0 { -magnitude } else { magnitude };
            // A rate of at most 100 % keeps |commission| <= |sale|, so this fits.
            i64::try_from(signed).unwrap_or(sale_minor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(text: &str) -> CommissionRule {
        CommissionRule::Percentage(Percent::parse(text).unwrap())
    }

    #[test]
    fn percentage_of_sale() {
        assert_eq!(commission_for(&pct("20"), 9900), 1980);
        assert_eq!(commission_for(&pct("100"), 9900), 9900);
        assert_eq!(commission_for(&pct("12.5"), 1000), 125);
        assert_eq!(commission_for(&pct("0.0001"), 1_000_000), 1);
        assert_eq!(commission_for(&pct("20"), 0), 0);
    }

    #[test]
    fn rounds_half_up() {
        assert_eq!(commission_for(&pct("50"), 1005), 503);
        assert_eq!(commission_for(&pct("50"), 1), 1);
        assert_eq!(commission_for(&pct("10"), 15), 2);
        assert_eq!(commission_for(&pct("10"), 14), 1);
        assert_eq!(commission_for(&pct("0.0001"), 499_999), 0);
        assert_eq!(commission_for(&pct("0.0001"), 500_000), 1);
    }

    #[test]
    fn negative_sales_round_away_from_zero() {
        assert_eq!(commission_for(&pct("50"), -1005), -503);
        assert_eq!(commission_for(&pct("10"), -14), -1);
        assert_eq!(commission_for(&pct("20"), -9900), -1980);
    }

    #[test]
    fn extreme_sales_do_not_overflow() {
        assert_eq!(commission_for(&pct("100"), i64::MAX), i64::MAX);
        assert_eq!(commission_for(&pct("100"), i64::MIN), i64::MIN);
        assert_eq!(commission_for(&pct("50"), i64::MAX), i64::MAX / 2 + 1);
    }

    #[test]
    fn fixed_ignores_sale() {
        assert_eq!(commission_for(&CommissionRule::Fixed(500), 9900), 500);
        assert_eq!(commission_for(&CommissionRule::Fixed(500), 0), 500);
        assert_eq!(commission_for(&CommissionRule::Fixed(500), -100), 500);
    }

    #[test]
    fn validity() {
        assert!(pct("20").is_valid());
        assert!(CommissionRule::Fixed(1).is_valid());
        assert!(!CommissionRule::Fixed(0).is_valid());
        assert!(!CommissionRule::Fixed(-1).is_valid());
    }
}

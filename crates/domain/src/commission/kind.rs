//! Commission types: a share of the sale (`percentage`) or a flat amount (`fixed`), and the
//! units a campaign stores its commission values in for each.
//!
//! Storage keeps every value as an integer whose unit depends on the commission type:
//! ten-thousandths of a percent for `percentage`, minor units of the campaign currency for
//! `fixed`.

use std::fmt;

use super::CommissionRule;
use crate::money::{format_amount, parse_amount, Currency};
use crate::rate::Percent;

/// `percentage` or `fixed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommissionType {
    /// A share of the sale.
    Percentage,
    /// A flat amount per sale.
    Fixed,
}

impl CommissionType {
    /// Every type.
    pub const ALL: [CommissionType; 2] = [CommissionType::Percentage, CommissionType::Fixed];

    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            CommissionType::Percentage => "percentage",
            CommissionType::Fixed => "fixed",
        }
    }

    /// Inverse of [`Self::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "percentage" => Some(CommissionType::Percentage),
            "fixed" => Some(CommissionType::Fixed),
            _ => None,
        }
    }

    /// Reads a decimal text ("20", "12.5", "30.00") as a stored value in this type's unit.
    pub fn parse_value(self, text: &str, currency: Currency) -> Result<i64, String> {
        match self {
            CommissionType::Percentage => Percent::parse(text)
                .map(|p| p.ten_thousandths())
                .map_err(|e| format!("must be a percentage above 0 and at most 100 ({e})")),
            CommissionType::Fixed => match parse_amount(text, currency.exponent()) {
                Ok(v) if v > 0 => Ok(v),
                Ok(_) => Err("must be an amount above 0".into()),
                Err(e) => Err(format!("must be an amount in {} ({e})", currency.code())),
            },
        }
    }

    /// The decimal text of a stored value.
    pub fn format_value(self, value: i64, currency: Currency) -> String {
        match self {
            CommissionType::Percentage => Percent::from_ten_thousandths(value)
                .map_or_else(|| value.to_string(), |p| p.to_decimal_string()),
            CommissionType::Fixed => format_amount(value, currency.exponent()),
        }
    }

    /// The domain rule for a stored value.
    pub fn rule(self, value: i64) -> Option<CommissionRule> {
        match self {
            CommissionType::Percentage => {
                Percent::from_ten_thousandths(value).map(CommissionRule::Percentage)
            }
            CommissionType::Fixed => (value > 0).then_some(CommissionRule::Fixed(value)),
        }
    }
}

impl fmt::Display for CommissionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for kind in CommissionType::ALL {
            assert_eq!(CommissionType::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(CommissionType::parse("Fixed"), None);
    }

    #[test]
    fn values_in_each_unit() {
        assert_eq!(CommissionType::Percentage.parse_value("12.5", Currency::USD), Ok(125_000));
        assert_eq!(CommissionType::Fixed.parse_value("30.00", Currency::USD), Ok(3_000));
        assert!(CommissionType::Fixed.parse_value("0", Currency::USD).is_err());
        assert_eq!(CommissionType::Fixed.format_value(3_000, Currency::USD), "30.00");
        assert_eq!(CommissionType::Fixed.rule(0), None);
        assert_eq!(CommissionType::Fixed.rule(5), Some(CommissionRule::Fixed(5)));
    }
}

//! A campaign's commission terms: the stored columns read as domain rules, and the decimal
//! texts the API shows for them.
//!
//! Storage keeps every value as an integer whose unit depends on the commission type:
//! ten-thousandths of a percent for `percentage`, minor units of the campaign currency for
//! `fixed`. Tiers are stored as a JSON array `[{"min": n, "value": v}]` in the same units.

use refline_domain::{format_amount, CommissionRule, Currency, Percent, RecurringLimit, Tier, TierBasis};
use refline_store::Campaign;
use serde_json::{json, Value};

/// `percentage` or `fixed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommissionType {
    /// A share of the sale.
    Percentage,
    /// A flat amount per sale.
    Fixed,
}

impl CommissionType {
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
            CommissionType::Fixed => match refline_domain::parse_amount(text, currency.exponent()) {
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

/// The campaign's currency (USD only for a corrupt row; the API validates on write).
pub fn currency_of(c: &Campaign) -> Currency {
    Currency::parse(&c.currency).unwrap_or(Currency::USD)
}

/// The commission type of a stored campaign.
pub fn type_of(c: &Campaign) -> CommissionType {
    CommissionType::parse(&c.commission_type).unwrap_or(CommissionType::Percentage)
}

/// Stored tiers as domain tiers (in the campaign's commission type).
pub fn tiers_of(c: &Campaign) -> Vec<Tier> {
    let kind = type_of(c);
    stored_tiers(c)
        .into_iter()
        .filter_map(|(min_volume, value)| Some(Tier { min_volume, rule: kind.rule(value)? }))
        .collect()
}

/// The stored `(min, value)` pairs of a campaign's tiers (inverse of [`store_tiers`]).
fn stored_tiers(c: &Campaign) -> Vec<(i64, i64)> {
    let stored: Vec<Value> = serde_json::from_str(&c.tiers).unwrap_or_default();
    stored.iter().filter_map(|t| Some((t.get("min")?.as_i64()?, t.get("value")?.as_i64()?))).collect()
}

/// Domain tiers in storage form.
pub fn store_tiers(tiers: &[(i64, i64)]) -> String {
    Value::Array(tiers.iter().map(|(min, value)| json!({ "min": min, "value": value })).collect()).to_string()
}

/// Tier basis of a stored campaign.
pub fn basis_of(c: &Campaign) -> TierBasis {
    TierBasis::parse(&c.tier_basis).unwrap_or(TierBasis::SalesCount)
}

/// The first-sale rule of a campaign.
pub fn base_rule(c: &Campaign) -> Option<CommissionRule> {
    type_of(c).rule(c.commission_value)
}

/// The rule for renewals: the custom recurring value, or `None` to price like a first sale.
pub fn custom_recurring_rule(c: &Campaign) -> Option<CommissionRule> {
    if c.recurring_type == "custom" {
        c.recurring_value.and_then(|v| type_of(c).rule(v))
    } else {
        None
    }
}

/// How long renewals keep earning.
pub fn recurring_limit(c: &Campaign) -> RecurringLimit {
    let to_u32 = |v: Option<i64>| v.and_then(|n| u32::try_from(n).ok());
    match c.recurring_mode.as_str() {
        "payments" => to_u32(c.recurring_count).map_or(RecurringLimit::Unlimited, RecurringLimit::Payments),
        _ => to_u32(c.recurring_months).map_or(RecurringLimit::Unlimited, RecurringLimit::Months),
    }
}

/// Tiers as the API shows them: `minSales` or `minRevenue`, and `commissionValue`.
pub fn render_tiers(c: &Campaign) -> Value {
    let currency = currency_of(c);
    let kind = type_of(c);
    let basis = basis_of(c);
    Value::Array(
        stored_tiers(c)
            .into_iter()
            .map(|(min, value)| {
                let value = kind.format_value(value, currency);
                match basis {
                    TierBasis::SalesCount => json!({ "minSales": min, "commissionValue": value }),
                    TierBasis::Revenue => json!({
                        "minRevenue": format_amount(min, currency.exponent()),
                        "commissionValue": value,
                    }),
                }
            })
            .collect(),
    )
}

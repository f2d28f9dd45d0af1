//! A campaign's commission terms: the stored columns read as domain rules, and the decimal
//! texts the API shows for them.
//!
//! Storage keeps every value as an integer whose unit depends on the commission type:
//! ten-thousandths of a percent for `percentage`, minor units of the campaign currency for
//! `fixed`. Tiers are stored as a JSON array `[{"min": n, "value": v}]` in the same units.

pub use refline_domain::commission::CommissionType;
use refline_domain::{
    format_amount, CommissionRule, Currency, RecurringLimit, RecurringType, Tier, TierBasis,
};
use refline_store::Campaign;
use serde_json::{json, Value};

/// The campaign's currency (USD only for a corrupt row; the API validates on write).
pub fn currency_of(c: &Campaign) -> Currency {
    Currency::parse(&c.currency).unwrap_or(Currency::USD)
}

/// The commission type of a stored campaign.
pub fn type_of(c: &Campaign) -> CommissionType {
    c.commission_type
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
    c.tier_basis
}

/// The first-sale rule of a campaign.
pub fn base_rule(c: &Campaign) -> Option<CommissionRule> {
    type_of(c).rule(c.commission_value)
}

/// The rule for renewals: the custom recurring value, or `None` to price like a first sale.
pub fn custom_recurring_rule(c: &Campaign) -> Option<CommissionRule> {
    match c.recurring_type {
        RecurringType::Custom => c.recurring_value.and_then(|v| type_of(c).rule(v)),
        RecurringType::Same => None,
    }
}

/// How long renewals keep earning.
pub fn recurring_limit(c: &Campaign) -> RecurringLimit {
    c.recurring_mode.limit(c.recurring_count, c.recurring_months)
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

/// The terms in one sentence, as the join page, the portal and the mails show them:
/// `20% of each sale` or `30.00 USD per sale`, with the recurring part when there is one.
pub fn summary(c: &Campaign) -> String {
    let kind = type_of(c);
    let value = kind.format_value(c.commission_value, currency_of(c));
    let base = match kind {
        CommissionType::Percentage => format!("{value}% of each sale"),
        _ => format!("{value} {} per sale", c.currency.to_uppercase()),
    };
    if !c.recurring_enabled {
        return base;
    }
    let limit = match c.recurring_mode {
        refline_domain::RecurringMode::Payments => {
            c.recurring_count.map(|n| format!(" (up to {n} payments)"))
        }
        refline_domain::RecurringMode::Duration => c.recurring_months.map(|m| format!(" (for {m} months)")),
    };
    let limit = limit.unwrap_or_default();
    format!("{base}, recurring payments included{limit}")
}

#[cfg(test)]
mod summary_tests {
    use refline_domain::RecurringMode;
    use refline_store::Campaign;

    use super::{summary, CommissionType};

    #[test]
    fn terms_read_as_one_sentence() {
        let base = Campaign::with_defaults("c", "m", "T", "usd", 0);
        assert_eq!(summary(&base), "20% of each sale");
        let fixed =
            Campaign { commission_type: CommissionType::Fixed, commission_value: 3_000, ..base.clone() };
        assert_eq!(summary(&fixed), "30.00 USD per sale");
        let months = Campaign { recurring_enabled: true, recurring_months: Some(12), ..base.clone() };
        assert_eq!(summary(&months), "20% of each sale, recurring payments included (for 12 months)");
        let payments = Campaign {
            recurring_enabled: true,
            recurring_mode: RecurringMode::Payments,
            recurring_count: Some(3),
            ..base.clone()
        };
        assert_eq!(summary(&payments), "20% of each sale, recurring payments included (up to 3 payments)");
        let unlimited = Campaign { recurring_enabled: true, ..base };
        assert_eq!(summary(&unlimited), "20% of each sale, recurring payments included");
    }
}

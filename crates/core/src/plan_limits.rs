//! Per-plan limits: requests per minute per key and the monthly tracked-sales cap, and the
//! exchange rates the cap counts sales in other currencies with.

use refline_domain::{hundredths_to_minor, Counted, Currency, ExchangeRates, Plan};

/// Per-plan limits. Defaults follow LinkJolt's published plans.
#[derive(Debug, Clone)]
pub struct PlanLimits {
    /// Requests per minute per key, by plan.
    pub rate_per_minute: [u32; 4],
    /// Tracked sales per calendar month before conversions are refused, in hundredths of a
    /// major unit of the merchant's currency (the flags take 2 decimals; see [`Self::cap_in`]);
    /// `None` is no cap.
    pub monthly_cap_minor: [Option<i64>; 4],
    /// How sales in other currencies count toward a merchant's cap (in its own currency).
    pub rates: ExchangeRates,
    /// Team seats by plan (starter, pro, ultimate, scale); `None` is the published figures
    /// (`refline_domain::default_seats`).
    pub seats: Option<[u32; 4]>,
}

impl Default for PlanLimits {
    fn default() -> Self {
        let plans = [Plan::Starter, Plan::Pro, Plan::Ultimate, Plan::Scale];
        PlanLimits {
            rate_per_minute: plans.map(Plan::default_rate_limit_per_minute),
            monthly_cap_minor: plans.map(Plan::default_monthly_cap_minor),
            rates: ExchangeRates::default(),
            seats: None,
        }
    }
}

fn plan_index(plan: Plan) -> usize {
    match plan {
        Plan::Starter => 0,
        Plan::Pro => 1,
        Plan::Ultimate => 2,
        Plan::Scale => 3,
    }
}

impl PlanLimits {
    /// Requests per minute allowed to one key of this plan.
    pub fn rate_for(&self, plan: Plan) -> u32 {
        self.rate_per_minute[plan_index(plan)]
    }

    /// Monthly tracked-sales cap of this plan, in hundredths of a major unit.
    pub fn cap_for(&self, plan: Plan) -> Option<i64> {
        self.monthly_cap_minor[plan_index(plan)]
    }

    /// Monthly tracked-sales cap of this plan for a merchant whose currency is `currency`, in
    /// its minor units: the configured figure is an amount of the merchant's own currency, so
    /// 50,000.00 is $50,000.00 for a USD merchant and ¥50,000 for a JPY one.
    pub fn cap_in(&self, plan: Plan, currency: Currency) -> Option<i64> {
        self.cap_for(plan).map(|cap| hundredths_to_minor(cap, currency.exponent()))
    }

    /// What a sale of `amount_minor` in `sale` adds to the tracked sales of a merchant whose
    /// currency is `merchant`: converted with [`Self::rates`], or at par when a rate is missing.
    pub fn tracked_amount(&self, amount_minor: i64, sale: Currency, merchant: Currency) -> Counted {
        self.rates.count_in(amount_minor, sale, merchant)
    }

    /// Sets the rate of one plan.
    pub fn set_rate(&mut self, plan: Plan, per_minute: u32) {
        self.rate_per_minute[plan_index(plan)] = per_minute;
    }

    /// Sets the cap of one plan (`None` removes it), in hundredths of a major unit.
    pub fn set_cap(&mut self, plan: Plan, cap_minor: Option<i64>) {
        self.monthly_cap_minor[plan_index(plan)] = cap_minor;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_read_in_the_merchant_currency() {
        let limits = PlanLimits::default();
        let currency = |code| Currency::parse(code).unwrap_or(Currency::USD);
        assert_eq!(limits.cap_in(Plan::Ultimate, currency("usd")), Some(5_000_000));
        assert_eq!(limits.cap_in(Plan::Ultimate, currency("jpy")), Some(50_000));
        assert_eq!(limits.cap_in(Plan::Ultimate, currency("kwd")), Some(50_000_000));
        assert_eq!(limits.cap_in(Plan::Scale, currency("usd")), None);
    }
}

//! Per-plan limits: requests per minute per key and the monthly tracked-sales cap.

use refline_domain::Plan;

/// Per-plan limits. Defaults follow LinkJolt's published plans.
#[derive(Debug, Clone)]
pub struct PlanLimits {
    /// Requests per minute per key, by plan.
    pub rate_per_minute: [u32; 4],
    /// Tracked sales per calendar month before conversions are refused, minor units; `None` is
    /// no cap.
    pub monthly_cap_minor: [Option<i64>; 4],
}

impl Default for PlanLimits {
    fn default() -> Self {
        let plans = [Plan::Starter, Plan::Pro, Plan::Ultimate, Plan::Scale];
        PlanLimits {
            rate_per_minute: plans.map(Plan::default_rate_limit_per_minute),
            monthly_cap_minor: plans.map(Plan::default_monthly_cap_minor),
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

    /// Monthly tracked-sales cap of this plan.
    pub fn cap_for(&self, plan: Plan) -> Option<i64> {
        self.monthly_cap_minor[plan_index(plan)]
    }

    /// Sets the rate of one plan.
    pub fn set_rate(&mut self, plan: Plan, per_minute: u32) {
        self.rate_per_minute[plan_index(plan)] = per_minute;
    }

    /// Sets the cap of one plan (`None` removes it).
    pub fn set_cap(&mut self, plan: Plan, cap_minor: Option<i64>) {
        self.monthly_cap_minor[plan_index(plan)] = cap_minor;
    }
}

//! Payouts: which commissions and clawbacks a payout run gathers, and a payout's lifecycle.

use std::collections::BTreeMap;

/// Where a payout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayoutStatus {
    /// Created by a run; its commissions are reserved for it.
    Pending,
    /// Being paid: exported to a file, or a transfer is under way.
    Processing,
    /// Paid: its commissions are `paid`.
    Completed,
    /// Not paid (or a completed payment came back): its commissions are payable again.
    Failed,
    /// Withdrawn before payment: its commissions are payable again.
    Cancelled,
}

impl PayoutStatus {
    /// Every status.
    pub const ALL: [PayoutStatus; 5] = [
        PayoutStatus::Pending,
        PayoutStatus::Processing,
        PayoutStatus::Completed,
        PayoutStatus::Failed,
        PayoutStatus::Cancelled,
    ];

    /// Stable lower-case text form.
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Pending => "pending",
            PayoutStatus::Processing => "processing",
            PayoutStatus::Completed => "completed",
            PayoutStatus::Failed => "failed",
            PayoutStatus::Cancelled => "cancelled",
        }
    }

    /// Inverse of [`PayoutStatus::as_str`].
    pub fn parse(text: &str) -> Option<PayoutStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// True while the payout holds its commissions (pending or processing): only an open
    /// payout's contents change when a commission is refunded or rejected.
    pub fn is_open(self) -> bool {
        matches!(self, PayoutStatus::Pending | PayoutStatus::Processing)
    }

    /// Whether a payout in this status may move to `to`. Completing and failing work from
    /// pending too (a manual payment needs no separate "processing" step); a completed payout
    /// may still fail (its money came back); failed and cancelled are final.
    pub fn can_become(self, to: PayoutStatus) -> bool {
        use PayoutStatus::*;
        matches!(
            (self, to),
            (Pending, Processing | Completed | Failed | Cancelled)
                | (Processing, Completed | Failed | Cancelled)
                | (Completed, Failed)
        )
    }
}

/// Something a payout run may take: a payable commission (positive amount) or a clawback owed
/// back (negative amount), of one affiliate, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The affiliate paid.
    pub affiliate_id: String,
    /// The commission's currency.
    pub currency: String,
    /// The conversion whose commission (or clawback) this is.
    pub conversion_id: String,
    /// Outstanding amount, minor units: positive to pay, negative to net.
    pub amount: i64,
}

/// A payout a run creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutPlan {
    /// The affiliate paid.
    pub affiliate_id: String,
    /// One currency per payout.
    pub currency: String,
    /// `(conversion id, amount)`: commissions positive, clawbacks netted negative.
    pub items: Vec<(String, i64)>,
    /// Sum of the items (> 0 and at least the minimum).
    pub total: i64,
}

/// An affiliate's payable money that stays for a later run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingPayout {
    /// The affiliate.
    pub affiliate_id: String,
    /// The currency.
    pub currency: String,
    /// What a payout would total now (below the minimum, or not positive).
    pub total: i64,
}

/// Groups `candidates` into one payout per affiliate and currency, netting every clawback owed
/// into it. A group whose total is not positive or is below `minimum(currency)` waits (nothing
/// of it is taken, so its clawbacks keep being owed and its commissions stay payable). Output
/// is ordered by affiliate, then currency; items keep the candidates' order.
pub fn plan_payouts(
    candidates: impl IntoIterator<Item = Candidate>,
    minimum: impl Fn(&str) -> i64,
) -> (Vec<PayoutPlan>, Vec<WaitingPayout>) {
    let mut groups: BTreeMap<(String, String), Vec<(String, i64)>> = BTreeMap::new();
    for c in candidates {
        groups.entry((c.affiliate_id, c.currency)).or_default().push((c.conversion_id, c.amount));
    }
    let mut plans = Vec::new();
    let mut waiting = Vec::new();
    for ((affiliate_id, currency), items) in groups {
        let total = items.iter().fold(0i64, |sum, (_, amount)| sum.saturating_add(*amount));
        if total > 0 && total >= minimum(&currency) {
            plans.push(PayoutPlan { affiliate_id, currency, items, total });
        } else {
            waiting.push(WaitingPayout { affiliate_id, currency, total });
        }
    }
    (plans, waiting)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(aff: &str, cur: &str, conv: &str, amount: i64) -> Candidate {
        Candidate { affiliate_id: aff.into(), currency: cur.into(), conversion_id: conv.into(), amount }
    }

    #[test]
    fn one_payout_per_affiliate_and_currency_with_clawbacks_netted() {
        let (plans, waiting) = plan_payouts(
            [
                c("a", "usd", "c1", 4000),
                c("a", "eur", "c2", 6000),
                c("a", "usd", "c3", 3000),
                c("a", "usd", "c4", -1500),
            ],
            |_| 5000,
        );
        assert_eq!(plans.len(), 2);
        assert_eq!((plans[0].currency.as_str(), plans[0].total), ("eur", 6000));
        assert_eq!((plans[1].currency.as_str(), plans[1].total), ("usd", 5500));
        assert_eq!(plans[1].items.len(), 3, "the clawback is netted into the payout");
        assert!(waiting.is_empty());
    }

    #[test]
    fn below_the_minimum_or_owing_more_than_earned_waits() {
        let (plans, waiting) = plan_payouts(
            [c("a", "usd", "c1", 4999), c("b", "usd", "c2", 1000), c("b", "usd", "c3", -2000)],
            |_| 5000,
        );
        assert!(plans.is_empty());
        assert_eq!(waiting.iter().map(|w| w.total).collect::<Vec<_>>(), [4999, -1000]);
        let (plans, _) = plan_payouts([c("a", "usd", "c1", 1)], |_| 0);
        assert_eq!(plans.len(), 1, "a zero minimum pays any positive total");
        let (plans, _) = plan_payouts([c("a", "usd", "c1", -1)], |_| 0);
        assert!(plans.is_empty(), "a payout is never negative");
    }

    #[test]
    fn lifecycle() {
        use PayoutStatus::*;
        for s in PayoutStatus::ALL {
            assert_eq!(PayoutStatus::parse(s.as_str()), Some(s));
        }
        assert!(
            Pending.can_become(Completed) && Processing.can_become(Failed) && Completed.can_become(Failed)
        );
        assert!(
            !Completed.can_become(Cancelled)
                && !Failed.can_become(Pending)
                && !Cancelled.can_become(Completed)
        );
        assert!(Pending.is_open() && Processing.is_open() && !Completed.is_open());
    }

    proptest! {
        #[test]
        fn every_candidate_is_planned_or_waits_once(
            raw in prop::collection::vec((0u8..4, 0u8..2, -5000i64..20000), 0..60),
            min in 0i64..30000,
        ) {
            let candidates: Vec<Candidate> = raw.iter().enumerate()
                .map(|(i, (a, cur, amount))| c(&format!("a{a}"), ["usd", "eur"][*cur as usize], &format!("c{i}"), *amount))
                .collect();
            let (plans, waiting) = plan_payouts(candidates.clone(), |_| min);
            let planned: usize = plans.iter().map(|p| p.items.len()).sum();
            let waiting_items = candidates.iter().filter(|c| waiting.iter().any(|w| w.affiliate_id == c.affiliate_id && w.currency == c.currency)).count();
            prop_assert_eq!(planned + waiting_items, candidates.len());
            for p in &plans {
                prop_assert!(p.total > 0 && p.total >= min);
                prop_assert_eq!(p.total, p.items.iter().map(|(_, a)| a).sum::<i64>());
                for (conv, _) in &p.items {
                    let orig = candidates.iter().find(|c| &c.conversion_id == conv).unwrap();
                    prop_assert_eq!(&orig.currency, &p.currency, "never mixes currencies");
                    prop_assert_eq!(&orig.affiliate_id, &p.affiliate_id);
                }
            }
        }
    }
}

//! `ledger verify`: recompute every commission and every balance from the raw ledger entries and
//! compare them with what the rest of the database (and so the API) says. Pure: the caller
//! reads the snapshot and the reported balances.

use std::collections::{BTreeMap, HashMap};

use refline_domain::{
    ledger::{CommissionTotals, EntryKind, PayoutStatus},
    ConversionStatus,
};
use refline_store::LedgerSnapshot;

use super::balances::BalanceRow;

/// Every disagreement between the ledger and the rest, as sentences; empty when they agree.
pub fn verify(snapshot: &LedgerSnapshot, live: &[BalanceRow], test: &[BalanceRow]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut totals: HashMap<&str, CommissionTotals> = HashMap::new();
    let mut accrued: HashMap<&str, i64> = HashMap::new();
    let mut paid_by_payout: HashMap<(&str, &str), i64> = HashMap::new();
    let conversions: HashMap<&str, _> = snapshot.conversions.iter().map(|c| (c.id.as_str(), c)).collect();

    for e in &snapshot.entries {
        totals.entry(&e.conversion_id).or_default().apply(e.kind, e.amount_minor);
        if e.kind == EntryKind::Accrued {
            *accrued.entry(&e.conversion_id).or_default() += e.amount_minor;
        }
        if let Some(payout) = &e.payout_id {
            *paid_by_payout.entry((payout.as_str(), e.conversion_id.as_str())).or_default() += e.amount_minor;
        }
        match conversions.get(e.conversion_id.as_str()) {
            None => problems
                .push(format!("entry {} names conversion {} that does not exist", e.id, e.conversion_id)),
            Some(c) if c.currency != e.currency || c.affiliate_id != e.affiliate_id || c.mode != e.mode => {
                problems.push(format!(
                    "entry {} ({} {}) does not match conversion {} ({} {})",
                    e.id, e.affiliate_id, e.currency, c.id, c.affiliate_id, c.currency
                ));
            }
            Some(_) => {}
        }
        if matches!(e.kind, EntryKind::Paid | EntryKind::Returned) != e.payout_id.is_some() {
            problems.push(format!("entry {} ({}) has the wrong payout reference", e.id, e.kind));
        }
    }

    let mut clawed: HashMap<&str, i64> = HashMap::new();
    for (conversion, amount) in &snapshot.adjustments {
        *clawed.entry(conversion).or_default() += amount;
    }
    for c in &snapshot.conversions {
        let t = totals.get(c.id.as_str()).copied().unwrap_or_default();
        let expected_earned = match c.status.as_str() {
            "rejected" | "refunded" => 0,
            _ => c.commission_minor.saturating_add(clawed.get(c.id.as_str()).copied().unwrap_or(0)),
        };
        if t.earned != expected_earned {
            problems.push(format!(
                "conversion {} ({}): the ledger says it earns {}, the conversion says {}",
                c.id, c.status, t.earned, expected_earned
            ));
        }
        if t.earned != c.earned_minor {
            problems.push(format!(
                "conversion {}: its entries earn {}, its earned total says {}",
                c.id, t.earned, c.earned_minor
            ));
        }
        if t.paid != c.paid_minor {
            problems.push(format!(
                "conversion {}: the ledger says {} was paid, the conversion says {}",
                c.id, t.paid, c.paid_minor
            ));
        }
        let ever_earned = accrued.get(c.id.as_str()).copied().unwrap_or(0);
        if t.paid > ever_earned.max(0) {
            problems.push(format!(
                "conversion {}: paid {} is more than it ever earned ({ever_earned})",
                c.id, t.paid
            ));
        }
        let is_paid = c.status == ConversionStatus::Paid;
        if is_paid != (t.paid > 0) && !(is_paid && t.earned <= 0) {
            problems.push(format!("conversion {} is {} but {} of it was paid", c.id, c.status, t.paid));
        }
    }

    let mut open_items: HashMap<&str, usize> = HashMap::new();
    for p in &snapshot.payouts {
        let items: Vec<_> = snapshot.items.iter().filter(|i| i.payout_id == p.id).collect();
        let sum: i64 = items.iter().map(|i| i.amount_minor).sum();
        let totalled = p.status.is_open() || p.status == PayoutStatus::Completed;
        if totalled && sum != p.amount_minor {
            problems.push(format!("payout {}: amount {} but its items sum to {sum}", p.id, p.amount_minor));
        }
        for i in &items {
            if i.is_open != p.status.is_open() {
                problems.push(format!(
                    "payout {} ({}): item {} open={}",
                    p.id,
                    p.status.as_str(),
                    i.conversion_id,
                    i.is_open
                ));
            }
            if i.is_open {
                *open_items.entry(&i.conversion_id).or_default() += 1;
            }
            if let Some(c) = conversions.get(i.conversion_id.as_str()) {
                if c.currency != p.currency || c.affiliate_id != p.affiliate_id {
                    problems.push(format!(
                        "payout {} holds conversion {} of another affiliate or currency",
                        p.id, c.id
                    ));
                }
            }
            let settled =
                paid_by_payout.get(&(p.id.as_str(), i.conversion_id.as_str())).copied().unwrap_or(0);
            let expected = if p.status == PayoutStatus::Completed { i.amount_minor } else { 0 };
            if settled != expected {
                problems.push(format!(
                    "payout {} ({}): conversion {} has {settled} in paid entries, expected {expected}",
                    p.id,
                    p.status.as_str(),
                    i.conversion_id
                ));
            }
        }
    }
    for (conversion, n) in open_items {
        if n > 1 {
            problems.push(format!("conversion {conversion} is in {n} open payouts"));
        }
    }

    // Balances: per affiliate and currency, what the ledger says is outstanding and paid must be
    // what was reported, and every reported balance must have money in the ledger behind it.
    let mut expected: BTreeMap<(&str, &str, bool), (i64, i64)> = BTreeMap::new();
    for c in &snapshot.conversions {
        let t = totals.get(c.id.as_str()).copied().unwrap_or_default();
        let slot = expected.entry((&c.affiliate_id, &c.currency, !c.mode.is_live())).or_default();
        slot.0 += t.outstanding();
        slot.1 += t.paid;
    }
    let mut seen = std::collections::HashSet::new();
    for (is_test, rows) in [(false, live), (true, test)] {
        for row in rows {
            let b = &row.balance;
            let outstanding = b.pending + b.on_hold + b.payable + b.in_payout - b.owed_back;
            let key = (row.affiliate_id.as_str(), row.currency.as_str(), is_test);
            seen.insert(key);
            let (want_outstanding, want_paid) = expected.get(&key).copied().unwrap_or_default();
            if outstanding != want_outstanding || b.paid != want_paid {
                problems.push(format!(
                    "balance of {} in {}{}: reported outstanding {outstanding} and paid {}, the ledger says {want_outstanding} and {want_paid}",
                    row.affiliate_id,
                    row.currency,
                    if is_test { " (test)" } else { "" },
                    b.paid
                ));
            }
        }
    }
    for (key, (outstanding, paid)) in &expected {
        if (*outstanding != 0 || *paid != 0) && !seen.contains(key) {
            problems.push(format!(
                "balance of {} in {}: the ledger says {outstanding} outstanding and {paid} paid, none was reported",
                key.0, key.1
            ));
        }
    }
    problems
}

impl crate::Core {
    /// Verifies one merchant's ledger against its conversions, payouts and the balances the API
    /// reports (live and test); answers every difference found.
    pub async fn verify_ledger(&self, merchant_id: &str) -> crate::CoreResult<Vec<String>> {
        let snapshot = self.store.ledger_snapshot(merchant_id).await?;
        let operator = |mode| crate::Actor {
            merchant_id: merchant_id.to_string(),
            mode,
            rights: crate::Rights::ReadOnly,
            currency: String::new(),
            door: crate::Door::Cli,
        };
        let live = self.balances(&operator(crate::Mode::Live), None, None).await?;
        let test = self.balances(&operator(crate::Mode::Test), None, None).await?;
        Ok(verify(&snapshot, &live, &test))
    }
}

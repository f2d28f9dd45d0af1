//! Planning a batch of conversions so that recording them together gives exactly the outcome of
//! recording them one by one, in order. Pure: the engine reads the state this needs (order ids
//! already used, tracked sales, affiliate volumes), this decides, the engine writes.

use std::collections::HashMap;

use refline_domain::AffiliateVolume;

use crate::{Conversion, PendingConversion, RecordError, RecordOutcome};

/// The affiliate's volume window a tiered sale is priced in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VolumeKey {
    /// Campaign.
    pub campaign_id: String,
    /// Affiliate.
    pub affiliate_id: String,
    /// Mode.
    pub is_test: bool,
    /// First ms of the month.
    pub month_start: i64,
}

/// What the engine must read before planning.
#[derive(Debug, Default)]
pub struct BatchReads {
    /// (merchant, month) of live sales under a cap.
    pub capped_months: Vec<(String, i64)>,
    /// Volume windows of tiered sales.
    pub volumes: Vec<VolumeKey>,
}

/// What the engine read.
#[derive(Debug, Default)]
pub struct BatchState {
    /// (merchant, is_test, order id) → existing conversion id.
    pub existing_orders: HashMap<(String, bool, String), String>,
    /// (merchant, month) → tracked sales so far.
    pub tracked: HashMap<(String, i64), i64>,
    /// Volume before the batch.
    pub volumes: HashMap<VolumeKey, AffiliateVolume>,
}

/// A conversion to insert and the tally it adds to.
#[derive(Debug, Clone)]
pub struct PlannedInsert {
    /// Index of the sale in the batch.
    pub index: usize,
    /// The priced row.
    pub conversion: Conversion,
    /// Tally month.
    pub month: i64,
    /// Tally shard.
    pub shard: i64,
}

/// The plan: outcomes decided without writing, and rows to insert.
#[derive(Debug, Default)]
pub struct BatchPlan {
    /// One slot per sale: `Some` when decided (refused), `None` when its row is in `inserts`.
    pub decided: Vec<Option<RecordOutcome>>,
    /// Rows to insert, in batch order.
    pub inserts: Vec<PlannedInsert>,
}

fn volume_key(c: &Conversion, month_start: i64) -> VolumeKey {
    VolumeKey {
        campaign_id: c.campaign_id.clone(),
        affiliate_id: c.affiliate_id.clone(),
        is_test: c.is_test,
        month_start,
    }
}

/// The reads a batch needs.
pub fn reads_for(batch: &[PendingConversion]) -> BatchReads {
    let mut reads = BatchReads::default();
    for p in batch {
        let (r, c) = (&p.request, &p.request.conversion);
        let month = (c.merchant_id.clone(), r.month);
        if !c.is_test && r.monthly_cap_minor.is_some() && !reads.capped_months.contains(&month) {
            reads.capped_months.push(month);
        }
        let key = volume_key(c, r.month_start);
        if r.needs_volume && !reads.volumes.contains(&key) {
            reads.volumes.push(key);
        }
    }
    reads
}

/// Decides every sale of the batch in order. `state.existing_orders` holds the order ids known
/// to be taken; the engine inserts optimistically and re-plans with the ones it finds taken.
pub fn plan(batch: &[PendingConversion], mut state: BatchState) -> BatchPlan {
    let mut plan = BatchPlan::default();
    for (index, PendingConversion { request, price }) in batch.iter().enumerate() {
        let mut c = request.conversion.clone();
        if let Some(order) = &c.order_id {
            let key = (c.merchant_id.clone(), c.is_test, order.clone());
            if let Some(existing_id) = state.existing_orders.get(&key) {
                plan.decided.push(Some(Err(RecordError::Duplicate { existing_id: existing_id.clone() })));
                continue;
            }
        }
        if let (false, Some(cap)) = (c.is_test, request.monthly_cap_minor) {
            let tracked = state.tracked.entry((c.merchant_id.clone(), request.month)).or_insert(0);
            if *tracked >= cap {
                plan.decided.push(Some(Err(RecordError::CapReached)));
                continue;
            }
        }
        let key = volume_key(&c, request.month_start);
        let volume = state.volumes.get(&key).copied().unwrap_or_default();
        c.commission_minor = price(volume);
        if request.needs_volume && c.status != "rejected" && c.status != "refunded" {
            let v = state.volumes.entry(key).or_default();
            v.sales_count += 1;
            v.revenue_minor += c.amount_minor;
        }
        if !c.is_test {
            *state.tracked.entry((c.merchant_id.clone(), request.month)).or_insert(0) += c.amount_minor;
        }
        if let Some(order) = &c.order_id {
            state.existing_orders.insert((c.merchant_id.clone(), c.is_test, order.clone()), c.id.clone());
        }
        plan.decided.push(None);
        plan.inserts.push(PlannedInsert {
            index,
            conversion: c,
            month: request.month,
            shard: request.tally_shard,
        });
    }
    plan
}

/// Tally additions of inserted live rows, summed per (merchant, month, shard) and sorted, so
/// concurrent transactions lock tally rows in one order and cannot deadlock.
pub fn tallies<'a>(inserted: impl Iterator<Item = &'a PlannedInsert>) -> Vec<(String, i64, i64, i64)> {
    let mut sums: Vec<(String, i64, i64, i64)> = Vec::new();
    for p in inserted.filter(|p| !p.conversion.is_test) {
        let c = &p.conversion;
        match sums
            .iter_mut()
            .find(|(m, month, shard, _)| *m == c.merchant_id && *month == p.month && *shard == p.shard)
        {
            Some(entry) => entry.3 += c.amount_minor,
            None => sums.push((c.merchant_id.clone(), p.month, p.shard, c.amount_minor)),
        }
    }
    sums.sort_unstable();
    sums
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecordRequest;

    fn sale(id: &str, order: Option<&str>, amount: i64, cap: Option<i64>, tiered: bool) -> PendingConversion {
        let conversion = Conversion {
            id: id.into(),
            merchant_id: "m".into(),
            campaign_id: "c".into(),
            affiliate_id: "a".into(),
            amount_minor: amount,
            commission_minor: 0,
            currency: "usd".into(),
            status: "pending".into(),
            order_id: order.map(str::to_string),
            click_id: None,
            customer_email: None,
            customer_name: None,
            conversion_type: "one_time".into(),
            parent_conversion_id: None,
            payment_number: 1,
            source: "api".into(),
            is_test: false,
            fraud_score: None,
            fraud_signals: None,
            created_at: 0,
            updated_at: 0,
        };
        let request = RecordRequest {
            conversion,
            month: 202611,
            month_start: 0,
            monthly_cap_minor: cap,
            needs_volume: tiered,
            tally_shard: 0,
        };
        PendingConversion {
            request,
            price: std::sync::Arc::new(|v: AffiliateVolume| v.sales_count * 100 + v.revenue_minor),
        }
    }

    fn outcome(plan: &BatchPlan, i: usize) -> &'static str {
        match &plan.decided[i] {
            None => "insert",
            Some(Err(RecordError::Duplicate { .. })) => "duplicate",
            Some(Err(RecordError::CapReached)) => "cap",
            Some(_) => "other",
        }
    }

    #[test]
    fn duplicates_within_the_batch_and_in_the_database() {
        let batch = vec![
            sale("1", Some("A"), 10, None, false),
            sale("2", Some("A"), 10, None, false),
            sale("3", Some("B"), 10, None, false),
        ];
        let mut state = BatchState::default();
        state.existing_orders.insert(("m".into(), false, "B".into()), "old".into());
        let plan = plan(&batch, state);
        assert_eq!(
            [outcome(&plan, 0), outcome(&plan, 1), outcome(&plan, 2)],
            ["insert", "duplicate", "duplicate"]
        );
        match &plan.decided[1] {
            Some(Err(RecordError::Duplicate { existing_id })) => assert_eq!(existing_id, "1"),
            _ => panic!("expected duplicate of the first sale"),
        }
    }

    #[test]
    fn cap_is_checked_against_the_running_total_and_duplicates_do_not_consume_it() {
        let batch = vec![
            sale("1", None, 60, Some(150), false),
            sale("2", Some("X"), 60, Some(150), false),
            sale("3", None, 60, Some(150), false),
            sale("4", None, 1, Some(150), false),
        ];
        let mut state = BatchState::default();
        state.tracked.insert(("m".into(), 202611), 40);
        state.existing_orders.insert(("m".into(), false, "X".into()), "old".into());
        let plan = plan(&batch, state);
        // 40 → 100 → (duplicate) → 160 → refused.
        assert_eq!(
            [outcome(&plan, 0), outcome(&plan, 1), outcome(&plan, 2), outcome(&plan, 3)],
            ["insert", "duplicate", "insert", "cap"]
        );
        assert_eq!(tallies(plan.inserts.iter()), vec![("m".to_string(), 202611, 0, 120)]);
    }

    #[test]
    fn tiered_sales_see_the_earlier_sales_of_the_batch() {
        let batch = vec![
            sale("1", None, 10, None, true),
            sale("2", None, 20, None, true),
            sale("3", None, 5, None, false),
        ];
        let mut state = BatchState::default();
        let key =
            VolumeKey { campaign_id: "c".into(), affiliate_id: "a".into(), is_test: false, month_start: 0 };
        state.volumes.insert(key, AffiliateVolume { sales_count: 2, revenue_minor: 7 });
        let plan = plan(&batch, state);
        let commissions: Vec<i64> = plan.inserts.iter().map(|p| p.conversion.commission_minor).collect();
        // 2 earlier sales of 7 → 207; then 3 of 17 → 317; then 4 of 37 → 437.
        assert_eq!(commissions, [207, 317, 437]);
    }
}

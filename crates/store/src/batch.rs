//! Planning a batch of conversions so that recording them together gives exactly the outcome of
//! recording them one by one, in order. Pure: the engine reads the state this needs (order ids
//! already used, tracked sales, affiliate volumes, payments of recurring chains), this decides,
//! the engine writes.
//!
//! Volumes and chains must not change between the engine's read and its commit, or two
//! batches committing side by side (PostgreSQL runs several writers) would price two sales
//! with the same volume or give two renewals the same payment number. So the engine first
//! takes [`BatchReads::locks`]: one transaction-scoped lock per (campaign, affiliate) of a
//! tiered sale and per chain of a renewal, in ascending order so two batches never wait on
//! each other in a cycle. A batch that needs a key waits for the batch holding it to commit,
//! then reads a volume or count that includes its sales. Every sale that adds to a volume or a
//! chain takes its lock, so no sale can slip in unseen. SQLite has one writer and needs none.
//!
//! The engine inserts a plan optimistically and lets the unique index on order keys arbitrate.
//! Rows it did not insert ([`not_inserted`]) had an order id used meanwhile; the first time that
//! happens the attempt is rolled back and planned again knowing those order ids
//! ([`should_replan`]), and a row that still conflicts is answered on its own after the commit
//! ([`late_conflict`], [`outcomes`]).

use std::collections::{HashMap, HashSet};

use refline_domain::{assess_self_referral, renewal_within_limit, AffiliateVolume, Mode, SelfReferralInput};

use crate::{
    AffiliateFingerprints, ClickEvidence, Conversion, PendingConversion, RecordError, RecordOutcome,
    StoreError, StoreResult,
};

/// Where an order id is unique: (merchant, mode, order id).
pub type OrderSlot = (String, Mode, String);

/// The affiliate's volume window a tiered sale is priced in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VolumeKey {
    /// Campaign.
    pub campaign_id: String,
    /// Affiliate.
    pub affiliate_id: String,
    /// Mode.
    pub mode: Mode,
    /// First ms of the month.
    pub month_start: i64,
}

/// A lock the engine takes before reading: (namespace, 32-bit hash of the locked thing), the
/// two-key form of PostgreSQL's advisory locks. Distinct things may share a hash; that only
/// makes their batches wait for each other, never wrong.
pub type LockKey = (i32, i32);

/// Namespace of the locks on an affiliate's volume on a campaign.
const VOLUME_LOCKS: i32 = 0x5246_0001;
/// Namespace of the locks on a recurring chain.
const CHAIN_LOCKS: i32 = 0x5246_0002;

/// What the engine must read before planning.
#[derive(Debug, Default)]
pub struct BatchReads {
    /// (merchant, month) of live sales under a cap.
    pub capped_months: Vec<(String, i64)>,
    /// Volume windows of tiered sales.
    pub volumes: Vec<VolumeKey>,
    /// (merchant, first sale id) of the chains renewals extend.
    pub chains: Vec<(String, String)>,
    /// Locks to take, before any read, in this (ascending) order; engines with one writer skip
    /// them.
    pub locks: Vec<LockKey>,
    /// (merchant, click id, affiliate) of sales whose click the batch reads for self-referral
    /// scoring ([`crate::ClickCheck`]); the affiliate's fingerprints are read when the click
    /// exists.
    pub clicks: Vec<(String, String, String)>,
}

/// What the engine read.
#[derive(Debug, Default)]
pub struct BatchState {
    /// Order slot → existing conversion id.
    pub existing_orders: HashMap<OrderSlot, String>,
    /// (merchant, month) → tracked sales so far.
    pub tracked: HashMap<(String, i64), i64>,
    /// Volume before the batch.
    pub volumes: HashMap<VolumeKey, AffiliateVolume>,
    /// First sale id → payments of its chain so far (the first sale and its renewals, any
    /// status).
    pub chains: HashMap<String, i64>,
    /// (merchant, click id) → the click, for the [`BatchReads::clicks`] that exist.
    pub clicks: HashMap<(String, String), ClickEvidence>,
    /// Affiliate → the IPs and devices it used, for the affiliates of the clicks found.
    pub fingerprints: HashMap<String, AffiliateFingerprints>,
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
    /// What it adds to the tally (its amount in the merchant's currency).
    pub tracked_minor: i64,
}

/// The plan: outcomes decided without writing, and rows to insert.
#[derive(Debug, Default)]
pub struct BatchPlan {
    /// One slot per sale: `Some` when decided (refused), `None` when its row is in `inserts`.
    pub decided: Vec<Option<RecordOutcome>>,
    /// Rows to insert, in batch order.
    pub inserts: Vec<PlannedInsert>,
}

/// The slot `c`'s order id takes, if it has one.
pub fn order_slot(c: &Conversion) -> Option<OrderSlot> {
    c.order_id.as_ref().map(|order| (c.merchant_id.clone(), c.mode, order.clone()))
}

fn volume_key(c: &Conversion, month_start: i64) -> VolumeKey {
    VolumeKey {
        campaign_id: c.campaign_id.clone(),
        affiliate_id: c.affiliate_id.clone(),
        mode: c.mode,
        month_start,
    }
}

/// FNV-1a, 32 bits: a hash fixed by this code (unlike the standard library's, which is seeded
/// per process), so every node of a deployment, and every version, locks the same key.
fn fnv1a(parts: &[&str]) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    for (i, part) in parts.iter().enumerate() {
        // A separator byte no id contains, so ("ab", "c") and ("a", "bc") differ.
        let separator: &[u8] = if i == 0 { &[] } else { &[0] };
        for byte in separator.iter().chain(part.as_bytes()) {
            hash ^= u32::from(*byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    i32::from_ne_bytes(hash.to_ne_bytes())
}

/// The lock on an affiliate's volume on a campaign (any month or mode: coarser than the volume
/// window, which only makes unrelated batches wait now and then).
pub fn volume_lock(campaign_id: &str, affiliate_id: &str) -> LockKey {
    (VOLUME_LOCKS, fnv1a(&[campaign_id, affiliate_id]))
}

/// The lock on the recurring chain started by `parent_id`.
pub fn chain_lock(parent_id: &str) -> LockKey {
    (CHAIN_LOCKS, fnv1a(&[parent_id]))
}

/// The reads a batch needs.
pub fn reads_for(batch: &[PendingConversion]) -> BatchReads {
    let mut reads = BatchReads::default();
    for p in batch {
        let (r, c) = (&p.request, &p.request.conversion);
        let month = (c.merchant_id.clone(), r.month);
        if c.mode.is_live() && r.monthly_cap_minor.is_some() && !reads.capped_months.contains(&month) {
            reads.capped_months.push(month);
        }
        let key = volume_key(c, r.month_start);
        if r.needs_volume && !reads.volumes.contains(&key) {
            reads.volumes.push(key);
        }
        if r.tiered {
            reads.locks.push(volume_lock(&c.campaign_id, &c.affiliate_id));
        }
        if let (Some(_), Some(click_id), Some(_)) = (&r.click_check, &c.click_id, &c.customer_email) {
            let click = (c.merchant_id.clone(), click_id.clone(), c.affiliate_id.clone());
            if !reads.clicks.contains(&click) {
                reads.clicks.push(click);
            }
        }
        if let Some(renewal) = &r.renewal {
            let chain = (c.merchant_id.clone(), renewal.parent_id.clone());
            if !reads.chains.contains(&chain) {
                reads.chains.push(chain);
            }
            reads.locks.push(chain_lock(&renewal.parent_id));
        }
    }
    // One order for every batch, so two batches never each hold a lock the other waits for.
    reads.locks.sort_unstable();
    reads.locks.dedup();
    reads
}

/// Decides every sale of the batch in order. `state.existing_orders` holds the order ids known
/// to be taken; the engine inserts optimistically and re-plans with the ones it finds taken.
pub fn plan(batch: &[PendingConversion], mut state: BatchState) -> BatchPlan {
    let mut plan = BatchPlan::default();
    for (index, PendingConversion { request, price }) in batch.iter().enumerate() {
        let mut c = request.conversion.clone();
        if let Some(slot) = order_slot(&c) {
            if let Some(existing_id) = state.existing_orders.get(&slot) {
                plan.decided.push(Some(Err(RecordError::Duplicate { existing_id: existing_id.clone() })));
                continue;
            }
        }
        if let Some(renewal) = &request.renewal {
            let so_far = state.chains.get(&renewal.parent_id).copied().unwrap_or(0);
            let number = so_far.saturating_add(1);
            let within = u32::try_from(number).is_ok_and(|n| {
                renewal_within_limit(renewal.limit, n, renewal.parent_created_at, c.created_at)
            });
            if !within {
                plan.decided.push(Some(Err(RecordError::RecurringLimitReached)));
                continue;
            }
            c.payment_number = number;
        }
        if let (Mode::Live, Some(cap)) = (c.mode, request.monthly_cap_minor) {
            let tracked = state.tracked.entry((c.merchant_id.clone(), request.month)).or_insert(0);
            if *tracked >= cap {
                plan.decided.push(Some(Err(RecordError::CapReached)));
                continue;
            }
        }
        score_with_click(&mut c, request, &state);
        let key = volume_key(&c, request.month_start);
        let volume = state.volumes.get(&key).copied().unwrap_or_default();
        c.commission_minor = price(volume);
        // Every sale of a tiered campaign adds to the volume, renewals at a custom rate too
        // (they are not priced with it, but later sales are).
        if request.tiered && c.status.counts_as_sale() {
            let v = state.volumes.entry(key).or_default();
            v.sales_count += 1;
            v.revenue_minor += c.amount_minor;
        }
        if let Some(renewal) = &request.renewal {
            *state.chains.entry(renewal.parent_id.clone()).or_insert(0) += 1;
        }
        if c.mode.is_live() {
            let tracked = state.tracked.entry((c.merchant_id.clone(), request.month)).or_insert(0);
            *tracked = tracked.saturating_add(request.tracked_minor);
        }
        if let Some(slot) = order_slot(&c) {
            state.existing_orders.insert(slot, c.id.clone());
        }
        plan.decided.push(None);
        plan.inserts.push(PlannedInsert {
            index,
            conversion: c,
            month: request.month,
            shard: request.tally_shard,
            tracked_minor: request.tracked_minor,
        });
    }
    plan
}

/// Scores self-referral again for a sale whose click the batch read ([`crate::ClickCheck`]),
/// now with the click's IP and device against the affiliate's, exactly as the request would
/// have had it read the click itself. Without the click (unknown id) the email-only score the
/// request computed stands.
fn score_with_click(c: &mut Conversion, request: &crate::RecordRequest, state: &BatchState) {
    let (Some(check), Some(click_id), Some(customer_email)) =
        (&request.click_check, &c.click_id, &c.customer_email)
    else {
        return;
    };
    let Some(click) = state.clicks.get(&(c.merchant_id.clone(), click_id.clone())) else { return };
    let prints = state.fingerprints.get(&c.affiliate_id).cloned().unwrap_or_default();
    let assessment = assess_self_referral(&SelfReferralInput {
        customer_email,
        affiliate_email: &check.affiliate_email,
        customer_ip: click.ip.as_deref(),
        customer_device: click.device_hash.as_deref(),
        affiliate_ips: &prints.ips,
        affiliate_devices: &prints.devices,
    });
    let flagged = assessment.is_flagged().then_some(assessment);
    c.fraud_score = flagged.as_ref().map(|f| i64::from(f.score));
    c.fraud_signals =
        flagged.as_ref().map(|f| f.signals.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","));
}

/// Tally additions of inserted live rows (each sale's amount counted in its merchant's currency),
/// summed per (merchant, month, shard) and sorted, so concurrent transactions lock tally rows in
/// one order and cannot deadlock.
pub fn tallies<'a>(inserted: impl Iterator<Item = &'a PlannedInsert>) -> Vec<(String, i64, i64, i64)> {
    // A map, not a search of the list per sale: a batch may name hundreds of merchants.
    let mut sums: std::collections::BTreeMap<(&str, i64, i64), i64> = std::collections::BTreeMap::new();
    for p in inserted.filter(|p| p.conversion.mode.is_live()) {
        let sum = sums.entry((p.conversion.merchant_id.as_str(), p.month, p.shard)).or_insert(0);
        *sum = sum.saturating_add(p.tracked_minor);
    }
    sums.into_iter()
        .map(|((merchant, month, shard), sum)| (merchant.to_string(), month, shard, sum))
        .collect()
}

/// How many times a batch is planned at most: once optimistically, once more knowing the order
/// ids the first attempt found taken. A third round could meet a third writer; instead a row that
/// conflicts on the last attempt is answered on its own ([`late_conflict`]).
pub const PLAN_ATTEMPTS: u32 = 2;

/// The planned rows the database did not insert: their order id was used by then.
pub fn not_inserted<'a>(inserts: &'a [PlannedInsert], inserted: &HashSet<String>) -> Vec<&'a PlannedInsert> {
    inserts.iter().filter(|p| !inserted.contains(&p.conversion.id)).collect()
}

/// True when attempt number `attempt` (counting from 1), whose inserts met `conflicts` used
/// order ids, must be rolled back and planned again: caps and tier volumes must not count sales
/// that turn out to be duplicates.
pub fn should_replan(attempt: u32, conflicts: usize) -> bool {
    conflicts > 0 && attempt < PLAN_ATTEMPTS
}

/// The answer for a sale whose order id was taken by another writer between the last two
/// attempts, given the look-up of the conversion now holding it. The batch is committed by
/// then: a failed look-up is this sale's answer alone, never the batch's (which would make
/// committed sales look unwritten).
pub fn late_conflict(holder: StoreResult<Option<String>>) -> RecordOutcome {
    match holder {
        Ok(Some(existing_id)) => Err(RecordError::Duplicate { existing_id }),
        Ok(None) => {
            Err(RecordError::Store(StoreError::Retryable("order id conflict on a row that is gone".into())))
        }
        Err(err) => Err(RecordError::Store(err)),
    }
}

/// One outcome per sale, in batch order: the plan's decisions, with `answers` (batch index,
/// outcome) filling the slots of the sales it sent to the database. A slot left empty would be
/// a bug; it answers as a store error rather than a panic.
pub fn outcomes(
    decided: Vec<Option<RecordOutcome>>,
    answers: impl IntoIterator<Item = (usize, RecordOutcome)>,
) -> Vec<RecordOutcome> {
    let mut slots = decided;
    for (index, outcome) in answers {
        if let Some(slot) = slots.get_mut(index) {
            *slot = Some(outcome);
        }
    }
    slots
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(StoreError::Other("undecided sale".into()).into())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecordRequest;

    fn sale(id: &str, order: Option<&str>, amount: i64, cap: Option<i64>, tiered: bool) -> PendingConversion {
        let conversion = Conversion {
            order_id: order.map(str::to_string),
            amount_minor: amount,
            ..Conversion::sample(id)
        };
        let request = RecordRequest {
            conversion,
            month: 202611,
            month_start: 0,
            monthly_cap_minor: cap,
            tracked_minor: amount,
            needs_volume: tiered,
            tiered,
            renewal: None,
            tally_shard: 0,
            click_check: None,
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
        state.existing_orders.insert(("m".into(), Mode::Live, "B".into()), "old".into());
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
        state.existing_orders.insert(("m".into(), Mode::Live, "X".into()), "old".into());
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
            VolumeKey { campaign_id: "c".into(), affiliate_id: "a".into(), mode: Mode::Live, month_start: 0 };
        state.volumes.insert(key, AffiliateVolume { sales_count: 2, revenue_minor: 7 });
        let plan = plan(&batch, state);
        let commissions: Vec<i64> = plan.inserts.iter().map(|p| p.conversion.commission_minor).collect();
        // 2 earlier sales of 7 → 207; then 3 of 17 → 317; then 4 of 37 → 437.
        assert_eq!(commissions, [207, 317, 437]);
    }

    #[test]
    fn order_slots_separate_merchants_and_modes() {
        let live = sale("1", Some("A"), 10, None, false).request.conversion;
        assert_eq!(order_slot(&live), Some(("m".to_string(), Mode::Live, "A".to_string())));
        let test = Conversion { mode: Mode::Test, ..live.clone() };
        assert_eq!(order_slot(&test), Some(("m".to_string(), Mode::Test, "A".to_string())));
        let no_order = Conversion { order_id: None, ..live };
        assert_eq!(order_slot(&no_order), None);
    }

    #[test]
    fn rows_missing_from_the_insert_are_the_conflicts() {
        let batch = vec![sale("1", Some("A"), 10, None, false), sale("2", Some("B"), 10, None, false)];
        let plan = plan(&batch, BatchState::default());
        let inserted: HashSet<String> = ["2".to_string()].into();
        let ids: Vec<&str> =
            not_inserted(&plan.inserts, &inserted).iter().map(|p| p.conversion.id.as_str()).collect();
        assert_eq!(ids, ["1"]);
        let all: HashSet<String> = ["1".to_string(), "2".to_string()].into();
        assert!(not_inserted(&plan.inserts, &all).is_empty());
    }

    #[test]
    fn a_batch_is_planned_again_once_and_only_after_conflicts() {
        assert!(!should_replan(1, 0));
        assert!(should_replan(1, 3));
        assert!(!should_replan(PLAN_ATTEMPTS, 3));
        assert!(!should_replan(PLAN_ATTEMPTS, 0));
    }

    #[test]
    fn a_late_conflict_is_that_sales_answer() {
        match late_conflict(Ok(Some("conv_old".into()))) {
            Err(RecordError::Duplicate { existing_id }) => assert_eq!(existing_id, "conv_old"),
            other => panic!("expected a duplicate, got {other:?}"),
        }
        assert!(matches!(late_conflict(Ok(None)), Err(RecordError::Store(StoreError::Retryable(_)))));
        let failed = late_conflict(Err(StoreError::Unavailable("gone".into())));
        assert!(matches!(failed, Err(RecordError::Store(StoreError::Unavailable(_)))));
    }

    #[test]
    fn outcomes_fill_the_undecided_slots_in_batch_order() {
        let batch = vec![
            sale("1", None, 10, None, false),
            sale("2", None, 10, Some(0), false),
            sale("3", None, 10, None, false),
        ];
        let plan = plan(&batch, BatchState::default());
        let answers = plan.inserts.into_iter().map(|p| (p.index, Ok(p.conversion)));
        let outcomes = outcomes(plan.decided, answers);
        assert_eq!(outcomes.len(), 3);
        assert!(matches!(&outcomes[0], Ok(c) if c.id == "1"));
        assert!(matches!(&outcomes[1], Err(RecordError::CapReached)));
        assert!(matches!(&outcomes[2], Ok(c) if c.id == "3"));
    }

    #[test]
    fn an_unanswered_slot_is_an_error_and_a_stray_answer_is_ignored() {
        let answer = sale("9", None, 10, None, false).request.conversion;
        let outcomes = outcomes(vec![None], [(5, Ok(answer))]);
        assert!(matches!(&outcomes[..], [Err(RecordError::Store(StoreError::Other(_)))]));
    }

    fn renewal(id: &str, parent: &str, limit: refline_domain::RecurringLimit) -> PendingConversion {
        let mut p = sale(id, None, 10, None, false);
        p.request.renewal = Some(crate::Renewal { parent_id: parent.into(), parent_created_at: 0, limit });
        p.request.conversion.parent_conversion_id = Some(parent.into());
        p
    }

    #[test]
    fn renewals_number_on_from_the_chain_and_stop_at_the_limit() {
        use refline_domain::RecurringLimit;
        let batch = vec![
            renewal("1", "p", RecurringLimit::Payments(4)),
            renewal("2", "q", RecurringLimit::Unlimited),
            renewal("3", "p", RecurringLimit::Payments(4)),
            renewal("4", "p", RecurringLimit::Payments(4)),
        ];
        let reads = reads_for(&batch);
        assert_eq!(reads.chains, [("m".to_string(), "p".to_string()), ("m".to_string(), "q".to_string())]);
        let mut state = BatchState::default();
        // p: the first sale and one renewal so far; q: only its first sale.
        state.chains.insert("p".into(), 2);
        state.chains.insert("q".into(), 1);
        let plan = plan(&batch, state);
        let numbers: Vec<(&str, i64)> =
            plan.inserts.iter().map(|p| (p.conversion.id.as_str(), p.conversion.payment_number)).collect();
        assert_eq!(numbers, [("1", 3), ("2", 2), ("3", 4)]);
        assert!(matches!(plan.decided[3], Some(Err(RecordError::RecurringLimitReached))));
    }

    #[test]
    fn a_refused_renewal_takes_no_number() {
        use refline_domain::RecurringLimit;
        let mut dup = renewal("1", "p", RecurringLimit::Unlimited);
        dup.request.conversion.order_id = Some("X".into());
        let batch = vec![dup, renewal("2", "p", RecurringLimit::Unlimited)];
        let mut state = BatchState::default();
        state.chains.insert("p".into(), 1);
        state.existing_orders.insert(("m".into(), Mode::Live, "X".into()), "old".into());
        let plan = plan(&batch, state);
        assert_eq!(outcome(&plan, 0), "duplicate");
        assert_eq!(plan.inserts[0].conversion.payment_number, 2);
    }

    #[test]
    fn locks_cover_every_tiered_sale_and_chain_in_one_order() {
        use refline_domain::RecurringLimit;
        let mut custom_rate = renewal("1", "p", RecurringLimit::Unlimited);
        // A renewal at a custom rate is not priced with the volume but adds to it.
        custom_rate.request.tiered = true;
        let batch = vec![custom_rate, sale("2", None, 10, None, true), sale("3", None, 10, None, false)];
        let reads = reads_for(&batch);
        let mut expected = vec![volume_lock("c", "a"), chain_lock("p")];
        expected.sort_unstable();
        assert_eq!(reads.locks, expected, "deduplicated and ascending");
        assert_eq!(reads.volumes.len(), 1, "only the sale priced with it reads the volume");
        assert_ne!(volume_lock("ab", "c"), volume_lock("a", "bc"));
        // Fixed values: every node and version must lock the same keys.
        assert_eq!(chain_lock(""), (CHAIN_LOCKS, i32::from_ne_bytes(0x811c_9dc5_u32.to_ne_bytes())));
    }

    #[test]
    fn the_cap_counts_the_amount_in_the_merchant_currency() {
        // A sale of 1000 minor units of another currency worth 500 of the merchant's.
        let mut foreign = sale("1", None, 1000, Some(600), false);
        foreign.request.tracked_minor = 500;
        let batch =
            vec![foreign, sale("2", None, 90, Some(600), false), sale("3", None, 1, Some(600), false)];
        let plan = plan(&batch, BatchState::default());
        // 0 → 500 → 590 (< 600, accepted) → 680.
        assert_eq!([outcome(&plan, 0), outcome(&plan, 1), outcome(&plan, 2)], ["insert", "insert", "insert"]);
        assert_eq!(tallies(plan.inserts.iter()), vec![("m".to_string(), 202611, 0, 591)]);
        let mut state = BatchState::default();
        state.tracked.insert(("m".into(), 202611), 600);
        let refused = super::plan(&[sale("4", None, 1, Some(600), false)], state);
        assert_eq!(outcome(&refused, 0), "cap");
    }

    #[test]
    fn a_click_the_batch_reads_scores_self_referral_as_the_request_would_have() {
        let scored = |id: &str, click: &str| {
            let mut p = sale(id, None, 1_000, None, false);
            p.request.conversion.click_id = Some(click.into());
            p.request.conversion.customer_email = Some("buyer@gmail.com".into());
            p.request.click_check = Some(crate::ClickCheck { affiliate_email: "partner@gmail.com".into() });
            p
        };
        let batch =
            [scored("1", "k1"), scored("2", "gone"), sale("3", None, 1_000, None, false), scored("4", "k1")];
        let reads = reads_for(&batch);
        let wanted = |click: &str| ("m".to_string(), click.to_string(), "a".to_string());
        assert_eq!(reads.clicks, [wanted("k1"), wanted("gone")], "each click once, none for unscored sales");

        let mut state = BatchState::default();
        let click =
            ClickEvidence { id: "k1".into(), ip: Some("203.0.113.7".into()), device_hash: Some("d1".into()) };
        state.clicks.insert(("m".into(), "k1".into()), click);
        let prints = AffiliateFingerprints { ips: vec!["203.0.113.7".into()], devices: vec!["d1".into()] };
        state.fingerprints.insert("a".into(), prints.clone());
        let plan = super::plan(&batch, state);
        let expected = assess_self_referral(&SelfReferralInput {
            customer_email: "buyer@gmail.com",
            affiliate_email: "partner@gmail.com",
            customer_ip: Some("203.0.113.7"),
            customer_device: Some("d1"),
            affiliate_ips: &prints.ips,
            affiliate_devices: &prints.devices,
        });
        assert!(expected.is_flagged());
        let signals: Vec<&str> = expected.signals.iter().map(|s| s.as_str()).collect();
        for i in [0, 3] {
            let c = &plan.inserts[i].conversion;
            assert_eq!(c.fraud_score, Some(i64::from(expected.score)));
            assert_eq!(c.fraud_signals.as_deref(), Some(signals.join(",").as_str()));
        }
        assert_eq!(
            plan.inserts[1].conversion.fraud_score, None,
            "an unknown click leaves the request's score"
        );
        assert_eq!(plan.inserts[2].conversion.fraud_score, None, "a sale not scored in the batch");
    }
}

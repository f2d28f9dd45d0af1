//! Payment-processor deliveries (the inbox) and the memory processing them needs: which
//! business objects were credited, which affiliate a subscription belongs to, refund progress
//! and amounts owed back.

use refline_domain::{ConversionStatus, Mode};
use sqlx::FromRow;

use crate::{Conversion, Page, PageRequest, StoreResult};

/// A verified delivery from a processor.
#[derive(Debug, Clone, FromRow)]
pub struct InboxEntry {
    /// `whin_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// The connection whose secret verified it.
    pub integration_id: String,
    /// `stripe`, `paddle`, …
    pub provider: String,
    /// The processor's event id (or the natural key where it has none).
    pub dedupe_key: String,
    /// The processor's event type.
    pub event_type: Option<String>,
    /// Request headers as a JSON list of `[name, value]`.
    pub headers: String,
    /// Raw query string.
    pub query: String,
    /// Raw body (processors send UTF-8 JSON or form data).
    pub body: String,
    /// How the delivery was verified.
    pub verification: String,
    /// `pending`, `waiting` (retried later: e.g. a refund before its sale), `processed`,
    /// `ignored` or `failed`.
    pub status: String,
    /// What it became, in words.
    pub outcome: Option<String>,
    /// The conversion it created or changed.
    pub conversion_id: Option<String>,
    /// Processing attempts so far.
    pub attempts: i64,
    /// When it is next due, unix ms.
    pub next_attempt_at: i64,
    /// Unix ms.
    pub received_at: i64,
    /// When processing finished, unix ms.
    pub processed_at: Option<i64>,
}

/// The result of processing one delivery.
#[derive(Debug, Clone)]
pub struct InboxResult {
    /// New status.
    pub status: &'static str,
    /// What happened.
    pub outcome: String,
    /// Conversion created or changed.
    pub conversion_id: Option<String>,
    /// Due again at (for `waiting`).
    pub next_attempt_at: i64,
    /// Finished at (for final statuses).
    pub processed_at: Option<i64>,
}

/// Which affiliate a processor subscription (or customer) belongs to.
#[derive(Debug, Clone, FromRow)]
pub struct ProcessorSubscription {
    /// Owner.
    pub merchant_id: String,
    /// Processor.
    pub provider: String,
    /// `sub:<id>` or `cus:<id>`.
    pub subscription_key: String,
    /// Campaign credited.
    pub campaign_id: String,
    /// Affiliate credited.
    pub affiliate_id: String,
    /// The click the first sale came from.
    pub click_id: Option<String>,
    /// The chain's first paid conversion (parent of renewals).
    pub first_conversion_id: Option<String>,
    /// The zero-amount conversion recorded when the trial started.
    pub trial_conversion_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// A priced trial turned `pending` by its subscription's first payment
/// ([`ProcessorStore::convert_trial`]).
#[derive(Debug, Clone)]
pub struct TrialConversion<'a> {
    /// Owner.
    pub merchant_id: &'a str,
    /// The trial conversion.
    pub conversion_id: &'a str,
    /// What the first payment paid, minor units of the conversion's currency.
    pub amount_minor: i64,
    /// The commission on it.
    pub commission_minor: i64,
    /// The payment's provider (`stripe`, …).
    pub provider: &'a str,
    /// The payment's business object ids, remembered as crediting the conversion.
    pub payment_keys: &'a [String],
    /// Unix ms.
    pub now: i64,
}

/// Refund progress of one conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct RefundState {
    /// Refunded so far, minor units.
    pub refunded_minor: i64,
    /// Commission before any refund.
    pub original_commission_minor: i64,
}

/// What a refund changes on its conversion.
#[derive(Debug, Clone)]
pub enum RefundChange {
    /// The conversion (now in status `from`) becomes `refunded`.
    Reverse {
        /// The status it was read in.
        from: ConversionStatus,
    },
    /// The unpaid conversion now earns this (the original commission less the share of every
    /// refund so far). Clawbacks already recorded against it (refunds while an earlier payout
    /// had paid it, since returned) count toward that share, so the stored commission is this
    /// less them: it earns this, not this less the clawbacks again.
    SetCommission(i64),
    /// The paid commission stays; this much is owed back.
    Clawback(CommissionAdjustment),
}

/// One refund to apply atomically.
#[derive(Debug, Clone)]
pub struct RefundApplication<'a> {
    /// Owner.
    pub merchant_id: &'a str,
    /// Processor.
    pub provider: &'a str,
    /// The refunded conversion.
    pub conversion_id: &'a str,
    /// `refund:<id>` for refunds reported as steps, so each is applied once.
    pub refund_key: Option<String>,
    /// The refund progress this was computed from.
    pub before: RefundState,
    /// Refunded in total after this refund, minor units.
    pub refunded_after: i64,
    /// What changes.
    pub change: RefundChange,
    /// Unix ms.
    pub now: i64,
}

/// How applying a refund went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundApplied {
    /// Written.
    Applied,
    /// This refund (by id) was applied before.
    AlreadyApplied,
    /// The conversion or its refund progress changed since it was read: read again and retry.
    Conflict,
}

/// Money an affiliate owes back (a refund after payout).
#[derive(Debug, Clone, FromRow)]
pub struct CommissionAdjustment {
    /// `adj_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// The paid conversion.
    pub conversion_id: String,
    /// Who owes it.
    pub affiliate_id: String,
    /// Negative: owed back.
    pub amount_minor: i64,
    /// Currency of the conversion.
    pub currency: String,
    /// Why (e.g. `refund re_123`).
    pub reason: String,
    /// Live or test data (column `is_test`).
    #[sqlx(rename = "is_test")]
    pub mode: Mode,
    /// Unix ms.
    pub created_at: i64,
}

/// A business object id (or `sub:`/`cus:` key) of one merchant's processor: where a credited
/// payment or a remembered subscription is looked up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessorKey {
    /// Owner.
    pub merchant_id: String,
    /// Processor.
    pub provider: String,
    /// Object id, alias, `link:<id>`, `sub:<id>` or `cus:<id>`.
    pub key: String,
}

/// A row of `processor_payments`: `object_key` names the payment credited by `conversion_id`.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ProcessorPayment {
    /// Owner.
    pub merchant_id: String,
    /// Processor.
    pub provider: String,
    /// Object id, alias or pending link (`link:<id>`, whose "conversion" is an object id).
    pub object_key: String,
    /// The conversion credited (or, for a pending link, the object it leads to).
    pub conversion_id: String,
}

/// What processing one claimed delivery writes when its batch is finished: the delivery's
/// result and the memory it made (payments credited, subscriptions remembered).
#[derive(Debug, Clone)]
pub struct InboxFinish {
    /// The delivery.
    pub id: String,
    /// The attempt that processed it (a newer claim wins).
    pub attempt: i64,
    /// What it became.
    pub result: InboxResult,
    /// `processor_payments` rows to add (an existing key keeps its conversion).
    pub payments: Vec<ProcessorPayment>,
    /// `processor_subscriptions` rows to remember (as [`ProcessorStore::remember_subscription`]).
    pub subscriptions: Vec<ProcessorSubscription>,
}

/// Puts claimed deliveries oldest first (then by id), so a sale received before its refund is
/// processed before it.
pub fn oldest_first(entries: &mut [InboxEntry]) {
    entries.sort_by(|a, b| a.received_at.cmp(&b.received_at).then_with(|| a.id.cmp(&b.id)));
}

/// Storage of processor deliveries and their effects.
#[async_trait::async_trait]
pub trait ProcessorStore {
    /// Stores a delivery; false when the same event was stored before (a redelivery).
    async fn insert_inbox(&self, entry: &InboxEntry) -> StoreResult<bool> {
        let stored = self.insert_inbox_batch(std::slice::from_ref(entry)).await?;
        Ok(stored.first().copied().unwrap_or(false))
    }
    /// Stores deliveries in one transaction (the receiver's group commit); one answer per
    /// entry, in order: false for a redelivery, including a repeat of an earlier entry of the
    /// same batch.
    async fn insert_inbox_batch(&self, entries: &[InboxEntry]) -> StoreResult<Vec<bool>>;
    /// Claims up to `limit` deliveries due at `now`, reserving them until `lease_until`.
    async fn claim_inbox(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<InboxEntry>>;
    /// Records the result of attempt number `attempt` of a delivery (ignored if a newer attempt
    /// has claimed it since).
    async fn finish_inbox(&self, id: &str, attempt: i64, result: &InboxResult) -> StoreResult<()>;
    /// Finishes a processed batch in one transaction (a few statements, however many
    /// deliveries): the memory each delivery made, then each result, in order, with the same
    /// outcome as [`ProcessorStore::remember_processor_payment`],
    /// [`ProcessorStore::remember_subscription`] and [`ProcessorStore::finish_inbox`] one by one.
    /// One `()` per delivery, for [`crate::write_isolating`].
    async fn finish_inbox_batch(&self, finished: &[InboxFinish]) -> StoreResult<Vec<()>>;
    /// The credited payments (and pending links) stored under any of `keys`, of any merchant
    /// and processor they name: one read for a whole batch.
    async fn find_processor_payments(&self, keys: &[ProcessorKey]) -> StoreResult<Vec<ProcessorPayment>>;
    /// The subscriptions remembered under any of `keys`: one read for a whole batch.
    async fn find_subscriptions(&self, keys: &[ProcessorKey]) -> StoreResult<Vec<ProcessorSubscription>>;
    /// Makes a finished delivery (`processed`, `ignored`, `failed`) due again now — a replay
    /// after the merchant fixed what made it ignored; `None` when the merchant has no such
    /// finished delivery on that connection.
    async fn requeue_inbox(
        &self,
        merchant_id: &str,
        integration_id: &str,
        id: &str,
        now: i64,
    ) -> StoreResult<Option<InboxEntry>>;
    /// As [`ProcessorStore::requeue_inbox`], naming the delivery by its dedupe key (a repeated
    /// GoPay notification asks for a fresh lookup); false when it is not finished.
    async fn requeue_inbox_by_key(
        &self,
        merchant_id: &str,
        provider: &str,
        dedupe_key: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// A merchant's deliveries through one connection, newest first.
    async fn list_inbox(
        &self,
        merchant_id: &str,
        integration_id: &str,
        page: PageRequest<()>,
    ) -> StoreResult<Page<InboxEntry>>;
    /// The conversion credited for any of `keys` (business object ids and their aliases).
    async fn find_processor_payment(
        &self,
        merchant_id: &str,
        provider: &str,
        keys: &[String],
    ) -> StoreResult<Option<String>>;
    /// Remembers that `keys` name the business object credited by `conversion_id`.
    async fn remember_processor_payment(
        &self,
        merchant_id: &str,
        provider: &str,
        keys: &[String],
        conversion_id: &str,
    ) -> StoreResult<()>;
    /// A remembered subscription.
    async fn find_subscription(
        &self,
        merchant_id: &str,
        provider: &str,
        subscription_key: &str,
    ) -> StoreResult<Option<ProcessorSubscription>>;
    /// Remembers a subscription's attribution; an existing one is kept, only its missing
    /// conversion ids are filled in.
    async fn remember_subscription(&self, subscription: &ProcessorSubscription) -> StoreResult<()>;
    /// Refund progress of a conversion.
    async fn refund_state(&self, merchant_id: &str, conversion_id: &str) -> StoreResult<Option<RefundState>>;
    /// Applies a refund to a conversion in one transaction: claims `refund_key` (a refund
    /// reported as a step counts once), moves the refunded total from `before` to
    /// `refunded_after` (compare-and-set), and makes `change`. Nothing is written unless all of
    /// it is.
    async fn apply_refund(&self, refund: &RefundApplication<'_>) -> StoreResult<RefundApplied>;
    /// Turns a priced trial conversion (status `trial`, amount above 0: a campaign in
    /// `immediate` trial mode) `pending` with what the first payment paid, in one transaction
    /// with the payment's keys (so a redelivered payment finds it credited), the ledger entry of
    /// the changed commission and, for live data, `conversion.updated`. `None` when the
    /// conversion is no longer such a trial (nothing is written).
    async fn convert_trial(&self, conversion: &TrialConversion<'_>) -> StoreResult<Option<Conversion>>;
    /// Amounts owed back on a conversion.
    async fn adjustments_for(
        &self,
        merchant_id: &str,
        conversion_id: &str,
    ) -> StoreResult<Vec<CommissionAdjustment>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, received_at: i64) -> InboxEntry {
        InboxEntry {
            id: id.into(),
            merchant_id: "mer_1".into(),
            integration_id: "int_1".into(),
            provider: "stripe".into(),
            dedupe_key: id.into(),
            event_type: None,
            headers: "[]".into(),
            query: String::new(),
            body: "{}".into(),
            verification: "signature".into(),
            status: "pending".into(),
            outcome: None,
            conversion_id: None,
            attempts: 1,
            next_attempt_at: 0,
            received_at,
            processed_at: None,
        }
    }

    #[test]
    fn claimed_deliveries_run_in_the_order_they_arrived() {
        let mut entries = [entry("whin_c", 20), entry("whin_b", 10), entry("whin_a", 20)];
        oldest_first(&mut entries);
        let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["whin_b", "whin_a", "whin_c"]);
    }
}

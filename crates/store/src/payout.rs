//! Payouts and the commission ledger: merchant payout settings, what a run may pay, payouts and
//! their items, and the append-only ledger entries every change of a commission writes.
//!
//! Entries are written by the same transaction as the change they record (a sale, a rejection,
//! a refund, a payout ending), so the ledger and the conversions never disagree; `ledger verify`
//! proves it (`refline_domain::ledger::verify`).

use refline_domain::{
    ledger::{EntryKind, PayoutStatus},
    ConversionStatus, Mode,
};
use sqlx::FromRow;

use crate::{OutboxEvent, Page, PageRequest, StoreResult};

/// A merchant's payout settings.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PayoutSettings {
    /// Days after approval before a commission is payable (a campaign may override).
    pub payout_hold_days: i64,
    /// Smallest payout, in hundredths of a unit of each payout's currency (5000 = 50.00).
    pub minimum_payout_hundredths: i64,
    /// Scheduled runs pay `stripe_connect` payouts without a person.
    pub automatic_payouts: bool,
    /// The method of affiliates who chose none: `paypal`, `stripe_connect`, `wise` or `manual`.
    pub default_payout_method: Option<String>,
    /// The merchant's Stripe secret key, sealed (never returned).
    pub stripe_secret_key: Option<String>,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LedgerEntry {
    /// Order of writing.
    pub id: i64,
    /// Owner.
    pub merchant_id: String,
    /// Whose money.
    pub affiliate_id: String,
    /// The campaign of the commission.
    pub campaign_id: String,
    /// The commission (conversion).
    pub conversion_id: String,
    /// The payout, for paid and returned entries.
    pub payout_id: Option<String>,
    /// Lower-case ISO 4217.
    pub currency: String,
    /// What it records.
    pub kind: EntryKind,
    /// Signed, minor units.
    pub amount_minor: i64,
    /// Live or test data.
    #[sqlx(rename = "is_test")]
    pub mode: Mode,
    /// Unix ms.
    pub created_at: i64,
}

/// A payout.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Payout {
    /// `po_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Who is paid.
    pub affiliate_id: String,
    /// One currency per payout.
    pub currency: String,
    /// Lifecycle.
    pub status: PayoutStatus,
    /// `paypal`, `stripe_connect`, `wise` or `manual`.
    pub method: String,
    /// The affiliate's payout details at the time of the run (JSON), if any.
    pub destination: Option<String>,
    /// Sum of its items, minor units.
    pub amount_minor: i64,
    /// Live or test data.
    #[sqlx(rename = "is_test")]
    pub mode: Mode,
    /// The merchant's reference for the payment (set on completion).
    pub reference: Option<String>,
    /// The export file that took it to `processing`, if one did.
    pub export_id: Option<String>,
    /// The Stripe transfer id, for `stripe_connect`.
    pub transfer_id: Option<String>,
    /// Why it failed or was cancelled.
    pub failure_reason: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// Unix ms, when completed.
    pub completed_at: Option<i64>,
}

/// One commission (positive) or clawback netted (negative) in a payout.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PayoutItem {
    /// The payout.
    pub payout_id: String,
    /// The conversion.
    pub conversion_id: String,
    /// Minor units, signed.
    pub amount_minor: i64,
    /// While the payout is pending or processing.
    pub is_open: bool,
}

/// What a payout run or the balances read about one commission.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CommissionPosition {
    /// The conversion.
    pub conversion_id: String,
    /// Whose.
    pub affiliate_id: String,
    /// Lower-case ISO 4217.
    pub currency: String,
    /// Conversion status (`pending`, `approved`, `paid`…).
    pub status: ConversionStatus,
    /// When approved (unix ms).
    pub approved_at: Option<i64>,
    /// The hold in days: the campaign's, else the merchant's.
    pub hold_days: i64,
    /// Sum of its earning entries.
    pub earned_minor: i64,
    /// Sum of its paid and returned entries.
    pub paid_minor: i64,
    /// The amount an open payout holds for it, if one does.
    pub open_item_minor: Option<i64>,
    /// The affiliate's payout details (JSON), if set.
    pub payout_method: Option<String>,
}

/// Which commissions to read.
#[derive(Debug, Clone, Default)]
pub struct PositionFilter {
    /// Live or test data.
    pub mode: Mode,
    /// Only this affiliate.
    pub affiliate_id: Option<String>,
    /// Only these affiliates (empty: all).
    pub affiliate_ids: Vec<String>,
    /// Only this currency.
    pub currency: Option<String>,
    /// Only what a payout run may take (approved or paid, in no open payout, something
    /// outstanding); otherwise every commission with something outstanding or in a payout.
    pub payable_only: bool,
}

/// A payout to create with its items.
#[derive(Debug, Clone)]
pub struct NewPayout {
    /// The payout (status `pending`).
    pub payout: Payout,
    /// Its items (open).
    pub items: Vec<PayoutItem>,
}

/// Filters for payout lists. Times are unix ms, inclusive.
#[derive(Debug, Clone, Default)]
pub struct PayoutFilter {
    /// Live or test data.
    pub mode: Mode,
    /// Created at or after.
    pub from: Option<i64>,
    /// Created at or before.
    pub to: Option<i64>,
    /// In this status.
    pub status: Option<PayoutStatus>,
    /// Of this affiliate.
    pub affiliate_id: Option<String>,
    /// Holding this conversion.
    pub conversion_id: Option<String>,
    /// Of this currency.
    pub currency: Option<String>,
    /// Of this method.
    pub method: Option<String>,
    /// Taken to `processing` by this export.
    pub export_id: Option<String>,
}

/// How a payout ends (or moves on), applied in one transaction with a compare-and-set on its
/// status.
#[derive(Debug, Clone)]
pub struct PayoutTransition {
    /// Owner.
    pub merchant_id: String,
    /// The payout.
    pub payout_id: String,
    /// The status it must still be in.
    pub from: PayoutStatus,
    /// The new status.
    pub to: PayoutStatus,
    /// Payment reference (completion).
    pub reference: Option<String>,
    /// Stripe transfer id.
    pub transfer_id: Option<String>,
    /// Why (failure, cancellation).
    pub reason: Option<String>,
    /// Payout events announced with the change.
    pub events: Vec<OutboxEvent>,
    /// Announce `conversion.paid` for each commission completion marks paid (live data).
    pub announce: bool,
    /// The "payout sent" mail of a completion, queued in the change's transaction.
    pub mail: Option<crate::OutgoingMail>,
    /// Unix ms.
    pub now: i64,
}

/// Everything the ledger of one merchant says and everything the rest of the database says
/// about the same money, for `ledger verify`.
#[derive(Debug, Clone, Default)]
pub struct LedgerSnapshot {
    /// Every entry, in order.
    pub entries: Vec<LedgerEntry>,
    /// Every conversion's money: id, affiliate, currency, status, commission, paid, test.
    pub conversions: Vec<ConversionMoney>,
    /// Clawbacks recorded on conversions (commission adjustments): conversion id, amount.
    pub adjustments: Vec<(String, i64)>,
    /// Every payout.
    pub payouts: Vec<Payout>,
    /// Every payout item.
    pub items: Vec<PayoutItem>,
}

/// The money columns of a conversion.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ConversionMoney {
    /// `conv_…`
    pub id: String,
    /// Whose.
    pub affiliate_id: String,
    /// Currency.
    pub currency: String,
    /// Status.
    pub status: ConversionStatus,
    /// Commission as computed (kept on rejected and refunded conversions).
    pub commission_minor: i64,
    /// What it earns now, as the conversion carries it.
    pub earned_minor: i64,
    /// Paid so far.
    pub paid_minor: i64,
    /// Live or test data.
    #[sqlx(rename = "is_test")]
    pub mode: Mode,
}

/// Payouts, settings and the ledger.
#[async_trait::async_trait]
pub trait PayoutStore {
    /// The merchant's payout settings (`None`: no such merchant).
    async fn payout_settings(&self, merchant_id: &str) -> StoreResult<Option<PayoutSettings>>;
    /// Replaces the merchant's payout settings.
    async fn update_payout_settings(&self, merchant_id: &str, settings: &PayoutSettings)
        -> StoreResult<bool>;
    /// Sets an affiliate's payout details (JSON or `None`); false when not the merchant's.
    async fn set_payout_method(
        &self,
        merchant_id: &str,
        affiliate_id: &str,
        method: Option<&str>,
    ) -> StoreResult<bool>;
    /// The commissions of a merchant as a run or the balances need them.
    async fn commission_positions(
        &self,
        merchant_id: &str,
        filter: &PositionFilter,
    ) -> StoreResult<Vec<CommissionPosition>>;
    /// A page of the affiliates that have a balance in `mode` (a commission that
    /// [`PayoutStore::commission_positions`] reads without `payable_only`), in `currency` when
    /// given (lower case), by id, with how many there are.
    async fn balance_affiliates(
        &self,
        merchant_id: &str,
        mode: Mode,
        currency: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<String>>;
    /// Paid totals per affiliate and currency (sum of paid and returned entries).
    async fn paid_totals(
        &self,
        merchant_id: &str,
        filter: &PositionFilter,
    ) -> StoreResult<Vec<(String, String, i64)>>;
    /// Creates payouts with their items in one transaction. A conversion already in an open
    /// payout (another run won) fails the whole write with a conflict, and nothing is written.
    async fn create_payouts(&self, payouts: &[NewPayout]) -> StoreResult<()>;
    /// A payout of the merchant with its items.
    async fn get_payout(&self, merchant_id: &str, id: &str)
        -> StoreResult<Option<(Payout, Vec<PayoutItem>)>>;
    /// A page of payouts, newest first.
    async fn list_payouts(
        &self,
        merchant_id: &str,
        filter: &PayoutFilter,
        page: PageRequest<()>,
    ) -> StoreResult<Page<Payout>>;
    /// Every payout matching `filter`, oldest first, in one read (exports and sends).
    async fn all_payouts(&self, merchant_id: &str, filter: &PayoutFilter) -> StoreResult<Vec<Payout>>;
    /// The items of payouts (for lists and exports).
    async fn payout_items(&self, payout_ids: &[String]) -> StoreResult<Vec<PayoutItem>>;
    /// Moves a payout to `to` if it is still in `from`, with everything that follows: completion
    /// writes a paid entry per item and marks its commissions paid; failure of a completed payout
    /// writes returned entries and makes them payable again; failure or cancellation of an open
    /// one frees its items. False when the payout was not in `from` (nothing written).
    async fn transition_payout(&self, change: &PayoutTransition) -> StoreResult<bool>;
    /// Moves the pending payouts `ids` to `processing` under `export_id`; answers the ids moved
    /// (a payout no longer pending is left out).
    async fn mark_exported(
        &self,
        merchant_id: &str,
        ids: &[String],
        export_id: &str,
        now: i64,
    ) -> StoreResult<Vec<String>>;
    /// Email and name of the merchant's affiliates `ids`.
    async fn affiliate_contacts(
        &self,
        merchant_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<(String, String, Option<String>)>>;
    /// The payout holding a Stripe transfer.
    async fn payout_by_transfer(&self, merchant_id: &str, transfer_id: &str) -> StoreResult<Option<Payout>>;
    /// Every entry of a merchant (and what else the database says about the same money).
    async fn ledger_snapshot(&self, merchant_id: &str) -> StoreResult<LedgerSnapshot>;
    /// Takes the lease of scheduled run `name` for `holder` until `lease_until` if no other
    /// node holds it (its lease ended before `now`) and it last finished at or before
    /// `due_before`; true when taken. At most one node runs it at a time.
    async fn claim_schedule(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        due_before: i64,
        lease_until: i64,
    ) -> StoreResult<bool>;
    /// Ends `holder`'s lease of `name`, recording that the run finished at `now`.
    async fn finish_schedule(&self, name: &str, holder: &str, now: i64) -> StoreResult<()>;
    /// Merchants who switched automatic payouts on.
    async fn automatic_payout_merchants(&self) -> StoreResult<Vec<String>>;
    /// Merchants with a ledger (for `ledger verify` without `--merchant`).
    async fn merchant_ids(&self) -> StoreResult<Vec<String>>;
}

//! Imports from other affiliate platforms (`refline import`, docs/MIGRATING.md): which Refline
//! object each source object became, each run's checkpoint, and the writes an import needs that
//! no other door makes — historical commissions with their status, paid history settled by a
//! completed `imported` payout — all without announcing events (imported history is not news).

use refline_domain::{ConversionStatus, MembershipStatus};
use sqlx::FromRow;

use crate::{Affiliate, Conversion, ProcessorSubscription, StoreResult};

/// A source object and the Refline object it became.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ImportedObject {
    /// Owner.
    pub merchant_id: String,
    /// `rewardful`, `tolt`, …
    pub source: String,
    /// `campaign`, `affiliate`, `link`, `coupon`, `customer`, `commission`.
    pub kind: String,
    /// The source's id.
    pub source_id: String,
    /// The Refline id (`camp_…`, `aff_…`, …; `cus:<id>` for a remembered customer).
    pub refline_id: String,
    /// Hash of the source fields the import reads (unchanged on a re-run means nothing to do).
    pub fingerprint: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// One import run and its checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ImportRun {
    /// `imp_…`
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// The source.
    pub source: String,
    /// `running`, `failed` or `finished`.
    pub status: String,
    /// The entity being imported.
    pub step: String,
    /// Where the step's next page starts (page number or source cursor); `None` at its start.
    pub cursor: Option<String>,
    /// The report so far (JSON).
    pub report: String,
    /// Why the run stopped, when it failed.
    pub error: Option<String>,
    /// Unix ms.
    pub started_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// Unix ms, once finished.
    pub finished_at: Option<i64>,
}

/// The completed payout that settles an imported paid commission, so the ledger says it was
/// paid (a `paid` entry with its payout) and no run pays it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPayout {
    /// `po_…`
    pub id: String,
    /// When the source paid it (unix ms).
    pub paid_at: i64,
    /// What the payout's reference says (`imported from rewardful`, the source payout id…).
    pub reference: String,
}

/// What writing an imported commission did.
#[derive(Debug, Clone)]
pub enum ImportedConversion {
    /// Written now (boxed: a conversion is large beside an id).
    Created(Box<Conversion>),
    /// Its order id was already taken by this conversion (an earlier run wrote it and stopped
    /// before remembering it); nothing was written.
    Existing(String),
}

/// One new imported commission of a batch ([`ImportStore::import_conversions`]): the
/// conversion as [`ImportStore::import_conversion`] writes it, the customer's memory and the
/// source object's row, each given the id of the conversion that holds the order id.
#[derive(Debug, Clone)]
pub struct ImportedConversionWrite {
    /// The conversion (its `order_id` keeps it unique).
    pub conversion: Conversion,
    /// The payout settling it when it is paid.
    pub paid: Option<ImportedPayout>,
    /// The customer's memory; `first_conversion_id` is set to the conversion's id.
    pub memory: Option<ProcessorSubscription>,
    /// What the source object became; `refline_id` is set to the conversion's id.
    pub object: ImportedObject,
}

/// One imported affiliate of a page to write ([`ImportStore::import_affiliates`]).
#[derive(Debug, Clone)]
pub struct ImportedAffiliateWrite {
    /// The affiliate to create unless the merchant has one with its email.
    pub affiliate: Affiliate,
    /// The affiliate an earlier import made of the same source object: it is kept (not
    /// created), and only its memberships and source object row are written.
    pub existing: Option<String>,
    /// The campaigns it is on, with its status on each.
    pub memberships: Vec<(String, MembershipStatus)>,
    /// What the source object became; `refline_id` is set to the affiliate's id.
    pub object: ImportedObject,
}

/// What writing one imported affiliate did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedAffiliateWritten {
    /// The affiliate's id (the merchant's existing one with its email, if any).
    pub id: String,
    /// Whether the affiliate was created now.
    pub created: bool,
    /// Whether a membership was added or moved to another status.
    pub changed: bool,
}

/// The writes and reads of imports.
#[async_trait::async_trait]
pub trait ImportStore {
    /// What `source_id` of `kind` became, if it was imported before.
    async fn find_imported(
        &self,
        merchant_id: &str,
        source: &str,
        kind: &str,
        source_id: &str,
    ) -> StoreResult<Option<ImportedObject>>;
    /// What each of `source_ids` of `kind` became, for those imported before (any order): one
    /// read for a page of objects instead of one each.
    async fn find_imported_many(
        &self,
        merchant_id: &str,
        source: &str,
        kind: &str,
        source_ids: &[String],
    ) -> StoreResult<Vec<ImportedObject>>;
    /// Remembers (or updates) what a source object became.
    async fn save_imported(&self, object: &ImportedObject) -> StoreResult<()>;
    /// The newest run of `source` for the merchant that did not finish, if any.
    async fn unfinished_import_run(&self, merchant_id: &str, source: &str) -> StoreResult<Option<ImportRun>>;
    /// Stores a new run.
    async fn insert_import_run(&self, run: &ImportRun) -> StoreResult<()>;
    /// Saves a run's status, checkpoint and report.
    async fn save_import_run(&self, run: &ImportRun) -> StoreResult<()>;
    /// Brings the planner's statistics of the tables an import grows up to date (PostgreSQL:
    /// `ANALYZE`; nothing on SQLite, whose plans do not depend on them here). An import calls it
    /// as those tables double, so the plans of its repeated page reads are made for their size.
    async fn refresh_import_statistics(&self) -> StoreResult<()>;
    /// The campaign the affiliate joined first (ties: the lowest campaign id), if any: where a
    /// source object that names no campaign lands. One indexed read (no figures).
    async fn first_campaign_of(&self, merchant_id: &str, affiliate_id: &str) -> StoreResult<Option<String>>;
    /// [`ImportStore::first_campaign_of`] for each of `affiliate_ids`: (affiliate id, campaign
    /// id) pairs, for those on any campaign. One read for a page.
    async fn first_campaigns_of(
        &self,
        merchant_id: &str,
        affiliate_ids: &[String],
    ) -> StoreResult<Vec<(String, String)>>;
    /// One of the merchant's runs.
    async fn import_run(&self, merchant_id: &str, id: &str) -> StoreResult<Option<ImportRun>>;
    /// The merchant's runs of every source, newest first.
    async fn list_import_runs(&self, merchant_id: &str, limit: i64) -> StoreResult<Vec<ImportRun>>;
    /// Creates `affiliate` unless the merchant has one with its email; answers the id of the one
    /// that now holds the email and whether it was created. Announces nothing.
    async fn import_affiliate(&self, affiliate: &Affiliate) -> StoreResult<(String, bool)>;
    /// Puts the affiliate on the campaign with `status`, or moves its membership there;
    /// answers whether anything changed. Announces nothing.
    async fn import_membership(
        &self,
        merchant_id: &str,
        campaign_id: &str,
        affiliate_id: &str,
        status: MembershipStatus,
        now: i64,
    ) -> StoreResult<bool>;
    /// Writes a page of imported affiliates in one transaction, each as
    /// [`ImportStore::import_affiliate`] (unless `existing`), then
    /// [`ImportStore::import_membership`] for each of its campaigns, then its source object row
    /// would. Written with a few multi-row statements; when the database refuses one, or two
    /// rows of the page meet on one membership, the page is written again row by row, each in
    /// its own savepoint, so a refused row fails alone. Answers each one's outcome, in order;
    /// `Err` only when the transaction itself failed (nothing written). Announces nothing.
    async fn import_affiliates(
        &self,
        writes: &[ImportedAffiliateWrite],
        now: i64,
    ) -> StoreResult<Vec<StoreResult<ImportedAffiliateWritten>>>;
    /// Writes a historical commission as it is at the source, in one transaction: the
    /// conversion (its `order_id` keeps it unique), its `accrued` entry, a `reversed` one when
    /// it is rejected or refunded, and, when `paid` is given, a completed payout holding it with
    /// its `paid` entry; then the overview's rollups. Announces nothing.
    async fn import_conversion(
        &self,
        conversion: &Conversion,
        paid: Option<&ImportedPayout>,
    ) -> StoreResult<ImportedConversion>;
    /// Writes a page of new imported commissions in one transaction, each as
    /// [`ImportStore::import_conversion`] does plus its memory and source object row; the
    /// rollups of all of them last. The page is written with a few multi-row statements
    /// (`import_page`); when the database refuses one of them, it is written again row by row,
    /// each in its own savepoint, so one refused row fails alone. Answers each one's
    /// conversion id (the existing one when its order id was taken) or error, in order; `Err`
    /// only when the transaction itself failed (nothing written).
    async fn import_conversions(
        &self,
        writes: &[ImportedConversionWrite],
    ) -> StoreResult<Vec<StoreResult<String>>>;
    /// Moves an imported commission to `status` as the source now says (a pending one approved,
    /// rejected or paid) with the ledger entry that follows, and for `paid` the completed
    /// payout; `false` when it is not `from` any more, or when it is to be paid while an open
    /// payout of Refline's holds it (it would be paid twice). A paid commission is never changed.
    /// Announces nothing.
    async fn update_imported_conversion(
        &self,
        merchant_id: &str,
        conversion_id: &str,
        from: ConversionStatus,
        to: ConversionStatus,
        paid: Option<&ImportedPayout>,
        now: i64,
    ) -> StoreResult<bool>;
}

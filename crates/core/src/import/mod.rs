//! Importing a program from another platform (`refline import`, docs/MIGRATING.md): the core's
//! entry points for each kind of source object, so an importer is a door like any other. Each
//! operation takes an `Actor` whose door is [`Door::Import`], a source-neutral input (the
//! importer maps the source's shapes into it), and answers what the object became
//! ([`Imported`]) or a `CoreError` whose code the import report shows as the reason it was
//! skipped.
//!
//! Idempotent: every source object keeps its source id in `import_objects`, with a fingerprint
//! of the fields read; importing it again creates nothing, and changes only what changed.
//! Imported history announces nothing (no outbox events, no mails): the writes it needs beyond
//! the ordinary operations (affiliates and memberships as the source has them, commissions with
//! their status, paid history) are the store's quiet `ImportStore` writes.

mod affiliate_page;
mod affiliates;
mod campaigns;
mod commissions;
mod customers;
pub mod runs;

pub use affiliates::{ImportedAffiliate, ImportedCoupon, ImportedLink, ImportedPayoutMethod};
pub use campaigns::{ExistingCampaign, ImportedCampaign};
pub use commissions::ImportedCommission;
pub use customers::ImportedCustomer;

use refline_store::ImportedObject;
use sha2::{Digest, Sha256};

use crate::{audit::AuditTarget, Actor, Core, CoreError, CoreResult, Door, ErrorKind};

/// The kinds of source objects, as `import_objects.kind` stores them.
pub mod kind {
    /// A campaign (Rewardful campaign, Tolt program, FirstPromoter campaign, PartnerStack group).
    pub const CAMPAIGN: &str = "campaign";
    /// An affiliate (partner, promoter, partnership).
    pub const AFFILIATE: &str = "affiliate";
    /// A referral link (its token becomes a short-link code).
    pub const LINK: &str = "link";
    /// A coupon registered to an affiliate.
    pub const COUPON: &str = "coupon";
    /// A referred customer (remembered so the processor's renewals attribute).
    pub const CUSTOMER: &str = "customer";
    /// A commission.
    pub const COMMISSION: &str = "commission";
    /// An affiliate's payout details (a CSV file's PayPal email).
    pub const PAYOUT_METHOD: &str = "payout_method";
}

/// What importing one source object did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A Refline object was created.
    Created,
    /// The object imported before was changed to match the source.
    Updated,
    /// Nothing to do: imported before and unchanged at the source.
    Unchanged,
}

/// The Refline object a source object became, and what this import did to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The Refline id.
    pub id: String,
    /// Created, updated or unchanged.
    pub change: Change,
}

impl AuditTarget for Imported {
    fn audit_target(&self) -> Option<String> {
        Some(self.id.clone())
    }
}

/// A refusal to import one object: skipped, with `code` in the report.
pub(crate) fn skip(code: &'static str, message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorKind::Unprocessable, code, message)
}

/// The hex SHA-256 of an input's fields (their `Debug` text): equal for an unchanged object.
pub(crate) fn fingerprint(input: &impl std::fmt::Debug) -> String {
    hex::encode(Sha256::digest(format!("{input:?}").as_bytes()))
}

/// The source an actor imports from: its door must be [`Door::Import`].
pub(crate) fn source_of(actor: &Actor) -> CoreResult<&str> {
    actor.require_write()?;
    match &actor.door {
        Door::Import { source } => Ok(source),
        _ => {
            Err(CoreError::new(ErrorKind::Forbidden, "insufficient_permissions", "Only an importer imports"))
        }
    }
}

/// What an earlier run made of one source object, read before deciding what to write.
pub(crate) struct Earlier {
    /// The actor's source (`rewardful`, …).
    pub source: String,
    /// The input's fingerprint, remembered with what it becomes.
    pub print: String,
    /// The earlier import of the same source object, if any.
    pub found: Option<ImportedObject>,
}

impl Earlier {
    /// The answer when the object is as it was last imported: nothing to do (a re-run of an
    /// import changes nothing).
    pub fn unchanged(&self) -> Option<Imported> {
        self.found
            .as_ref()
            .filter(|f| f.fingerprint == self.print)
            .map(|f| Imported { id: f.refline_id.clone(), change: Change::Unchanged })
    }
}

impl Core {
    /// The actor's source, `input`'s fingerprint and what `source_id` of `kind` became before:
    /// the first step of every import operation.
    pub(crate) async fn earlier(
        &self,
        actor: &Actor,
        kind: &str,
        source_id: &str,
        input: &impl std::fmt::Debug,
    ) -> CoreResult<Earlier> {
        let source = source_of(actor)?.to_string();
        let found = self.imported(actor, &source, kind, source_id).await?;
        Ok(Earlier { source, print: fingerprint(input), found })
    }

    /// What `source_id` of `kind` became in an earlier import of the actor's source.
    pub(crate) async fn imported(
        &self,
        actor: &Actor,
        source: &str,
        kind: &str,
        source_id: &str,
    ) -> CoreResult<Option<ImportedObject>> {
        Ok(self.store.find_imported(&actor.merchant_id, source, kind, source_id).await?)
    }

    /// The Refline id `source_id` of `kind` became, or a skip with `code` when it was not
    /// imported (skipped itself, or missing at the source).
    pub(crate) async fn imported_id(
        &self,
        actor: &Actor,
        source: &str,
        kind: &str,
        source_id: &str,
        code: &'static str,
    ) -> CoreResult<String> {
        match self.imported(actor, source, kind, source_id).await? {
            Some(found) => Ok(found.refline_id),
            None => Err(skip(code, format!("{kind} {source_id} was not imported"))),
        }
    }

    /// Remembers what a source object became.
    pub(crate) async fn remember_import(
        &self,
        actor: &Actor,
        source: &str,
        kind: &str,
        source_id: &str,
        refline_id: &str,
        fingerprint: String,
    ) -> CoreResult<()> {
        let now = self.now();
        let object = ImportedObject {
            merchant_id: actor.merchant_id.clone(),
            source: source.to_string(),
            kind: kind.to_string(),
            source_id: source_id.to_string(),
            refline_id: refline_id.to_string(),
            fingerprint,
            created_at: now,
            updated_at: now,
        };
        Ok(self.store.save_imported(&object).await?)
    }

    /// The campaign a source object belongs to: the one its source campaign became, or else the
    /// affiliate's first campaign (sources that name no campaign on links or commissions).
    pub(crate) async fn campaign_for(
        &self,
        actor: &Actor,
        source: &str,
        campaign_source_id: Option<&str>,
        affiliate_id: &str,
    ) -> CoreResult<String> {
        if let Some(campaign) = campaign_source_id {
            return self.imported_id(actor, source, kind::CAMPAIGN, campaign, "campaign_not_imported").await;
        }
        // Not `affiliate_memberships`: that one adds each membership's earnings up from the
        // conversions, a cost per commission that grows with the history being imported.
        self.store
            .first_campaign_of(&actor.merchant_id, affiliate_id)
            .await?
            .ok_or_else(|| skip("campaign_not_imported", "the affiliate is on no imported campaign"))
    }
}

//! Importing a page of affiliates together: what the page's affiliates and campaigns became is
//! read with one query each, and the affiliates to write are written in one transaction with a
//! few multi-row statements (`ImportStore::import_affiliates`), instead of about ten statements
//! an affiliate. Each one is decided exactly as [`Core::import_affiliate`] decides it.

use std::collections::{HashMap, HashSet};

use refline_domain::{canonical_email, is_valid_email};
use refline_store::{Affiliate, ImportedAffiliateWrite, ImportedObject};

use super::{fingerprint, kind, skip, source_of, Change, Imported, ImportedAffiliate};
use crate::{ids::new_id, Actor, Core, CoreError, CoreResult};

/// What one affiliate of a page needs.
enum Planned {
    /// Decided without a write (unchanged, or refused).
    Done(CoreResult<Imported>),
    /// To write with the page.
    Write(Box<ImportedAffiliateWrite>),
}

/// What the page's affiliates refer to, read once for the page.
struct Known {
    /// Affiliate source id → what an earlier import made of it.
    before: HashMap<String, ImportedObject>,
    /// Campaign source id → the Refline campaign it became.
    campaigns: HashMap<String, String>,
}

impl Core {
    /// Imports a page of affiliates: each decided as [`Core::import_affiliate`] decides it (the
    /// same checks, refusals and idempotency), the ones to write written together in one
    /// transaction in which each still fails alone. Answers each one's outcome, in order; `Err`
    /// only for a refusal of the whole page (the actor is no importer, the database failed).
    /// Every affiliate is one audit entry, kept together at the end.
    pub async fn import_affiliates(
        &self,
        actor: &Actor,
        inputs: Vec<ImportedAffiliate>,
    ) -> CoreResult<Vec<CoreResult<Imported>>> {
        let answers = self.import_affiliates_work(actor, inputs).await;
        match &answers {
            Ok(each) => {
                let records = each.iter().map(|r| self.audit_record(actor, "affiliate.import", r)).collect();
                self.effects.audited_many(records).await;
            }
            Err(err) => {
                let refused: CoreResult<Imported> = Err(err.clone());
                self.effects.audited(self.audit_record(actor, "affiliate.import", &refused)).await;
            }
        }
        answers
    }

    async fn import_affiliates_work(
        &self,
        actor: &Actor,
        inputs: Vec<ImportedAffiliate>,
    ) -> CoreResult<Vec<CoreResult<Imported>>> {
        let source = source_of(actor)?.to_string();
        let mut ids = HashSet::with_capacity(inputs.len());
        if !inputs.iter().all(|i| ids.insert(i.source_id.as_str())) {
            // A source object twice in one page: one by one, so the second sees the first.
            let mut answers = Vec::with_capacity(inputs.len());
            for input in inputs {
                answers.push(self.import_affiliate_work(actor, input).await);
            }
            return Ok(answers);
        }
        let known = self.known(actor, &source, &inputs).await?;
        let now = self.now();
        let mut answers: Vec<Option<CoreResult<Imported>>> = Vec::with_capacity(inputs.len());
        let (mut writes, mut places) = (Vec::new(), Vec::new());
        for input in inputs {
            match self.plan_affiliate(actor, &source, input, &known, now) {
                Planned::Done(answer) => answers.push(Some(answer)),
                Planned::Write(write) => {
                    places.push(answers.len());
                    answers.push(None);
                    writes.push(*write);
                }
            }
        }
        if !writes.is_empty() {
            let written = self.store.import_affiliates(&writes, now).await?;
            let mut changed = false;
            for (place, result) in places.into_iter().zip(written) {
                answers[place] = Some(
                    result
                        .map(|w| {
                            changed |= w.changed;
                            let change = match (w.created, w.changed) {
                                (true, _) => Change::Created,
                                (false, true) => Change::Updated,
                                (false, false) => Change::Unchanged,
                            };
                            Imported { id: w.id, change }
                        })
                        .map_err(CoreError::from),
                );
            }
            if changed {
                self.effects.links_changed();
            }
        }
        Ok(answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(skip("affiliate_not_imported", "the store answered nothing"))))
            .collect())
    }

    /// What the page's affiliates and their campaigns became: one read each.
    async fn known(&self, actor: &Actor, source: &str, inputs: &[ImportedAffiliate]) -> CoreResult<Known> {
        let merchant = actor.merchant_id.as_str();
        let ids: Vec<String> = inputs.iter().map(|i| i.source_id.clone()).collect();
        let before = self.store.find_imported_many(merchant, source, kind::AFFILIATE, &ids).await?;
        let mut seen = HashSet::new();
        let campaigns: Vec<String> = inputs
            .iter()
            .flat_map(|i| i.campaigns.iter().map(|(c, _)| c.as_str()))
            .filter(|c| seen.insert(*c))
            .map(str::to_string)
            .collect();
        let found = self.store.find_imported_many(merchant, source, kind::CAMPAIGN, &campaigns).await?;
        Ok(Known {
            before: before.into_iter().map(|o| (o.source_id.clone(), o)).collect(),
            campaigns: found.into_iter().map(|o| (o.source_id, o.refline_id)).collect(),
        })
    }

    /// Decides one affiliate of the page, as `import_affiliate_work` does.
    fn plan_affiliate(
        &self,
        actor: &Actor,
        source: &str,
        input: ImportedAffiliate,
        known: &Known,
        now: i64,
    ) -> Planned {
        let print = fingerprint(&input);
        let before = known.before.get(&input.source_id);
        if let Some(same) = before.filter(|f| f.fingerprint == print) {
            return Planned::Done(Ok(Imported { id: same.refline_id.clone(), change: Change::Unchanged }));
        }
        let email = canonical_email(&input.email);
        if !is_valid_email(&email) {
            return Planned::Done(Err(skip(
                "invalid_email",
                format!("{:?} is not a valid email address", input.email),
            )));
        }
        let mut memberships = Vec::with_capacity(input.campaigns.len());
        for (campaign, status) in &input.campaigns {
            let Some(id) = known.campaigns.get(campaign) else {
                return Planned::Done(Err(skip(
                    "campaign_not_imported",
                    format!("{} {campaign} was not imported", kind::CAMPAIGN),
                )));
            };
            memberships.push((id.clone(), *status));
        }
        if memberships.is_empty() {
            return Planned::Done(Err(skip(
                "campaign_not_imported",
                "the affiliate is on no campaign at the source",
            )));
        }
        let affiliate = Affiliate {
            id: new_id("aff"),
            merchant_id: actor.merchant_id.clone(),
            email,
            name: input.name.clone().filter(|n| !n.trim().is_empty()),
            created_via: "import".into(),
            created_at: input.created_at.unwrap_or(now),
            payout_method: None,
        };
        let object = ImportedObject {
            merchant_id: actor.merchant_id.clone(),
            source: source.to_string(),
            kind: kind::AFFILIATE.to_string(),
            source_id: input.source_id.clone(),
            refline_id: String::new(),
            fingerprint: print,
            created_at: now,
            updated_at: now,
        };
        Planned::Write(Box::new(ImportedAffiliateWrite {
            affiliate,
            existing: before.map(|f| f.refline_id.clone()),
            memberships,
            object,
        }))
    }
}

//! The import loop: every step of a source, page by page, each record through the core's
//! import operation, the run's checkpoint saved after every page. A run that stops (the source
//! kept failing, the database went away) leaves its checkpoint; the next run of the same source
//! for the same merchant resumes from it, and since every operation is idempotent the page it
//! was in is simply imported again.

use refline_core::{
    ids::new_id,
    import::{kind, Change, Imported, ImportedAffiliate, ImportedCommission},
    Actor, Core, CoreError, CoreResult, Door, ErrorKind, Mode, Rights,
};
use refline_store::ImportRun;
use serde_json::Value;

use crate::{progress::Progress, report::Report, ImportError, Record, Source, Step};

/// How to run an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Read and map everything, write nothing.
    pub dry_run: bool,
}

/// The actor an import of `source` for `merchant_id` acts as: the merchant, live, read-write,
/// through the import door.
pub async fn import_actor(core: &Core, merchant_id: &str, source: &str) -> Result<Actor, ImportError> {
    let merchant = core
        .store
        .get_merchant(merchant_id)
        .await
        .map_err(CoreError::from)?
        .ok_or_else(|| ImportError::Usage(format!("no merchant (brand) with id {merchant_id}")))?;
    Ok(Actor {
        merchant_id: merchant_id.to_string(),
        mode: Mode::Live,
        rights: Rights::ReadWrite,
        currency: merchant.currency,
        door: Door::Import { source: source.to_string() },
    })
}

/// Imports everything `source` has for the actor's merchant; answers the report (of the whole
/// import, when this run resumed an earlier one).
pub async fn run_import(
    core: &Core,
    actor: &Actor,
    source: &dyn Source,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<Report, ImportError> {
    let mut checkpoint =
        if options.dry_run { None } else { Some(Checkpoint::open(core, actor, source).await?) };
    let mut report =
        checkpoint.as_ref().map_or_else(|| Report::new(source.name(), true), |c| c.report.clone());
    let resume = checkpoint.as_ref().and_then(|c| c.resume_at());
    for step in source.steps() {
        let mut cursor = None;
        if let Some((at, at_cursor)) = &resume {
            if step < *at {
                continue;
            }
            if step == *at {
                cursor.clone_from(at_cursor);
            }
        }
        let mut done = seen_in(&report, step);
        let mut shown = false;
        let mut pages = 0u64;
        loop {
            let batch = match source.fetch(step, cursor.as_deref()).await {
                Ok(batch) => batch,
                Err(err) => return Err(fail(core, checkpoint.as_mut(), err).await),
            };
            // Shown once the source answered: a refused key prints its one line and nothing else.
            if !shown {
                progress.started(step, done);
                shown = true;
            }
            done += batch.records.len() as u64;
            if let Err(err) = apply_page(core, actor, batch.records, &mut report, options.dry_run).await {
                return Err(fail(core, checkpoint.as_mut(), ImportError::Core(err)).await);
            }
            progress.page(step, done, batch.total);
            // The tables this import writes double at pages 1, 2, 4, 8…: their statistics
            // follow, so each page read keeps a plan made for the table's size.
            pages += 1;
            if !options.dry_run && pages.is_power_of_two() {
                core.store.refresh_import_statistics().await.map_err(CoreError::from)?;
            }
            cursor = batch.next;
            if let Some(c) = checkpoint.as_mut() {
                c.save_page(core, step, cursor.clone(), &report).await?;
            }
            if cursor.is_none() {
                break;
            }
        }
        progress.finished(step, done);
    }
    if let Some(c) = checkpoint.as_mut() {
        c.finish(core, &report).await?;
    }
    Ok(report)
}

/// Objects of `step`'s entities already counted (a resumed run starts its bar there).
fn seen_in(report: &Report, step: Step) -> u64 {
    let kinds: &[&str] = match step {
        Step::Campaigns => &[kind::CAMPAIGN],
        Step::Affiliates => &[kind::AFFILIATE],
        Step::Links => &[kind::LINK],
        Step::Coupons => &[kind::COUPON],
        Step::Customers => &[kind::CUSTOMER],
        Step::Commissions => &[kind::COMMISSION],
    };
    kinds.iter().filter_map(|k| report.entities.get(*k)).map(|c| c.seen).sum()
}

/// Imports a page's records in order and counts what happened: runs of affiliates and runs of
/// commissions go to the core together (one write transaction for the run), anything else one
/// by one. `Err` only for what must stop the run.
async fn apply_page(
    core: &Core,
    actor: &Actor,
    records: Vec<Record>,
    report: &mut Report,
    dry_run: bool,
) -> CoreResult<()> {
    // At most one of the two runs is open at a time: a record of another kind closes it first,
    // so records are still imported in their order.
    let (mut affiliates, mut commissions) = (Vec::new(), Vec::new());
    for record in records {
        match record {
            Record::Affiliate(a) if !dry_run => {
                apply_commissions(core, actor, std::mem::take(&mut commissions), report).await?;
                affiliates.push(a);
            }
            Record::Commission(c) if !dry_run => {
                apply_affiliates(core, actor, std::mem::take(&mut affiliates), report).await?;
                commissions.push(c);
            }
            other => {
                apply_affiliates(core, actor, std::mem::take(&mut affiliates), report).await?;
                apply_commissions(core, actor, std::mem::take(&mut commissions), report).await?;
                apply(core, actor, other, report, dry_run).await?;
            }
        }
    }
    apply_affiliates(core, actor, affiliates, report).await?;
    apply_commissions(core, actor, commissions, report).await
}

/// Imports affiliates together through the core's page operation.
async fn apply_affiliates(
    core: &Core,
    actor: &Actor,
    affiliates: Vec<ImportedAffiliate>,
    report: &mut Report,
) -> CoreResult<()> {
    if affiliates.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = affiliates.iter().map(|a| a.source_id.clone()).collect();
    let results = core.import_affiliates(actor, affiliates).await?;
    for (source_id, result) in ids.iter().zip(results) {
        report.counts(kind::AFFILIATE).seen += 1;
        count(report, kind::AFFILIATE, source_id, result)?;
    }
    Ok(())
}

/// Imports commissions together through the core's page operation.
async fn apply_commissions(
    core: &Core,
    actor: &Actor,
    commissions: Vec<ImportedCommission>,
    report: &mut Report,
) -> CoreResult<()> {
    if commissions.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = commissions.iter().map(|c| c.source_id.clone()).collect();
    let results = core.import_commissions(actor, commissions).await?;
    for (source_id, result) in ids.iter().zip(results) {
        report.counts(kind::COMMISSION).seen += 1;
        count(report, kind::COMMISSION, source_id, result)?;
    }
    Ok(())
}

/// Counts one object's outcome; `Err` for a refusal that must stop the run.
fn count(report: &mut Report, kind: &str, source_id: &str, result: CoreResult<Imported>) -> CoreResult<()> {
    match result {
        Ok(imported) => {
            let counts = report.counts(kind);
            match imported.change {
                Change::Created => counts.created += 1,
                Change::Updated => counts.updated += 1,
                Change::Unchanged => counts.unchanged += 1,
            }
            Ok(())
        }
        Err(err) if is_skip(&err) => {
            report.skip(kind, source_id, err.code, &describe(&err));
            Ok(())
        }
        Err(err) => Err(err),
    }
}

/// Imports one record and counts what happened; `Err` only for what must stop the run.
async fn apply(
    core: &Core,
    actor: &Actor,
    record: Record,
    report: &mut Report,
    dry_run: bool,
) -> CoreResult<()> {
    let kind = record.kind();
    let source_id = record.source_id().to_string();
    report.counts(kind).seen += 1;
    if let Record::Skipped { code, message, .. } = &record {
        report.skip(kind, &source_id, code, message);
        return Ok(());
    }
    if dry_run {
        return Ok(());
    }
    let result: CoreResult<Imported> = match record {
        Record::Campaign(r) => core.import_campaign(actor, r).await,
        Record::ExistingCampaign(r) => core.import_existing_campaign(actor, r).await,
        Record::Affiliate(r) => core.import_affiliate(actor, r).await,
        Record::Link(r) => core.import_link(actor, r).await,
        Record::Coupon(r) => core.import_coupon(actor, r).await,
        Record::Customer(r) => core.import_customer(actor, r).await,
        Record::Commission(r) => core.import_commission(actor, r).await,
        Record::PayoutMethod(r) => core.import_payout_method(actor, r).await,
        Record::Skipped { .. } => return Ok(()),
    };
    count(report, kind, &source_id, result)
}

/// A refusal about this one object (skipped and reported), as opposed to one about the whole
/// import (the database is down, the actor may not write), which stops it.
fn is_skip(err: &CoreError) -> bool {
    matches!(
        err.kind,
        ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Conflict | ErrorKind::Unprocessable
    )
}

/// The error's message with its field problems, for the report.
fn describe(err: &CoreError) -> String {
    let problems: Vec<&str> = err
        .details
        .as_deref()
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|i| i["message"].as_str()).collect())
        .unwrap_or_default();
    if problems.is_empty() {
        err.message.clone()
    } else {
        problems.join("; ")
    }
}

/// Saves the failure in the run (its checkpoint stays where the last whole page left it).
async fn fail(core: &Core, checkpoint: Option<&mut Checkpoint>, err: ImportError) -> ImportError {
    if let Some(c) = checkpoint {
        c.run.status = "failed".into();
        c.run.error = Some(err.to_string());
        c.run.updated_at = core.now();
        if let Err(save) = core.store.save_import_run(&c.run).await {
            tracing::error!(%save, "the failed import run could not be saved");
        }
    }
    err
}

/// The run being written, with the report as of its last saved page.
struct Checkpoint {
    run: ImportRun,
    report: Report,
    resumed: bool,
}

impl Checkpoint {
    /// The unfinished run of this source to resume, or a new one.
    async fn open(core: &Core, actor: &Actor, source: &dyn Source) -> Result<Checkpoint, ImportError> {
        let store = &core.store;
        let unfinished =
            store.unfinished_import_run(&actor.merchant_id, source.name()).await.map_err(CoreError::from)?;
        if let Some(mut run) = unfinished {
            let report =
                serde_json::from_str(&run.report).unwrap_or_else(|_| Report::new(source.name(), false));
            run.status = "running".into();
            run.error = None;
            run.updated_at = core.now();
            store.save_import_run(&run).await.map_err(CoreError::from)?;
            return Ok(Checkpoint { run, report, resumed: true });
        }
        let now = core.now();
        let report = Report::new(source.name(), false);
        let first = source.steps().first().copied().unwrap_or(Step::Campaigns);
        let run = ImportRun {
            id: new_id("imp"),
            merchant_id: actor.merchant_id.clone(),
            source: source.name().to_string(),
            status: "running".into(),
            step: first.as_str().to_string(),
            cursor: None,
            report: serde_json::to_string(&report).unwrap_or_default(),
            error: None,
            started_at: now,
            updated_at: now,
            finished_at: None,
        };
        store.insert_import_run(&run).await.map_err(CoreError::from)?;
        Ok(Checkpoint { run, report, resumed: false })
    }

    /// Where a resumed run starts: its step and cursor.
    fn resume_at(&self) -> Option<(Step, Option<String>)> {
        self.resumed
            .then(|| (Step::parse(&self.run.step).unwrap_or(Step::Campaigns), self.run.cursor.clone()))
    }

    /// After a whole page: the next page of `step` starts at `cursor` (the next step, when
    /// `None`), and the report so far.
    async fn save_page(
        &mut self,
        core: &Core,
        step: Step,
        cursor: Option<String>,
        report: &Report,
    ) -> Result<(), ImportError> {
        self.run.step = step.as_str().to_string();
        self.run.cursor = cursor;
        if self.run.cursor.is_none() {
            // The step is complete: a resumed run starts at the next one.
            if let Some(next) = Step::ALL.into_iter().find(|s| *s > step) {
                self.run.step = next.as_str().to_string();
            }
        }
        self.run.report = serde_json::to_string(report).unwrap_or_default();
        self.run.updated_at = core.now();
        self.report = report.clone();
        core.store.save_import_run(&self.run).await.map_err(CoreError::from)?;
        Ok(())
    }

    async fn finish(&mut self, core: &Core, report: &Report) -> Result<(), ImportError> {
        let now = core.now();
        self.run.status = "finished".into();
        self.run.report = serde_json::to_string(report).unwrap_or_default();
        self.run.updated_at = now;
        self.run.finished_at = Some(now);
        core.store.save_import_run(&self.run).await.map_err(CoreError::from)?;
        Ok(())
    }
}

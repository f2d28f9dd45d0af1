//! Import runs seen from the dashboard's Migrate page: starting one (who may, and the actor the
//! import then acts as) and reading the brand's runs with their checkpoint and report. The
//! import itself is the same `refline_import::run_import` the command line runs.

use refline_domain::Grant;
use refline_store::ImportRun;

use crate::{Actor, Core, CoreError, CoreResult, Door, Mode, Rights};

/// Runs listed on the Migrate page.
pub const RUNS_SHOWN: i64 = 20;

impl Core {
    /// Whether the actor may migrate programs into the brand: owners and admins (the
    /// "business" right), live, with write rights. Imports replace a program wholesale.
    pub fn require_import_rights(&self, actor: &Actor) -> CoreResult<()> {
        actor.require_write()?;
        actor.require_grant(Grant::ManageBusiness)?;
        actor.require_live("Imports")
    }

    /// Starts an import of `source` for the actor's brand: checks the rights and answers the
    /// actor the import acts as (the brand, live, door `import`). Audited as `import.start`
    /// with the person who started it.
    pub async fn start_import(&self, actor: &Actor, source: &str) -> CoreResult<Actor> {
        self.audited(actor, "import.start", None, async {
            self.require_import_rights(actor)?;
            Ok(Started(Actor {
                merchant_id: actor.merchant_id.clone(),
                mode: Mode::Live,
                rights: Rights::ReadWrite,
                currency: actor.currency.clone(),
                door: Door::Import { source: source.to_string() },
            }))
        })
        .await
        .map(|started: Started| started.0)
    }

    /// The brand's newest import runs.
    pub async fn import_runs(&self, actor: &Actor) -> CoreResult<Vec<ImportRun>> {
        self.require_import_rights(actor)?;
        Ok(self.store.list_import_runs(&actor.merchant_id, RUNS_SHOWN).await?)
    }

    /// One of the brand's import runs; another brand's is not found.
    pub async fn import_run(&self, actor: &Actor, id: &str) -> CoreResult<ImportRun> {
        self.require_import_rights(actor)?;
        self.store.import_run(&actor.merchant_id, id).await?.ok_or_else(|| CoreError::not_found("Import run"))
    }
}

/// The import actor, as an audited answer (it names no object).
struct Started(Actor);

impl crate::audit::AuditTarget for Started {}

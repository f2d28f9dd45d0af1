//! `/merchant/migrate`: move a program from another platform into the brand, from the browser.
//! The page offers every API source `refline-import` knows ([`refline_import::SOURCES`], made by
//! [`refline_import::api_source`], so a new source appears here without changes) and CSV files;
//! starting one checks the person's rights in the core (`start_import`: owners and admins) and
//! runs the same `run_import` as `refline import`, in the background on this node. The API key
//! lives only in that task's memory for the run: never stored, never shown again. Progress and
//! the report are the run's checkpoint in the database (saved after every page), so the page
//! reads them like any other node would; it refreshes itself while a run is going.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use askama::Template;
use axum::{
    extract::{Multipart, Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
    Router,
};
use refline_core::{Actor, CoreError, ErrorKind};
use refline_import::{
    api_source, client::RetryPolicy, csv_file::CsvSource, progress::Quiet, report::Counts, run_import,
    settings::CampaignPlan, ApiAccess, ImportOptions, Report, Source, SOURCES,
};
use refline_store::ImportRun;

use super::{
    render::{core_error_page, done, page, when, when_opt, Chrome, FormErrors},
    session::Page,
    Notice,
};
use crate::state::AppState;

/// The source name of CSV files (not an API source).
const CSV: &str = "csv";

/// Seconds between refreshes of a page showing a running import.
const REFRESH_SECONDS: u32 = 3;

/// The imports running on this node, by (brand, source): a second start of the same pair is
/// refused while the first runs.
#[derive(Clone, Default)]
pub struct Running(Arc<Mutex<HashSet<(String, String)>>>);

impl Running {
    /// Claims (brand, source); `None` when it is taken. The claim ends when the guard drops.
    fn claim(&self, merchant_id: &str, source: &str) -> Option<Claim> {
        let key = (merchant_id.to_string(), source.to_string());
        let mut running = self.0.lock().ok()?;
        running.insert(key.clone()).then(|| Claim { running: self.clone(), key })
    }

    /// Whether an import of the brand runs on this node.
    fn any_for(&self, merchant_id: &str) -> bool {
        self.0.lock().is_ok_and(|running| running.iter().any(|(m, _)| m == merchant_id))
    }
}

/// A claimed (brand, source), released when the run ends, however it ends.
struct Claim {
    running: Running,
    key: (String, String),
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Ok(mut running) = self.running.0.lock() {
            running.remove(&self.key);
        }
    }
}

/// The Migrate routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/migrate", get(show).post(start))
        .route("/merchant/migrate/runs/{id}", get(show_run))
}

/// One entity's line of a report.
struct EntityRow {
    kind: String,
    counts: Counts,
}

/// A run as listed.
struct RunRow {
    id: String,
    source: String,
    status: String,
    step: String,
    started: String,
    finished: String,
    error: String,
    entities: Vec<EntityRow>,
}

impl RunRow {
    fn of(run: &ImportRun) -> RunRow {
        let report: Report = serde_json::from_str(&run.report).unwrap_or_default();
        RunRow {
            id: run.id.clone(),
            source: run.source.clone(),
            status: run.status.clone(),
            step: run.step.clone(),
            started: when(run.started_at),
            finished: when_opt(run.finished_at),
            error: run.error.clone().unwrap_or_default(),
            entities: report.entities.into_iter().map(|(kind, counts)| EntityRow { kind, counts }).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "merchant/migrate.html")]
struct MigratePage {
    chrome: Chrome,
    sources: Vec<&'static str>,
    runs: Vec<RunRow>,
    refresh: Option<u32>,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "merchant/migrate_run.html")]
struct RunPage {
    chrome: Chrome,
    run: RunRow,
    refresh: Option<u32>,
}

fn notice_text(code: &str) -> Option<String> {
    match code {
        "started" => Some("The import started. It runs on the server; this page shows its progress.".into()),
        _ => None,
    }
}

async fn render(state: &AppState, page_of: &Page, errors: FormErrors, notice: Option<String>) -> Response {
    let actor = &page_of.actor;
    let runs = match state.core.import_runs(actor).await {
        Ok(runs) => runs,
        Err(err) => return core_error_page(&err),
    };
    let view = MigratePage {
        chrome: Chrome::new(page_of, "migrate", "Migrate").with_notice(notice),
        sources: SOURCES.to_vec(),
        refresh: state.imports.any_for(&actor.merchant_id).then_some(REFRESH_SECONDS),
        runs: runs.iter().map(RunRow::of).collect(),
        errors,
    };
    page(StatusCode::OK, &view)
}

async fn show(State(state): State<AppState>, page_of: Page, Query(notice): Query<Notice>) -> Response {
    render(&state, &page_of, FormErrors::none(), notice_text(&notice.notice)).await
}

async fn show_run(State(state): State<AppState>, page_of: Page, Path(id): Path<String>) -> Response {
    let run = match state.core.import_run(&page_of.actor, &id).await {
        Ok(run) => run,
        Err(err) => return core_error_page(&err),
    };
    let going = run.status == "running" && state.imports.any_for(&page_of.actor.merchant_id);
    let view = RunPage {
        chrome: Chrome::new(&page_of, "migrate", &format!("Import from {}", run.source)),
        run: RunRow::of(&run),
        refresh: going.then_some(REFRESH_SECONDS),
    };
    page(StatusCode::OK, &view)
}

/// The form as sent: text fields and files by name.
#[derive(Default)]
struct Sent {
    fields: HashMap<String, Vec<u8>>,
}

impl Sent {
    async fn read(mut multipart: Multipart) -> Result<Sent, CoreError> {
        let mut sent = Sent::default();
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_string();
                    let bytes = field.bytes().await.map_err(|e| unreadable(&e.to_string()))?;
                    sent.fields.insert(name, bytes.to_vec());
                }
                Ok(None) => return Ok(sent),
                Err(err) => return Err(unreadable(&err.to_string())),
            }
        }
    }

    fn text(&self, name: &str) -> String {
        self.fields.get(name).map(|b| String::from_utf8_lossy(b).trim().to_string()).unwrap_or_default()
    }

    /// A file field; `None` when no file was chosen.
    fn file(&self, name: &str) -> Option<&[u8]> {
        self.fields.get(name).map(Vec::as_slice).filter(|b| !b.is_empty())
    }
}

fn unreadable(detail: &str) -> CoreError {
    CoreError::new(ErrorKind::Invalid, "invalid_form", format!("The form could not be read: {detail}"))
}

fn refusal(code: &'static str, message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorKind::Invalid, code, message)
}

/// `POST /merchant/migrate` (multipart: `source`, `apiKey`, or the `affiliates` and
/// `commissions` files with `campaign`): starts the import in the background.
async fn start(State(state): State<AppState>, page_of: Page, multipart: Multipart) -> Response {
    match begin(&state, &page_of, multipart).await {
        Ok(()) => done("/merchant/migrate", "started"),
        Err(err) => {
            let errors = FormErrors::general(&err.message);
            let shown = render(&state, &page_of, errors, None).await;
            if shown.status() != StatusCode::OK {
                return shown;
            }
            // The page with the refusal, under the refusal's status and code.
            let mut response = refused_status(&err, shown);
            response.extensions_mut().insert(crate::error::ErrorCode(err.code));
            response
        }
    }
}

fn refused_status(err: &CoreError, mut shown: Response) -> Response {
    *shown.status_mut() = super::render::status_of(err);
    shown
}

async fn begin(state: &AppState, page_of: &Page, multipart: Multipart) -> Result<(), CoreError> {
    // Rights first: a member learns nothing from a form they may not send.
    state.core.require_import_rights(&page_of.actor)?;
    let sent = Sent::read(multipart).await?;
    let name = sent.text("source");
    let source: Box<dyn Source> = if name == CSV {
        let Some(affiliates) = sent.file("affiliates") else {
            return Err(refusal("missing_file", "Choose the affiliates CSV file."));
        };
        let campaign = sent.text("campaign");
        let campaign = (!campaign.is_empty()).then_some(campaign.as_str());
        Box::new(
            CsvSource::new(affiliates, sent.file("commissions"), campaign)
                .map_err(|e| refusal("invalid_file", e.to_string()))?,
        )
    } else if SOURCES.contains(&name.as_str()) {
        // Sources whose API has no commission terms land on an existing campaign of the brand.
        let campaign = sent.text("campaign");
        let (campaigns, currency) = if campaign.is_empty() || name == "rewardful" {
            (None, page_of.actor.currency.clone())
        } else {
            let found = state.core.load_campaign(&page_of.actor, &campaign).await?;
            (Some(CampaignPlan::Existing(found.id)), found.currency)
        };
        let access = ApiAccess {
            api_key: sent.text("apiKey"),
            account_id: Some(sent.text("accountId")).filter(|a| !a.is_empty()),
            base_url: state.config.import_base_url.clone(),
            policy: RetryPolicy::default(),
            program_id: Some(sent.text("programId")).filter(|p| !p.is_empty()),
            page_size: 0,
            campaigns,
            currency,
        };
        api_source(&name, &access).map_err(|e| refusal("invalid_source", e.to_string()))?
    } else {
        return Err(refusal("unknown_source", "Choose a source to import from."));
    };
    let Some(claim) = state.imports.claim(&page_of.actor.merchant_id, source.name()) else {
        return Err(CoreError::new(
            ErrorKind::Conflict,
            "import_running",
            format!(
                "An import from {} is already running for this brand; wait for it to finish.",
                source.name()
            ),
        ));
    };
    let actor: Actor = state.core.start_import(&page_of.actor, source.name()).await?;
    let core = state.core.clone();
    tokio::spawn(async move {
        let _claim = claim;
        let options = ImportOptions::default();
        if let Err(err) = run_import(&core, &actor, source.as_ref(), &options, &Quiet).await {
            // Kept in the run (its error and checkpoint); starting again resumes it.
            tracing::warn!(merchant = %actor.merchant_id, %err, "background import stopped");
        }
    });
    Ok(())
}

//! `refline import <source>`: move a program from another platform into a brand, through the
//! import door (`refline-import`, docs/MIGRATING.md). Safe to run again: a re-run creates
//! nothing new, updates what changed, and resumes an interrupted run where it stopped.

use std::sync::Arc;

use clap::{Args, ValueEnum};
use refline_core::{clock::SystemClock, effects::DirectEffects, Core};
use refline_import::{
    client::RetryPolicy,
    progress::{self, Progress, Quiet},
    rewardful::Rewardful,
    run_import,
    runner::import_actor,
    ImportOptions, Source,
};
use refline_store::Store;

use crate::storage::{open_store, EngineOptions};

/// The platforms `refline import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceName {
    /// Rewardful (api.getrewardful.com/v1; the API secret from Company settings).
    Rewardful,
}

/// `refline import …`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Where to import from.
    #[arg(value_enum)]
    source: SourceName,
    /// The brand (merchant id) that receives the program.
    #[arg(long)]
    brand: String,
    /// The source's API key (Rewardful: the API secret).
    #[arg(long, env = "REFLINE_IMPORT_API_KEY", hide_env_values = true)]
    api_key: String,
    /// The source's account id (FirstPromoter's ACCOUNT-ID; unused by Rewardful).
    #[arg(long)]
    account_id: Option<String>,
    /// The source's API base URL (default: its public API).
    #[arg(long)]
    base_url: Option<String>,
    /// Read and map everything, write nothing; the report says what was found.
    #[arg(long)]
    dry_run: bool,
    /// Print the final report as one JSON object (and no progress).
    #[arg(long)]
    json: bool,
    /// Attempts of a request that fails with a 5xx or a timeout before the run stops.
    #[arg(long, default_value_t = 6)]
    retries: u32,
    /// Milliseconds before the first retry (doubled after each).
    #[arg(long, default_value_t = 500)]
    retry_delay_ms: u64,
    /// Seconds each request may take.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

/// Runs the import; the process exits non-zero when it stops before the end.
pub async fn run(database_url: &str, args: ImportArgs) -> anyhow::Result<()> {
    let store: Arc<dyn Store> = open_store(database_url, EngineOptions::default()).await?;
    let core =
        Core::without_sales(store.clone(), Arc::new(SystemClock), Arc::new(DirectEffects::new(store)), "");
    let policy = RetryPolicy {
        attempts: args.retries.max(1),
        base_delay: std::time::Duration::from_millis(args.retry_delay_ms),
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        ..RetryPolicy::default()
    };
    let source: Box<dyn Source> = match args.source {
        SourceName::Rewardful => {
            if args.account_id.is_some() {
                anyhow::bail!("--account-id is FirstPromoter's ACCOUNT-ID; Rewardful has none");
            }
            Box::new(Rewardful::new(&args.api_key, args.base_url.as_deref(), policy)?)
        }
    };
    let actor = import_actor(&core, &args.brand, source.name()).await?;
    let progress: Box<dyn Progress> = if args.json { Box::new(Quiet) } else { progress::for_stderr() };
    let options = ImportOptions { dry_run: args.dry_run };
    match run_import(&core, &actor, source.as_ref(), &options, progress.as_ref()).await {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            Ok(())
        }
        // One line (main prints it after "error: "), and a non-zero exit.
        Err(err) => Err(anyhow::anyhow!(err)),
    }
}

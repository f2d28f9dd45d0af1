//! `refline import <source>`: move a program from another platform into a brand, through the
//! import door (`refline-import`, docs/MIGRATING.md). Safe to run again: a re-run creates
//! nothing new, updates what changed, and resumes an interrupted run where it stopped.

use std::sync::Arc;

use clap::{Args, ValueEnum};
use refline_core::Actor;
use refline_core::{clock::SystemClock, effects::DirectEffects, Core};
use refline_import::{
    api_source,
    client::RetryPolicy,
    csv_file::CsvSource,
    progress::{self, Progress, Quiet},
    run_import,
    runner::import_actor,
    settings::{CampaignPlan, MAX_PAGE_SIZE},
    ApiAccess, ImportOptions, Source,
};
use refline_store::Store;

use crate::storage::{open_store, EngineOptions};

/// The platforms `refline import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceName {
    /// Rewardful (api.getrewardful.com/v1; the API secret from Company settings).
    Rewardful,
    /// Tolt (api.tolt.com/v1, or platform.tolt.com/v2 with --base-url; one program).
    Tolt,
    /// FirstPromoter (api.firstpromoter.com/api/v2/company; --account-id too).
    Firstpromoter,
    /// PartnerStack (api.partnerstack.com/api/v2; --api-key public:secret).
    Partnerstack,
    /// CSV files (`--affiliates`, `--commissions`), for platforms without an API.
    Csv,
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
    /// The source's API key (Rewardful: the API secret; PartnerStack: `public:secret`). Not for
    /// `csv`.
    #[arg(long, env = "REFLINE_IMPORT_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// `csv`: the affiliates file (email, name, status, campaign, token, coupon, paypal_email…).
    #[arg(long)]
    affiliates: Option<std::path::PathBuf>,
    /// `csv`: the commissions file (affiliate_email, amount, currency, status, order_id, date…).
    #[arg(long)]
    commissions: Option<std::path::PathBuf>,
    /// The source's account id (FirstPromoter's ACCOUNT-ID; unused by Rewardful).
    #[arg(long)]
    account_id: Option<String>,
    /// The source's API base URL (default: its public API).
    #[arg(long)]
    base_url: Option<String>,
    /// The Tolt program to import (Tolt lists one program at a time).
    #[arg(long)]
    program_id: Option<String>,
    /// Tolt, FirstPromoter, PartnerStack: every source campaign (program, group) lands on this
    /// existing campaign of the brand, with its terms (their APIs carry no commission terms).
    /// `csv`: the campaign of rows without a campaign column.
    #[arg(long, conflicts_with = "commission")]
    campaign: Option<String>,
    /// Tolt, FirstPromoter, PartnerStack: instead of --campaign, each source campaign becomes
    /// a new campaign paying this: `20%` or a fixed `15.00` (in the brand's currency).
    #[arg(long)]
    commission: Option<String>,
    /// With --commission: the new campaigns pay on the first payment only (default: every
    /// payment of a referred customer).
    #[arg(long, requires = "commission")]
    one_time: bool,
    /// With --commission: where the new campaigns' links land when the source gives none (Tolt
    /// programs and PartnerStack groups have no URL in their APIs): the merchant's site.
    #[arg(long, requires = "commission")]
    target_url: Option<String>,
    /// Objects per page asked of the source (at most 100; Rewardful always asks 100).
    #[arg(long, default_value_t = MAX_PAGE_SIZE)]
    page_size: u32,
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
    let name = args.source.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
    let actor = import_actor(&core, &args.brand, &name).await?;
    let source = match args.source {
        SourceName::Csv => csv_source(&args)?,
        _ => api(&core, &actor, &name, &args, policy).await?,
    };
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

/// The API source the arguments name, with the options only some sources take checked.
async fn api(
    core: &Core,
    actor: &Actor,
    name: &str,
    args: &ImportArgs,
    policy: RetryPolicy,
) -> anyhow::Result<Box<dyn Source>> {
    let only = |given: bool, flag: &str, who: &str| -> anyhow::Result<()> {
        if given {
            anyhow::bail!("{flag} is only for {who}");
        }
        Ok(())
    };
    only(args.affiliates.is_some() || args.commissions.is_some(), "--affiliates/--commissions", "csv")?;
    let Some(api_key) = args.api_key.clone() else {
        anyhow::bail!("--api-key is required (or REFLINE_IMPORT_API_KEY)");
    };
    if args.source != SourceName::Firstpromoter {
        only(args.account_id.is_some(), "--account-id", "FirstPromoter (its ACCOUNT-ID)")?;
    }
    if args.source != SourceName::Tolt {
        only(args.program_id.is_some(), "--program-id", "Tolt")?;
    }
    let mut access = ApiAccess {
        api_key,
        account_id: args.account_id.clone(),
        base_url: args.base_url.clone(),
        policy,
        program_id: args.program_id.clone(),
        page_size: args.page_size,
        ..ApiAccess::default()
    };
    if args.source == SourceName::Rewardful {
        // Rewardful's campaigns carry their terms, which are imported.
        only(
            args.campaign.is_some() || args.commission.is_some(),
            "--campaign/--commission",
            "Tolt, FirstPromoter, PartnerStack and csv",
        )?;
        return Ok(api_source(name, &access)?);
    }
    let (campaigns, currency) = match (&args.campaign, &args.commission) {
        (Some(id), _) => {
            let found = core.load_campaign(actor, id).await;
            let campaign = found.map_err(|e| anyhow::anyhow!("--campaign {id}: {}", e.message))?;
            (CampaignPlan::Existing(campaign.id), campaign.currency)
        }
        (None, Some(terms)) => {
            let plan = CampaignPlan::commission(terms, !args.one_time, args.target_url.clone())?;
            (plan, actor.currency.clone())
        }
        (None, None) => anyhow::bail!(
            "this source's API has no commission terms: pass --campaign <id> (an existing campaign) \
             or --commission <20% | 15.00>"
        ),
    };
    if !(1..=MAX_PAGE_SIZE).contains(&args.page_size) {
        anyhow::bail!("--page-size must be 1 to {MAX_PAGE_SIZE}");
    }
    access.campaigns = Some(campaigns);
    access.currency = currency;
    Ok(api_source(name, &access)?)
}

/// The CSV source of `--affiliates` (required) and `--commissions`.
fn csv_source(args: &ImportArgs) -> anyhow::Result<Box<dyn Source>> {
    if args.api_key.is_some()
        || args.account_id.is_some()
        || args.base_url.is_some()
        || args.program_id.is_some()
        || args.commission.is_some()
    {
        anyhow::bail!(
            "csv reads files: --api-key, --account-id, --base-url, --program-id and --commission are for API sources"
        );
    }
    let Some(affiliates) = &args.affiliates else {
        anyhow::bail!("csv needs --affiliates <file.csv>");
    };
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))
    };
    let affiliates = read(affiliates)?;
    let commissions = args.commissions.as_deref().map(read).transpose()?;
    Ok(Box::new(CsvSource::new(&affiliates, commissions.as_deref(), args.campaign.as_deref())?))
}

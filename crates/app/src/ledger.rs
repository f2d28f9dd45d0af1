//! `refline ledger verify`: recompute every commission and balance from the raw ledger entries
//! and compare them with what the conversions, payouts and the API's balances say.

use clap::Subcommand;
use refline_store::Store;

use crate::{
    admin::cli_core,
    storage::{open_store, EngineOptions},
};

/// Ledger commands.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Check the ledger; prints every difference and exits non-zero if there is one.
    Verify {
        /// Only this merchant (default: every merchant).
        #[arg(long)]
        merchant: Option<String>,
    },
}

/// Runs a ledger command; `Ok(false)` when differences were found.
pub async fn run(database_url: &str, command: LedgerCommand) -> anyhow::Result<bool> {
    let LedgerCommand::Verify { merchant } = command;
    let store: std::sync::Arc<dyn Store> = open_store(database_url, EngineOptions::default()).await?;
    let merchants = match merchant {
        Some(id) => vec![id],
        None => store.merchant_ids().await?,
    };
    let core = cli_core(&store);
    let mut differences = 0usize;
    for merchant_id in &merchants {
        let problems = core.verify_ledger(merchant_id).await.map_err(|e| anyhow::anyhow!(e.message))?;
        for problem in &problems {
            println!("{merchant_id}: {problem}");
        }
        differences += problems.len();
    }
    if differences == 0 {
        println!("Ledger verified: {} merchant(s), no differences.", merchants.len());
        Ok(true)
    } else {
        println!("{differences} difference(s) found.");
        Ok(false)
    }
}

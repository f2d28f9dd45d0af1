//! `refline settings show|set`: a merchant's payout settings from the command line, through the
//! same core operation as `PATCH /api/v1/settings` (same rules, audited with the command line as
//! the door).

use std::sync::Arc;

use clap::Subcommand;
use refline_core::{
    campaigns::Change,
    payouts::settings::{SettingsInput, SettingsView},
    secrets::SecretBox,
};
use refline_store::Store;

use crate::{
    admin::cli_core,
    integrations::{explain, operator},
    secret_key::SecretKeyArgs,
    storage::{open_store, EngineOptions},
};

/// Settings commands.
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print a merchant's payout settings as JSON.
    Show {
        /// Merchant id.
        #[arg(long)]
        merchant: String,
    },
    /// Change a merchant's payout settings; prints them as JSON.
    Set {
        /// Merchant id.
        #[arg(long)]
        merchant: String,
        /// Days after approval before a commission is payable (0–365).
        #[arg(long)]
        payout_hold_days: Option<i64>,
        /// Smallest payout, e.g. 50.00, in each payout's currency.
        #[arg(long)]
        minimum_payout: Option<String>,
        /// Pay Stripe Connect payouts on a schedule (true or false).
        #[arg(long)]
        automatic_payouts: Option<bool>,
        /// paypal, stripe_connect, wise, manual, or "none" to clear.
        #[arg(long)]
        default_payout_method: Option<String>,
        /// The merchant's Stripe secret key (sk_… or rk_…), or "none" to remove it.
        #[arg(long, env = "REFLINE_STRIPE_SECRET_KEY", hide_env_values = true)]
        stripe_secret_key: Option<String>,
    },
}

fn clearable(value: Option<String>) -> Change<String> {
    match value {
        None => Change::Keep,
        Some(v) if v == "none" => Change::Clear,
        Some(v) => Change::Set(v),
    }
}

fn print(view: &SettingsView) {
    println!("{}", view.to_json());
}

/// Runs a settings command.
pub async fn run(database_url: &str, key: &SecretKeyArgs, command: SettingsCommand) -> anyhow::Result<()> {
    let store: Arc<dyn Store> = open_store(database_url, EngineOptions::default()).await?;
    let core = cli_core(&store);
    match command {
        SettingsCommand::Show { merchant } => {
            let actor = operator(store.as_ref(), &merchant).await?;
            print(&core.payout_settings(&actor).await.map_err(explain)?);
        }
        SettingsCommand::Set {
            merchant,
            payout_hold_days,
            minimum_payout,
            automatic_payouts,
            default_payout_method,
            stripe_secret_key,
        } => {
            let actor = operator(store.as_ref(), &merchant).await?;
            let secrets = SecretBox::new(key.resolve()?);
            let input = SettingsInput {
                payout_hold_days,
                minimum_payout,
                automatic_payouts,
                default_payout_method: clearable(default_payout_method),
                stripe_secret_key: clearable(stripe_secret_key),
                unreadable: Vec::new(),
            };
            print(&core.update_payout_settings(&actor, input, &secrets).await.map_err(explain)?);
        }
    }
    Ok(())
}

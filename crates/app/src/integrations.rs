//! `refline integration add|list|remove`: payment-processor connections managed against the
//! database, without a running server. The command line is another door to the core: it reads
//! its arguments into the core's typed input and calls the same operations as
//! `POST /api/v1/integrations`, and secrets are sealed with the same key as `serve` uses.

use std::sync::Arc;

use anyhow::bail;
use clap::Subcommand;
use refline_core::{
    connection_input::{provider_names, NewConnection, Text, MAX_SECRET_CHARS},
    connections::webhook_url,
    secrets::SecretBox,
    Actor, Core, CoreError, Door, Issue, Mode, Rights,
};
use refline_processors::Provider;
use refline_store::{Integration, PageRequest, Store};
use serde_json::{json, Value};

use crate::{
    secret_key::SecretKeyArgs,
    storage::{open_store, EngineOptions},
};

/// `refline integration …`
#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Connect a payment processor: its webhooks are then accepted at
    /// /api/webhooks/<provider>/merchant/<merchant>.
    Add {
        /// Merchant id.
        #[arg(long)]
        merchant: String,
        /// stripe, paddle, paddle_classic, lemonsqueezy, gumroad, gopay, creem or polar.
        #[arg(long)]
        provider: String,
        /// The processor's webhook signing secret (paddle_classic: the PEM public key).
        #[arg(long)]
        webhook_secret: Option<String>,
        /// A name for the connection.
        #[arg(long)]
        label: Option<String>,
        /// GoPay: merchant id (GoID).
        #[arg(long)]
        goid: Option<String>,
        /// GoPay: API client id.
        #[arg(long)]
        client_id: Option<String>,
        /// GoPay: API client secret.
        #[arg(long)]
        client_secret: Option<String>,
        /// GoPay: API base URL (default https://gate.gopay.cz/api).
        #[arg(long)]
        api_base_url: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List a merchant's connections (secrets are never shown).
    List {
        /// Merchant id.
        #[arg(long)]
        merchant: String,
        /// Print one JSON array instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove a connection.
    Remove {
        /// Merchant id.
        #[arg(long)]
        merchant: String,
        /// Integration id (int_…).
        #[arg(long)]
        id: String,
    },
}

/// Runs an integration command against the database at `database_url`.
pub async fn run(database_url: &str, key: &SecretKeyArgs, command: IntegrationCommand) -> anyhow::Result<()> {
    let store = open_store(database_url, EngineOptions::default()).await?;
    match command {
        IntegrationCommand::Add {
            merchant,
            provider,
            webhook_secret,
            label,
            goid,
            client_id,
            client_secret,
            api_base_url,
            json: as_json,
        } => {
            let mut unreadable = Vec::new();
            let provider = Provider::parse(provider.trim());
            if provider.is_none() {
                let names = provider_names().join(", ");
                unreadable.push(Issue::field("provider", format!("provider must be one of: {names}")));
            }
            let input = NewConnection {
                provider,
                label: Text::of("label", label, 200),
                webhook_secret: Text::of("webhookSecret", webhook_secret, MAX_SECRET_CHARS),
                goid: Text::of("goid", goid, 20),
                api_base_url: Text::of("apiBaseUrl", api_base_url, 2048),
                client_id: Text::of("clientId", client_id, 255),
                client_secret: Text::of("clientSecret", client_secret, MAX_SECRET_CHARS),
                unreadable,
            };
            let secrets = SecretBox::new(key.resolve()?);
            let integration = add(store.clone(), &merchant, input, &secrets).await?;
            if as_json {
                println!("{}", describe(&integration));
            } else {
                println!("Integration created: {}", integration.id);
                println!("Webhook path:        {}", webhook_url("", &integration.provider, &merchant));
                println!("Point the processor's webhook at your public URL followed by that path.");
            }
            Ok(())
        }
        IntegrationCommand::List { merchant, json: as_json } => {
            let found = list(store, &merchant).await?;
            if as_json {
                println!("{}", Value::Array(found.iter().map(describe).collect()));
            } else {
                for i in &found {
                    println!(
                        "{}  {:14}  {:8}  …{:4}  {}",
                        i.id,
                        i.provider,
                        i.status,
                        i.secret_hint,
                        i.label.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(())
        }
        IntegrationCommand::Remove { merchant, id } => {
            let actor = operator(store.as_ref(), &merchant).await?;
            match core(store).delete_connection(&actor, &id).await {
                Ok(()) => {}
                Err(err) if err.code == "not_found" => bail!("merchant {merchant} has no integration {id}"),
                Err(err) => return Err(explain(err)),
            }
            println!("Integration {id} removed.");
            Ok(())
        }
    }
}

/// The core over `store` as the command line uses it (see [`crate::admin::cli_core`]).
fn core(store: Arc<dyn Store>) -> Core {
    crate::admin::cli_core(&store)
}

/// The operator acting for `merchant_id`: live, read-write, through the command line.
pub async fn operator(store: &dyn Store, merchant_id: &str) -> anyhow::Result<Actor> {
    let Some(merchant) = store.get_merchant(merchant_id).await? else {
        bail!("no merchant with id {merchant_id}");
    };
    Ok(Actor {
        merchant_id: merchant_id.to_string(),
        mode: Mode::Live,
        rights: Rights::ReadWrite,
        currency: merchant.currency,
        door: Door::Cli,
    })
}

/// Creates the connection through the core (the API's checks), sealing its secrets.
pub async fn add(
    store: Arc<dyn Store>,
    merchant_id: &str,
    input: NewConnection,
    secrets: &SecretBox,
) -> anyhow::Result<Integration> {
    let actor = operator(store.as_ref(), merchant_id).await?;
    let out = core(store).create_connection(&actor, input, secrets).await.map_err(explain)?;
    Ok(out.integration)
}

/// Every connection of a merchant, oldest first.
pub async fn list(store: Arc<dyn Store>, merchant_id: &str) -> anyhow::Result<Vec<Integration>> {
    let actor = operator(store.as_ref(), merchant_id).await?;
    let core = core(store);
    let mut all = Vec::new();
    loop {
        let page = PageRequest { limit: 100, offset: all.len() as i64, sort: (), descending: false };
        let found = core.list_connections(&actor, page).await.map_err(explain)?;
        let done = found.items.len() < 100;
        all.extend(found.items.into_iter().map(|out| out.integration));
        if done {
            return Ok(all);
        }
    }
}

/// The JSON a command prints: the API's fields that need no public URL.
fn describe(i: &Integration) -> Value {
    json!({
        "id": i.id,
        "merchantId": i.merchant_id,
        "provider": i.provider,
        "status": i.status,
        "label": i.label,
        "secretHint": format!("…{}", i.secret_hint),
        "hasPreviousSecret": i.previous_secret_sealed.is_some(),
        "webhookPath": webhook_url("", &i.provider, &i.merchant_id),
    })
}

/// A refusal as command-line text: each problem on its own line.
pub fn explain(err: CoreError) -> anyhow::Error {
    let problems: Vec<String> = err
        .details
        .as_deref()
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|i| i["message"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if problems.is_empty() {
        anyhow::anyhow!(err.message)
    } else {
        anyhow::anyhow!(problems.join("\n"))
    }
}

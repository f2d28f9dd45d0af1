//! `refline integration add|list|remove`: payment-processor connections managed against the
//! database, without a running server. Input goes through the same checks as
//! `POST /api/v1/integrations`, and secrets are sealed with the same key as `serve` uses.

use anyhow::bail;
use clap::Subcommand;
use refline_server::{
    api::{integration_input::new_integration, integrations::webhook_url},
    clock::now_ms,
    error::ApiError,
    secrets::SecretBox,
};
use refline_store::{Integration, PageRequest, Store};
use serde_json::{json, Map, Value};

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
            let mut body = Map::new();
            let fields = [
                ("provider", Some(provider)),
                ("webhookSecret", webhook_secret),
                ("label", label),
                ("goid", goid),
                ("clientId", client_id),
                ("clientSecret", client_secret),
                ("apiBaseUrl", api_base_url),
            ];
            for (name, value) in fields {
                if let Some(value) = value {
                    body.insert(name.into(), Value::String(value));
                }
            }
            let secrets = SecretBox::new(key.resolve()?);
            let integration = add(store.as_ref(), &merchant, &body, &secrets).await?;
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
            let found = list(store.as_ref(), &merchant).await?;
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
            if !store.delete_integration(&merchant, &id).await? {
                bail!("merchant {merchant} has no integration {id}");
            }
            println!("Integration {id} removed.");
            Ok(())
        }
    }
}

/// Checks `body` like the API does, seals its secrets and stores the connection.
pub async fn add(
    store: &dyn Store,
    merchant_id: &str,
    body: &Map<String, Value>,
    secrets: &SecretBox,
) -> anyhow::Result<Integration> {
    if store.get_merchant(merchant_id).await?.is_none() {
        bail!("no merchant with id {merchant_id}");
    }
    let integration = new_integration(body, merchant_id, secrets, now_ms()).map_err(explain)?;
    store.insert_integration(&integration).await?;
    Ok(integration)
}

/// Every connection of a merchant, oldest first.
pub async fn list(store: &dyn Store, merchant_id: &str) -> anyhow::Result<Vec<Integration>> {
    let mut all = Vec::new();
    loop {
        let page = PageRequest { limit: 100, offset: all.len() as i64, sort: (), descending: false };
        let found = store.list_integrations(merchant_id, page).await?;
        let done = found.items.len() < 100;
        all.extend(found.items);
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

/// An API validation error as command-line text: each problem on its own line.
fn explain(err: ApiError) -> anyhow::Error {
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

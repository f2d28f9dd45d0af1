//! Administrative commands that need no running server: create merchants and API keys, revoke
//! keys. They read the command line's words into the core's operations (`refline_core::accounts`)
//! and write through the same store as the server, so they work while it runs. Each is audited
//! with the command line as its door.

use std::sync::Arc;

use anyhow::Context;
use refline_core::{accounts, clock::SystemClock, effects::DirectEffects, Core, Door};
use refline_domain::{Currency, KeyKind, Plan};
use refline_store::Store;

pub use refline_core::accounts::CreatedMerchant;

/// The core as the command line runs it: no sales writer, no server to wake, audit entries
/// stored directly.
pub fn cli_core(store: &Arc<dyn Store>) -> Core {
    Core::without_sales(store.clone(), Arc::new(SystemClock), Arc::new(DirectEffects::new(store.clone())), "")
}

/// Creates a merchant with one live and one test key.
pub async fn create_merchant(
    store: &Arc<dyn Store>,
    name: &str,
    plan: &str,
    currency: &str,
) -> anyhow::Result<CreatedMerchant> {
    let plan = Plan::parse(plan).context("--plan must be starter, pro, ultimate or scale")?;
    let currency = Currency::parse(currency)
        .map_err(|_| anyhow::anyhow!("--currency must be an ISO 4217 code such as usd"))?;
    let input = accounts::NewMerchant { name: name.to_string(), plan, currency };
    cli_core(store).create_merchant(&Door::Cli, input).await.map_err(|err| match err.code {
        "validation_error" => anyhow::anyhow!("--name must be 1 to 200 characters"),
        _ => anyhow::anyhow!(err),
    })
}

/// Adds a key to a merchant; returns its id and plaintext.
pub async fn create_key(
    store: &Arc<dyn Store>,
    merchant_id: &str,
    kind: KeyKind,
) -> anyhow::Result<(String, String)> {
    cli_core(store)
        .create_api_key(&Door::Cli, merchant_id, kind)
        .await
        .map_err(|err| anyhow::anyhow!(err.message))
}

/// Revokes a key by id.
pub async fn revoke_key(store: &Arc<dyn Store>, key_id: &str) -> anyhow::Result<()> {
    cli_core(store).revoke_api_key(&Door::Cli, key_id).await.map_err(|err| anyhow::anyhow!(err.message))
}

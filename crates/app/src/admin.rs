//! Administrative commands that need no running server: create merchants and API keys, revoke
//! keys. They read the command line's words into the core's operations (`refline_core::accounts`)
//! and write through the same store as the server, so they work while it runs.

use anyhow::Context;
use refline_core::{accounts, clock::SystemClock};
use refline_domain::{Currency, KeyKind, Plan};
use refline_store::Store;

pub use refline_core::accounts::CreatedMerchant;

/// Creates a merchant with one live and one test key.
pub async fn create_merchant(
    store: &dyn Store,
    name: &str,
    plan: &str,
    currency: &str,
) -> anyhow::Result<CreatedMerchant> {
    let plan = Plan::parse(plan).context("--plan must be starter, pro, ultimate or scale")?;
    let currency = Currency::parse(currency)
        .map_err(|_| anyhow::anyhow!("--currency must be an ISO 4217 code such as usd"))?;
    let input = accounts::NewMerchant { name: name.to_string(), plan, currency };
    accounts::create_merchant(store, &SystemClock, input).await.map_err(|err| match err.code {
        "validation_error" => anyhow::anyhow!("--name must be 1 to 200 characters"),
        _ => anyhow::anyhow!(err),
    })
}

/// Adds a key to a merchant; returns its id and plaintext.
pub async fn create_key(
    store: &dyn Store,
    merchant_id: &str,
    kind: KeyKind,
) -> anyhow::Result<(String, String)> {
    accounts::create_api_key(store, &SystemClock, merchant_id, kind)
        .await
        .map_err(|err| anyhow::anyhow!(err.message))
}

/// Revokes a key by id.
pub async fn revoke_key(store: &dyn Store, key_id: &str) -> anyhow::Result<()> {
    accounts::revoke_api_key(store, &SystemClock, key_id).await.map_err(|err| anyhow::anyhow!(err.message))
}

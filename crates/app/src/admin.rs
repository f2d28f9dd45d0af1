//! Administrative commands that need no running server: create merchants and API keys, revoke
//! keys. They write through the same store as the server, so they work while it runs.

use anyhow::{bail, Context};
use refline_domain::{Currency, KeyKind, Plan};
use refline_server::{
    clock::now_ms,
    ids::{key_hint, new_api_key, new_id, sha256_hex},
};
use refline_store::{ApiKey, Merchant, Store};

/// A merchant and the plaintext of its first keys (shown once, never stored).
#[derive(Debug, Clone)]
pub struct CreatedMerchant {
    /// `mer_…`
    pub merchant_id: String,
    /// Live key.
    pub api_key: String,
    /// Test key.
    pub test_api_key: String,
}

/// A key's stored form and its plaintext.
fn make_key(merchant_id: &str, kind: KeyKind, now: i64) -> (ApiKey, String) {
    let plaintext = new_api_key(kind);
    let key = ApiKey {
        id: new_id("key"),
        merchant_id: merchant_id.to_string(),
        kind: kind.as_str().into(),
        key_hash: sha256_hex(plaintext.as_bytes()),
        hint: key_hint(&plaintext),
        created_at: now,
        revoked_at: None,
    };
    (key, plaintext)
}

/// Creates a merchant with one live and one test key.
pub async fn create_merchant(
    store: &dyn Store,
    name: &str,
    plan: &str,
    currency: &str,
) -> anyhow::Result<CreatedMerchant> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        bail!("--name must be 1 to 200 characters");
    }
    let plan = Plan::parse(plan).context("--plan must be starter, pro, ultimate or scale")?;
    let currency = Currency::parse(currency)
        .map_err(|_| anyhow::anyhow!("--currency must be an ISO 4217 code such as usd"))?;
    let now = now_ms();
    let merchant = Merchant {
        id: new_id("mer"),
        name: name.to_string(),
        plan: plan.as_str().into(),
        currency: currency.code().into(),
        created_at: now,
        tracking_seen_at: None,
    };
    let (live, api_key) = make_key(&merchant.id, KeyKind::Live, now);
    let (test, test_api_key) = make_key(&merchant.id, KeyKind::Test, now);
    store.create_merchant(&merchant, &[live, test]).await?;
    Ok(CreatedMerchant { merchant_id: merchant.id, api_key, test_api_key })
}

/// Adds a key to a merchant; returns its id and plaintext.
pub async fn create_key(
    store: &dyn Store,
    merchant_id: &str,
    kind: KeyKind,
) -> anyhow::Result<(String, String)> {
    if store.get_merchant(merchant_id).await?.is_none() {
        bail!("no merchant with id {merchant_id}");
    }
    let (key, plaintext) = make_key(merchant_id, kind, now_ms());
    store.insert_api_key(&key).await?;
    Ok((key.id, plaintext))
}

/// Revokes a key by id.
pub async fn revoke_key(store: &dyn Store, key_id: &str) -> anyhow::Result<()> {
    if !store.revoke_api_key(key_id, now_ms()).await? {
        bail!("no active key with id {key_id}");
    }
    Ok(())
}

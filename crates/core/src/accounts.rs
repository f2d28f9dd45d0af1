//! Merchants and their API keys: what an operator (the CLI today, sign-up in the dashboard
//! next) creates. Keys are shown once and stored only as hashes.

use refline_domain::{Currency, KeyKind, Plan};
use refline_store::{ApiKey, Merchant, Store};

use crate::{
    clock::Clock,
    ids::{key_hint, new_api_key, new_id, sha256_hex},
    CoreError, CoreResult, ErrorKind, Issue,
};

/// A merchant to create.
#[derive(Debug, Clone)]
pub struct NewMerchant {
    /// Business name, 1–200 characters.
    pub name: String,
    /// Plan.
    pub plan: Plan,
    /// Default currency of new campaigns.
    pub currency: Currency,
}

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
        kind,
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
    clock: &dyn Clock,
    input: NewMerchant,
) -> CoreResult<CreatedMerchant> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CoreError::validation(vec![Issue::field("name", "name must be 1 to 200 characters")]));
    }
    let now = clock.now();
    let merchant = Merchant {
        id: new_id("mer"),
        name: name.to_string(),
        plan: input.plan,
        currency: input.currency.code().into(),
        created_at: now,
        tracking_seen_at: None,
    };
    let (live, api_key) = make_key(&merchant.id, KeyKind::Live, now);
    let (test, test_api_key) = make_key(&merchant.id, KeyKind::Test, now);
    store.create_merchant(&merchant, &[live, test]).await?;
    Ok(CreatedMerchant { merchant_id: merchant.id, api_key, test_api_key })
}

/// Adds a key to a merchant; returns its id and plaintext.
pub async fn create_api_key(
    store: &dyn Store,
    clock: &dyn Clock,
    merchant_id: &str,
    kind: KeyKind,
) -> CoreResult<(String, String)> {
    if store.get_merchant(merchant_id).await?.is_none() {
        return Err(CoreError::new(
            ErrorKind::NotFound,
            "not_found",
            format!("no merchant with id {merchant_id}"),
        ));
    }
    let (key, plaintext) = make_key(merchant_id, kind, clock.now());
    store.insert_api_key(&key).await?;
    Ok((key.id, plaintext))
}

/// Revokes a key by id.
pub async fn revoke_api_key(store: &dyn Store, clock: &dyn Clock, key_id: &str) -> CoreResult<()> {
    if !store.revoke_api_key(key_id, clock.now()).await? {
        return Err(CoreError::new(
            ErrorKind::NotFound,
            "not_found",
            format!("no active key with id {key_id}"),
        ));
    }
    Ok(())
}

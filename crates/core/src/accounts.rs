//! Merchants and their API keys: what an operator (the CLI today, sign-up in the dashboard
//! next) creates. Keys are shown once and stored only as hashes.

use refline_domain::{Currency, Grant, KeyKind, Plan};
use refline_store::{ApiKey, Merchant};

use crate::{
    ids::{key_hint, new_api_key, new_id, sha256_hex},
    Actor, Core, CoreError, CoreResult, Door, ErrorKind, Issue,
};

/// A key as the key page lists it: never the key itself, only its hint.
pub use refline_store::ApiKey as KeyListing;

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
pub(crate) fn make_key(merchant_id: &str, kind: KeyKind, now: i64) -> (ApiKey, String) {
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

impl Core {
    /// Creates a merchant with one live and one test key, on behalf of whoever `door` names
    /// (the operator at the command line today, a person signing up later).
    pub async fn create_merchant(&self, door: &Door, input: NewMerchant) -> CoreResult<CreatedMerchant> {
        let result = self.create_merchant_work(input).await;
        let merchant_id = result.as_ref().ok().map(|m| m.merchant_id.as_str());
        self.record_audit(merchant_id, door, "merchant.create", merchant_id, &result).await;
        result
    }

    async fn create_merchant_work(&self, input: NewMerchant) -> CoreResult<CreatedMerchant> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(CoreError::validation(vec![Issue::field(
                "name",
                "name must be 1 to 200 characters",
            )]));
        }
        let now = self.now();
        let merchant = Merchant {
            id: new_id("mer"),
            name: name.to_string(),
            plan: input.plan,
            currency: input.currency.code().into(),
            created_at: now,
            tracking_seen_at: None,
            account_id: None,
            website: None,
            archived_at: None,
        };
        let (live, api_key) = make_key(&merchant.id, KeyKind::Live, now);
        let (test, test_api_key) = make_key(&merchant.id, KeyKind::Test, now);
        self.store.create_merchant(&merchant, &[live, test]).await?;
        Ok(CreatedMerchant { merchant_id: merchant.id, api_key, test_api_key })
    }

    /// Adds a key to a merchant; returns its id and plaintext.
    pub async fn create_api_key(
        &self,
        door: &Door,
        merchant_id: &str,
        kind: KeyKind,
    ) -> CoreResult<(String, String)> {
        let result = self.create_api_key_work(merchant_id, kind).await;
        let key_id = result.as_ref().ok().map(|(id, _)| id.as_str());
        self.record_audit(Some(merchant_id), door, "api_key.create", key_id, &result).await;
        result
    }

    async fn create_api_key_work(&self, merchant_id: &str, kind: KeyKind) -> CoreResult<(String, String)> {
        if self.store.get_merchant(merchant_id).await?.is_none() {
            return Err(CoreError::new(
                ErrorKind::NotFound,
                "not_found",
                format!("no merchant with id {merchant_id}"),
            ));
        }
        let (key, plaintext) = make_key(merchant_id, kind, self.now());
        self.store.insert_api_key(&key).await?;
        Ok((key.id, plaintext))
    }

    /// Revokes a key by id.
    pub async fn revoke_api_key(&self, door: &Door, key_id: &str) -> CoreResult<()> {
        let result = self.revoke_api_key_work(key_id).await;
        let merchant_id = result.as_ref().ok().map(String::as_str);
        self.record_audit(merchant_id, door, "api_key.revoke", Some(key_id), &result).await;
        result.map(|_| ())
    }

    /// Revokes the key; answers its merchant.
    async fn revoke_api_key_work(&self, key_id: &str) -> CoreResult<String> {
        let merchant_id = self.store.revoke_api_key(key_id, self.now()).await?.ok_or_else(|| {
            CoreError::new(ErrorKind::NotFound, "not_found", format!("no active key with id {key_id}"))
        })?;
        // Nodes remember keys for a moment: this one forgets at once, the others when told.
        self.effects.keys_changed();
        Ok(merchant_id)
    }

    /// The brand's keys, newest first (hints only).
    pub async fn api_keys(&self, actor: &Actor) -> CoreResult<Vec<KeyListing>> {
        Ok(self.store.list_api_keys(&actor.merchant_id).await?)
    }

    /// Generates a key for the actor's brand (the dashboard's `/merchant/api-keys`): the
    /// plaintext is in the answer and nowhere else. Needs the "manage API keys" right.
    pub async fn create_brand_key(&self, actor: &Actor, kind: KeyKind) -> CoreResult<(String, String)> {
        self.audited(actor, "api_key.create", None, async {
            actor.require_grant(Grant::ManageKeys)?;
            self.create_api_key_work(&actor.merchant_id, kind).await
        })
        .await
    }

    /// Revokes one of the brand's keys; another brand's key id answers `404`.
    pub async fn revoke_brand_key(&self, actor: &Actor, key_id: &str) -> CoreResult<()> {
        self.audited(actor, "api_key.revoke", Some(key_id), async {
            actor.require_grant(Grant::ManageKeys)?;
            let keys = self.store.list_api_keys(&actor.merchant_id).await?;
            if !keys.iter().any(|k| k.id == key_id && k.revoked_at.is_none()) {
                return Err(CoreError::new(
                    ErrorKind::NotFound,
                    "not_found",
                    format!("no active key with id {key_id}"),
                ));
            }
            self.revoke_api_key_work(key_id).await.map(|_| ())
        })
        .await
    }
}

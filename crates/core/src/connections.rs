//! Payment-processor connections: a merchant's links to Stripe, Paddle, GoPay…, whose
//! *inbound* webhooks (`/api/webhooks/{provider}/merchant/{merchantId}`) are verified with the
//! secrets kept here. Not the *outbound* webhooks Refline sends merchants (see
//! [`crate::outbound`]). Secrets are write-only: sealed at rest, never answered, only a hint.
//!
//! Writes need a live actor: a connection credits real sales, so a test integration must not
//! be able to add or change one.

use refline_store::{Integration, Page, PageRequest};

use crate::{
    connection_input::{apply_change, build_connection, ConnectionChange, NewConnection},
    secrets::SecretBox,
    Actor, Core, CoreError, CoreResult,
};

/// A connection and the URL the merchant gives the processor.
#[derive(Debug, Clone)]
pub struct ConnectionOut {
    /// The connection (secrets sealed).
    pub integration: Integration,
    /// `<public URL>/api/webhooks/<provider>/merchant/<merchant id>`.
    pub webhook_url: String,
}

/// The URL the merchant gives the processor for `provider`'s webhooks (`public_url` empty for
/// the path alone).
pub fn webhook_url(public_url: &str, provider: &str, merchant_id: &str) -> String {
    format!("{public_url}/api/webhooks/{provider}/merchant/{merchant_id}")
}

/// What connections are called in refusals.
const WHAT: &str = "Integrations";

impl Core {
    fn connection_out(&self, integration: Integration) -> ConnectionOut {
        let webhook_url = webhook_url(&self.public_url, &integration.provider, &integration.merchant_id);
        ConnectionOut { integration, webhook_url }
    }

    /// One of the actor's connections, or `not_found`.
    pub(crate) async fn load_connection(&self, actor: &Actor, id: &str) -> CoreResult<Integration> {
        self.store
            .get_integration(&actor.merchant_id, id)
            .await?
            .ok_or_else(|| CoreError::not_found("Integration"))
    }

    /// One of the actor's connections.
    pub async fn get_connection(&self, actor: &Actor, id: &str) -> CoreResult<ConnectionOut> {
        Ok(self.connection_out(self.load_connection(actor, id).await?))
    }

    /// A page of the actor's connections.
    pub async fn list_connections(
        &self,
        actor: &Actor,
        page: PageRequest<()>,
    ) -> CoreResult<Page<ConnectionOut>> {
        let found = self.store.list_integrations(&actor.merchant_id, page).await?;
        Ok(Page {
            items: found.items.into_iter().map(|i| self.connection_out(i)).collect(),
            total: found.total,
        })
    }

    /// Connects a processor; its secrets are sealed with `secrets`.
    pub async fn create_connection(
        &self,
        actor: &Actor,
        input: NewConnection,
        secrets: &SecretBox,
    ) -> CoreResult<ConnectionOut> {
        self.audited(actor, "integration.create", None, self.create_connection_work(actor, input, secrets))
            .await
    }

    async fn create_connection_work(
        &self,
        actor: &Actor,
        input: NewConnection,
        secrets: &SecretBox,
    ) -> CoreResult<ConnectionOut> {
        actor.require_write()?;
        actor.require_live(WHAT)?;
        let integration = build_connection(input, &actor.merchant_id, secrets, self.now())?;
        self.store.insert_integration(&integration).await?;
        self.effects.keys_changed();
        Ok(self.connection_out(integration))
    }

    /// Changes a connection: a new secret rotates, the previous one can be dropped, status,
    /// label and the provider's settings.
    pub async fn update_connection(
        &self,
        actor: &Actor,
        id: &str,
        change: ConnectionChange,
        secrets: &SecretBox,
    ) -> CoreResult<ConnectionOut> {
        self.audited(
            actor,
            "integration.update",
            Some(id),
            self.update_connection_work(actor, id, change, secrets),
        )
        .await
    }

    async fn update_connection_work(
        &self,
        actor: &Actor,
        id: &str,
        change: ConnectionChange,
        secrets: &SecretBox,
    ) -> CoreResult<ConnectionOut> {
        actor.require_write()?;
        actor.require_live(WHAT)?;
        let mut integration = self.load_connection(actor, id).await?;
        apply_change(change, &mut integration, secrets, self.now())?;
        if !self.store.update_integration(&integration).await? {
            return Err(CoreError::not_found("Integration"));
        }
        // Receivers remember connections for a moment: this node forgets at once, the others
        // when told (`inbound::receive::ConnectionMemory`).
        self.effects.keys_changed();
        Ok(self.connection_out(integration))
    }

    /// Removes a connection: the processor's webhooks are refused from then on.
    pub async fn delete_connection(&self, actor: &Actor, id: &str) -> CoreResult<()> {
        self.audited(actor, "integration.delete", Some(id), self.delete_connection_work(actor, id)).await
    }

    async fn delete_connection_work(&self, actor: &Actor, id: &str) -> CoreResult<()> {
        actor.require_write()?;
        actor.require_live(WHAT)?;
        if !self.store.delete_integration(&actor.merchant_id, id).await? {
            return Err(CoreError::not_found("Integration"));
        }
        self.effects.keys_changed();
        Ok(())
    }
}

//! What a processor sent through a connection and what each delivery became — the answer to
//! "webhook 200 but no conversion" — and replaying one once the cause is fixed (an affiliate
//! added, a coupon registered). Replays are safe: a sale is credited once per order.

use refline_store::{InboxEntry, Page, PageRequest};

use crate::{Actor, Core, CoreError, CoreResult};

/// True when a delivery has finished (processed, ignored or failed) and so may be replayed;
/// deliveries still pending or waiting are refused by [`Core::replay_processor_delivery`].
pub fn is_finished(entry: &InboxEntry) -> bool {
    matches!(entry.status.as_str(), "processed" | "ignored" | "failed")
}

impl Core {
    /// A page of the deliveries received through one of the actor's connections, newest first.
    pub async fn list_processor_deliveries(
        &self,
        actor: &Actor,
        connection_id: &str,
        page: PageRequest<()>,
    ) -> CoreResult<Page<InboxEntry>> {
        self.load_connection(actor, connection_id).await?;
        Ok(self.store.list_inbox(&actor.merchant_id, connection_id, page).await?)
    }

    /// Processes a finished delivery again, now; `not_found` unless it is the actor's and
    /// finished.
    pub async fn replay_processor_delivery(
        &self,
        actor: &Actor,
        connection_id: &str,
        delivery_id: &str,
    ) -> CoreResult<InboxEntry> {
        self.audited(
            actor,
            "processor_delivery.replay",
            Some(delivery_id),
            self.replay_processor_delivery_work(actor, connection_id, delivery_id),
        )
        .await
    }

    async fn replay_processor_delivery_work(
        &self,
        actor: &Actor,
        connection_id: &str,
        delivery_id: &str,
    ) -> CoreResult<InboxEntry> {
        actor.require_write()?;
        let entry = self
            .store
            .requeue_inbox(&actor.merchant_id, connection_id, delivery_id, self.now())
            .await?
            .ok_or_else(|| CoreError::not_found("Finished delivery"))?;
        self.effects.inbox_written();
        Ok(entry)
    }
}

//! Reading payouts.

use refline_store::{Page, PageRequest, PayoutFilter};

use super::render::PayoutView;
use crate::{Actor, Core, CoreError, CoreResult};

impl Core {
    /// A payout of the actor's merchant (in the actor's mode) with what it pays.
    pub async fn get_payout(&self, actor: &Actor, id: &str) -> CoreResult<PayoutView> {
        match self.store.get_payout(&actor.merchant_id, id).await? {
            Some((payout, items)) if payout.mode == actor.mode => Ok(PayoutView { payout, items }),
            _ => Err(CoreError::not_found("Payout")),
        }
    }

    /// A page of payouts, newest first, each with what it pays.
    pub async fn list_payouts(
        &self,
        actor: &Actor,
        mut filter: PayoutFilter,
        page: PageRequest<()>,
    ) -> CoreResult<Page<PayoutView>> {
        filter.mode = actor.mode;
        let found = self.store.list_payouts(&actor.merchant_id, &filter, page).await?;
        let ids: Vec<String> = found.items.iter().map(|p| p.id.clone()).collect();
        let mut items: std::collections::HashMap<String, Vec<refline_store::PayoutItem>> =
            std::collections::HashMap::new();
        for item in self.store.payout_items(&ids).await? {
            items.entry(item.payout_id.clone()).or_default().push(item);
        }
        let views = found
            .items
            .into_iter()
            .map(|payout| {
                let mine = items.remove(&payout.id).unwrap_or_default();
                PayoutView { payout, items: mine }
            })
            .collect();
        Ok(Page { items: views, total: found.total })
    }
}

//! Reading payouts, each with what it pays.

use std::collections::HashMap;

use refline_store::{Page, PageRequest, Payout, PayoutFilter, PayoutItem};

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
        let views = self.with_items(found.items).await?;
        Ok(Page { items: views, total: found.total })
    }

    /// Every payout of the actor's merchant and mode matching `filter`, oldest first, with
    /// their items, in one read of payouts (exports and sends).
    pub(crate) async fn every_payout(
        &self,
        actor: &Actor,
        mut filter: PayoutFilter,
    ) -> CoreResult<Vec<PayoutView>> {
        filter.mode = actor.mode;
        let payouts = self.store.all_payouts(&actor.merchant_id, &filter).await?;
        self.with_items(payouts).await
    }

    /// Email and name of the actor's affiliates among `ids` (others are left out), for pages
    /// that list balances and payouts by affiliate.
    pub async fn affiliate_contacts(
        &self,
        actor: &Actor,
        ids: &[String],
    ) -> CoreResult<Vec<(String, String, Option<String>)>> {
        let mut unique: Vec<String> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        Ok(self.store.affiliate_contacts(&actor.merchant_id, &unique).await?)
    }

    /// `payouts` with their items, read in one go.
    async fn with_items(&self, payouts: Vec<Payout>) -> CoreResult<Vec<PayoutView>> {
        let ids: Vec<String> = payouts.iter().map(|p| p.id.clone()).collect();
        let mut items: HashMap<String, Vec<PayoutItem>> = HashMap::new();
        for item in self.store.payout_items(&ids).await? {
            items.entry(item.payout_id.clone()).or_default().push(item);
        }
        Ok(payouts
            .into_iter()
            .map(|payout| {
                let items = items.remove(&payout.id).unwrap_or_default();
                PayoutView { payout, items }
            })
            .collect())
    }
}

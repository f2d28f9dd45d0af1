//! Reads that add things up or look back: headline stats, recorded clicks, and what the
//! merchant's account says about its own setup.

use refline_domain::Currency;
use refline_store::{Click, ClickFilter, Page, PageRequest, Totals};

use crate::{Actor, Core, CoreError, CoreResult};

/// Headline numbers for a custom dashboard, in the merchant's currency.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Revenue, commissions and the count of conversions that are neither rejected nor refunded.
    pub totals: Totals,
    /// Affiliates approved on at least one campaign.
    pub active_affiliates: i64,
    /// The merchant currency's exponent, for rendering.
    pub exponent: u8,
}

impl Core {
    /// Stats between two optional instants (unix ms, inclusive), for the actor's mode.
    pub async fn stats(&self, actor: &Actor, from: Option<i64>, to: Option<i64>) -> CoreResult<Stats> {
        let totals = self.store.conversion_totals(&actor.merchant_id, actor.mode, from, to).await?;
        let active_affiliates = self.store.count_active_affiliates(&actor.merchant_id).await?;
        let exponent = Currency::parse(&actor.currency).unwrap_or(Currency::USD).exponent();
        Ok(Stats { totals, active_affiliates, exponent })
    }

    /// A page of the merchant's recorded clicks (clicks have no live/test mode).
    pub async fn list_clicks(
        &self,
        actor: &Actor,
        filter: &ClickFilter,
        page: PageRequest<()>,
    ) -> CoreResult<Page<Click>> {
        Ok(self.store.list_clicks(&actor.merchant_id, filter, page).await?)
    }

    /// One of the merchant's clicks.
    pub async fn get_click(&self, actor: &Actor, id: &str) -> CoreResult<Click> {
        self.store.find_click(&actor.merchant_id, id).await?.ok_or_else(|| CoreError::not_found("Click"))
    }

    /// When the tracking script was first seen on the merchant's site, if ever.
    pub async fn tracking_seen_at(&self, actor: &Actor) -> CoreResult<Option<i64>> {
        Ok(self.store.get_merchant(&actor.merchant_id).await?.and_then(|m| m.tracking_seen_at))
    }
}

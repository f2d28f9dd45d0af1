//! Reads that add things up or look back: headline stats, recorded clicks, and what the
//! merchant's account says about its own setup.

use refline_domain::Currency;
use refline_store::{Click, ClickFilter, Page, PageRequest, Totals};

use crate::{Actor, Core, CoreError, CoreResult};

/// Headline numbers for a custom dashboard. Money is never added across currencies: the
/// headline revenue and commissions are the merchant's own currency's, and every currency with
/// conversions has its own totals.
#[derive(Debug, Clone)]
pub struct Stats {
    /// The merchant's currency: the one `totals` is in.
    pub currency: Currency,
    /// Revenue, commissions and count of the conversions in the merchant's currency that are
    /// neither rejected nor refunded (zero when it has none).
    pub totals: Totals,
    /// Conversions counted, in every currency.
    pub conversions: i64,
    /// The totals of each currency that has conversions, ordered by code, with its currency
    /// (for its decimals). A code the table does not know (none is stored) renders with 2.
    pub by_currency: Vec<(Currency, Totals)>,
    /// Affiliates approved on at least one campaign.
    pub active_affiliates: i64,
}

impl Core {
    /// Stats between two optional instants (unix ms, inclusive), for the actor's mode.
    pub async fn stats(&self, actor: &Actor, from: Option<i64>, to: Option<i64>) -> CoreResult<Stats> {
        let all = self.store.conversion_totals(&actor.merchant_id, actor.mode, from, to).await?;
        let active_affiliates = self.store.count_active_affiliates(&actor.merchant_id).await?;
        let currency = Currency::parse(&actor.currency).unwrap_or(Currency::USD);
        let totals = all
            .iter()
            .find(|t| t.currency == currency.code())
            .cloned()
            .unwrap_or_else(|| Totals { currency: currency.code().into(), ..Totals::default() });
        let conversions = all.iter().fold(0i64, |n, t| n.saturating_add(t.conversions));
        let by_currency =
            all.into_iter().map(|t| (Currency::parse(&t.currency).unwrap_or(Currency::USD), t)).collect();
        Ok(Stats { currency, totals, conversions, by_currency, active_affiliates })
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

//! An affiliate's balances per currency, derived from the ledger: pending, on hold, payable, in
//! a payout, paid and owed back.

use refline_domain::ledger::{bucket, Balance, Balances};
use refline_store::{Page, PositionFilter};

use super::run::hold_until;
use crate::{Actor, Core, CoreError, CoreResult};

/// One affiliate's balance in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceRow {
    /// The affiliate.
    pub affiliate_id: String,
    /// The currency (balances of different currencies are never added).
    pub currency: String,
    /// The amounts, minor units.
    pub balance: Balance,
}

impl Core {
    /// Balances of the merchant's affiliates (or one), per currency (or one).
    pub async fn balances(
        &self,
        actor: &Actor,
        affiliate_id: Option<String>,
        currency: Option<String>,
    ) -> CoreResult<Vec<BalanceRow>> {
        if let Some(code) = &currency {
            if refline_domain::Currency::parse(code).is_err() {
                return Err(CoreError::invalid_field(
                    "currency",
                    "currency must be a supported ISO 4217 code",
                ));
            }
        }
        let filter = PositionFilter {
            mode: actor.mode,
            affiliate_id,
            currency: currency.map(|c| c.to_lowercase()),
            ..PositionFilter::default()
        };
        self.balances_of(actor, &filter).await
    }

    /// A page of the balances of the merchant's affiliates: `limit` affiliates that have one,
    /// by id, from `offset`, each with its balance in every currency (the rows
    /// [`Core::balances`] answers for them); `total` counts those affiliates.
    pub async fn balances_page(
        &self,
        actor: &Actor,
        limit: i64,
        offset: i64,
    ) -> CoreResult<Page<BalanceRow>> {
        let ids = self
            .store
            .balance_affiliates(&actor.merchant_id, actor.mode, limit.clamp(1, 500), offset.max(0))
            .await?;
        if ids.items.is_empty() {
            return Ok(Page { items: Vec::new(), total: ids.total });
        }
        let filter =
            PositionFilter { mode: actor.mode, affiliate_ids: ids.items, ..PositionFilter::default() };
        Ok(Page { items: self.balances_of(actor, &filter).await?, total: ids.total })
    }

    /// The balances of the commissions `filter` selects.
    async fn balances_of(&self, actor: &Actor, filter: &PositionFilter) -> CoreResult<Vec<BalanceRow>> {
        let filter = filter.clone();
        let now = self.now();
        let mut balances = Balances::default();
        for p in self.store.commission_positions(&actor.merchant_id, &filter).await? {
            let status = p.status;
            let outstanding = p.earned_minor.saturating_sub(p.paid_minor);
            let at = bucket(status, outstanding, hold_until(&p), now, p.open_item_minor.is_some());
            balances.entry(&p.affiliate_id, &p.currency).add(at, outstanding);
        }
        for (affiliate, currency, paid) in self.store.paid_totals(&actor.merchant_id, &filter).await? {
            balances.entry(&affiliate, &currency).paid = paid;
        }
        Ok(balances
            .by_affiliate
            .into_iter()
            .map(|((affiliate_id, currency), balance)| BalanceRow { affiliate_id, currency, balance })
            .collect())
    }
}

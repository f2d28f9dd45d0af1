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
        let filter = PositionFilter {
            mode: actor.mode,
            affiliate_id,
            currency: checked_currency(currency)?,
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
        self.balances_listed(actor, None, None, limit, offset).await
    }

    /// A page of balances as `GET /balances` lists them: `limit` affiliates from `offset`
    /// (those with a balance, in `currency` when given, in the store's order by id), each with
    /// its rows per currency, in that order; `total` counts the affiliates. Only that page's
    /// commissions are read. With `affiliate_id`, that affiliate's rows (`total` 0 or 1).
    pub async fn balances_listed(
        &self,
        actor: &Actor,
        affiliate_id: Option<String>,
        currency: Option<String>,
        limit: i64,
        offset: i64,
    ) -> CoreResult<Page<BalanceRow>> {
        let currency = checked_currency(currency)?;
        let (limit, offset) = (limit.clamp(1, 500), offset.max(0));
        if let Some(affiliate_id) = affiliate_id {
            let filter = PositionFilter {
                mode: actor.mode,
                affiliate_id: Some(affiliate_id),
                currency,
                ..PositionFilter::default()
            };
            let rows = self.balances_of(actor, &filter).await?;
            let total = i64::from(!rows.is_empty());
            let items = if offset == 0 { rows } else { Vec::new() };
            return Ok(Page { items, total });
        }
        let ids = self
            .store
            .balance_affiliates(&actor.merchant_id, actor.mode, currency.as_deref(), limit, offset)
            .await?;
        if ids.items.is_empty() {
            return Ok(Page { items: Vec::new(), total: ids.total });
        }
        let filter = PositionFilter {
            mode: actor.mode,
            affiliate_ids: ids.items.clone(),
            currency,
            ..PositionFilter::default()
        };
        let mut items = self.balances_of(actor, &filter).await?;
        // The store's order of the affiliates (its collation), currencies in order within each.
        let place = |id: &str| ids.items.iter().position(|i| i == id).unwrap_or(usize::MAX);
        items.sort_by(|a, b| {
            place(&a.affiliate_id).cmp(&place(&b.affiliate_id)).then_with(|| a.currency.cmp(&b.currency))
        });
        Ok(Page { items, total: ids.total })
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

/// A currency filter, lower case; an unsupported code is a validation error on `currency`.
fn checked_currency(currency: Option<String>) -> CoreResult<Option<String>> {
    match currency {
        Some(code) if refline_domain::Currency::parse(&code).is_err() => {
            Err(CoreError::invalid_field("currency", "currency must be a supported ISO 4217 code"))
        }
        other => Ok(other.map(|c| c.to_lowercase())),
    }
}

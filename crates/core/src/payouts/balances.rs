//! An affiliate's balances per currency, derived from the ledger: pending, on hold, payable, in
//! a payout, paid and owed back.

use refline_domain::ledger::{bucket, Balance, Balances};
use refline_store::PositionFilter;

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

//! The portal's payouts page: per merchant (payouts are per affiliate row, not per campaign),
//! the person's balance by currency (`Core::balances`, the payouts code's own computation), the
//! payout history (`Core::list_payouts`) and the payout details, set through
//! `Core::set_payout_method` — the operation `PATCH /api/v1/affiliates/{id}` runs, here with
//! the portal door on the person's own affiliate row.

use refline_store::{PageRequest, PayoutFilter};

use super::PortalSignedIn;
use crate::{
    payouts::{balances::BalanceRow, method::PayoutMethod, render::PayoutView},
    Core, CoreError, CoreResult,
};

/// Payouts shown per merchant.
const HISTORY: i64 = 50;

/// The person's money at one merchant.
#[derive(Debug, Clone)]
pub struct MerchantPayouts {
    /// The person's affiliate row there.
    pub affiliate_id: String,
    /// The merchant's business name.
    pub business_name: String,
    /// Balance per currency.
    pub balances: Vec<BalanceRow>,
    /// The latest payouts, newest first.
    pub payouts: Vec<PayoutView>,
    /// How many payouts there are in all (older ones are on the history pages).
    pub payouts_total: i64,
    /// How the merchant pays them, when they said.
    pub method: Option<PayoutMethod>,
}

impl Core {
    /// The person's balances, payouts and payout details at each merchant they are in (live).
    pub async fn portal_payouts(&self, signed_in: &PortalSignedIn) -> CoreResult<Vec<MerchantPayouts>> {
        let mut out: Vec<MerchantPayouts> = Vec::new();
        for scoped in self.portal_scopes(signed_in).await? {
            let m = &scoped.membership;
            if out.iter().any(|o| o.affiliate_id == m.affiliate_id) {
                continue;
            }
            let actor = &scoped.actor;
            let balances = self.balances(actor, Some(m.affiliate_id.clone()), None).await?;
            let filter =
                PayoutFilter { affiliate_id: Some(m.affiliate_id.clone()), ..PayoutFilter::default() };
            let page = PageRequest { limit: HISTORY, offset: 0, sort: (), descending: true };
            let found = self.list_payouts(actor, filter, page).await?;
            let method = self
                .get_affiliate(actor, &m.affiliate_id)
                .await?
                .affiliate
                .payout_method
                .as_deref()
                .and_then(PayoutMethod::from_stored);
            out.push(MerchantPayouts {
                affiliate_id: m.affiliate_id.clone(),
                business_name: m.business_name.clone(),
                balances,
                payouts: found.items,
                payouts_total: found.total,
                method,
            });
        }
        Ok(out)
    }

    /// Sets (or clears) the payout details of one of the person's affiliate rows. Another
    /// person's row answers 404; validation is `PayoutMethod::from_json`'s, done by the door.
    pub async fn portal_set_payout_method(
        &self,
        signed_in: &PortalSignedIn,
        affiliate_id: &str,
        method: Option<PayoutMethod>,
    ) -> CoreResult<()> {
        let scoped = self
            .portal_scopes(signed_in)
            .await?
            .into_iter()
            .find(|s| s.membership.affiliate_id == affiliate_id)
            .ok_or_else(|| CoreError::not_found("Affiliate"))?;
        self.set_payout_method(&scoped.actor, affiliate_id, method).await.map(|_| ())
    }
}

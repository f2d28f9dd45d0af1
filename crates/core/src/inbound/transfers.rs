//! A Stripe transfer the merchant made to an affiliate was reversed: the payout it paid failed.
//! A completed payout returns what it paid (the commissions are payable again); one still
//! processing simply fails.

use refline_domain::ledger::PayoutStatus;
use refline_store::{InboxEntry, InboxResult, StoreError};

use super::{outcome::Outcome, InboxContext};
use crate::payouts::{
    lifecycle::{transition, Change},
    render::PayoutView,
};

pub(super) async fn reversed(
    ctx: &InboxContext,
    entry: &InboxEntry,
    out: &Outcome,
    transfer_id: &str,
) -> Result<InboxResult, StoreError> {
    let store = ctx.store.as_ref();
    let Some(payout) = store.payout_by_transfer(&entry.merchant_id, transfer_id).await? else {
        return Ok(out.ignored(format!("transfer {transfer_id} paid no payout of this merchant"), None));
    };
    if !matches!(payout.status, PayoutStatus::Completed | PayoutStatus::Processing) {
        return Ok(out.ignored(format!("payout {} is already {}", payout.id, payout.status.as_str()), None));
    }
    let Some((payout, items)) = store.get_payout(&entry.merchant_id, &payout.id).await? else {
        return Ok(out.ignored(format!("payout of transfer {transfer_id} is gone"), None));
    };
    let id = payout.id.clone();
    let view = PayoutView { payout, items };
    let change = Change {
        reason: Some(format!("Stripe transfer {transfer_id} was reversed")),
        ..Change::to(PayoutStatus::Failed)
    };
    match transition(store, out.now, &view, change).await {
        Ok(_) => Ok(out.processed(format!("transfer {transfer_id} reversed: payout {id} failed"), None)),
        // The payout moved meanwhile (completed by another worker): read it again shortly.
        Err(err) if err.code == "invalid_transition" => {
            Ok(out.wait(entry, format!("payout {id} changed meanwhile: {}", err.message)))
        }
        Err(err) => Err(StoreError::Other(err.message)),
    }
}

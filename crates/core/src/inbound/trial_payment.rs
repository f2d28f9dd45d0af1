//! The first payment of a subscription whose trial was recorded priced (`immediate` trial
//! mode): the trial conversion becomes `pending` with the paid amount and its commission,
//! instead of a second conversion crediting the same sale (`refline_domain::first_payment`).

use refline_domain::{converted_commission, first_payment, FirstPayment};
use refline_processors::{Payment, Provider};
use refline_store::{InboxResult, StoreError, TrialConversion};

use super::{attribution::Credit, memo::Memo, outcome::Outcome, sale::remember};
use crate::terms;

/// The trial of `credit`'s subscription turned pending by `payment`, or `None` when the payment
/// is a sale of its own (no priced trial, or one credited elsewhere, in another currency, or no
/// longer a trial).
#[allow(clippy::too_many_arguments)]
pub(super) async fn convert_priced_trial(
    memo: &Memo,
    merchant: &str,
    out: &Outcome,
    provider: Provider,
    payment: &Payment,
    payment_keys: &[String],
    memory: &[String],
    credit: &Credit,
) -> Result<Option<InboxResult>, StoreError> {
    let store = memo.store();
    let Some(trial_id) = credit.subscription.as_ref().and_then(|s| s.trial_conversion_id.as_deref()) else {
        return Ok(None);
    };
    let Some(trial) = store.get_conversion(merchant, trial_id).await? else {
        return Ok(None);
    };
    if first_payment(trial.status, trial.amount_minor) != FirstPayment::ConvertTrial
        || trial.campaign_id != credit.campaign_id
        || trial.affiliate_id != credit.affiliate_id
        || !trial.currency.eq_ignore_ascii_case(&payment.currency)
    {
        return Ok(None);
    }
    let Some(campaign) = store.get_campaign(merchant, &trial.campaign_id).await? else {
        return Ok(None);
    };
    // The rules that may have priced the trial: the base rule first, then the tiers'.
    let rules: Vec<_> = terms::base_rule(&campaign)
        .into_iter()
        .chain(terms::tiers_of(&campaign).into_iter().map(|t| t.rule))
        .collect();
    let commission =
        converted_commission(&rules, trial.amount_minor, trial.commission_minor, payment.amount_minor);
    let converted = store
        .convert_trial(&TrialConversion {
            merchant_id: merchant,
            conversion_id: &trial.id,
            amount_minor: payment.amount_minor,
            commission_minor: commission,
            provider: provider.as_str(),
            payment_keys,
            now: out.now,
        })
        .await?;
    let Some(converted) = converted else {
        return Ok(None);
    };
    // Written with the conversion in its own transaction: the rest of the batch finds it.
    memo.note_payment(merchant, provider.as_str(), payment_keys, &converted.id);
    // The trial is the chain's first sale: renewals hang under it.
    remember(memo, merchant, provider, memory, credit, Some(converted.id.clone()), None, out.now).await?;
    Ok(Some(out.processed(
        format!(
            "trial {} converted: pending, payment #1, {} {} (commission {}) via {}",
            converted.id,
            refline_domain::format_amount_in(converted.amount_minor, &converted.currency),
            converted.currency.to_uppercase(),
            refline_domain::format_amount_in(converted.commission_minor, &converted.currency),
            credit.via
        ),
        Some(converted.id),
    )))
}

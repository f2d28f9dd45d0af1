//! A trial start: a `trial` conversion remembered as the subscription's trial, so its first
//! charge counts as payment #1 whatever the processor calls it. What it records follows the
//! campaign's trial mode (`refline_domain::trial_start`): $0 (`automatic`, `after_trial`), or
//! the expected subscription amount and its commission (`immediate`, when the event carries the
//! price in the campaign's currency).

use refline_domain::{trial_start, Mode, TrialMode, TrialStart};
use refline_processors::{Provider, Trial};
use refline_store::{InboxEntry, InboxResult, StoreError};

use super::{
    attribution::{attribute, memory_keys, Memory},
    memo::Memo,
    outcome::Outcome,
    sale::{record, remember, Sale},
    InboxContext,
};

pub(super) async fn record_trial(
    ctx: &InboxContext,
    memo: &Memo,
    entry: &InboxEntry,
    out: &Outcome,
    provider: Provider,
    mode: Mode,
    trial: Trial,
) -> Result<InboxResult, StoreError> {
    let store = memo.store();
    let merchant = &entry.merchant_id;
    let memory = memory_keys(Some(&trial.subscription_id), trial.customer_id.as_deref());
    let credit = attribute(
        memo,
        merchant,
        provider.as_str(),
        trial.reference.as_ref(),
        trial.coupon.as_ref(),
        Memory { keys: &memory, credits: false, now: out.now },
    )
    .await?;
    let Some(credit) = credit else {
        return Ok(out.ignored("trial without tracking reference or registered coupon".into(), None));
    };
    // A campaign that is gone is reported by `record`, which reads it again with the rest.
    let campaign = store.get_campaign(merchant, &credit.campaign_id).await?;
    let (trial_mode, expected) = match &campaign {
        Some(c) => {
            let currency = crate::terms::currency_of(c);
            // A price in another currency than the campaign's is no usable price: Refline does
            // not convert currencies.
            let expected = trial.expected_amount_minor.filter(|_| {
                trial.expected_currency.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&c.currency))
            });
            (c.trial_mode, trial_start(c.trial_mode, expected, currency.exponent()))
        }
        None => (TrialMode::Automatic, TrialStart::Zero),
    };
    let amount_minor = match expected {
        TrialStart::Expected(amount) => amount,
        TrialStart::Zero | TrialStart::ZeroWithoutPrice => 0,
    };
    let sale = Sale {
        merchant_id: merchant,
        provider,
        credit: &credit,
        order_id: format!("{}:trial:{}", provider.as_str(), trial.subscription_id),
        amount_minor,
        // A $0 trial moves no money; it is recorded in the campaign's currency. An expected
        // amount is in the campaign's currency (checked above).
        currency: None,
        customer_email: trial.customer_email.clone(),
        trial: true,
        recurring: true,
        renewal_parent: None,
        mode,
    };
    let conversion = match record(memo, ctx, out, sale).await? {
        Ok(conversion) => conversion,
        Err(result) => return Ok(result),
    };
    remember(memo, merchant, provider, &memory, &credit, None, Some(conversion.id.clone()), out.now).await?;
    let what = match expected {
        TrialStart::Expected(_) => format!(
            "trial conversion {} recorded via {} at the expected {} {} (commission {}, not payable \
             until the first payment makes it pending; trial mode {trial_mode})",
            conversion.id,
            credit.via,
            refline_domain::format_amount_in(conversion.amount_minor, &conversion.currency),
            conversion.currency.to_uppercase(),
            refline_domain::format_amount_in(conversion.commission_minor, &conversion.currency),
        ),
        TrialStart::ZeroWithoutPrice => format!(
            "trial conversion {} recorded via {} at 0: the campaign's trial mode is immediate but \
             the trial event carries no price in the campaign's currency, so the first payment \
             earns the commission",
            conversion.id, credit.via
        ),
        TrialStart::Zero => format!(
            "trial conversion {} recorded via {}; the first payment earns the commission",
            conversion.id, credit.via
        ),
    };
    Ok(out.processed(what, Some(conversion.id)))
}

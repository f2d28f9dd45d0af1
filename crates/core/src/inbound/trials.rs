//! A trial start: a zero `trial` conversion remembered as the subscription's trial, so its first
//! charge counts as payment #1 whatever the processor calls it.

use refline_domain::Mode;
use refline_processors::{Provider, Trial};
use refline_store::{InboxEntry, InboxResult, StoreError};

use super::{
    attribution::{attribute, memory_keys, Memory},
    outcome::Outcome,
    sale::{record, remember, Sale},
    InboxContext,
};

pub(super) async fn record_trial(
    ctx: &InboxContext,
    entry: &InboxEntry,
    out: &Outcome,
    provider: Provider,
    mode: Mode,
    trial: Trial,
) -> Result<InboxResult, StoreError> {
    let store = ctx.store.as_ref();
    let merchant = &entry.merchant_id;
    let memory = memory_keys(Some(&trial.subscription_id), trial.customer_id.as_deref());
    let credit = attribute(
        store,
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
    let sale = Sale {
        merchant_id: merchant,
        provider,
        credit: &credit,
        order_id: format!("{}:trial:{}", provider.as_str(), trial.subscription_id),
        amount_minor: 0,
        // A trial moves no money; it is recorded in the campaign's currency.
        currency: None,
        customer_email: trial.customer_email.clone(),
        trial: true,
        recurring: true,
        renewal_parent: None,
        mode,
    };
    let conversion = match record(ctx, out, sale).await? {
        Ok(conversion) => conversion,
        Err(result) => return Ok(result),
    };
    remember(store, merchant, provider, &memory, &credit, None, Some(conversion.id.clone()), out.now).await?;
    Ok(out.processed(
        format!(
            "trial conversion {} recorded via {}; the first payment earns the commission",
            conversion.id, credit.via
        ),
        Some(conversion.id),
    ))
}

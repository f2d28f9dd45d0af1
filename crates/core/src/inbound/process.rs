//! What a stored delivery does: parse it (after a payment lookup where the processor sends only
//! an id), refuse amounts out of range, then hand it to payments, trials, links or refunds.
//! Every path ends in an [`InboxResult`] a merchant can read in the delivery log.

use refline_domain::{Currency, Mode, Plan};
use refline_processors::{parse, Action, Parsed, Provider};
use refline_store::{InboxEntry, InboxResult, Store, StoreError};

use super::{
    amounts, links,
    memo::Memo,
    outcome::Outcome,
    payments::record_payment,
    refunds::{apply_refund, RefundAmount},
    transfers,
    trials::record_trial,
    InboxContext, LookupError,
};
use crate::sales::record::Refusal;

/// A stored delivery as read back: its provider and what its bytes say (or why not).
pub enum Read {
    /// The provider is not one Refline knows.
    UnknownProvider,
    /// The bytes could not be read.
    Unreadable(String),
    /// Parsed (boxed: an event is large next to the other answers).
    Parsed(Provider, Box<Parsed>),
}

/// Reads a stored delivery (no I/O).
pub fn read(entry: &InboxEntry) -> Read {
    let Some(provider) = Provider::parse(&entry.provider) else {
        return Read::UnknownProvider;
    };
    let headers: Vec<(String, String)> = serde_json::from_str(&entry.headers).unwrap_or_default();
    match parse(provider, &headers, &entry.query, entry.body.as_bytes()) {
        Ok(parsed) => Read::Parsed(provider, Box::new(parsed)),
        Err(err) => Read::Unreadable(format!("could not be read: {err}")),
    }
}

/// Processes one delivery, read by [`read`], with its batch's memory.
pub async fn process(ctx: &InboxContext, memo: &Memo, entry: &InboxEntry, read: Read) -> InboxResult {
    let out = Outcome { now: ctx.clock.now() };
    match try_process(ctx, memo, entry, &out, read).await {
        Ok(result) => result,
        // The database refused a value of this delivery: running it again cannot help.
        Err(err @ StoreError::Invalid(_)) => out.failed(format!("refused by the database: {err}")),
        // The database failed: nothing was decided, so the delivery runs again.
        Err(err) => out.wait(entry, format!("temporary failure: {err}")),
    }
}

async fn try_process(
    ctx: &InboxContext,
    memo: &Memo,
    entry: &InboxEntry,
    out: &Outcome,
    read: Read,
) -> Result<InboxResult, StoreError> {
    let (provider, mut parsed) = match read {
        Read::UnknownProvider => return Ok(out.failed(format!("unknown provider {}", entry.provider))),
        Read::Unreadable(why) => return Ok(out.failed(why)),
        Read::Parsed(provider, parsed) => (provider, *parsed),
    };
    if let Action::NeedsLookup { payment_id } = &parsed.action {
        parsed = match ctx.lookup.lookup(entry, payment_id).await {
            Ok(found) => found,
            Err(LookupError::Transient(why)) => {
                return Ok(out.wait(entry, format!("GoPay lookup failed: {why}")))
            }
            Err(LookupError::Permanent(why)) => return Ok(out.ignored(format!("GoPay lookup: {why}"), None)),
        };
    }
    let mode = Mode::from_is_test(parsed.test_mode);
    // A signed delivery is still refused when its amounts are out of range; for good, since a
    // retry reads the same amounts.
    if let Some(problem) = amounts::problem(&parsed.action) {
        return Ok(out.failed(problem));
    }
    match parsed.action {
        Action::Ignored { reason } => Ok(out.ignored(reason, None)),
        Action::NeedsLookup { .. } => Ok(out.failed("the payment lookup asked for another lookup".into())),
        Action::Payment(payment) => record_payment(ctx, memo, entry, out, provider, mode, payment).await,
        Action::TrialStarted(trial) => record_trial(ctx, memo, entry, out, provider, mode, trial).await,
        Action::Link(link) => links::apply(memo, entry, out, provider, link).await,
        Action::TransferReversed { transfer_id } => transfers::reversed(ctx, entry, out, &transfer_id).await,
        Action::Refund(refund) => {
            let keys = keys_of(&refund.object_id, &refund.aliases);
            let amount = match (refund.full, refund.total_refunded_minor, refund.amount_minor) {
                (true, _, _) => RefundAmount::Full,
                (false, Some(total), _) => RefundAmount::Total(total),
                (false, None, Some(step)) => RefundAmount::Step(step),
                (false, None, None) => RefundAmount::Unknown,
            };
            // A refund reported as a step (not a running total) counts once however many
            // events report it.
            let once =
                matches!(amount, RefundAmount::Step(_)).then(|| format!("refund:{}", refund.refund_id));
            apply_refund(
                ctx,
                memo,
                entry,
                out,
                provider,
                &keys,
                amount,
                once,
                format!("refund {}", refund.refund_id),
            )
            .await
        }
        Action::Chargeback(dispute) => {
            let keys = keys_of(&dispute.object_id, &dispute.aliases);
            apply_refund(
                ctx,
                memo,
                entry,
                out,
                provider,
                &keys,
                RefundAmount::Full,
                None,
                format!("chargeback {}", dispute.dispute_id),
            )
            .await
        }
    }
}

pub(super) fn keys_of(object_id: &str, aliases: &[String]) -> Vec<String> {
    std::iter::once(object_id.to_string()).chain(aliases.iter().cloned()).collect()
}

/// The merchant's plan and currency (what its monthly cap is and is counted in).
pub(super) async fn merchant_plan(
    store: &dyn Store,
    merchant_id: &str,
) -> Result<(Plan, Currency), StoreError> {
    let merchant = store.get_merchant(merchant_id).await?;
    Ok(merchant.map_or((Plan::Starter, Currency::USD), |m| {
        (m.plan, Currency::parse(&m.currency).unwrap_or(Currency::USD))
    }))
}

/// Words for a refusal in the delivery log.
pub(super) fn refusal_text(refusal: &Refusal) -> String {
    match refusal {
        Refusal::AffiliateNotApproved(why) => format!("affiliate not credited: {why}"),
        Refusal::CampaignInactive => "campaign is inactive".into(),
        Refusal::RecurringDisabled => "campaign pays no recurring commission".into(),
        Refusal::RecurringLimitReached => "past the campaign's recurring limit".into(),
        Refusal::ParentMismatch(why) => (*why).into(),
        Refusal::CapReached => "plan's monthly earnings cap reached".into(),
        Refusal::Duplicate(id) => format!("already recorded as {id}"),
        Refusal::Store(err) => format!("store error: {err}"),
    }
}

//! A payout's life after its run: completed (its commissions become paid), failed (payable
//! again; a completed payout that fails returns what it paid) or cancelled.

use refline_domain::ledger::PayoutStatus;
use refline_store::{OutboxEvent, PayoutTransition};

use super::render::PayoutView;
use crate::{Actor, Core, CoreError, CoreResult};

/// The longest reference or reason kept.
const MAX_NOTE_CHARS: usize = 500;

impl Core {
    /// Marks a pending or processing payout paid, with the merchant's payment `reference`.
    pub async fn complete_payout(
        &self,
        actor: &Actor,
        id: &str,
        reference: Option<String>,
    ) -> CoreResult<PayoutView> {
        self.audited(actor, "payout.complete", Some(id), async {
            actor.require_payout_write()?;
            let reference = note("reference", reference)?;
            self.move_payout(actor, id, Change { reference, ..Change::to(PayoutStatus::Completed) }).await
        })
        .await
    }

    /// Marks a payout failed: an open one frees its commissions; a completed one returns what
    /// it paid (its commissions are payable again).
    pub async fn fail_payout(
        &self,
        actor: &Actor,
        id: &str,
        reason: Option<String>,
    ) -> CoreResult<PayoutView> {
        self.audited(actor, "payout.fail", Some(id), async {
            actor.require_payout_write()?;
            let reason = note("reason", reason)?;
            self.move_payout(actor, id, Change { reason, ..Change::to(PayoutStatus::Failed) }).await
        })
        .await
    }

    /// Withdraws a pending or processing payout; its commissions are payable again.
    pub async fn cancel_payout(&self, actor: &Actor, id: &str) -> CoreResult<PayoutView> {
        self.audited(actor, "payout.cancel", Some(id), async {
            actor.require_payout_write()?;
            self.move_payout(actor, id, Change::to(PayoutStatus::Cancelled)).await
        })
        .await
    }

    /// Moves payout `id` to `to` with everything that follows (see [`transition`]), waking the
    /// outbound worker for the events it announced.
    pub(crate) async fn move_payout(
        &self,
        actor: &Actor,
        id: &str,
        change: Change,
    ) -> CoreResult<PayoutView> {
        let current = self.get_payout(actor, id).await?;
        let mut change = change;
        // The affiliate hears of a completed live payout once: the mail is written in the
        // completion's transaction, and a repeated completion (a no-op) writes nothing.
        if change.to == PayoutStatus::Completed && current.payout.status != PayoutStatus::Completed {
            change.mail = self.payout_sent_mail(&current.payout, change.reference.as_deref()).await?;
        }
        let mailed = change.mail.is_some();
        let announced = transition(self.store.as_ref(), self.now(), &current, change).await?;
        if announced {
            self.effects.outbox_written();
            if mailed {
                self.effects.mail_written();
            }
        }
        // Items leave an open payout when it ends; read back what the store now holds.
        self.get_payout(actor, id).await
    }
}

/// Where a payout goes and what is said about it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The new status.
    pub to: PayoutStatus,
    /// Payment reference (completion).
    pub reference: Option<String>,
    /// Why (failure, cancellation).
    pub reason: Option<String>,
    /// The Stripe transfer that paid it.
    pub transfer_id: Option<String>,
    /// The "payout sent" mail of a completion ([`Core::move_payout`] writes it).
    pub mail: Option<refline_store::OutgoingMail>,
}

impl Change {
    /// A move to `to` with nothing more to say.
    pub fn to(to: PayoutStatus) -> Change {
        Change { to, reference: None, reason: None, transfer_id: None, mail: None }
    }
}

/// Moves `current` to `change.to` (a no-op when it is already there) with everything that
/// follows, announcing `payout.completed` or `payout.failed` (and the store `conversion.paid`)
/// for live payouts. Answers whether events were queued. Shared by the API's operations and the
/// processor worker (a Stripe `transfer.reversed`).
pub async fn transition(
    store: &dyn refline_store::Store,
    now: i64,
    current: &PayoutView,
    change: Change,
) -> CoreResult<bool> {
    let Change { to, reference, reason, transfer_id, mail } = change;
    let from = current.payout.status;
    if from == to {
        return Ok(false);
    }
    if !from.can_become(to) {
        return Err(CoreError::invalid_transition(format!(
            "A {} payout cannot become {}",
            from.as_str(),
            to.as_str()
        )));
    }
    let mut after = current.clone();
    after.payout.status = to;
    after.payout.updated_at = now;
    if to == PayoutStatus::Completed {
        after.payout.completed_at = Some(now);
        after.payout.reference = reference.clone().or(after.payout.reference);
    }
    if reason.is_some() {
        after.payout.failure_reason = reason.clone();
    }
    if transfer_id.is_some() {
        after.payout.transfer_id = transfer_id.clone();
    }
    let event = match to {
        PayoutStatus::Completed => Some("payout.completed"),
        PayoutStatus::Failed => Some("payout.failed"),
        _ => None,
    };
    let announce = current.payout.mode.is_live();
    let events = match (event, announce) {
        (Some(event), true) => vec![OutboxEvent {
            merchant_id: current.payout.merchant_id.clone(),
            event,
            data: after.to_json(),
            at: now,
        }],
        _ => Vec::new(),
    };
    let change = PayoutTransition {
        merchant_id: current.payout.merchant_id.clone(),
        payout_id: current.payout.id.clone(),
        from,
        to,
        reference,
        transfer_id,
        reason,
        events,
        announce,
        mail: mail.filter(|_| announce),
        now,
    };
    if !store.transition_payout(&change).await? {
        return Err(CoreError::changed_concurrently("payout"));
    }
    Ok(announce)
}

/// A free-text note, trimmed, at most [`MAX_NOTE_CHARS`]; blank is none.
fn note(field: &str, text: Option<String>) -> CoreResult<Option<String>> {
    match text.map(|t| t.trim().to_string()) {
        Some(t) if t.chars().count() > MAX_NOTE_CHARS => Err(CoreError::invalid_field(
            field,
            format!("{field} must be at most {MAX_NOTE_CHARS} characters"),
        )),
        Some(t) if t.is_empty() => Ok(None),
        other => Ok(other),
    }
}

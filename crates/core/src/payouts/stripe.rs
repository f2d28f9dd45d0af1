//! The Stripe Connect rail: one transfer per payout from the merchant's Stripe balance to the
//! affiliate's connected account. The payout id is the `Idempotency-Key`, so sending a payout
//! again (a retried run, a crash between the transfer and its record) never pays twice: Stripe
//! answers the first transfer again.

use refline_domain::ledger::PayoutStatus;
use refline_store::PayoutFilter;

use super::{lifecycle::Change, render::PayoutView, PayoutMethod};
use crate::{secrets::SecretBox, Actor, Core, CoreError, CoreResult, ErrorKind};

/// A transfer to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    /// Minor units (> 0).
    pub amount_minor: i64,
    /// Lower-case ISO 4217.
    pub currency: String,
    /// The connected account, `acct_…`.
    pub destination: String,
    /// Groups the transfer with its payout in Stripe's dashboard: the payout id.
    pub transfer_group: String,
    /// The payout id: Stripe replays the first answer for the same key.
    pub idempotency_key: String,
    /// Shown in Stripe.
    pub description: String,
}

/// How a transfer went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferOutcome {
    /// Stripe made (or had made) the transfer.
    Sent {
        /// `tr_…`
        transfer_id: String,
    },
    /// Stripe refused it for good (no such account, insufficient funds, bad key…).
    Refused {
        /// Stripe's message.
        reason: String,
    },
    /// No answer or a server error: unknown whether it happened; send again later with the same
    /// key.
    Unavailable {
        /// What went wrong.
        reason: String,
    },
}

/// Makes Stripe transfers (the server's calls Stripe's API; tests use a fake Stripe).
#[async_trait::async_trait]
pub trait TransferRail: Send + Sync {
    /// Sends `request` with the merchant's `secret_key`.
    async fn transfer(&self, secret_key: &str, request: &TransferRequest) -> TransferOutcome;
}

impl Core {
    /// Sends the merchant's pending and processing `stripe_connect` payouts (or only
    /// `payout_ids`) through Stripe: each becomes processing, then completed with its transfer
    /// id, or failed with Stripe's reason; one Stripe could not be reached about stays processing
    /// for the next send. Answers the payouts sent.
    pub async fn send_stripe_payouts(
        &self,
        actor: &Actor,
        payout_ids: Vec<String>,
        rail: &dyn TransferRail,
        secrets: &SecretBox,
    ) -> CoreResult<Vec<PayoutView>> {
        self.audited(actor, "payout.send", None, self.send_work(actor, payout_ids, rail, secrets)).await
    }

    async fn send_work(
        &self,
        actor: &Actor,
        payout_ids: Vec<String>,
        rail: &dyn TransferRail,
        secrets: &SecretBox,
    ) -> CoreResult<Vec<PayoutView>> {
        actor.require_payout_write()?;
        let settings = self.load_payout_settings(actor).await?;
        let Some(sealed) = settings.stripe_secret_key else {
            return Err(CoreError::new(
                ErrorKind::Unprocessable,
                "stripe_not_configured",
                "Store the merchant's Stripe secret key (stripeSecretKey in /settings) before sending payouts",
            ));
        };
        let secret = secrets.open(&sealed).map_err(CoreError::internal)?;
        let payouts = if payout_ids.is_empty() {
            let mut due = Vec::new();
            for status in [PayoutStatus::Pending, PayoutStatus::Processing] {
                let filter = PayoutFilter {
                    status: Some(status),
                    method: Some("stripe_connect".into()),
                    ..PayoutFilter::default()
                };
                due.extend(self.every_payout(actor, filter).await?);
            }
            due
        } else {
            let mut named = Vec::new();
            for id in &payout_ids {
                let payout = self.get_payout(actor, id).await?;
                if payout.payout.method != "stripe_connect" {
                    return Err(CoreError::invalid_field(
                        "payoutIds",
                        format!("payout {id} is paid by {}, not stripe_connect", payout.payout.method),
                    ));
                }
                named.push(payout);
            }
            named
        };
        let mut sent = Vec::new();
        for payout in payouts {
            if !payout.payout.status.is_open() {
                sent.push(payout);
                continue;
            }
            sent.push(self.send_one(actor, payout, rail, &secret).await?);
        }
        Ok(sent)
    }

    async fn send_one(
        &self,
        actor: &Actor,
        mut payout: PayoutView,
        rail: &dyn TransferRail,
        secret: &str,
    ) -> CoreResult<PayoutView> {
        let id = payout.payout.id.clone();
        if payout.payout.status == PayoutStatus::Pending {
            let to_processing = Change::to(PayoutStatus::Processing);
            super::lifecycle::transition(self.store.as_ref(), self.now(), &payout, to_processing).await?;
            payout = self.get_payout(actor, &id).await?;
        }
        let account = payout.payout.destination.as_deref().and_then(PayoutMethod::from_stored);
        let Some(PayoutMethod::StripeConnect { account_id }) = account else {
            let reason = "the affiliate has no Stripe connected account".to_string();
            return self
                .move_payout(actor, &id, Change { reason: Some(reason), ..Change::to(PayoutStatus::Failed) })
                .await;
        };
        let request = TransferRequest {
            amount_minor: payout.payout.amount_minor,
            currency: payout.payout.currency.clone(),
            destination: account_id,
            transfer_group: id.clone(),
            idempotency_key: id.clone(),
            description: format!("Affiliate payout {id}"),
        };
        match rail.transfer(secret, &request).await {
            TransferOutcome::Sent { transfer_id } => {
                let paid = Change { transfer_id: Some(transfer_id), ..Change::to(PayoutStatus::Completed) };
                self.move_payout(actor, &id, paid).await
            }
            TransferOutcome::Refused { reason } => {
                let failed =
                    Change { reason: Some(format!("Stripe: {reason}")), ..Change::to(PayoutStatus::Failed) };
                self.move_payout(actor, &id, failed).await
            }
            TransferOutcome::Unavailable { reason } => {
                tracing::warn!(payout = %id, %reason, "Stripe transfer not confirmed; it is sent again later");
                Ok(payout)
            }
        }
    }
}

//! Automatic payouts: for every merchant who switched them on, a run of everything payable to
//! `stripe_connect` affiliates, sent through Stripe — once per interval across all nodes (the
//! node that takes the `scheduled_runs` lease does it; the others skip).

use std::{sync::Arc, time::Duration};

use refline_core::{
    payouts::{run::RunInput, stripe::TransferRail},
    secrets::SecretBox,
    Actor, Core, Door, Mode, Rights,
};
use tokio_util::sync::CancellationToken;

use crate::config::PayoutSettings;

/// The schedule's name in `scheduled_runs`.
pub const AUTOMATIC_PAYOUTS: &str = "automatic_payouts";
/// How long a node may hold the run before another may take it over (a crashed node).
const LEASE_MS: i64 = 60 * 60 * 1000;

/// Checks every `settings.schedule_poll` whether the automatic run is due and, if this node
/// takes the lease, runs it.
pub async fn run(
    core: Core,
    rail: Arc<dyn TransferRail>,
    secrets: Arc<SecretBox>,
    settings: PayoutSettings,
    stop: CancellationToken,
) {
    let Some(interval) = settings.automatic_interval else { return };
    let holder = refline_core::ids::new_id("node");
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(settings.schedule_poll) => {}
        }
        if let Err(err) = run_if_due(&core, rail.as_ref(), &secrets, interval, &holder).await {
            tracing::warn!(%err, "automatic payouts could not run; trying again later");
        }
    }
}

/// Runs the automatic payouts if they are due and this node takes the lease; true if it ran.
pub async fn run_if_due(
    core: &Core,
    rail: &dyn TransferRail,
    secrets: &SecretBox,
    interval: Duration,
    holder: &str,
) -> Result<bool, refline_store::StoreError> {
    let now = core.now();
    let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    let due_before = now.saturating_sub(interval_ms);
    if !core.store.claim_schedule(AUTOMATIC_PAYOUTS, holder, now, due_before, now + LEASE_MS).await? {
        return Ok(false);
    }
    for merchant_id in core.store.automatic_payout_merchants().await? {
        let actor = Actor {
            merchant_id: merchant_id.clone(),
            mode: Mode::Live,
            rights: Rights::ReadWrite,
            currency: String::new(),
            door: Door::System { task: AUTOMATIC_PAYOUTS.into() },
        };
        let input = RunInput { method: Some("stripe_connect".into()), ..RunInput::default() };
        if let Err(err) = core.run_payouts(&actor, input).await {
            tracing::warn!(merchant = %merchant_id, %err, "automatic payout run failed");
            continue;
        }
        match core.send_stripe_payouts(&actor, Vec::new(), rail, secrets).await {
            Ok(sent) => {
                tracing::info!(merchant = %merchant_id, payouts = sent.len(), "automatic payouts sent")
            }
            Err(err) => tracing::warn!(merchant = %merchant_id, %err, "automatic payouts not sent"),
        }
    }
    core.store.finish_schedule(AUTOMATIC_PAYOUTS, holder, core.now()).await?;
    Ok(true)
}

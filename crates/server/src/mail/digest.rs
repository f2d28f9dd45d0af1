//! The commission digest step: every node looks for due "new commission credited" mails every
//! `digest_poll` and writes them through the core (`Core::send_commission_digests`), which leases
//! each affiliate so nodes never write the same digest twice. The mails go to the outbox; the
//! mail worker delivers them.

use std::time::Duration;

use refline_core::Core;
use tokio_util::sync::CancellationToken;

/// Affiliates handled per round.
const BATCH: i64 = 50;

/// Runs until `stop`.
pub async fn run(core: Core, poll: Duration, stop: CancellationToken) {
    loop {
        let handled = match core.send_commission_digests(BATCH).await {
            Ok(handled) => handled,
            Err(err) => {
                tracing::warn!(%err, "commission digests not written; retrying at the next poll");
                0
            }
        };
        if handled == BATCH as usize {
            continue;
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(poll) => {}
        }
    }
}

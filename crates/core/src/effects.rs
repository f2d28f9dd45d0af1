//! What an operation sets off besides its own write, so that no door can forget it.
//!
//! The core only says *that* something happened; the server decides what that means on this
//! node (waking a worker, clearing a cache). Tests and the CLI use [`NoEffects`].

/// Side effects of operations, implemented by whoever runs the core.
pub trait Effects: Send + Sync {
    /// The operation may have queued outbound webhook deliveries: wake the worker now rather
    /// than at its next poll.
    fn outbox_written(&self);
    /// Campaigns, memberships or links changed: cached link resolutions (and rendered tracking
    /// scripts) may be stale.
    fn links_changed(&self);
    /// A processor delivery is due now (stored or requeued): wake the inbox worker rather than
    /// wait for its next poll.
    fn inbox_written(&self);
}

/// Effects that do nothing: for the CLI (another process's server polls) and for tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEffects;

impl Effects for NoEffects {
    fn outbox_written(&self) {}
    fn links_changed(&self) {}
    fn inbox_written(&self) {}
}

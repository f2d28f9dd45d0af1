//! What a processed delivery became, as the delivery log shows it: processed, ignored, failed,
//! or waiting to run again.

use refline_store::{InboxEntry, InboxResult};

/// A delivery that cannot be acted on yet is retried this long before it is given up.
pub const WAIT_LIMIT_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Builds the results of one delivery processed at `now`.
pub struct Outcome {
    pub now: i64,
}

impl Outcome {
    pub fn finished(
        &self,
        status: &'static str,
        outcome: String,
        conversion_id: Option<String>,
    ) -> InboxResult {
        InboxResult {
            status,
            outcome,
            conversion_id,
            next_attempt_at: self.now,
            processed_at: Some(self.now),
        }
    }
    pub fn processed(&self, outcome: String, conversion_id: Option<String>) -> InboxResult {
        self.finished("processed", outcome, conversion_id)
    }
    pub fn ignored(&self, outcome: String, conversion_id: Option<String>) -> InboxResult {
        self.finished("ignored", outcome, conversion_id)
    }
    pub fn failed(&self, outcome: String) -> InboxResult {
        self.finished("failed", outcome, None)
    }
    /// Try again later (30 s, doubling to an hour), until the delivery is a week old.
    pub fn wait(&self, entry: &InboxEntry, why: String) -> InboxResult {
        if self.now - entry.received_at > WAIT_LIMIT_MS {
            return self.ignored(format!("gave up after a week: {why}"), None);
        }
        let step = entry.attempts.clamp(1, 8) - 1;
        let delay = (30_000i64 << step).min(60 * 60 * 1000);
        InboxResult {
            status: "waiting",
            outcome: why,
            conversion_id: None,
            next_attempt_at: self.now + delay,
            processed_at: None,
        }
    }
}

//! Several stateless nodes on one PostgreSQL acting as one server: what one node changes, the
//! others hear about at once.
//!
//! A node that writes webhook, processor-inbox or mail work, changes what a link resolves to,
//! revokes a key (or changes its brand) or changes a processor connection, wakes its own workers and clears its own caches
//! directly (`state::NodeEffects`) and
//! announces the topic through the store (`NOTIFY` on PostgreSQL). Every node listens and does
//! the same for topics other nodes announce. Announcements are coalesced: however many writes
//! happen while one `NOTIFY` is in flight, the next carries each topic once, so the hot paths
//! pay an atomic OR, not a round trip. Workers keep polling as a fallback (a lost connection
//! or a missed announcement costs at most one poll interval).

use std::sync::{
    atomic::{AtomicU8, Ordering},
    Arc,
};

use refline_store::Store;
use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use refline_core::{inbound::receive::ConnectionMemory, sales::attribution_cache::AttributionCache};

use crate::{http::key_cache::KeyCache, tracking::Tracking};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Outbound webhook deliveries were queued.
    Outbox,
    /// A processor delivery was stored.
    Inbox,
    /// A mail was queued.
    Mail,
    /// Campaigns, affiliates, links or tracking settings changed: cached resolutions are stale.
    Links,
    /// An API key was revoked, its brand changed or a processor connection changed: remembered
    /// key owners and connections are stale.
    Keys,
}

const ALL: [Topic; 5] = [Topic::Outbox, Topic::Inbox, Topic::Mail, Topic::Links, Topic::Keys];

impl Topic {
    fn bit(self) -> u8 {
        match self {
            Self::Outbox => 1,
            Self::Inbox => 2,
            Self::Mail => 4,
            Self::Links => 8,
            Self::Keys => 16,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Outbox => "outbox",
            Self::Inbox => "inbox",
            Self::Mail => "mail",
            Self::Links => "links",
            Self::Keys => "keys",
        }
    }

    fn from_word(word: &str) -> Option<Self> {
        ALL.into_iter().find(|t| t.word() == word)
    }
}

/// The least time between two announcements of a node: writes in between share one.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(20);

/// Announces topics to the other nodes, coalescing bursts.
pub struct Announcer {
    node: String,
    pending: AtomicU8,
    wake: Notify,
}

impl Announcer {
    /// Starts announcing for `node` through `store` until `stop`.
    pub fn start(
        store: Arc<dyn Store>,
        node: String,
        stop: CancellationToken,
    ) -> (Arc<Self>, JoinHandle<()>) {
        let announcer = Arc::new(Self { node, pending: AtomicU8::new(0), wake: Notify::new() });
        let task = tokio::spawn(announce_loop(store, announcer.clone(), stop));
        (announcer, task)
    }

    /// Marks `topic` as changed; it is announced with the next `NOTIFY`.
    pub fn announce(&self, topic: Topic) {
        self.pending.fetch_or(topic.bit(), Ordering::Release);
        self.wake.notify_one();
    }
}

async fn announce_loop(store: Arc<dyn Store>, announcer: Arc<Announcer>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = announcer.wake.notified() => {}
        }
        let bits = announcer.pending.swap(0, Ordering::AcqRel);
        let payloads: Vec<String> = ALL
            .into_iter()
            .filter(|t| bits & t.bit() != 0)
            .map(|t| format!("{} {}", announcer.node, t.word()))
            .collect();
        if let Err(err) = store.announce(&payloads).await {
            // The other nodes pick the work up at their next poll and caches expire on their own.
            tracing::warn!(%err, "announcing a change to the other nodes failed");
        }
        // Under a stream of writes, at most one announcement per topic per interval.
        tokio::time::sleep(COALESCE).await;
    }
}

/// What a node wakes or clears when another node announces a topic.
#[derive(Clone)]
pub struct LocalWakes {
    /// The webhook worker.
    pub webhook: Arc<Notify>,
    /// The processor inbox worker.
    pub inbox: Arc<Notify>,
    /// The mail worker.
    pub mail: Arc<Notify>,
    /// The link and script caches.
    pub tracking: Tracking,
    /// The API keys this node remembers.
    pub keys: Arc<KeyCache>,
    /// The sale attributions this node remembers.
    pub attributions: Arc<AttributionCache>,
    /// The processor connections this node remembers.
    pub connections: Arc<ConnectionMemory>,
}

impl LocalWakes {
    fn apply(&self, topic: Topic) {
        match topic {
            Topic::Outbox => self.webhook.notify_one(),
            Topic::Inbox => self.inbox.notify_one(),
            Topic::Mail => self.mail.notify_one(),
            Topic::Links => {
                self.tracking.invalidate();
                self.attributions.clear();
            }
            Topic::Keys => {
                self.keys.clear();
                self.connections.clear();
            }
        }
    }
}

/// Listens for other nodes' announcements until `stop`; returns at once on an engine that
/// serves one node.
pub async fn listen(store: Arc<dyn Store>, node: String, wakes: LocalWakes, stop: CancellationToken) {
    loop {
        let subscription = tokio::select! {
            () = stop.cancelled() => return,
            listening = store.listen() => listening,
        };
        let mut subscription = match subscription {
            Ok(Some(subscription)) => subscription,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(%err, "listening for other nodes failed; retrying in 1 s");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                }
            }
        };
        // What changed while this node was not listening is unknown: act as if everything did.
        ALL.into_iter().for_each(|t| wakes.apply(t));
        loop {
            let next = tokio::select! {
                () = stop.cancelled() => return,
                next = subscription.next() => next,
            };
            match next {
                Ok(Some(payload)) => {
                    let Some((sender, word)) = payload.split_once(' ') else { continue };
                    if sender == node {
                        continue;
                    }
                    if let Some(topic) = Topic::from_word(word) {
                        wakes.apply(topic);
                    }
                }
                Ok(None) => ALL.into_iter().for_each(|t| wakes.apply(t)),
                Err(err) => {
                    tracing::warn!(%err, "the connection listening for other nodes failed");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_through_their_words() {
        for topic in ALL {
            assert_eq!(Topic::from_word(topic.word()), Some(topic));
        }
        assert_eq!(Topic::from_word("other"), None);
        let bits: Vec<u8> = ALL.iter().map(|t| t.bit()).collect();
        assert_eq!(bits.iter().fold(0, |a, b| a | b), 31, "each topic has its own bit");
    }
}

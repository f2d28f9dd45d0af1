//! Group commit for received processor deliveries.
//!
//! A receiver answers `200` only after its delivery is in the inbox, so every delivery is a
//! write, and one commit per delivery makes accepting a queue of commits (SQLite takes one
//! writer at a time; on PostgreSQL each commit is a round trip and a WAL flush). Instead the
//! receivers hand their entries to a writer task that stores everything queued (up to
//! [`MAX_BATCH`]) in one transaction and answers each. Under light load a batch is one
//! delivery, so latency is unchanged. Nothing is answered before its transaction commits, so a
//! crash loses no acknowledged delivery. A row the database refuses fails alone
//! ([`refline_store::write_isolating`]).
//!
//! The task starts on first use (the core is built outside the runtime in some doors) and ends
//! when the last clone of the core is dropped.
//!
//! The writer also says whether deliveries are arriving ([`InboxWriter::receiving`]): the inbox
//! worker then claims smaller batches, so that on an engine with one writer a receiver waits
//! less for the worker's turns (`worker.rs`).

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::{Duration, Instant},
};

use refline_store::{write_isolating, InboxEntry, Store, StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// Most deliveries in one transaction.
const MAX_BATCH: usize = 128;

struct Job {
    entry: InboxEntry,
    reply: oneshot::Sender<StoreResult<bool>>,
}

/// Hands received deliveries to the inbox's writer task.
#[derive(Clone)]
pub struct InboxWriter {
    store: Arc<dyn Store>,
    queue: Arc<OnceLock<mpsc::Sender<Job>>>,
    /// When a delivery was last handed over, in milliseconds after `since` (plus one, so that
    /// 0 means never).
    last_received: Arc<AtomicU64>,
    since: Instant,
}

impl InboxWriter {
    /// A writer over `store`; its task starts with the first delivery.
    pub fn new(store: Arc<dyn Store>) -> InboxWriter {
        InboxWriter {
            store,
            queue: Arc::new(OnceLock::new()),
            last_received: Arc::new(AtomicU64::new(0)),
            since: Instant::now(),
        }
    }

    /// Whether a delivery was handed to this writer within the last `within`.
    pub fn receiving(&self, within: Duration) -> bool {
        match self.last_received.load(Ordering::Relaxed) {
            0 => false,
            stamp => self.elapsed_ms().saturating_sub(stamp - 1) <= as_ms(within),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        as_ms(self.since.elapsed())
    }

    /// Stores `entry` with whatever else is queued; answers false for a redelivery.
    pub async fn insert(&self, entry: InboxEntry) -> StoreResult<bool> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(MAX_BATCH * 8);
            tokio::spawn(write_batches(self.store.clone(), rx));
            tx
        });
        self.last_received.store(self.elapsed_ms() + 1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        if queue.send(Job { entry, reply }).await.is_err() {
            return Err(StoreError::Unavailable("inbox writer stopped".into()));
        }
        answer.await.unwrap_or_else(|_| Err(StoreError::Unavailable("inbox writer stopped".into())))
    }
}

fn as_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

async fn write_batches(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (entries, replies): (Vec<_>, Vec<_>) = jobs.drain(..).map(|j| (j.entry, j.reply)).unzip();
        let outcomes = write_isolating(&entries, |part| {
            let store = store.clone();
            async move { store.insert_inbox_batch(&part).await }
        })
        .await;
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }
}

//! Group commit for conversions.
//!
//! Every recorded sale is a write, and SQLite takes one writer at a time; doing each sale in its
//! own transaction makes the write path a queue of round trips. Instead, requests hand their sale
//! to a writer task and wait for its outcome. The task takes everything queued (up to a batch
//! limit) and records it in one transaction with the same outcome as one by one (see
//! `refline_store::batch`). Under light load a batch is one sale, so latency is unchanged; under
//! heavy load batches grow and throughput with them. PostgreSQL runs a few writers so batches
//! also overlap their commits.
//!
//! Nothing is acknowledged before its transaction commits, so a crash loses no acknowledged
//! sale. On shutdown the server stops accepting requests, in-flight requests get their answers,
//! and the writers end once every sender is gone.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use refline_store::{
    write_isolating, PendingConversion, Pricer, RecordError, RecordOutcome, RecordRequest, Store, StoreError,
};
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinSet,
};

/// Most sales in one transaction.
const MAX_BATCH: usize = 256;

struct Job {
    pending: PendingConversion,
    reply: oneshot::Sender<RecordOutcome>,
}

/// Hands sales to the writer tasks.
#[derive(Clone)]
pub struct ConversionWriter {
    queues: Arc<Vec<mpsc::Sender<Job>>>,
    next: Arc<AtomicUsize>,
}

impl ConversionWriter {
    /// A writer with no task behind it: every sale through it is refused as unavailable. For
    /// cores that record no sales (the command line's connection and key commands).
    pub fn closed() -> ConversionWriter {
        let (tx, _) = mpsc::channel(1);
        ConversionWriter { queues: Arc::new(vec![tx]), next: Arc::new(AtomicUsize::new(0)) }
    }

    /// Starts `writers` writer tasks on `store`; they end when every clone of the writer is
    /// dropped and their queues are empty.
    pub fn start(store: Arc<dyn Store>, writers: usize) -> (ConversionWriter, JoinSet<()>) {
        let mut tasks = JoinSet::new();
        let queues = (0..writers.max(1))
            .map(|shard| {
                let (tx, rx) = mpsc::channel(MAX_BATCH * 8);
                tasks.spawn(write_batches(store.clone(), rx, shard));
                tx
            })
            .collect();
        (ConversionWriter { queues: Arc::new(queues), next: Arc::new(AtomicUsize::new(0)) }, tasks)
    }

    /// Records one sale and waits for its outcome.
    pub async fn record(&self, request: RecordRequest, price: Pricer) -> RecordOutcome {
        let (reply, outcome) = oneshot::channel();
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.queues.len();
        let job = Job { pending: PendingConversion { request, price }, reply };
        if self.queues[i].send(job).await.is_err() {
            return Err(StoreError::Unavailable("conversion writer stopped".into()).into());
        }
        outcome
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("conversion writer stopped".into()).into()))
    }
}

/// How often a batch that lost a deadlock or serialization race is run again.
const RETRIES: usize = 3;

async fn write_batches(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>, shard: usize) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        // Each writer adds to its own tally row, so parallel writers never wait on each other.
        let shard = i64::try_from(shard).unwrap_or(0);
        let (batch, replies): (Vec<_>, Vec<_>) = jobs
            .drain(..)
            .map(|mut j| {
                j.pending.request.tally_shard = shard;
                (j.pending, j.reply)
            })
            .unzip();
        // A sale the database refuses fails alone; the rest of the batch is committed.
        let outcomes = write_isolating(&batch, |part| record_with_retries(store.clone(), part)).await;
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let outcome = outcome.unwrap_or_else(|err| {
                tracing::error!(%err, "sale not recorded");
                Err(RecordError::Store(err))
            });
            let _ = reply.send(outcome);
        }
    }
}

/// Records `part` in one transaction, running it again when it lost a race (a failed
/// transaction wrote nothing, so it can be replayed as it was).
async fn record_with_retries(
    store: Arc<dyn Store>,
    part: Vec<PendingConversion>,
) -> Result<Vec<RecordOutcome>, StoreError> {
    let mut attempt = 0;
    loop {
        match store.record_conversions(part.clone()).await {
            Err(StoreError::Retryable(err)) if attempt < RETRIES => {
                tracing::warn!(%err, attempt, "conversion batch lost a race; retrying");
                attempt += 1;
            }
            other => return other,
        }
    }
}

//! Batching writer of clicks.
//!
//! A redirect hands its click to this writer and answers at once; it never waits on the
//! database. The writer task gathers clicks for a short window (50 ms by default, up to a batch
//! limit), classifies unique visitors, and stores the batch with its running totals in one
//! transaction, so one transaction carries many rows and the writer wakes rarely.
//!
//! What a crash can lose: the clicks of the current window and the batch being written — about
//! the window plus one write (tens of milliseconds; measured by `tests/it/crash.rs`, figures in
//! docs/BENCHMARKS.md). With `ack_after_commit` ([`ClickWriter::click_committed`]) a click is
//! answered only once its batch committed, and a crash loses none that were answered; such a
//! batch is written at once, without the window (what queued during the previous write forms
//! the next batch). On graceful shutdown the server stops accepting requests, and the writer
//! drains its queue before the process exits. Only if the queue fills up (the database has
//! stalled) does a redirect wait for room, so even then no answered click is dropped.

use std::{
    net::IpAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use refline_domain::{ClickKind, UniqueWindow, UNIQUE_WINDOW_MS};
use refline_store::{write_isolating, Click, ClickTally, ClickTotals, Store, StoreError};
use sha2::{Digest, Sha256};
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

use super::{
    cache::ResolvedLink,
    settings::TrackingSettings,
    visitor::{device_hash, VisitorHasher},
};

/// A click as a handler saw it, before hashing and unique counting.
#[derive(Debug, Clone)]
pub struct RawClick {
    /// `click_…`
    pub id: String,
    /// The link clicked (shared with the cache: no per-click copies of its ids).
    pub link: Arc<ResolvedLink>,
    /// `redirect`, `short_link` or `beacon`.
    pub source: &'static str,
    /// Client IP.
    pub ip: Option<IpAddr>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// Person or bot.
    pub kind: ClickKind,
    /// Landing page.
    pub landing_url: Option<String>,
    /// `Referer`.
    pub referrer: Option<String>,
    /// Unix ms.
    pub at_ms: i64,
}

enum Item {
    /// A click, and who waits for its batch to commit (`ack_after_commit`).
    Click(RawClick, Option<oneshot::Sender<()>>),
    /// A HEAD request on a link: counted, never a click.
    Head(Arc<ResolvedLink>),
}

/// Counters of the writer, for benchmarks and health.
#[derive(Debug, Default)]
pub struct ClickCounters {
    /// Clicks handed to the writer.
    pub accepted: AtomicU64,
    /// Clicks stored.
    pub stored: AtomicU64,
    /// Clicks given up on after the store kept failing during shutdown.
    pub lost: AtomicU64,
    /// Clicks the database refused to store (a value it cannot hold); logged and dropped alone.
    pub rejected: AtomicU64,
}

/// Hands clicks to the writer task.
#[derive(Clone)]
pub struct ClickWriter {
    queue: mpsc::Sender<Item>,
    counters: Arc<ClickCounters>,
}

impl ClickWriter {
    /// Starts the writer task; it ends once every clone of the writer is dropped and the queue
    /// is written.
    pub fn start(store: Arc<dyn Store>, settings: &TrackingSettings) -> (ClickWriter, JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(settings.queue_capacity.max(1));
        let counters = Arc::new(ClickCounters::default());
        // Several nodes share one PostgreSQL: a visitor's clicks may reach any of them.
        let shared_uniques = store.engine() == "postgres";
        let task = tokio::spawn(write_batches(
            store,
            rx,
            counters.clone(),
            settings.max_batch.max(1),
            settings.batch_window,
            settings.unique_capacity,
            shared_uniques,
        ));
        (ClickWriter { queue, counters }, task)
    }

    /// Queues a click.
    pub async fn click(&self, click: RawClick) {
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        self.enqueue(Item::Click(click, None)).await;
    }

    /// Queues a click and waits until its batch is written (or given up on: a click the
    /// database refuses, or a shutdown with the database down, still returns).
    pub async fn click_committed(&self, click: RawClick) {
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        let (done, written) = oneshot::channel();
        self.enqueue(Item::Click(click, Some(done))).await;
        // An error means the writer dropped the sender: it stopped, nothing more to wait for.
        let _ = written.await;
    }

    /// Queues a click, waiting for its batch to commit when `after_commit` (the server's
    /// `ack_after_commit` setting) before the caller answers.
    pub async fn submit(&self, click: RawClick, after_commit: bool) {
        if after_commit {
            self.click_committed(click).await;
        } else {
            self.click(click).await;
        }
    }

    /// Queues a HEAD count for `link`.
    pub async fn head(&self, link: Arc<ResolvedLink>) {
        self.enqueue(Item::Head(link)).await;
    }

    /// Clicks and head counts queued and not yet taken by the writer task.
    pub fn queue_depth(&self) -> usize {
        self.queue.max_capacity().saturating_sub(self.queue.capacity())
    }

    /// The writer's counters.
    pub fn counters(&self) -> Arc<ClickCounters> {
        self.counters.clone()
    }

    async fn enqueue(&self, item: Item) {
        // The fast path never yields; only a full queue (a stalled database) makes the
        // request wait, rather than dropping a click it is about to answer for.
        let item = match self.queue.try_send(item) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(item) | mpsc::error::TrySendError::Closed(item)) => item,
        };
        if self.queue.send(item).await.is_err() {
            tracing::error!("click writer stopped; click not recorded");
        }
    }
}

async fn write_batches(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Item>,
    counters: Arc<ClickCounters>,
    max_batch: usize,
    batch_window: Duration,
    unique_capacity: usize,
    shared_uniques: bool,
) {
    let mut window = UniqueWindow::new(unique_capacity);
    let mut visitors = VisitorHasher::default();
    let mut items = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut items, max_batch).await > 0 {
        // Let the batch fill for the window; senders meanwhile queue without waking us. Once the
        // queue is closed (shutdown) there is nothing to wait for. Nor when a visitor's answer
        // waits for this batch to commit (`ack_after_commit`): the window would be added to
        // every such answer, and batches still form by themselves, from what queues while the
        // previous batch is being written.
        let someone_waits = items.iter().any(|item| matches!(item, Item::Click(_, Some(_))));
        if items.len() < max_batch && !rx.is_closed() && !someone_waits {
            tokio::time::sleep(batch_window).await;
            while items.len() < max_batch {
                match rx.try_recv() {
                    Ok(item) => items.push(item),
                    Err(_) => break,
                }
            }
        }
        let mut clicks = Vec::with_capacity(items.len());
        let mut candidates = Vec::new();
        let mut heads = Vec::new();
        let mut waiting = Vec::new();
        for item in items.drain(..) {
            match item {
                Item::Click(raw, done) => {
                    waiting.extend(done);
                    let (click, visit) = prepare(store.as_ref(), &mut window, &mut visitors, raw).await;
                    if let Some(visit) = visit {
                        candidates.push((clicks.len(), visit));
                    }
                    clicks.push(click);
                }
                Item::Head(link) => heads.push(ClickTally {
                    merchant_id: link.target.merchant_id.clone(),
                    campaign_id: link.target.campaign_id.clone(),
                    affiliate_id: link.target.affiliate_id.clone(),
                    link_id: link.target.link_id.clone().unwrap_or_default(),
                    totals: ClickTotals { head_requests: 1, ..Default::default() },
                }),
            }
        }
        if shared_uniques {
            confirm_uniques(store.as_ref(), &mut window, &mut clicks, &candidates).await;
        }
        write_with_retry(store.as_ref(), &rx, &counters, &clicks, &heads).await;
        for done in waiting {
            let _ = done.send(());
        }
    }
}

/// Asks the memory every node shares which of this node's unique clicks are unique across the
/// cluster (another node may have counted the visitor within the hour); the others become
/// ordinary clicks and leave this node's memory, so the shared hour decides their next click.
/// If the database cannot answer, this node's own count stands.
async fn confirm_uniques(
    store: &dyn Store,
    window: &mut UniqueWindow<i64>,
    clicks: &mut [Click],
    candidates: &[(usize, i64)],
) {
    if candidates.is_empty() {
        return;
    }
    let visits: Vec<(i64, i64)> = candidates.iter().map(|(i, key)| (*key, clicks[*i].created_at)).collect();
    match store.claim_unique_visits(&visits, UNIQUE_WINDOW_MS).await {
        Ok(unique) => {
            let unique: std::collections::HashSet<i64> = unique.into_iter().collect();
            let mut counted = std::collections::HashSet::new();
            for (i, key) in candidates {
                // A key counts once per batch, for its first click.
                if !unique.contains(key) || !counted.insert(*key) {
                    clicks[*i].is_unique = false;
                    window.forget(key);
                }
            }
        }
        Err(err) => tracing::warn!(%err, "shared unique-visit memory unavailable; counting on this node"),
    }
}

/// The click to store, and its visit key when this node counts it unique.
async fn prepare(
    store: &dyn Store,
    window: &mut UniqueWindow<i64>,
    visitors: &mut VisitorHasher,
    raw: RawClick,
) -> (Click, Option<i64>) {
    let agent = raw.user_agent.as_deref().unwrap_or("");
    let visitor = visitors.hash(store, raw.at_ms, raw.ip, agent).await;
    let target = &raw.link.target;
    let key = visit_key(&visitor, &target.campaign_id, &target.affiliate_id, target.link_id.as_deref());
    let is_unique = raw.kind == ClickKind::Human && window.observe(key, raw.at_ms);
    let click = Click {
        id: raw.id,
        merchant_id: target.merchant_id.clone(),
        campaign_id: target.campaign_id.clone(),
        affiliate_id: target.affiliate_id.clone(),
        ip: raw.ip.map(|ip| ip.to_string()),
        device_hash: raw.user_agent.as_deref().map(device_hash),
        created_at: raw.at_ms,
        link_id: target.link_id.clone(),
        source: raw.source.to_string(),
        kind: raw.kind.as_str().to_string(),
        is_unique,
        // Whatever door a click came through, what a visitor sent is recorded without control
        // characters (PostgreSQL cannot store U+0000; none of them is meant in a URL).
        landing_url: raw.landing_url.map(visitor_text),
        referrer: raw.referrer.map(visitor_text),
    };
    (click, is_unique.then_some(key))
}

/// A visitor on a link, as 64 bits every node computes alike (a cryptographic hash rather
/// than std's hasher, whose output may differ between builds): the hosted link and the script
/// of one affiliate on one campaign are one link; each short link is its own.
fn visit_key(visitor: &[u8; 16], campaign_id: &str, affiliate_id: &str, link_id: Option<&str>) -> i64 {
    let mut hasher = Sha256::new();
    hasher.update(visitor);
    for part in [campaign_id, affiliate_id, link_id.unwrap_or("")] {
        hasher.update(part.as_bytes());
        hasher.update(b"\0");
    }
    let mut first = [0u8; 8];
    first.copy_from_slice(&hasher.finalize()[..8]);
    i64::from_be_bytes(first)
}

fn visitor_text(text: String) -> String {
    match refline_domain::strip_all_controls(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(clean) => clean,
    }
}

/// Stores a batch. A batch the database refuses (a value it cannot store) is split so that only
/// the clicks that cannot be written are dropped (logged and counted as `rejected`) and every
/// other click and count is kept: one hostile beacon never stops click recording.
async fn write_with_retry(
    store: &dyn Store,
    rx: &mpsc::Receiver<Item>,
    counters: &ClickCounters,
    clicks: &[Click],
    heads: &[ClickTally],
) {
    let err = match write_retrying(store, rx, counters, clicks, heads).await {
        Ok(()) => return,
        // Given up at shutdown (counted as lost by `write_retrying`).
        Err(err) if !err.is_row_fault() => return,
        Err(err) => err,
    };
    tracing::warn!(%err, clicks = clicks.len(), "click batch refused; isolating the rows at fault");
    if !heads.is_empty() {
        if let Err(err) = write_retrying(store, rx, counters, &[], heads).await {
            tracing::error!(%err, "HEAD counts not recorded");
        }
    }
    let results = write_isolating(clicks, |part: Vec<Click>| async move {
        write_retrying(store, rx, counters, &part, &[]).await.map(|()| vec![(); part.len()])
    })
    .await;
    for (click, result) in clicks.iter().zip(results) {
        if let Err(err) = result {
            if err.is_row_fault() {
                tracing::error!(%err, click = %click.id, merchant = %click.merchant_id, "click refused by the database; dropped");
                counters.rejected.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Tries until `clicks` and `heads` are stored in one transaction or a row of them is refused.
/// While the server runs, a failing database (an outage, a restart) only delays clicks (the
/// queue absorbs them); once shutting down, a few more attempts are made before the batch is
/// reported lost (and that error returned).
async fn write_retrying(
    store: &dyn Store,
    rx: &mpsc::Receiver<Item>,
    counters: &ClickCounters,
    clicks: &[Click],
    heads: &[ClickTally],
) -> Result<(), StoreError> {
    let mut delay = Duration::from_millis(50);
    let mut failures_while_closing = 0;
    loop {
        match store.record_clicks(clicks, heads).await {
            Ok(stored) => {
                counters.stored.fetch_add(stored as u64, Ordering::Relaxed);
                return Ok(());
            }
            Err(err) if err.is_row_fault() => return Err(err),
            Err(err) => {
                tracing::warn!(%err, clicks = clicks.len(), "storing clicks failed; retrying");
                if rx.is_closed() {
                    failures_while_closing += 1;
                    if failures_while_closing >= 5 {
                        tracing::error!(
                            clicks = clicks.len(),
                            "clicks lost: the store kept failing at shutdown"
                        );
                        counters.lost.fetch_add(clicks.len() as u64, Ordering::Relaxed);
                        return Err(err);
                    }
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

//! Batching writer of clicks.
//!
//! A redirect hands its click to this writer and answers at once; it never waits on the
//! database. The writer task gathers clicks for a short window (50 ms by default, up to a batch
//! limit), classifies unique visitors, and stores the batch with its running totals in one
//! transaction, so one transaction carries many rows and the writer wakes rarely.
//!
//! What a crash can lose: the clicks of the current window and the batch being written — about
//! the window plus one write (tens of milliseconds; measured in docs/BENCHMARKS.md). On graceful shutdown
//! the server stops accepting requests, and the writer drains its queue before the process
//! exits. Only if the queue fills up (the database has stalled) does a redirect wait for room,
//! so even then no answered click is dropped.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    net::IpAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use refline_domain::{ClickKind, UniqueWindow};
use refline_store::{write_isolating, Click, ClickTally, ClickTotals, Store, StoreError};
use tokio::{sync::mpsc, task::JoinHandle};

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
    Click(RawClick),
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
        let task = tokio::spawn(write_batches(
            store,
            rx,
            counters.clone(),
            settings.max_batch.max(1),
            settings.batch_window,
            settings.unique_capacity,
        ));
        (ClickWriter { queue, counters }, task)
    }

    /// Queues a click.
    pub async fn click(&self, click: RawClick) {
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        self.enqueue(Item::Click(click)).await;
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
) {
    let mut window = UniqueWindow::new(unique_capacity);
    let mut visitors = VisitorHasher::default();
    let mut items = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut items, max_batch).await > 0 {
        // Let the batch fill for the window; senders meanwhile queue without waking us. Once the
        // queue is closed (shutdown) there is nothing to wait for.
        if items.len() < max_batch && !rx.is_closed() {
            tokio::time::sleep(batch_window).await;
            while items.len() < max_batch {
                match rx.try_recv() {
                    Ok(item) => items.push(item),
                    Err(_) => break,
                }
            }
        }
        let mut clicks = Vec::with_capacity(items.len());
        let mut heads = Vec::new();
        for item in items.drain(..) {
            match item {
                Item::Click(raw) => {
                    clicks.push(prepare(store.as_ref(), &mut window, &mut visitors, raw).await)
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
        write_with_retry(store.as_ref(), &rx, &counters, &clicks, &heads).await;
    }
}

async fn prepare(
    store: &dyn Store,
    window: &mut UniqueWindow<u64>,
    visitors: &mut VisitorHasher,
    raw: RawClick,
) -> Click {
    let agent = raw.user_agent.as_deref().unwrap_or("");
    let visitor = visitors.hash(store, raw.at_ms, raw.ip, agent).await;
    let is_unique = raw.kind == ClickKind::Human && {
        let mut key = DefaultHasher::new();
        visitor.hash(&mut key);
        let target = &raw.link.target;
        (&target.campaign_id, &target.affiliate_id, &target.link_id).hash(&mut key);
        window.observe(key.finish(), raw.at_ms)
    };
    let target = &raw.link.target;
    Click {
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
    }
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

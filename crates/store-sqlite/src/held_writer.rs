//! The sales writer's hold on the one writer connection from one batch to the next.
//!
//! Every connection a pool hands back goes through a task sqlx spawns, which pings the
//! connection before the next `acquire` can have it; on a busy server that task waits behind the
//! HTTP tasks. Measured on `refline-bench conversions --keys 2000`: 2–3 ms of a 12 ms batch went
//! to acquiring the writer again after the previous batch had released it. So the batch writer
//! keeps the connection while batches follow each other — given back [`LINGER`] after its last
//! batch, and at the latest after [`MOST_HELD`], so that the audit writer, the click writer and
//! the dashboard's writes (which queue on the pool meanwhile) wait at most that long.

use std::{
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sqlx::{pool::PoolConnection, Sqlite, SqliteConnection, SqlitePool};

/// How long the connection stays held after a batch, for the next one.
const LINGER: Duration = Duration::from_millis(2);

/// The longest the connection is held in one go before it goes back to the pool's queue.
const MOST_HELD: Duration = Duration::from_millis(50);

/// The writer connection, held by the batch writer.
#[derive(Debug)]
pub(crate) struct HeldConnection {
    conn: PoolConnection<Sqlite>,
    /// When this hold began (acquired from the pool).
    since: Instant,
}

impl Deref for HeldConnection {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for HeldConnection {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

/// Where the held connection waits between batches.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeldWriter {
    slot: Arc<Mutex<Option<Parked>>>,
}

#[derive(Debug)]
struct Parked {
    held: HeldConnection,
    at: Instant,
}

impl HeldWriter {
    /// The held connection if it is still within its hold, else one from `pool` (queued behind
    /// whoever waits for it).
    pub(crate) async fn take(&self, pool: &SqlitePool) -> Result<HeldConnection, sqlx::Error> {
        let parked = self.slot.lock().ok().and_then(|mut slot| slot.take());
        match parked {
            Some(p) if p.held.since.elapsed() < MOST_HELD => Ok(p.held),
            // Past its hold: back to the pool first, so waiting writers have their turn.
            stale => {
                drop(stale);
                Ok(HeldConnection { conn: pool.acquire().await?, since: Instant::now() })
            }
        }
    }

    /// Keeps `held` for the next batch, giving it back [`LINGER`] later if none came; a
    /// connection that failed a batch goes back to the pool at once.
    pub(crate) fn park(&self, held: HeldConnection, healthy: bool) {
        if !healthy {
            return;
        }
        let at = Instant::now();
        let Ok(mut slot) = self.slot.lock() else { return };
        *slot = Some(Parked { held, at });
        drop(slot);
        let slot = self.slot.clone();
        tokio::spawn(async move {
            tokio::time::sleep(LINGER).await;
            let unused = slot.lock().ok().and_then(|mut s| s.take_if(|p| p.at == at));
            drop(unused);
        });
    }

    /// Gives the connection back now (before the pool closes).
    pub(crate) fn release(&self) {
        let parked = self.slot.lock().ok().and_then(|mut slot| slot.take());
        drop(parked);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::file_store_for_tests;

    /// A connection parked after the last batch goes back to the pool by itself: a write that
    /// is not a sale gets it a few ms later instead of never.
    #[tokio::test]
    async fn a_parked_connection_goes_back_to_the_pool() {
        let (_dir, _, store) = file_store_for_tests().await;
        let held = store.sales_connection().await.expect("held");
        store.release_sales_connection(held, true);
        let started = Instant::now();
        let other = tokio::time::timeout(Duration::from_secs(2), store.writer().acquire()).await;
        assert!(other.is_ok(), "the parked connection never went back to the pool");
        assert!(started.elapsed() < Duration::from_millis(500), "given back after {:?}", started.elapsed());
        drop(other);
        store.close().await;
    }

    /// Batches that follow each other keep the connection, yet another writer waiting for it
    /// gets its turn within about `MOST_HELD`.
    #[tokio::test]
    async fn a_busy_batch_writer_lets_other_writers_in() {
        let (_dir, _, store) = file_store_for_tests().await;
        let batches = {
            let store = store.clone();
            tokio::spawn(async move {
                let (started, mut kept) = (Instant::now(), 0);
                while started.elapsed() < Duration::from_millis(600) {
                    let parked = store.held.slot.lock().map(|slot| slot.is_some()).unwrap_or(false);
                    let mut held = store.sales_connection().await.expect("held");
                    kept += usize::from(parked);
                    sqlx::query("SELECT 1").execute(&mut *held).await.expect("batch");
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    store.release_sales_connection(held, true);
                }
                kept
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let other = tokio::time::timeout(Duration::from_secs(2), store.writer().acquire()).await;
        let waited = started.elapsed();
        assert!(other.is_ok(), "another writer never got the connection");
        drop(other);
        let kept = batches.await.expect("batches");
        assert!(waited < Duration::from_millis(300), "another writer waited {waited:?}");
        assert!(kept > 0, "no batch kept the connection of the one before");
        store.close().await;
    }
}

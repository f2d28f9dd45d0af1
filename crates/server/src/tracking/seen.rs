//! The "script seen" signal: the first script load or beacon of a merchant is remembered, so a
//! setup checklist can say tracking is installed.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use refline_store::Store;

/// Merchants this node already recorded as seen; later loads cost nothing.
#[derive(Debug, Default)]
pub struct SeenMerchants {
    recorded: Mutex<HashSet<String>>,
}

/// Past this many merchants the memory is dropped (the store write is idempotent).
const CAPACITY: usize = 100_000;

impl SeenMerchants {
    /// Records `merchant_id` (an existing merchant) as seen, in the background, once per node.
    pub fn note(&self, store: &Arc<dyn Store>, merchant_id: &str, now_ms: i64) {
        {
            let Ok(mut recorded) = self.recorded.lock() else { return };
            if recorded.contains(merchant_id) {
                return;
            }
            if recorded.len() >= CAPACITY {
                recorded.clear();
            }
            recorded.insert(merchant_id.to_string());
        }
        let store = store.clone();
        let merchant_id = merchant_id.to_string();
        tokio::spawn(async move {
            if let Err(err) = store.mark_tracking_seen(&merchant_id, now_ms).await {
                tracing::warn!(%err, "recording that the tracking script ran failed");
            }
        });
    }
}

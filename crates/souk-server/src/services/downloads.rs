//! Download counting off the request's critical path: a download adds one to an in-memory tally
//! (a mutex held for a hash-map increment), and a background task writes the tallies to the
//! database every few seconds and at shutdown, one transaction per flush. A crash loses at most
//! the last few seconds of counts, which is the accepted price of not writing on every download.

use souk_core::Timestamp;
use souk_store::DynStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub struct DownloadCounter {
    pending: Arc<Mutex<HashMap<(i64, i64), i64>>>,
    store: DynStore,
}

const DAY_MILLIS: i64 = 24 * 3600 * 1000;

impl DownloadCounter {
    pub fn new(store: DynStore) -> Self {
        Self {
            pending: Arc::default(),
            store,
        }
    }

    pub fn record(&self, version_id: i64) {
        let day = Timestamp::now().millis().div_euclid(DAY_MILLIS);
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        *pending.entry((version_id, day)).or_default() += 1;
    }

    /// Writes what has been counted so far. On failure the counts are put back for the next try.
    pub async fn flush(&self) {
        let batch: Vec<(i64, i64, i64)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().map(|((v, d), n)| (v, d, n)).collect()
        };
        if batch.is_empty() {
            return;
        }
        if let Err(e) = self.store.record_downloads(&batch).await {
            tracing::warn!(error = %e, "could not record download counts; will retry");
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (v, d, n) in batch {
                *pending.entry((v, d)).or_default() += n;
            }
        }
    }

    /// Flushes every `every` until the task is dropped.
    pub async fn run(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            self.flush().await;
        }
    }
}

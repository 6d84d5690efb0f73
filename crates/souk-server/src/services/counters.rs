//! Counting downloads and page views off the request's critical path: an event adds one to an
//! in-memory tally (a mutex held for a hash-map increment), and a background task writes the
//! tallies to the database every few seconds and at shutdown, one transaction per flush. A crash
//! loses at most the last few seconds of counts, which is the accepted price of not writing on
//! every request.

use souk_core::Timestamp;
use souk_store::DynStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a counter counts, and so where its tallies go.
#[derive(Clone, Copy, Debug)]
pub enum Tally {
    /// Per version: `record_downloads`.
    Downloads,
    /// Per module: `record_views`.
    Views,
}

/// Daily counts per id (a version for downloads, a module for views).
#[derive(Clone)]
pub struct DailyCounter {
    pending: Arc<Mutex<HashMap<(i64, i64), i64>>>,
    store: DynStore,
    tally: Tally,
}

impl DailyCounter {
    pub fn new(store: DynStore, tally: Tally) -> Self {
        Self {
            pending: Arc::default(),
            store,
            tally,
        }
    }

    pub fn record(&self, id: i64) {
        let day = Timestamp::now().day();
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        *pending.entry((id, day)).or_default() += 1;
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
        let written = match self.tally {
            Tally::Downloads => self.store.record_downloads(&batch).await,
            Tally::Views => self.store.record_views(&batch).await,
        };
        if let Err(e) = written {
            tracing::warn!(error = %e, tally = ?self.tally, "could not record counts; will retry");
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

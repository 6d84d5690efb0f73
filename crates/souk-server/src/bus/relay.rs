//! The relay: publishes what the outbox holds, oldest first, and marks it published. Every node
//! runs one. Two relays may publish the same event at once; the bus then carries it twice (NATS
//! drops the second copy by its id) and consumers are idempotent either way. A relay killed
//! between publishing and marking publishes the event again when it (or another node) runs next.

use super::Bus;
use souk_core::Timestamp;
use souk_store::DynStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How many events one pass takes.
const BATCH: u32 = 200;

#[derive(Clone)]
pub struct Relay {
    store: DynStore,
    bus: Bus,
    wake: Arc<Notify>,
}

impl Relay {
    pub fn new(store: DynStore, bus: Bus) -> Self {
        Self {
            store,
            bus,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Tells the relay that this node just wrote events, so it publishes them at once.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Publishes what is pending until none is; answers how many events went out. Stops at the
    /// first event the bus refuses (it stays pending, with those after it).
    pub async fn relay_pending(&self) -> anyhow::Result<usize> {
        let mut sent = 0;
        loop {
            let events = self.store.pending_events(BATCH).await?;
            if events.is_empty() {
                return Ok(sent);
            }
            let mut published = Vec::with_capacity(events.len());
            let mut failure = None;
            for event in &events {
                match self.bus.publish(event).await {
                    Ok(()) => published.push(event.id),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            self.store
                .mark_published(&published, Timestamp::now())
                .await?;
            sent += published.len();
            if let Some(e) = failure {
                return Err(e.context(format!(
                    "{} events wait in the outbox",
                    events.len() - published.len()
                )));
            }
        }
    }

    /// Relays until the process ends: at once when woken, otherwise every `every`.
    pub async fn run(self, every: Duration) {
        let mut failing = false;
        loop {
            match self.relay_pending().await {
                Ok(_) if failing => {
                    failing = false;
                    tracing::info!(bus = self.bus.kind(), "relay: the bus takes events again");
                }
                Ok(_) => {}
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(
                        error = format!("{e:#}"),
                        bus = self.bus.kind(),
                        "relay: cannot publish; will retry"
                    );
                }
                Err(_) => {}
            }
            let _ = tokio::time::timeout(every, self.wake.notified()).await;
        }
    }
}

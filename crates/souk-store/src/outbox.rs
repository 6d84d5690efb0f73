//! The outbox: events written in the same transaction as the change they announce, and
//! published afterwards by each node's relay on the bus. Catalog changes write theirs through a
//! database trigger on the search change log (migration 0010), so no write can forget its event.
//! An event is published at least once; its id goes with it (`Nats-Msg-Id`), and every consumer
//! is idempotent, so an event published twice (a relay killed between publishing and marking)
//! still takes effect once.

use crate::StoreResult;
use souk_core::Timestamp;

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub id: i64,
    /// What happened, such as `catalog.changed`; also the bus subject's last part.
    pub topic: String,
    /// JSON.
    pub payload: String,
    pub created_at: Timestamp,
}

/// The topic of a catalog change (a module, its versions, tags or publisher changed).
pub const CATALOG_CHANGED: &str = "catalog.changed";

#[async_trait::async_trait]
pub trait OutboxStore {
    /// Adds an event on its own, for changes that have no transaction of their own to share.
    async fn append_event(&self, topic: &str, payload: &str, now: Timestamp) -> StoreResult<i64>;
    /// Events not yet published, oldest first, at most `limit`.
    async fn pending_events(&self, limit: u32) -> StoreResult<Vec<OutboxEvent>>;
    /// Marks events as published (ids that are already marked are left as they are).
    async fn mark_published(&self, ids: &[i64], now: Timestamp) -> StoreResult<()>;
    /// Deletes published events older than `before`; answers how many.
    async fn prune_outbox(&self, before: Timestamp) -> StoreResult<u64>;
}

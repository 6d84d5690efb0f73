//! Discovery: what the search index is built from, the change log that keeps every node's index
//! current, module page views, and the featured list.
//!
//! The change log (`search_changes`) is written by database triggers on modules, versions, tags,
//! publishers and categories, so it commits with the change it describes and no code path can
//! forget it. A node reads it in id order from where its index left off; see the server's search
//! follower for how it copes with ids that commit out of order.

use crate::{Module, StoreResult};
use souk_core::Timestamp;

/// One entry of the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchChange {
    pub id: i64,
    pub module_id: Option<i64>,
    pub publisher_id: Option<i64>,
}

impl SearchChange {
    /// A row naming neither a module nor a publisher: every node rebuilds its whole index.
    pub fn is_rebuild(&self) -> bool {
        self.module_id.is_none() && self.publisher_id.is_none()
    }
}

/// A module as search sees it: listed (public, not archived, with a published version, from a
/// publisher that is not suspended), with what its latest version adds.
#[derive(Debug, Clone)]
pub struct IndexDoc {
    pub module: Module,
    pub publisher_verified: bool,
    /// The latest version's host-platform range.
    pub platform: String,
    pub license: String,
    /// When the latest version was published: "recently updated" sorts by it.
    pub published_at: Timestamp,
}

/// Downloads and page views of one module on one day (days since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayActivity {
    pub module_id: i64,
    pub day: i64,
    pub downloads: i64,
    pub views: i64,
}

#[async_trait::async_trait]
pub trait DiscoveryStore {
    /// Change-log rows with an id above `after`, oldest first.
    async fn search_changes_after(&self, after: i64, limit: u32) -> StoreResult<Vec<SearchChange>>;
    /// The highest change id (0 when the log is empty).
    async fn last_search_change(&self) -> StoreResult<i64>;
    /// The lowest change id still kept, if any: a node whose index is older than the log rebuilds.
    async fn first_search_change(&self) -> StoreResult<Option<i64>>;
    /// Appends a row that asks every node to rebuild its index; answers its id.
    async fn request_search_rebuild(&self, now: Timestamp) -> StoreResult<i64>;
    /// Deletes change-log rows written before `before`, always keeping the newest.
    async fn prune_search_changes(&self, before: Timestamp) -> StoreResult<u64>;
    /// Listed modules with an id above `after_id`, by id: a full rebuild reads them in pages.
    async fn index_docs(&self, after_id: i64, limit: u32) -> StoreResult<Vec<IndexDoc>>;
    /// The listed ones among these modules; an id missing from the answer is not listed.
    async fn index_docs_of(&self, module_ids: &[i64]) -> StoreResult<Vec<IndexDoc>>;
    /// Every module of a publisher, listed or not.
    async fn module_ids_of_publisher(&self, publisher_id: i64) -> StoreResult<Vec<i64>>;
    /// Downloads and views per module per day from `since_day` on; only these modules when
    /// `module_ids` is given.
    async fn activity_since(
        &self,
        since_day: i64,
        module_ids: Option<&[i64]>,
    ) -> StoreResult<Vec<DayActivity>>;
    /// Adds counted page views: `(module_id, day, count)`.
    async fn record_views(&self, counts: &[(i64, i64, i64)]) -> StoreResult<()>;
    /// Daily page views of a module from `since_day` on: `(day, count)`, by day.
    async fn module_views_by_day(
        &self,
        module_id: i64,
        since_day: i64,
    ) -> StoreResult<Vec<(i64, i64)>>;
    /// The featured modules that are listed, in the admins' order.
    async fn featured(&self) -> StoreResult<Vec<Module>>;
    /// Every featured module id in order, listed or not (the admin page shows them all).
    async fn featured_ids(&self) -> StoreResult<Vec<i64>>;
    /// Replaces the featured list with these modules, in this order, in one transaction.
    /// `NotFound` when a module does not exist.
    async fn set_featured(&self, module_ids: &[i64], by: i64, now: Timestamp) -> StoreResult<()>;
}

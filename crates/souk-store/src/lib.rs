//! Souk's storage contract: one narrow trait per aggregate, the row types they speak, and
//! [`StoreError`]. Two backends implement it (`souk-store-sqlite`, `souk-store-postgres`) from the
//! same SQL text, written once in [`sql_store_impls!`]; the [`conformance`] suite runs every store
//! test against both so that they cannot drift.
//!
//! Convention: times are [`souk_core::Timestamp`] (integer milliseconds, UTC) in every column;
//! ids are database-assigned 64-bit integers; a unique-constraint clash is
//! [`StoreError::Conflict`] naming the column, so the API can answer 409 with the field.

pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod conformance;
mod conformance_audit;
mod conformance_catalog;
mod conformance_discovery;
mod conformance_moderation;
mod conformance_publisher_keys;
mod conformance_unit;
pub mod dialect;
pub mod discovery;
pub mod idempotency;
pub mod jobs;
pub mod migrate;
pub mod moderation;
pub mod outbox;
pub mod publisher_keys;
pub mod sessions;
pub mod sql;
pub mod sql_audit;
pub mod sql_catalog;
pub mod sql_discovery;
pub mod sql_jobs;
pub mod sql_moderation;
pub mod sql_outbox;
pub mod sql_publisher_keys;
pub mod sql_trust;
pub mod sql_versions;
pub mod throttle;
pub mod tokens;
pub mod trust;

pub use accounts::{AccountStore, NewUser, User};
pub use audit::{
    ActionFilter, ActorFilter, AuditActor, AuditEntry, AuditFilter, AuditStore, NewAuditEntry,
};
pub use catalog::{
    Category, CategoryStore, ImageRef, Member, MemberRole, Module, ModuleQuery, ModuleSort,
    ModuleStore, ModuleUpdate, NewModule, NewVersion, PackageFileRow, PublishTarget, Publisher,
    PublisherProfile, PublisherStore, Screenshot, Version, VersionStatus, VersionStore, Visibility,
    category_ancestry,
};
pub use discovery::{DayActivity, DiscoveryStore, IndexDoc, SearchChange};
pub use idempotency::{IdempotencyRecord, IdempotencyStore};
pub use jobs::{Job, JobInfo, JobStatus, JobStore};
pub use migrate::Migration;
pub use moderation::{
    ModerationStore, NewPublisherMessage, PublisherFilter, PublisherMessage, QueueEntry,
    StatusChange, StoredFinding,
};
pub use outbox::{CATALOG_CHANGED, OutboxEvent, OutboxStore};
pub use publisher_keys::{NewPublisherKey, PublisherKey, PublisherKeyStore};
pub use sessions::{NewSession, Session, SessionStore};
pub use throttle::ThrottleStore;
pub use tokens::{ApiToken, NewApiToken, TokenStore};
pub use trust::{PublishedKey, TrustStore};

use std::sync::Arc;

#[doc(hidden)]
pub use semver as __semver;
#[doc(hidden)]
pub use serde as __serde;
#[doc(hidden)]
pub use serde_json as __serde_json;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; `field` is the column that clashed.
    #[error("`{field}` is already taken")]
    Conflict { field: String },
    /// A stored value that does not parse back into its domain type.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Connection pool figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Every repository, as one set: what a store offers, and what a unit of work offers. Each
/// backend's store type implements it (in [`sql_store_impls!`]).
pub trait Repositories:
    AccountStore
    + SessionStore
    + TokenStore
    + ThrottleStore
    + IdempotencyStore
    + PublisherStore
    + CategoryStore
    + ModuleStore
    + VersionStore
    + DiscoveryStore
    + TrustStore
    + ModerationStore
    + JobStore
    + OutboxStore
    + PublisherKeyStore
    + AuditStore
    + Send
    + Sync
{
}

/// A unit of work: every repository, each statement running in one transaction that
/// [`StoreTx::commit`] commits. Dropped without a commit (an error returned with `?`, a panic,
/// a cancelled request), it rolls back and nothing of it is stored.
///
/// Inside a unit, a repository method that uses a transaction of its own runs in a savepoint
/// of the unit's. A statement that fails inside a unit fails the unit: on PostgreSQL the
/// transaction cannot go on after an error, so the unit is given up and begun again, never
/// continued.
#[async_trait::async_trait]
pub trait StoreTx: Repositories {
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// An open unit of work.
pub type Tx = Box<dyn StoreTx>;

/// Everything the server needs from a backend. Chosen once at start-up from the database URL.
#[async_trait::async_trait]
pub trait Store: Repositories + 'static {
    /// Starts a unit of work. On SQLite it takes the write lock at once (see
    /// [`dialect::Dialect::begin`]): keep units short, and never wait on the store itself (as
    /// opposed to the unit) inside one.
    async fn begin(&self) -> StoreResult<Tx>;
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Applies the migrations this binary carries that the database has not seen.
    async fn migrate(&self) -> StoreResult<()>;
    /// Answers when the database can run a query.
    async fn ping(&self) -> StoreResult<()>;
    fn pool_stats(&self) -> PoolStats;
    /// Tables and their columns, sorted: lets a test prove both schemas match.
    async fn schema(&self) -> StoreResult<Vec<(String, Vec<String>)>>;
    async fn close(&self);
}

pub type DynStore = Arc<dyn Store>;

//! Publishers' own signing keys: the Ed25519 public keys (minisign format) a publisher registers
//! so that the registry can check the signatures its uploads carry, and anyone can check them
//! again later.
//!
//! A key id (minisign's 8 random bytes, as 16 upper-case hex digits) names one key across the
//! whole registry: registering an id that any publisher already registered is
//! `Conflict { field: "id" }`, so a signature's key id points at exactly one publisher. Keys are
//! never deleted, only revoked: a revoked key still explains the versions it signed before, but
//! no new upload may use it.

use crate::StoreResult;
use souk_core::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherKey {
    /// minisign key id, 16 upper-case hex digits.
    pub id: String,
    pub publisher_id: i64,
    /// The minisign public key line (`minisign -P` takes it).
    pub public_key: String,
    /// A label its publisher chose ("release laptop", "CI").
    pub name: String,
    /// Who registered it; `None` once that account is gone.
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewPublisherKey {
    pub id: String,
    pub publisher_id: i64,
    pub public_key: String,
    pub name: String,
    pub created_by: i64,
}

#[async_trait::async_trait]
pub trait PublisherKeyStore {
    /// Registers a key. `Conflict { field: "id" }` when any publisher registered that id before
    /// (revoked or not).
    async fn add_publisher_key(
        &self,
        key: &NewPublisherKey,
        now: Timestamp,
    ) -> StoreResult<PublisherKey>;
    /// A publisher's keys, revoked ones included, oldest first.
    async fn publisher_keys(&self, publisher_id: i64) -> StoreResult<Vec<PublisherKey>>;
    /// One of a publisher's keys; `NotFound` when the id is not one of theirs.
    async fn publisher_key(&self, publisher_id: i64, id: &str) -> StoreResult<PublisherKey>;
    /// Revokes one of a publisher's keys and answers it. Revoking a revoked key changes nothing
    /// (the first `revoked_at` stays). `NotFound` when the id is not one of theirs.
    async fn revoke_publisher_key(
        &self,
        publisher_id: i64,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<PublisherKey>;
}

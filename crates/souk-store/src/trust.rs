//! Package trust: the public halves of the registry's signing keys.
//!
//! Secret keys live in files outside the database (see the server's `signing` module); each node
//! records the public part of every key it holds here at start, and `GET /api/v1/keys` answers
//! from this table, so all nodes publish the same set.

use crate::StoreResult;
use souk_core::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    /// minisign key id, 16 hex digits.
    pub id: String,
    /// The minisign public key line.
    pub public_key: String,
    pub created_at: Timestamp,
    pub valid_from: Timestamp,
    pub valid_until: Option<Timestamp>,
}

#[async_trait::async_trait]
pub trait TrustStore {
    /// Records a key, or updates its validity window when it is known. `Conflict { field: "id" }`
    /// when the id is known with another public key.
    async fn publish_signing_key(&self, key: &PublishedKey) -> StoreResult<()>;
    /// Every recorded key, oldest `valid_from` first.
    async fn signing_keys(&self) -> StoreResult<Vec<PublishedKey>>;
}

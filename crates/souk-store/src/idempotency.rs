//! Stored answers for `Idempotency-Key`, with Stripe's semantics: the same key with the same
//! request answers the stored response; with another request it is refused.

use crate::StoreResult;
use souk_core::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Whose key this is (`user:42`, `host:7`): keys never collide across callers.
    pub scope: String,
    pub key: String,
    /// SHA-256 of method, path and body of the first request.
    pub request_hash: String,
    /// `None` while the first request is still being handled.
    pub response_status: Option<u16>,
    pub response_body: Option<String>,
    pub created_at: Timestamp,
}

#[async_trait::async_trait]
pub trait IdempotencyStore {
    /// Claims the key for a new request. `Conflict { field: "idempotency_key" }` when the key is
    /// already known; then read it with [`IdempotencyStore::idempotency_get`].
    async fn idempotency_claim(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now: Timestamp,
    ) -> StoreResult<()>;
    async fn idempotency_get(&self, scope: &str, key: &str) -> StoreResult<IdempotencyRecord>;
    async fn idempotency_complete(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()>;
    /// Forgets a claim whose request failed without a stored answer, so a retry can run.
    async fn idempotency_release(&self, scope: &str, key: &str) -> StoreResult<()>;
    async fn prune_idempotency(&self, before: Timestamp) -> StoreResult<u64>;
}

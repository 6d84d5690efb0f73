//! Failed sign-in attempts, keyed by account (`email:...`) and by client address (`ip:...`), kept
//! in the database so that every server node sees the same count.

use crate::StoreResult;
use souk_core::Timestamp;

#[async_trait::async_trait]
pub trait ThrottleStore {
    async fn record_login_failure(&self, key: &str, now: Timestamp) -> StoreResult<()>;
    /// How many failures `key` has since `since`, and when the oldest of them happened.
    async fn login_failures_since(
        &self,
        key: &str,
        since: Timestamp,
    ) -> StoreResult<(i64, Option<Timestamp>)>;
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;
    async fn prune_login_failures(&self, before: Timestamp) -> StoreResult<u64>;
}

//! Sign-in sessions: the web UI's cookie and the bearer token `POST /auth/login` answers. Stored by
//! the SHA-256 of the secret, never the secret.

use crate::{StoreResult, User};
use souk_core::Timestamp;

#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub user_agent: String,
    pub client_ip: String,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub user_id: i64,
    pub token_hash: String,
    pub expires_at: Timestamp,
    pub user_agent: String,
    pub client_ip: String,
}

#[async_trait::async_trait]
pub trait SessionStore {
    async fn create_session(&self, new: &NewSession, now: Timestamp) -> StoreResult<Session>;
    /// The live session with this token hash and its user; `NotFound` when unknown or expired.
    async fn session_by_token_hash(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<(Session, User)>;
    async fn touch_session(&self, id: i64, now: Timestamp) -> StoreResult<()>;
    async fn delete_session(&self, id: i64) -> StoreResult<()>;
    async fn list_sessions(&self, user_id: i64, now: Timestamp) -> StoreResult<Vec<Session>>;
    /// Removes expired sessions; answers how many.
    async fn prune_sessions(&self, now: Timestamp) -> StoreResult<u64>;
}

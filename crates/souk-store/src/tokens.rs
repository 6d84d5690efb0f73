//! Personal API tokens: named, scoped, optionally expiring, revocable, stored as SHA-256 hashes.

use crate::{StoreResult, User};
use souk_core::{Scopes, Timestamp};

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The first characters of the secret, for telling tokens apart in lists.
    pub display_prefix: String,
    pub scopes: Scopes,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// The token this one was created with; `None` when made from a signed-in session.
    pub parent_id: Option<i64>,
}

impl ApiToken {
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub user_id: i64,
    pub name: String,
    pub token_hash: String,
    pub display_prefix: String,
    pub scopes: Scopes,
    pub expires_at: Option<Timestamp>,
    pub parent_id: Option<i64>,
}

#[async_trait::async_trait]
pub trait TokenStore {
    async fn create_token(&self, new: &NewApiToken, now: Timestamp) -> StoreResult<ApiToken>;
    /// The token with this hash and its user, live or not: the caller decides what an expired or
    /// revoked token means.
    async fn token_by_hash(&self, hash: &str) -> StoreResult<(ApiToken, User)>;
    /// The user's tokens, newest first, revoked ones included: at most `limit` with an id below
    /// `before_id` (the cursor of the previous page).
    async fn list_tokens(
        &self,
        user_id: i64,
        before_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ApiToken>>;
    /// One of the user's own tokens, live or not; `NotFound` for another user's or an unknown id.
    async fn token(&self, user_id: i64, token_id: i64) -> StoreResult<ApiToken>;
    /// Revokes one of the user's own tokens and every token created with it, with them and so
    /// on down; `NotFound` for another user's or an unknown id.
    async fn revoke_token(&self, user_id: i64, token_id: i64, now: Timestamp) -> StoreResult<()>;
    async fn touch_token(&self, token_id: i64, now: Timestamp) -> StoreResult<()>;
}

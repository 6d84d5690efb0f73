//! Users: identity, role and password hash.

use crate::StoreResult;
use souk_core::{Email, PasswordHash, Role, Timestamp};

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    pub password_hash: PasswordHash,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    pub password_hash: PasswordHash,
}

#[async_trait::async_trait]
pub trait AccountStore {
    /// Creates a user; `Conflict { field: "email" }` when the address is taken.
    async fn create_user(&self, new: &NewUser, now: Timestamp) -> StoreResult<User>;
    async fn user_by_id(&self, id: i64) -> StoreResult<User>;
    async fn user_by_email(&self, email: &Email) -> StoreResult<User>;
    async fn update_display_name(
        &self,
        user_id: i64,
        name: &str,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Sets a new password hash and ends every session of the user except `keep_session`, in one
    /// transaction: after a password change, a stolen session must not outlive it.
    async fn update_password(
        &self,
        user_id: i64,
        hash: &PasswordHash,
        keep_session: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<()>;
    async fn count_users(&self) -> StoreResult<i64>;
}

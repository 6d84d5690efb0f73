//! What a client sees: the JSON shapes the API answers and the parts of them the web pages show
//! too, and the query parameters both read. Shared by `api` and `web`, which do not import from
//! each other. Kept apart from store rows so that a column added to a table never leaks into a
//! response by accident.

pub mod audit;
pub mod catalog;
pub mod jobs;
pub mod moderation;

use serde::Serialize;
use souk_store::{ApiToken, User};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    /// `admin`, `moderator` or `user`.
    pub role: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.to_string(),
            display_name: u.display_name.clone(),
            role: u.role.to_string(),
            created_at: u.created_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// The first characters of the secret, to tell tokens apart.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<&ApiToken> for TokenView {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            prefix: t.display_prefix.clone(),
            scopes: t.scopes.names().into_iter().map(str::to_owned).collect(),
            created_at: t.created_at.to_rfc3339(),
            expires_at: t.expires_at.map(|x| x.to_rfc3339()),
            last_used_at: t.last_used_at.map(|x| x.to_rfc3339()),
            revoked_at: t.revoked_at.map(|x| x.to_rfc3339()),
        }
    }
}

/// A page of a list. Pass `next_cursor` back as `cursor` for the next page; it is `null` on the
/// last page.
#[derive(Serialize, ToSchema)]
pub struct TokenPage {
    pub items: Vec<TokenView>,
    pub next_cursor: Option<String>,
}

//! Who may do what, for the rules that hang on a user's site role. Every service that needs
//! "administrators only" or "moderators and administrators" asks here, so the rule and its
//! answer (403 with the same words) are written once.
//!
//! It also declares, in one table ([`API`]), what every API route asks of its caller: whether
//! it needs a credential, which scope a personal token must hold, or a password session. The
//! extractors that resolve the caller ([`crate::extract::ApiUser`], `MaybeApiUser`) apply the
//! route's entry before any handler runs, so a handler cannot forget a scope check, and a route
//! missing from the table answers 500 instead of running unchecked; a test walks the OpenAPI
//! document and fails on any operation the table does not declare.
//!
//! Membership of a publisher and visibility of private modules are still decided in the
//! catalog service.

use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use souk_core::{Role, Scope};
use souk_store::User;

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone. A credential, when one is sent, must be valid, and a personal token must hold
    /// `read`: with it the caller may see their own private objects.
    Open,
    /// A signed-in caller; a personal token must hold this scope.
    Scope(Scope),
    /// A signed-in caller with any credential. What it may do depends on the target and is
    /// decided by the service: managing tokens needs every scope of the token made or revoked
    /// (a token may always revoke itself); signing out ends the caller's own session.
    Credential,
    /// A password session only, never a personal token: account settings, so that a leaked
    /// token cannot take the account over.
    Session,
}

impl Access {
    /// 403 when `principal` may not call a route that asks this (401 is the extractor's, for
    /// a missing or unknown credential).
    pub fn admit(self, principal: &Principal) -> AppResult<()> {
        match self {
            Access::Open => principal.require_scope(Scope::Read),
            Access::Scope(scope) => principal.require_scope(scope),
            Access::Credential => Ok(()),
            Access::Session => principal.require_session(),
        }
        .map_err(AppError::from)
    }
}

use Access::{Credential as AnyCredential, Open, Scope as Needs, Session};
use Scope::{Admin, Publish, Read};

/// Every API route: method, path as the router and the OpenAPI document write it, and what it
/// asks of its caller.
pub const API: &[(&str, &str, Access)] = &[
    // Accounts.
    ("POST", "/api/v1/auth/register", Open),
    ("POST", "/api/v1/auth/login", Open),
    ("POST", "/api/v1/auth/logout", AnyCredential),
    ("GET", "/api/v1/me", Needs(Read)),
    ("PATCH", "/api/v1/me", Session),
    ("POST", "/api/v1/me/password", Session),
    ("GET", "/api/v1/me/publishers", Needs(Read)),
    ("GET", "/api/v1/tokens", Needs(Read)),
    ("POST", "/api/v1/tokens", AnyCredential),
    ("DELETE", "/api/v1/tokens/{id}", AnyCredential),
    // Publishers.
    ("POST", "/api/v1/publishers", Needs(Publish)),
    ("GET", "/api/v1/publishers/{slug}", Open),
    ("PATCH", "/api/v1/publishers/{slug}", Needs(Publish)),
    ("PUT", "/api/v1/publishers/{slug}/logo", Needs(Publish)),
    ("GET", "/api/v1/publishers/{slug}/members", Needs(Read)),
    ("POST", "/api/v1/publishers/{slug}/members", Needs(Publish)),
    (
        "PATCH",
        "/api/v1/publishers/{slug}/members/{user_id}",
        Needs(Publish),
    ),
    (
        "DELETE",
        "/api/v1/publishers/{slug}/members/{user_id}",
        Needs(Publish),
    ),
    ("GET", "/api/v1/publishers/{slug}/keys", Open),
    ("POST", "/api/v1/publishers/{slug}/keys", Needs(Publish)),
    (
        "DELETE",
        "/api/v1/publishers/{slug}/keys/{id}",
        Needs(Publish),
    ),
    (
        "POST",
        "/api/v1/publishers/{slug}/verification",
        Needs(Publish),
    ),
    ("GET", "/api/v1/publishers/{slug}/messages", Needs(Read)),
    (
        "POST",
        "/api/v1/publishers/{slug}/messages/read",
        Needs(Publish),
    ),
    // Modules and media.
    ("GET", "/api/v1/modules", Open),
    ("POST", "/api/v1/modules", Needs(Publish)),
    ("GET", "/api/v1/modules/{name}", Open),
    ("PATCH", "/api/v1/modules/{name}", Needs(Publish)),
    ("POST", "/api/v1/modules/{name}/archive", Needs(Publish)),
    ("POST", "/api/v1/modules/{name}/unarchive", Needs(Publish)),
    ("PUT", "/api/v1/modules/{name}/icon", Needs(Publish)),
    ("POST", "/api/v1/modules/{name}/screenshots", Needs(Publish)),
    (
        "DELETE",
        "/api/v1/modules/{name}/screenshots/{id}",
        Needs(Publish),
    ),
    ("GET", "/api/v1/images/{sha256}", Open),
    ("GET", "/api/v1/categories", Open),
    ("POST", "/api/v1/categories", Needs(Admin)),
    ("PATCH", "/api/v1/categories/{slug}", Needs(Admin)),
    ("DELETE", "/api/v1/categories/{slug}", Needs(Admin)),
    // Versions.
    ("GET", "/api/v1/modules/{name}/versions", Open),
    ("POST", "/api/v1/modules/{name}/versions", Needs(Publish)),
    ("GET", "/api/v1/modules/{name}/versions/{version}", Open),
    (
        "POST",
        "/api/v1/modules/{name}/versions/{version}/yank",
        Needs(Publish),
    ),
    (
        "POST",
        "/api/v1/modules/{name}/versions/{version}/unyank",
        Needs(Publish),
    ),
    (
        "GET",
        "/api/v1/modules/{name}/versions/{version}/download",
        Open,
    ),
    (
        "GET",
        "/api/v1/modules/{name}/versions/{version}/signature",
        Open,
    ),
    (
        "GET",
        "/api/v1/modules/{name}/versions/{version}/publisher-signature",
        Open,
    ),
    (
        "GET",
        "/api/v1/modules/{name}/versions/{version}/checks",
        Needs(Read),
    ),
    (
        "POST",
        "/api/v1/modules/{name}/versions/{version}/rescan",
        Needs(Publish),
    ),
    (
        "POST",
        "/api/v1/modules/{name}/versions/{version}/appeal",
        Needs(Publish),
    ),
    // Discovery and trust.
    ("GET", "/api/v1/search", Open),
    ("GET", "/api/v1/search/suggest", Open),
    ("GET", "/api/v1/featured", Open),
    ("GET", "/api/v1/trending", Open),
    ("GET", "/api/v1/keys", Open),
    // Administration and moderation.
    ("GET", "/api/v1/admin/audit", Needs(Admin)),
    ("GET", "/api/v1/admin/audit.csv", Needs(Admin)),
    ("GET", "/api/v1/admin/featured", Needs(Admin)),
    ("PUT", "/api/v1/admin/featured", Needs(Admin)),
    ("POST", "/api/v1/admin/search/reindex", Needs(Admin)),
    ("GET", "/api/v1/admin/jobs", Needs(Admin)),
    ("POST", "/api/v1/admin/jobs/{id}/retry", Needs(Admin)),
    ("GET", "/api/v1/admin/queue", Needs(Admin)),
    (
        "GET",
        "/api/v1/admin/modules/{name}/versions/{version}",
        Needs(Admin),
    ),
    (
        "POST",
        "/api/v1/admin/modules/{name}/versions/{version}/approve",
        Needs(Admin),
    ),
    (
        "POST",
        "/api/v1/admin/modules/{name}/versions/{version}/reject",
        Needs(Admin),
    ),
    (
        "POST",
        "/api/v1/admin/modules/{name}/versions/{version}/quarantine",
        Needs(Admin),
    ),
    (
        "POST",
        "/api/v1/admin/modules/{name}/versions/{version}/release",
        Needs(Admin),
    ),
    ("GET", "/api/v1/admin/publishers", Needs(Admin)),
    (
        "POST",
        "/api/v1/admin/publishers/{slug}/verify",
        Needs(Admin),
    ),
    (
        "POST",
        "/api/v1/admin/publishers/{slug}/unverify",
        Needs(Admin),
    ),
    (
        "POST",
        "/api/v1/admin/publishers/{slug}/suspend",
        Needs(Admin),
    ),
    (
        "POST",
        "/api/v1/admin/publishers/{slug}/unsuspend",
        Needs(Admin),
    ),
    // The server itself.
    ("GET", "/api/v1/openapi.json", Open),
    ("GET", "/healthz", Open),
    ("GET", "/readyz", Open),
    ("GET", "/metrics", Open),
];

/// What the route `method path` asks of its caller; `None` for a route the table does not
/// declare.
pub fn access(method: &str, path: &str) -> Option<Access> {
    // Every GET route answers HEAD too.
    let method = if method.eq_ignore_ascii_case("HEAD") {
        "GET"
    } else {
        method
    };
    API.iter()
        .find(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == path)
        .map(|(_, _, access)| *access)
}

/// Moderators and administrators.
pub fn is_staff(user: &User) -> bool {
    matches!(user.role, Role::Admin | Role::Moderator)
}

/// 403 unless the user is a moderator or an administrator.
pub fn require_staff(user: &User) -> AppResult<()> {
    if is_staff(user) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only moderators and admins may do this".into(),
        ))
    }
}

/// 403 unless the user is an administrator; `what` completes "only administrators ...".
pub fn require_admin(user: &User, what: &str) -> AppResult<()> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("only administrators {what}")))
    }
}

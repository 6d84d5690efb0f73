//! Who may do what, for the rules that hang on a user's site role. Every service that needs
//! "administrators only" or "moderators and administrators" asks here, so the rule and its
//! answer (403 with the same words) are written once.
//!
//! This is the seed of the one authorization layer (issue 11, part 3): scopes of personal
//! tokens are still checked in handlers with `Principal::require_scope`, and membership of a
//! publisher in the catalog service; both move here with `authorize(principal, action,
//! resource)`.

use crate::error::{AppError, AppResult};
use souk_core::Role;
use souk_store::User;

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

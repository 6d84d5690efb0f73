//! Who may use a portal page, decided before the handler runs: the signed-in member of the
//! publisher the route names (`{slug}`), or of the publisher of the module it names (`{name}`).
//! The portal's handlers take one of these instead of repeating the same checks; a visitor who
//! is not signed in is sent to sign in, a non-member gets the 403 page, and another publisher's
//! private module the 404 page.

use super::{PageError, WebContext};
use crate::AppState;
use crate::services::accounts::Principal;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use souk_store::{MemberRole, Module, Publisher};
use std::collections::HashMap;

/// The value of the route's path parameter `key`.
async fn path_param(parts: &mut Parts, state: &AppState, key: &str) -> Result<String, PageError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|e| {
            PageError(crate::error::AppError::bad_request(
                "invalid_path",
                e.body_text(),
            ))
        })?;
    params.get(key).cloned().ok_or_else(|| {
        PageError(crate::error::AppError::internal(anyhow::anyhow!(
            "the route has no `{key}` parameter"
        )))
    })
}

/// The signed-in caller, from the web context.
async fn signed_in(parts: &mut Parts, state: &AppState) -> Result<Principal, PageError> {
    let ctx = WebContext::from_request_parts(parts, state).await?;
    ctx.require_user().cloned()
}

/// A signed-in member (owner or maintainer) of the publisher named by `{slug}`.
pub struct MemberOf {
    pub user: Principal,
    pub publisher: Publisher,
    pub role: MemberRole,
}

impl FromRequestParts<AppState> for MemberOf {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let user = signed_in(parts, state).await?;
        let slug = path_param(parts, state, "slug").await?;
        let (publisher, role) = state.catalog.membership(&user.user, &slug).await?;
        Ok(Self {
            user,
            publisher,
            role,
        })
    }
}

/// A signed-in member of the publisher of the module named by `{name}`.
pub struct ManagedModule {
    pub user: Principal,
    pub module: Module,
}

impl FromRequestParts<AppState> for ManagedModule {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let user = signed_in(parts, state).await?;
        let name = path_param(parts, state, "name").await?;
        let module = state.catalog.managed_module(&user.user, &name).await?;
        Ok(Self { user, module })
    }
}

//! The account page: profile, password, personal API tokens and active sessions.

use super::csrf::{CheckedForm, NoFields};
use super::{Layout, PageError, WebContext, redirect_with_flash, render};
use crate::AppState;
use crate::error::{AppError, AppResult};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use souk_core::{Scope, Timestamp};

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub live: bool,
}

pub struct SessionRow {
    pub id: i64,
    pub user_agent: String,
    pub ip: String,
    pub last_seen: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    display_name: String,
    role: String,
    member_since: String,
    tokens: Vec<TokenRow>,
    sessions: Vec<SessionRow>,
    new_token: Option<String>,
    error: Option<String>,
    scopes: Vec<&'static str>,
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    display_name: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// The token form posts `scope` once per ticked box, which `serde_urlencoded` cannot gather
/// into a list; it is read from the raw pairs instead.
pub type RawForm = CheckedForm<Vec<(String, String)>>;

async fn account_page(
    state: &AppState,
    ctx: &WebContext,
    new_token: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let p = ctx.require_user()?;
    let now = Timestamp::now();
    let tokens = state
        .accounts
        .list_tokens(&p.user, None, 100)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            live: t.is_live(now),
            name: t.name,
            prefix: t.display_prefix,
            scopes: t.scopes.to_string(),
            created: t.created_at.human(),
            expires: t
                .expires_at
                .map_or_else(|| "never".into(), Timestamp::human),
            last_used: t
                .last_used_at
                .map_or_else(|| "never".into(), Timestamp::human),
        })
        .collect();
    let sessions = state
        .accounts
        .sessions(&p.user)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            current: Some(s.id) == p.session_id(),
            user_agent: if s.user_agent.is_empty() {
                "unknown client".into()
            } else {
                s.user_agent
            },
            ip: s.client_ip,
            last_seen: s.last_seen_at.human(),
        })
        .collect();
    // The page can show a new token's secret; it and the account's details stay out of caches.
    render(&AccountPage {
        layout: Layout::new("Your account", "account", ctx),
        email: p.user.email.to_string(),
        display_name: p.user.display_name.clone(),
        role: p.user.role.to_string(),
        member_since: p.user.created_at.human(),
        tokens,
        sessions,
        new_token,
        error,
        scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
    })
    .map(|page| (crate::extract::NoStore, page).into_response())
}

pub async fn page(State(state): State<AppState>, ctx: WebContext) -> Result<Response, PageError> {
    account_page(&state, &ctx, None, None).await
}

/// Shows a validation problem on the account page with the status the API would use.
async fn with_error(
    state: &AppState,
    ctx: &WebContext,
    e: AppError,
) -> Result<Response, PageError> {
    match e {
        AppError::Validation(_) | AppError::Conflict { .. } | AppError::Forbidden(_) => {
            let mut resp = account_page(state, ctx, None, Some(e.public_message())).await?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        other => Err(other.into()),
    }
}

/// Back to the account page with `message` on success, or the page again with the problem shown.
async fn saved<T>(
    state: &AppState,
    ctx: &WebContext,
    result: AppResult<T>,
    message: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(_) => Ok(redirect_with_flash("/account", "success", message, ctx)),
        Err(e) => with_error(state, ctx, e).await,
    }
}

pub async fn update_profile(
    State(state): State<AppState>,
    ctx: WebContext,
    CheckedForm(form): CheckedForm<ProfileForm>,
) -> Result<Response, PageError> {
    let p = ctx.require_user()?;
    let result = state
        .accounts
        .update_display_name(&p.user, &form.display_name)
        .await
        .map_err(AppError::from);
    saved(&state, &ctx, result, "Profile saved.").await
}

pub async fn change_password(
    State(state): State<AppState>,
    ctx: WebContext,
    CheckedForm(form): CheckedForm<PasswordForm>,
) -> Result<Response, PageError> {
    let p = ctx.require_user()?;
    let result = state
        .accounts
        .change_password(p, &form.current_password, &form.new_password)
        .await
        .map_err(AppError::from);
    saved(
        &state,
        &ctx,
        result,
        "Password changed. Your other sessions were signed out.",
    )
    .await
}

pub async fn create_token(
    State(state): State<AppState>,
    ctx: WebContext,
    CheckedForm(pairs): RawForm,
) -> Result<Response, PageError> {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let p = ctx.require_user()?;
    let scopes: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    let expires = match field("expires_in_days") {
        "" | "never" => None,
        d => match d.parse::<u32>() {
            Ok(d) => Some(d),
            Err(_) => {
                let e = souk_core::ValidationError::new(
                    "expires_in_days",
                    "invalid_expiry",
                    "must be a number of days",
                );
                return with_error(&state, &ctx, e.into()).await;
            }
        },
    };
    match state
        .accounts
        .create_token(p, field("name"), &scopes, expires)
        .await
        .map_err(AppError::from)
    {
        // Rendered, not redirected: the secret must not travel in a cookie or a URL.
        Ok((secret, _)) => account_page(&state, &ctx, Some(secret), None).await,
        Err(e) => with_error(&state, &ctx, e).await,
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(id): Path<i64>,
    CheckedForm(NoFields {}): CheckedForm<NoFields>,
) -> Result<Response, PageError> {
    let p = ctx.require_user()?;
    state.accounts.revoke_token(p, id).await?;
    Ok(redirect_with_flash(
        "/account",
        "success",
        "Token revoked.",
        &ctx,
    ))
}

pub async fn end_session(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(id): Path<i64>,
    CheckedForm(NoFields {}): CheckedForm<NoFields>,
) -> Result<Response, PageError> {
    let p = ctx.require_user()?;
    // Only the user's own sessions are listed, so only those can be ended.
    let own = state
        .accounts
        .sessions(&p.user)
        .await?
        .iter()
        .any(|s| s.id == id);
    if !own {
        return Err(AppError::NotFound.into());
    }
    state.accounts.end_session(p, id).await?;
    Ok(redirect_with_flash(
        "/account",
        "success",
        "Session signed out.",
        &ctx,
    ))
}

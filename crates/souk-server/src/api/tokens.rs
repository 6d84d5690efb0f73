//! Personal API tokens. A token can create or revoke others only with scopes it holds itself,
//! so a narrow token can neither mint nor revoke a wider one; what it creates never outlives it.

use super::views::{TokenPage, TokenView};
use crate::AppState;
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ApiUser, NoStore};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use souk_core::{Cursor, cursor::page_limit};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
pub struct CreateTokenRequest {
    pub name: String,
    /// Any of `read`, `publish`, `admin`.
    pub scopes: Vec<String>,
    /// Days until the token stops working (1 to 3650); absent for no expiry.
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    /// The secret. It is shown this once; Souk keeps only its hash.
    pub token: String,
    #[serde(flatten)]
    pub meta: TokenView,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[serde(default, deserialize_with = "crate::extract::whole_number_limit")]
    pub limit: Option<u32>,
}

/// The caller's tokens, newest first.
#[utoipa::path(operation_id = "list_tokens", get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])), params(ListParams),
    responses(
        (status = 200, body = TokenPage),
        (status = 400, description = "Tampered cursor", body = ErrorEnvelope),
        (status = 403, description = "Token lacks the read scope", body = ErrorEnvelope),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> AppResult<Json<TokenPage>> {
    let before = match params.cursor.as_deref() {
        Some(c) => Some(
            Cursor::decode::<i64>(c)
                .map_err(|e| AppError::bad_request("invalid_cursor", e.to_string()))?,
        ),
        None => None,
    };
    let limit = page_limit(params.limit);
    let tokens = state.accounts.list_tokens(&p.user, before, limit).await?;
    let next_cursor = (tokens.len() == limit as usize)
        .then(|| tokens.last().map(|t| Cursor::encode(&t.id).into_string()))
        .flatten();
    Ok(Json(TokenPage {
        items: tokens.iter().map(TokenView::from).collect(),
        next_cursor,
    }))
}

/// Create a token. The secret is in `token`, shown once.
#[utoipa::path(operation_id = "create_token", post, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])), request_body = CreateTokenRequest,
    responses(
        (status = 201, body = CreatedToken),
        (status = 403, description = "Asked for a scope the caller's own token lacks", body = ErrorEnvelope),
        (status = 422, description = "Bad name, scope or expiry", body = ErrorEnvelope),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> AppResult<(StatusCode, NoStore, Json<CreatedToken>)> {
    let (token, row) = state
        .accounts
        .create_token(&p, &req.name, &req.scopes, req.expires_in_days)
        .await?;
    Ok((
        StatusCode::CREATED,
        NoStore,
        Json(CreatedToken {
            token,
            meta: TokenView::from(&row),
        }),
    ))
}

/// Revoke one of the caller's tokens and every token created with it. A token may revoke
/// itself, and others only when it holds each of their scopes. Another user's token answers 404.
#[utoipa::path(operation_id = "revoke_token", delete, path = "/api/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "The caller's token lacks a scope the token to revoke holds", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    state.accounts.revoke_token(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Registration, sign-in and sign-out, and the signed-in user's own account.

use super::views::UserView;
use crate::AppState;
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiUser, Client, NoStore};
use crate::services::accounts::Credential;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub email: String,
    /// At least 10 characters, not among the most common passwords.
    pub password: String,
    pub display_name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// A session token (`souk_ses_...`) for `Authorization: Bearer`.
    pub token: String,
    pub expires_at: String,
    pub user: UserView,
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateMeRequest {
    pub display_name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Create an account.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created", body = UserView),
        (status = 400, description = "Malformed JSON", body = ErrorEnvelope),
        (status = 403, description = "Registration is closed", body = ErrorEnvelope),
        (status = 409, description = "Email already registered", body = ErrorEnvelope),
        (status = 422, description = "Invalid email or weak password", body = ErrorEnvelope),
    ))]
pub async fn register(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    let user = state
        .accounts
        .register(
            &req.email,
            &req.password,
            req.display_name.as_deref(),
            &client.ip,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// Sign in with email and password; answers a session token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 401, description = "Wrong email or password (the same answer for both)", body = ErrorEnvelope),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<(NoStore, Json<LoginResponse>)> {
    let user = state
        .accounts
        .authenticate(&req.email, &req.password, &client)
        .await?;
    let (token, session) = state.accounts.start_session(&user, &client).await?;
    Ok((
        NoStore,
        Json(LoginResponse {
            token,
            expires_at: session.expires_at.to_rfc3339(),
            user: UserView::from(&user),
        }),
    ))
}

/// End the session whose token authenticates this request.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, description = "The credential is a personal token: revoke it instead", body = ErrorEnvelope),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
    ))]
pub async fn logout(State(state): State<AppState>, ApiUser(p): ApiUser) -> AppResult<StatusCode> {
    match p.credential {
        Credential::Session(id) => {
            state.accounts.end_session(&p, id).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        Credential::Token { .. } => Err(AppError::bad_request(
            "not_a_session",
            "this is a personal API token; revoke it with DELETE /api/v1/tokens/{id}",
        )),
    }
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("bearer" = [])),
    responses(
        (status = 200, body = UserView),
        (status = 401, description = "Missing, malformed, expired or revoked token", body = ErrorEnvelope),
    ))]
pub async fn me(ApiUser(p): ApiUser) -> Json<UserView> {
    Json(UserView::from(&p.user))
}

/// Change the signed-in user's display name.
#[utoipa::path(patch, path = "/api/v1/me", tag = "account", security(("bearer" = [])), request_body = UpdateMeRequest,
    responses(
        (status = 200, body = UserView),
        (status = 403, description = "Called with a personal API token rather than a session", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ))]
pub async fn update_me(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(req): ApiJson<UpdateMeRequest>,
) -> AppResult<Json<UserView>> {
    let user = state
        .accounts
        .update_display_name(&p.user, &req.display_name)
        .await?;
    Ok(Json(UserView::from(&user)))
}

/// Change the password. Every other session of the user ends.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "account", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "Called with a personal API token rather than a session", body = ErrorEnvelope),
        (status = 422, description = "Wrong current password or weak new one", body = ErrorEnvelope),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> AppResult<StatusCode> {
    state
        .accounts
        .change_password(&p, &req.current_password, &req.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

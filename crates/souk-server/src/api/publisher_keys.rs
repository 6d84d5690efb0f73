//! Publishers' signing keys: the Ed25519 public keys (minisign format) whose signatures a
//! publisher's uploads may carry. Listing is public (verifiers need the keys); registering and
//! revoking are for the publisher's members.

use crate::AppState;
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiUser};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use souk_core::signing::PublicKey;
use souk_store::PublisherKey;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct PublisherKeyView {
    /// The key id as minisign shows it (16 hex digits); unique across the registry.
    pub id: String,
    /// The label its publisher gave it.
    pub name: String,
    /// `Ed25519`.
    pub algorithm: &'static str,
    /// The base64 public key line that `minisign -P` takes.
    pub minisign_public_key: String,
    /// A whole minisign `.pub` file.
    pub minisign_public_key_file: String,
    pub created_at: String,
    /// When it was revoked: no upload signed with it is accepted after this time. Signatures it
    /// made before stay as they were.
    pub revoked_at: Option<String>,
}

impl PublisherKeyView {
    pub fn new(k: &PublisherKey) -> AppResult<Self> {
        let public = PublicKey::from_minisign_line(&k.public_key).map_err(|e| {
            AppError::internal(anyhow::anyhow!("stored publisher key {}: {e}", k.id))
        })?;
        Ok(Self {
            id: k.id.clone(),
            name: k.name.clone(),
            algorithm: "Ed25519",
            minisign_public_key: public.to_minisign_line(),
            minisign_public_key_file: public.to_minisign_file(),
            created_at: k.created_at.to_rfc3339(),
            revoked_at: k.revoked_at.map(|t| t.to_rfc3339()),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct PublisherKeyList {
    pub publisher: String,
    pub keys: Vec<PublisherKeyView>,
}

#[derive(Deserialize, ToSchema)]
pub struct RegisterKeyRequest {
    /// A minisign public key: the base64 line, or the whole `.pub` file.
    pub public_key: String,
    /// A label, such as "release laptop" (default: "key ID").
    pub name: Option<String>,
}

/// A publisher's signing keys, revoked ones included, oldest first.
#[utoipa::path(operation_id = "list_publisher_keys", get, path = "/api/v1/publishers/{slug}/keys", tag = "publishers",
    params(("slug" = String, Path)),
    responses((status = 200, body = PublisherKeyList), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> AppResult<Json<PublisherKeyList>> {
    let (p, keys) = state.catalog.publisher_keys(&slug).await?;
    Ok(Json(PublisherKeyList {
        publisher: p.slug,
        keys: keys
            .iter()
            .map(PublisherKeyView::new)
            .collect::<AppResult<_>>()?,
    }))
}

/// Registers a signing key for the publisher (its members).
#[utoipa::path(operation_id = "register_publisher_key", post, path = "/api/v1/publishers/{slug}/keys", tag = "publishers", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body = RegisterKeyRequest,
    responses(
        (status = 201, body = PublisherKeyView),
        (status = 403, description = "Not a member of the publisher", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "A key with this id is already registered", body = ErrorEnvelope),
        (status = 422, description = "Not a minisign Ed25519 public key (invalid_public_key), or a bad name", body = ErrorEnvelope),
    ))]
pub async fn register(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<RegisterKeyRequest>,
) -> AppResult<(StatusCode, Json<PublisherKeyView>)> {
    let key = state
        .catalog
        .register_publisher_key(&p.actor(), &slug, &req.public_key, req.name.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(PublisherKeyView::new(&key)?)))
}

/// Revokes a signing key (members): it stays listed with `revoked_at`, and no new upload may be
/// signed with it. Revoking a revoked key answers it unchanged.
#[utoipa::path(operation_id = "revoke_publisher_key", delete, path = "/api/v1/publishers/{slug}/keys/{id}", tag = "publishers", security(("bearer" = [])),
    params(("slug" = String, Path), ("id" = String, Path, description = "The key id (16 hex digits)")),
    responses(
        (status = 200, body = PublisherKeyView),
        (status = 403, description = "Not a member of the publisher", body = ErrorEnvelope),
        (status = 404, description = "No such publisher, or no such key of it", body = ErrorEnvelope),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> AppResult<Json<PublisherKeyView>> {
    let key = state
        .catalog
        .revoke_publisher_key(&p.actor(), &slug, &id)
        .await?;
    Ok(Json(PublisherKeyView::new(&key)?))
}

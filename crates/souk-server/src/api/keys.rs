//! The registry's public signing keys, for checking signatures offline. Answered from the
//! database, where every node records its keys at start, so every node lists the keys of all.

use crate::AppState;
use crate::error::{AppError, AppResult};
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct KeyView {
    /// The key id as minisign shows it (16 hex digits).
    pub id: String,
    /// `Ed25519`.
    pub algorithm: &'static str,
    /// The base64 public key line that `minisign -P` takes.
    pub minisign_public_key: String,
    /// A whole minisign `.pub` file.
    pub minisign_public_key_file: String,
    pub created_at: String,
    /// The key signs from this time on...
    pub valid_from: String,
    /// ...until this time, if set; signatures it made stay valid after.
    pub valid_until: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

/// Every registry signing key, current and retired, of every node, oldest first.
#[utoipa::path(operation_id = "list_registry_keys", get, path = "/api/v1/keys", tag = "versions",
    responses((status = 200, body = KeyList)))]
pub async fn list(State(state): State<AppState>) -> AppResult<Json<KeyList>> {
    let mut keys = Vec::new();
    for k in state.store.signing_keys().await? {
        let public = souk_core::signing::PublicKey::from_minisign_line(&k.public_key)
            .map_err(|e| AppError::internal(anyhow::anyhow!("stored signing key {}: {e}", k.id)))?;
        keys.push(KeyView {
            id: k.id,
            algorithm: "Ed25519",
            minisign_public_key: public.to_minisign_line(),
            minisign_public_key_file: public.to_minisign_file(),
            created_at: k.created_at.to_rfc3339(),
            valid_from: k.valid_from.to_rfc3339(),
            valid_until: k.valid_until.map(|t| t.to_rfc3339()),
        });
    }
    Ok(Json(KeyList { keys }))
}

//! Publishers' signing keys: members register the Ed25519 public keys (minisign format) whose
//! signatures their uploads may carry, and revoke them. The list is public, as public keys are
//! meant to be: anyone verifying a package needs them.
//!
//! A key id names one key across the registry (the store refuses a second registration of an id,
//! whichever publisher asks), so a signature's key id leads to exactly one publisher. Revoking
//! keeps the key listed with its `revoked_at`, so that the versions it signed before stay
//! explainable; no upload may use it afterwards (see [`super::publisher_signing`]).

use super::audit::Actor;
use super::catalog::Catalog;
use crate::error::{AppError, AppResult};
use serde_json::json;
use souk_core::signing::{KeyId, PublicKey};
use souk_core::{Timestamp, ValidationError};
use souk_store::{NewAuditEntry, NewPublisherKey, Publisher, PublisherKey, StoreError};

/// The longest key name, in characters.
pub const MAX_KEY_NAME_CHARS: usize = 100;

impl Catalog {
    /// A publisher's keys, revoked ones included, oldest first. Public.
    pub async fn publisher_keys(&self, slug: &str) -> AppResult<(Publisher, Vec<PublisherKey>)> {
        let p = self.publisher(slug).await?;
        let keys = self.store.publisher_keys(p.id).await?;
        Ok((p, keys))
    }

    /// Registers a public key for the publisher `slug` (its members). `raw` is a minisign public
    /// key line or a whole `.pub` file; `name` labels it (default: the key id).
    pub async fn register_publisher_key(
        &self,
        actor: &Actor<'_>,
        slug: &str,
        raw: &str,
        name: Option<&str>,
    ) -> AppResult<PublisherKey> {
        let user = actor.user;
        let (p, _) = self.membership(user, slug).await?;
        let public = PublicKey::parse(raw)?;
        let id = public.id().to_hex();
        let name = key_name(name, &id)?;
        let new = NewPublisherKey {
            id: id.clone(),
            publisher_id: p.id,
            public_key: public.to_minisign_line(),
            name,
            created_by: user.id,
        };
        let tx = self.store.begin().await?;
        let key = tx
            .add_publisher_key(&new, Timestamp::now())
            .await
            .map_err(|e| match e {
                // Whose key it is stays unsaid: it may be another publisher's.
                StoreError::Conflict { .. } => AppError::conflict_with(
                    "public_key",
                    format!(
                        "a key with id {id} is already registered; key ids are unique across \
                         the registry, so make a new key (souk key generate)"
                    ),
                ),
                other => other.into(),
            })?;
        tx.append_audit(&NewAuditEntry {
            after: Some(
                json!({ "publisher": p.slug.as_str(), "name": key.name, "revoked": false }),
            ),
            ..actor.entry("publisher_key.register", "publisher_key", key.id.as_str())
        })
        .await?;
        tx.commit().await?;
        tracing::info!(publisher = %p.slug, key_id = %key.id, user_id = user.id, "publisher key registered");
        Ok(key)
    }

    /// Revokes one of the publisher's keys (its members). Revoking it again changes nothing.
    /// An id that is not one of this publisher's keys answers 404.
    pub async fn revoke_publisher_key(
        &self,
        actor: &Actor<'_>,
        slug: &str,
        id: &str,
    ) -> AppResult<PublisherKey> {
        let user = actor.user;
        let (p, _) = self.membership(user, slug).await?;
        let id = KeyId::parse_hex(id)
            .map_err(|_| AppError::NotFound)?
            .to_hex();
        let tx = self.store.begin().await?;
        let key = tx.revoke_publisher_key(p.id, &id, Timestamp::now()).await?;
        tx.append_audit(&NewAuditEntry {
            after: Some(json!({ "publisher": p.slug.as_str(), "name": key.name, "revoked": true })),
            ..actor.entry("publisher_key.revoke", "publisher_key", key.id.as_str())
        })
        .await?;
        tx.commit().await?;
        tracing::info!(publisher = %p.slug, key_id = %key.id, user_id = user.id, "publisher key revoked");
        Ok(key)
    }
}

/// A key's name: trimmed, one line, at most [`MAX_KEY_NAME_CHARS`]; empty means "key ID".
fn key_name(name: Option<&str>, id: &str) -> AppResult<String> {
    let name = name.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Ok(format!("key {id}"));
    }
    if name.chars().count() > MAX_KEY_NAME_CHARS {
        return Err(ValidationError::new(
            "name",
            "invalid_field",
            format!("must be at most {MAX_KEY_NAME_CHARS} characters long"),
        )
        .into());
    }
    if name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "name",
            "invalid_field",
            "must be one line without control characters",
        )
        .into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::key_name;

    #[test]
    fn key_names() {
        assert_eq!(key_name(None, "AB").unwrap(), "key AB");
        assert_eq!(key_name(Some("  "), "AB").unwrap(), "key AB");
        assert_eq!(key_name(Some(" CI "), "AB").unwrap(), "CI");
        assert!(key_name(Some(&"x".repeat(101)), "AB").is_err());
        assert!(key_name(Some(&"é".repeat(100)), "AB").is_ok());
        assert!(key_name(Some("a\nb"), "AB").is_err());
    }
}

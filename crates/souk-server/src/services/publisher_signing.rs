//! Checking the publisher's own signature that an upload carries.
//!
//! The signature is a minisign signature file over the package bytes (the API takes it, in
//! standard base64, from the `Souk-Signature` header; the web form as a `.minisig` file). It must
//! be made by one of the module's publisher's keys that is not revoked, and verify over the bytes
//! uploaded: the prehashed `ED` algorithm against the BLAKE2b-512 hash staging already took, the
//! legacy `Ed` one against the staged file read back. It is checked before the blob is stored, so
//! a refused upload leaves nothing behind. Refusals:
//!
//! - `invalid_signature` (422): not base64, not a minisign signature, not Ed25519;
//! - `unknown_signing_key` (422): the key id is not one of the publisher's current keys (never
//!   registered, registered by another publisher, or revoked);
//! - `bad_signature` (422): the signature, or the trusted comment's, does not verify.

use super::catalog::Catalog;
use crate::blob::Staged;
use crate::error::{AppError, AppResult};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use souk_core::signing::{self, PublicKey, SignatureError, SignatureFile};
use souk_store::{NewVersion, PublishTarget};

/// The request header that carries the publisher's signature.
pub const SIGNATURE_HEADER: &str = "souk-signature";

/// A publisher's signature that verified, ready to be stored with the version.
#[derive(Debug, Default)]
pub struct CheckedSignature(Option<(String, String)>);

impl CheckedSignature {
    /// Records the signature (if there was one) and its key id on the version.
    pub fn apply(self, new: &mut NewVersion) {
        if let Some((signature, key_id)) = self.0 {
            new.publisher_signature = Some(signature);
            new.publisher_key_id = Some(key_id);
        }
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::unprocessable("invalid_signature", "signature", message)
}

/// The signature file a `Souk-Signature` header value carries (standard base64 of the file).
pub fn decode_header(value: &[u8]) -> AppResult<String> {
    let value = std::str::from_utf8(value)
        .map_err(|_| invalid("the Souk-Signature header is not base64"))?
        .trim();
    if value.is_empty() {
        return Err(invalid(
            "the Souk-Signature header is empty; leave it out to publish unsigned",
        ));
    }
    let bytes = BASE64.decode(value).map_err(|_| {
        invalid("the Souk-Signature header is not standard base64 of a .minisig file")
    })?;
    String::from_utf8(bytes).map_err(|_| invalid("the decoded signature is not text"))
}

impl Catalog {
    /// Checks `signature` (a minisign signature file), when there is one, against the current
    /// keys of the publisher that owns (or will own) the module, over the staged bytes.
    pub(crate) async fn check_publisher_signature(
        &self,
        target: &PublishTarget,
        staged: &Staged,
        signature: Option<String>,
    ) -> AppResult<CheckedSignature> {
        let Some(signature) = signature else {
            return Ok(CheckedSignature::default());
        };
        let parsed = SignatureFile::parse(&signature).map_err(|e| invalid(e.to_string()))?;
        let publisher_id = match target {
            PublishTarget::Existing(id) => self.store.module_by_id(*id).await?.publisher_id,
            PublishTarget::New(m) => m.publisher_id,
        };
        let key_id = parsed.key_id().to_hex();
        let registered = self.store.publisher_keys(publisher_id).await?;
        let mut current = Vec::new();
        for k in registered.iter().filter(|k| k.revoked_at.is_none()) {
            current.push(PublicKey::from_minisign_line(&k.public_key).map_err(|e| {
                AppError::internal(anyhow::anyhow!("stored publisher key {}: {e}", k.id))
            })?);
        }
        if !current.iter().any(|k| k.id() == parsed.key_id()) {
            let slug = self.store.publisher_by_id(publisher_id).await?.slug;
            let message = match registered.iter().find(|k| k.id == key_id) {
                Some(k) => format!(
                    "the package is signed with key {key_id}, which {slug} revoked on {}; sign \
                     it with a current key",
                    k.revoked_at.map(|t| t.to_rfc3339()).unwrap_or_default()
                ),
                None => format!(
                    "the package is signed with key {key_id}, which is not one of {slug}'s \
                     signing keys; register it first (souk key register --publisher {slug})"
                ),
            };
            return Err(AppError::unprocessable(
                "unknown_signing_key",
                "signature",
                message,
            ));
        }
        let verified = if parsed.is_prehashed() {
            signing::verify_prehashed(&current[..], &signature, &staged.prehash)
        } else {
            // Legacy `Ed` signs the file itself: read the staged upload back.
            let path = staged.file.to_path_buf();
            let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
                .await
                .map_err(AppError::internal)?
                .map_err(AppError::internal)?;
            signing::verify(&current[..], &signature, &bytes)
        };
        match verified {
            Ok(v) => Ok(CheckedSignature(Some((signature, v.key_id.to_hex())))),
            Err(e @ (SignatureError::BadSignature | SignatureError::BadGlobalSignature)) => {
                Err(AppError::unprocessable(
                    "bad_signature",
                    "signature",
                    format!(
                        "the signature by key {key_id} does not verify over the uploaded bytes \
                         ({e})"
                    ),
                ))
            }
            Err(e) => Err(invalid(e.to_string())),
        }
    }
}

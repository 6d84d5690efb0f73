//! Souk's domain: validated newtypes and the pure rules around them.
//!
//! Convention: every value that arrives from outside (an email, a password, a token, a cursor) is
//! turned into a newtype by a `parse` function that either succeeds or names what is wrong in a
//! [`ValidationError`]. Code past the edge of the system takes the newtype, never the raw string.
//!
//! The catalog's rules for what publishers upload live here too: the package manifest
//! ([`manifest`]), the inspection of a package archive ([`archive`]) and the deterministic writer
//! of one ([`package`]), Markdown rendered safe to embed ([`markdown`]), and images ([`image`]).
//!
//! Package trust builds on them: minisign-format Ed25519 signatures ([`signing`]), and the checks
//! on uploaded versions, which report [`findings`]: leaked credentials ([`secrets`]), native code
//! and other file types the policy flags ([`filetypes`]), and module names that look like
//! existing ones ([`confusables`]).
//!
//! Nothing here does I/O of its own: no database, no HTTP, no files. Functions that read or write
//! archives take the bytes, or a `std::io` reader or writer, from their caller.

pub mod archive;
pub mod confusables;
pub mod cursor;
pub mod email;
pub mod filetypes;
pub mod findings;
pub mod image;
pub mod manifest;
pub mod markdown;
pub mod names;
pub mod package;
pub mod password;
pub mod role;
pub mod secret;
pub mod secrets;
pub mod signing;
pub mod text;
pub mod timestamp;
pub mod token;

pub use cursor::Cursor;
pub use email::Email;
pub use manifest::Manifest;
pub use names::{ModuleName, PublisherSlug, normalize_name};
pub use password::{Password, PasswordHash};
pub use role::Role;
pub use timestamp::Timestamp;
pub use token::{Scope, Scopes, TokenKind};

/// A value from outside that breaks a rule. `field` names the input, `code` is a stable
/// machine-readable reason and `message` says it to a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}

//! Opaque bearer credentials. Every token is `souk_<kind>_` followed by 64 hex characters (256
//! random bits); the prefix tells a leaked token's kind at a glance (and lets secret scanners find
//! it), and only the SHA-256 of the whole string is stored.

use crate::ValidationError;
use crate::secret::{random_hex32, sha256_hex};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A personal API token a user creates, with scopes and an optional expiry.
    Personal,
    /// A sign-in session: the web UI's cookie or the token `POST /auth/login` answers.
    Session,
    /// An instance's companion agent.
    Agent,
    /// A hosting company's reseller key.
    Host,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Personal => "souk_pat_",
            TokenKind::Session => "souk_ses_",
            TokenKind::Agent => "souk_agent_",
            TokenKind::Host => "souk_host_",
        }
    }

    /// A new secret of this kind. Show it once; store [`hash_token`] of it.
    pub fn generate(self) -> String {
        format!("{}{}", self.prefix(), random_hex32())
    }

    /// The kind a presented token claims by its prefix, if it is well formed.
    pub fn of(token: &str) -> Option<TokenKind> {
        [
            TokenKind::Personal,
            TokenKind::Session,
            TokenKind::Agent,
            TokenKind::Host,
        ]
        .into_iter()
        .find(|k| {
            token
                .strip_prefix(k.prefix())
                .is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
        })
    }
}

/// How a token is stored: SHA-256 hex of the whole secret.
pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// The first characters of a token, safe to show in lists so that a person can tell tokens apart.
pub fn display_prefix(token: &str) -> String {
    token.chars().take(16).collect()
}

/// What a personal token may do. A session carries every scope its user's role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read the caller's own private data (licenses, instances, purchases).
    Read,
    /// Publish, yank and edit modules of the caller's publishers.
    Publish,
    /// Use the caller's admin or moderator powers.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Publish, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Publish => "publish",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Scope::ALL
            .into_iter()
            .find(|sc| sc.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new(
                    "scopes",
                    "invalid_scope",
                    format!("unknown scope `{s}`; expected read, publish or admin"),
                )
            })
    }
}

/// A non-empty set of scopes, stored as a space-separated list in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn all() -> Self {
        Self(Scope::ALL.to_vec())
    }

    pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<Self, ValidationError> {
        let mut scopes = items
            .iter()
            .map(|s| Scope::parse(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if scopes.is_empty() {
            return Err(ValidationError::new(
                "scopes",
                "invalid_scope",
                "name at least one scope",
            ));
        }
        scopes.sort();
        scopes.dedup();
        Ok(Self(scopes))
    }

    /// Reads the stored form; unknown words (from a newer version) are dropped, never widened.
    pub fn from_stored(s: &str) -> Self {
        let mut v: Vec<Scope> = s
            .split_whitespace()
            .filter_map(|w| Scope::parse(w).ok())
            .collect();
        v.sort();
        v.dedup();
        Self(v)
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.as_str()).collect()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_carry_their_kind_and_256_bits() {
        let t = TokenKind::Personal.generate();
        assert!(t.starts_with("souk_pat_"));
        assert_eq!(TokenKind::of(&t), Some(TokenKind::Personal));
        assert_eq!(
            TokenKind::of(&TokenKind::Agent.generate()),
            Some(TokenKind::Agent)
        );
        assert_eq!(TokenKind::of("souk_pat_short"), None);
        assert_ne!(t, TokenKind::Personal.generate());
        assert_eq!(hash_token(&t).len(), 64);
    }

    #[test]
    fn scopes_parse_and_refuse_unknown_or_empty() {
        let s = Scopes::parse_list(&["publish", "read", "read"]).unwrap();
        assert_eq!(s.to_string(), "read publish");
        assert_eq!(Scopes::parse_list(&["root"]).unwrap_err().field, "scopes");
        assert!(Scopes::parse_list::<&str>(&[]).is_err());
        assert_eq!(
            Scopes::from_stored("admin bogus read"),
            Scopes::parse_list(&["read", "admin"]).unwrap()
        );
    }
}

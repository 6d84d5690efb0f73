//! Passwords: the policy a new password must meet, and argon2id hashing with OWASP's parameters
//! (m = 19 MiB, t = 2, p = 1: the `argon2` crate's defaults, pinned here so that a library upgrade
//! cannot silently weaken them).

use crate::{Email, ValidationError};
use argon2::password_hash::phc;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::fmt;
use std::sync::OnceLock;

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 1024;

/// Memory cost in KiB, iterations, parallelism: OWASP's first recommended argon2id setting.
pub const ARGON2_M_KIB: u32 = 19_456;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

/// The most common passwords of ten characters or more seen in public breach corpora; shorter ones
/// already fail the length rule.
static COMMON: &str = include_str!("common_passwords.txt");

/// A password that meets the policy. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// Checks a new password against the policy. `email` lets us refuse a password that is the
    /// account's own address or its local part.
    pub fn parse(raw: &str, email: Option<&Email>) -> Result<Self, ValidationError> {
        let weak = |msg: &str| ValidationError::new("password", "weak_password", msg);
        let chars = raw.chars().count();
        if chars < MIN_LEN {
            return Err(weak("must be at least 10 characters"));
        }
        if raw.len() > MAX_LEN {
            return Err(weak("must be at most 1024 bytes"));
        }
        let lower = raw.to_lowercase();
        if COMMON.lines().any(|c| c == lower) {
            return Err(weak("is one of the most common passwords; choose another"));
        }
        let first = raw.chars().next().unwrap_or_default();
        if raw.chars().all(|c| c == first) {
            return Err(weak("must not be one character repeated"));
        }
        if let Some(email) = email
            && (lower == email.as_str() || lower == email.local_part())
        {
            return Err(weak("must not be your email address"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// An argon2id hash in PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$...`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

impl PasswordHash {
    pub fn new(password: &Password) -> Self {
        // 16 random bytes, the salt length argon2's own generator uses.
        let salt = crate::secret::random_bytes::<16>();
        let phc: phc::PasswordHash = hasher()
            .hash_password_with_salt(password.expose().as_bytes(), &salt)
            .expect("argon2 hashing with valid parameters cannot fail");
        let phc = phc.to_string();
        Self(phc)
    }

    /// Wraps a hash read back from storage.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the password. Any candidate is accepted here (the policy applies to
    /// new passwords only), and a malformed stored hash simply never matches.
    pub fn verify(&self, candidate: &str) -> bool {
        match phc::PasswordHash::new(&self.0) {
            Ok(parsed) => hasher()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Spends the same work as a real verification, for accounts that do not exist, so that a
    /// wrong email and a wrong password take the same time.
    pub fn verify_dummy(candidate: &str) {
        static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
        let dummy = DUMMY.get_or_init(|| {
            PasswordHash::new(&Password("souk-dummy-password-for-timing".to_owned()))
        });
        let _ = dummy.verify(candidate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_short_common_repeated_and_own_email() {
        let email = Email::parse("ada.lovelace@example.com").unwrap();
        assert_eq!(
            Password::parse("short", None).unwrap_err().code,
            "weak_password"
        );
        assert!(Password::parse("password123", None).is_err());
        assert!(Password::parse("QWERTYUIOP", None).is_err());
        assert!(Password::parse("zzzzzzzzzzzz", None).is_err());
        assert!(Password::parse("ada.lovelace", Some(&email)).is_err());
        assert!(Password::parse("correct horse battery", Some(&email)).is_ok());
    }

    #[test]
    fn hash_verifies_only_the_right_password_with_owasp_parameters() {
        let pw = Password::parse("correct horse battery", None).unwrap();
        let hash = PasswordHash::new(&pw);
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hash.verify("correct horse battery"));
        assert!(!hash.verify("correct horse batterY"));
        assert!(!PasswordHash::from_stored("garbage".into()).verify("x"));
    }
}

//! Technical names of modules and publishers.
//!
//! A module name is what people type (`souk download my-mod`) and what other modules depend on, so
//! it must be unambiguous: 2 to 64 characters of lowercase ASCII letters, digits, `-` and `_`,
//! starting with a letter. Uniqueness is decided on the *normalized* form, where `_` becomes `-`
//! and case is folded, so that `my-mod`, `my_mod` and `My_Mod` are one name (as on PyPI).
//! Publisher slugs appear in URLs: lowercase letters, digits and single inner hyphens.

use crate::ValidationError;
use std::fmt;

/// Names that would be mistaken for the platform itself, for routes, or for files on Windows.
/// Compared on the normalized form.
const RESERVED: &[&str] = &[
    "admin",
    "api",
    "assets",
    "aux",
    "categories",
    "com1",
    "com2",
    "com3",
    "com4",
    "con",
    "core",
    "download",
    "help",
    "login",
    "logout",
    "lpt1",
    "lpt2",
    "lpt3",
    "me",
    "module",
    "modules",
    "new",
    "nul",
    "null",
    "official",
    "portal",
    "prn",
    "publisher",
    "publishers",
    "register",
    "root",
    "search",
    "settings",
    "souk",
    "souk-official",
    "static",
    "std",
    "support",
    "system",
    "undefined",
    "www",
];

/// Folds a raw name to the form uniqueness is decided on: ASCII lower case, `_` as `-`.
pub fn normalize_name(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| match c {
            '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether `normalized` is on the reserved list.
pub fn is_reserved(normalized: &str) -> bool {
    RESERVED.binary_search(&normalized).is_ok()
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ModuleName(String);

impl ModuleName {
    /// Parses a module name, refusing reserved names.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = Self::parse_syntax(raw)?;
        if is_reserved(&name.normalized()) {
            return Err(ValidationError::new(
                "name",
                "reserved_name",
                format!("`{raw}` is reserved"),
            ));
        }
        Ok(name)
    }

    /// Parses the shape only. Used for names that already exist (dependencies, lookups), which
    /// must not stop working if the reserved list grows.
    pub fn parse_syntax(raw: &str) -> Result<Self, ValidationError> {
        let invalid = |msg: String| ValidationError::new("name", "invalid_name", msg);
        let s = raw.trim();
        let len = s.chars().count();
        if !(2..=64).contains(&len) {
            return Err(invalid(format!(
                "must be 2 to 64 characters long, not {len}"
            )));
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(invalid("must start with a lowercase letter".into()));
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
        {
            return Err(invalid(format!(
                "may hold only lowercase letters, digits, `-` and `_`, not `{bad}`"
            )));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn normalized(&self) -> String {
        normalize_name(&self.0)
    }
}

impl fmt::Display for ModuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The URL name of a publisher: 2 to 39 characters, lowercase letters, digits and single inner
/// hyphens, starting with a letter (GitHub's rule for organization names, lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct PublisherSlug(String);

impl PublisherSlug {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let slug = Self::parse_syntax(raw)?;
        if is_reserved(&slug.0) {
            return Err(ValidationError::new(
                "slug",
                "reserved_name",
                format!("`{raw}` is reserved"),
            ));
        }
        Ok(slug)
    }

    pub fn parse_syntax(raw: &str) -> Result<Self, ValidationError> {
        let invalid = |msg: &str| ValidationError::new("slug", "invalid_slug", msg);
        let s = raw.trim();
        if !(2..=39).contains(&s.len()) {
            return Err(invalid("must be 2 to 39 characters long"));
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(invalid("must start with a lowercase letter"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid("may hold only lowercase letters, digits and `-`"));
        }
        if s.ends_with('-') || s.contains("--") {
            return Err(invalid("may not end with `-` or hold `--`"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublisherSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_list_is_sorted_for_binary_search() {
        let mut sorted = RESERVED.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, RESERVED);
    }

    #[test]
    fn module_names() {
        for ok in ["ab", "my-mod", "my_mod", "a1", "economy-plus_2"] {
            assert_eq!(ModuleName::parse(ok).unwrap().as_str(), ok);
        }
        let too_long = "a".repeat(65);
        for (bad, code) in [
            ("a", "invalid_name"),
            (too_long.as_str(), "invalid_name"),
            ("1abc", "invalid_name"),
            ("-abc", "invalid_name"),
            ("My_Mod", "invalid_name"),
            ("my mod", "invalid_name"),
            ("../etc", "invalid_name"),
            ("mod.name", "invalid_name"),
            ("souk", "reserved_name"),
            ("Admin", "invalid_name"),
            ("con", "reserved_name"),
        ] {
            assert_eq!(ModuleName::parse(bad).unwrap_err().code, code, "{bad}");
        }
        assert!(ModuleName::parse_syntax("souk").is_ok());
    }

    #[test]
    fn normalization_folds_case_and_separators() {
        assert_eq!(normalize_name("My_Mod"), "my-mod");
        assert_eq!(
            ModuleName::parse("my_mod").unwrap().normalized(),
            ModuleName::parse("my-mod").unwrap().normalized()
        );
    }

    #[test]
    fn publisher_slugs() {
        assert!(PublisherSlug::parse("acme-games").is_ok());
        for bad in [
            "a",
            "Acme",
            "acme-",
            "ac--me",
            "9acme",
            "acme_games",
            "admin",
        ] {
            assert!(PublisherSlug::parse(bad).is_err(), "{bad}");
        }
    }
}

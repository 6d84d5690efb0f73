//! `NAME` and `NAME@VERSION` on the command line.

use anyhow::{anyhow, bail};
use souk_core::ModuleName;
use std::fmt;
use std::str::FromStr;

/// A module, and maybe one of its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSpec {
    pub name: String,
    pub version: Option<semver::Version>,
}

impl ModuleSpec {
    /// The version, for commands that act on exactly one.
    pub fn require_version(&self) -> anyhow::Result<&semver::Version> {
        self.version.as_ref().ok_or_else(|| {
            anyhow!(
                "`{}` names no version: write {}@VERSION, like {}@1.0.0",
                self.name,
                self.name,
                self.name
            )
        })
    }
}

impl FromStr for ModuleSpec {
    type Err = anyhow::Error;

    fn from_str(raw: &str) -> anyhow::Result<Self> {
        let (name, version) = match raw.split_once('@') {
            Some((name, version)) => (name, Some(version)),
            None => (raw, None),
        };
        // The shape only (no reserved-name check): this names a module that already exists.
        let name = ModuleName::parse_syntax(name)
            .map_err(|e| anyhow!("`{name}` is not a module name: it {}", e.message))?;
        let version = match version {
            None => None,
            Some("") => bail!("`{raw}` names no version after `@`"),
            Some(v) => Some(
                semver::Version::parse(v.trim())
                    .map_err(|e| anyhow!("`{v}` is not a semantic version like 1.2.3 ({e})"))?,
            ),
        };
        Ok(ModuleSpec {
            name: name.as_str().to_owned(),
            version,
        })
    }
}

impl fmt::Display for ModuleSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{} {v}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> anyhow::Result<ModuleSpec> {
        s.parse()
    }

    #[test]
    fn names_with_and_without_versions() {
        let s = spec("economy-plus@1.2.3").unwrap();
        assert_eq!(s.name, "economy-plus");
        assert_eq!(s.version, Some(semver::Version::new(1, 2, 3)));
        assert_eq!(s.to_string(), "economy-plus 1.2.3");
        assert_eq!(s.require_version().unwrap().to_string(), "1.2.3");

        let s = spec("economy_plus").unwrap();
        assert_eq!(s.name, "economy_plus");
        assert_eq!(s.version, None);
        let e = s.require_version().unwrap_err().to_string();
        assert!(e.contains("economy_plus@VERSION"), "{e}");

        let s = spec("economy@2.0.0-beta.1+build.5").unwrap();
        assert_eq!(s.version.unwrap().to_string(), "2.0.0-beta.1+build.5");
    }

    #[test]
    fn mistakes_are_named() {
        for (raw, expect) in [
            ("economy@", "names no version after `@`"),
            ("economy@1.0", "`1.0` is not a semantic version"),
            ("economy@latest", "`latest` is not a semantic version"),
            ("Economy@1.0.0", "`Economy` is not a module name"),
            ("@1.0.0", "`` is not a module name"),
            ("a/b", "`a/b` is not a module name"),
            ("economy@1.0.0@2", "is not a semantic version"),
        ] {
            let e = spec(raw).unwrap_err().to_string();
            assert!(e.contains(expect), "{raw}: {e}");
        }
    }
}

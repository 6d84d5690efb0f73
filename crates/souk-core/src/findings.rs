//! What the automated checks on an uploaded version report.
//!
//! Every check (leaked secrets, forbidden file types, external scanners, look-alike names) speaks
//! in [`Finding`]s, so that the pipeline can store them in one table and show them to the
//! publisher and the moderators in one list. A finding names its rule by a stable id
//! (`secret.aws-access-key-id`): ids are what policies, tests and people searching the docs hold on
//! to, so an id is never reused for another meaning.
//!
//! Positions are 1-based lines and columns, columns counted in characters as editors show them.
//! Line and column 0 mean the finding is about the whole file (or, with an empty path, the whole
//! version). Messages say what was found and what to do, and never repeat a secret.

use serde::Serialize;
use std::fmt;

/// How bad a finding is. Ordered: `Info < Warning < Error`, so the worst of a list is its `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; changes nothing.
    Info,
    /// Sends the version to a moderator where the review policy says so.
    Warning,
    /// Holds the version back until it is fixed or a moderator overrules it.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses [`Severity::as_str`]'s form, as stored.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a check found in one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable rule id, `area.what` in lower case with hyphens.
    pub rule: &'static str,
    pub severity: Severity,
    /// The file inside the package, as listed by the archive inspection; empty for the version as
    /// a whole (its name, for example).
    pub path: String,
    /// 1-based; 0 for the whole file.
    pub line: u32,
    /// 1-based, in characters; 0 for the whole file.
    pub column: u32,
    pub message: String,
}

impl Finding {
    /// A finding about a whole file (line and column 0).
    pub fn whole_file(
        rule: &'static str,
        severity: Severity,
        path: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            rule,
            severity,
            path: path.to_string(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

/// The worst severity among `findings`, `None` when there are none.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_round_trip() {
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Error);
        for s in [Severity::Info, Severity::Warning, Severity::Error] {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(Severity::parse("Error"), None);
    }

    #[test]
    fn worst_of_findings() {
        assert_eq!(worst(&[]), None);
        let f = |severity| Finding::whole_file("x.y", severity, "a", "m");
        assert_eq!(
            worst(&[f(Severity::Info), f(Severity::Error), f(Severity::Warning)]),
            Some(Severity::Error)
        );
        let json = serde_json::to_value(f(Severity::Warning)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"rule": "x.y", "severity": "warning", "path": "a", "line": 0,
                "column": 0, "message": "m"})
        );
    }
}

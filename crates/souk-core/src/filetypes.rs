//! File types in a package that the marketplace's policy flags or forbids.
//!
//! A module is meant to be source or bytecode for its host (scripts, jars, assets). A native
//! executable or shared library inside one runs outside any sandbox the host has and cannot be
//! read by a moderator, so by default it is flagged (a warning, which sends the version to a
//! moderator) and a marketplace may forbid it outright (an error) or allow it.
//!
//! Native code is recognized by its content, never by its name alone: the magic numbers of ELF
//! (Linux, BSD), PE (Windows `.exe` and `.dll`: the `MZ` header must point at a `PE\0\0`
//! signature, since `MZ` alone also starts plain text) and Mach-O (macOS, thin and universal).
//! A universal Mach-O shares its magic `CAFEBABE` with Java class files; the two are told apart by
//! the word after it, an architecture count (small) in Mach-O and a class-file version (45 and up)
//! in Java. Names are judged separately: a marketplace can forbid extensions (`.bat`, `.ps1`)
//! whatever the content.

use crate::findings::{Finding, Severity};

pub const RULE_NATIVE_EXECUTABLE: &str = "filetype.native-executable";
pub const RULE_FORBIDDEN_EXTENSION: &str = "filetype.forbidden-extension";

/// What the policy does with a kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing is reported.
    Allow,
    /// A warning: a moderator looks at the version where the review policy says so.
    Flag,
    /// An error: the version is held back until a moderator overrules it.
    Forbid,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Flag => "flag",
            Action::Forbid => "forbid",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Action::Allow, Action::Flag, Action::Forbid]
            .into_iter()
            .find(|a| a.as_str() == raw.trim())
    }

    fn severity(self) -> Option<Severity> {
        match self {
            Action::Allow => None,
            Action::Flag => Some(Severity::Warning),
            Action::Forbid => Some(Severity::Error),
        }
    }
}

/// The marketplace's rules for file types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Native executables and shared libraries (ELF, PE, Mach-O).
    pub native_code: Action,
    /// Extensions (lower case, without the dot) refused whatever the content.
    pub forbidden_extensions: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            native_code: Action::Flag,
            forbidden_extensions: Vec::new(),
        }
    }
}

/// The kind of native code a file of `size` bytes starting with `head` is, if any. A PE header
/// may stand anywhere the `MZ` header points; when that is past `head` (but inside the file), the
/// file is reported as possibly PE rather than let through unread.
pub fn native_code(head: &[u8], size: u64) -> Option<&'static str> {
    let word = |at: usize| -> Option<[u8; 4]> { head.get(at..at + 4)?.try_into().ok() };
    match word(0)? {
        [0x7f, b'E', b'L', b'F'] => Some("an ELF executable or shared library"),
        [0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe] => {
            Some("a Mach-O executable or library")
        }
        [0xca, 0xfe, 0xba, 0xbe | 0xbf] => {
            let count = u32::from_be_bytes(word(4)?);
            (1..=20)
                .contains(&count)
                .then_some("a universal Mach-O executable or library")
        }
        [b'M', b'Z', ..] => {
            let offset = u32::from_le_bytes(word(0x3c)?) as usize;
            match word(offset) {
                Some(sig) => (sig == *b"PE\0\0").then_some("a Windows (PE) executable or DLL"),
                None if (offset as u64).saturating_add(4) <= size => Some(
                    "possibly a Windows (PE) executable: its header points past the part that \
                     was read",
                ),
                None => None,
            }
        }
        _ => None,
    }
}

/// What the policy says of one file of `size` bytes, given its first bytes.
pub fn check(policy: &Policy, path: &str, head: &[u8], size: u64) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(severity) = policy.native_code.severity()
        && let Some(kind) = native_code(head, size)
    {
        let what = match severity {
            Severity::Error => "this marketplace does not accept native code in packages",
            _ => "a moderator will look at it before the version is published",
        };
        out.push(Finding::whole_file(
            RULE_NATIVE_EXECUTABLE,
            severity,
            path,
            format!("this file is {kind}: {what}"),
        ));
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    if let Some((_, ext)) = name.rsplit_once('.') {
        let ext = ext.to_ascii_lowercase();
        if policy.forbidden_extensions.contains(&ext) {
            out.push(Finding::whole_file(
                RULE_FORBIDDEN_EXTENSION,
                Severity::Error,
                path,
                format!("this marketplace does not accept `.{ext}` files in packages"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pe() -> Vec<u8> {
        let mut b = vec![0u8; 256];
        b[..2].copy_from_slice(b"MZ");
        b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        b[0x80..0x84].copy_from_slice(b"PE\0\0");
        b
    }

    #[test]
    fn recognizes_native_code_by_content() {
        assert!(native_code(b"\x7fELF\x02\x01\x01\0", 8).is_some());
        assert!(native_code(&[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1], 8).is_some());
        assert!(native_code(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2], 8).is_some());
        assert!(native_code(&pe(), 256).is_some());
    }

    #[test]
    fn a_pe_header_past_what_was_read_is_still_reported() {
        // The header offset points 8 MiB in: the file holds it, the head does not.
        let mut b = pe();
        b[0x3c..0x40].copy_from_slice(&(8u32 << 20).to_le_bytes());
        let kind = native_code(&b, 9 << 20).expect("reported");
        assert!(kind.starts_with("possibly"), "{kind}");
        // Pointing past the end of the file: not a PE.
        assert_eq!(native_code(&b, 256), None);
    }

    #[test]
    fn leaves_look_alikes_alone() {
        // A Java class file (version 52) shares the universal Mach-O magic.
        assert_eq!(native_code(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52], 8), None);
        // Text that happens to start with MZ, and an MZ header pointing nowhere.
        let text = b"MZ is a fine name for a mod, and this sentence is long enough to reach 0x40.";
        assert_eq!(native_code(text, text.len() as u64), None);
        let mut stub = pe();
        stub[0x80..0x84].copy_from_slice(b"NOPE");
        assert_eq!(native_code(&stub, 256), None);
        assert_eq!(native_code(b"\x7fEL", 3), None);
        assert_eq!(native_code(b"", 0), None);
    }

    #[test]
    fn the_policy_sets_the_severity() {
        let elf = b"\x7fELF\x02\x01\x01\0";
        let mut policy = Policy::default();
        let flagged = check(&policy, "bin/tool", elf, 8);
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].rule, RULE_NATIVE_EXECUTABLE);
        assert_eq!(flagged[0].severity, Severity::Warning);
        assert_eq!(flagged[0].path, "bin/tool");
        policy.native_code = Action::Forbid;
        assert_eq!(
            check(&policy, "bin/tool", elf, 8)[0].severity,
            Severity::Error
        );
        policy.native_code = Action::Allow;
        assert!(check(&policy, "bin/tool", elf, 8).is_empty());
    }

    #[test]
    fn forbidden_extensions_match_the_last_one_in_any_case() {
        let policy = Policy {
            native_code: Action::Allow,
            forbidden_extensions: vec!["bat".into(), "ps1".into()],
        };
        let found = check(&policy, "scripts/Install.BAT", b"@echo off", 9);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, RULE_FORBIDDEN_EXTENSION);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(check(&policy, "scripts/bat.txt", b"", 0).is_empty());
        assert!(check(&policy, "bat", b"", 0).is_empty());
    }

    #[test]
    fn actions_round_trip() {
        for a in [Action::Allow, Action::Flag, Action::Forbid] {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("block"), None);
    }
}

//! The package manifest, `souk.toml`, at the root of every package archive.
//!
//! ```toml
//! [module]
//! name = "economy-plus"          # required, a module name (see `names`)
//! version = "1.4.0"              # required, semantic version MAJOR.MINOR.PATCH
//! publisher = "acme-games"       # required, a publisher slug
//! description = "Shops and coins" # required, 1 to 500 characters
//! license = "MIT OR Apache-2.0"  # required, an SPDX license expression
//! platform = ">=1.20, <2"        # required, the host platform versions it runs on
//! display_name = "Economy+"      # optional, up to 100 characters
//! homepage = "https://…"         # optional, http(s)
//! repository = "https://…"       # optional, http(s)
//! keywords = ["shop", "coins"]   # optional, up to 10, each 1 to 32 characters
//!
//! [dependencies]
//! permissions = "^2.1"           # module name = semver range
//! ```
//!
//! Convention: parsing stops at the first problem and names it with a dotted path to the value
//! (`module.version`, `dependencies.foo`, or `souk.toml` itself for a TOML syntax error), a stable
//! code and a sentence for a person. Unknown keys are not errors: a manifest written for a newer
//! Souk must still publish on an older one, so they are collected in [`Manifest::warnings`].
//! The module name is checked for shape only; whether it is reserved is the server's decision,
//! made when a name is first claimed.

use crate::names::{ModuleName, PublisherSlug};
use semver::{Version, VersionReq};
use std::collections::BTreeMap;
use std::fmt;

/// The manifest's file name, at the root of a package.
pub const FILE_NAME: &str = "souk.toml";
pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
/// The longest version string, prerelease and build metadata included (`1.0.0-rc.1+build.5`):
/// it appears in URLs, file names and lists.
pub const MAX_VERSION_CHARS: usize = 64;
pub const MAX_KEYWORDS: usize = 10;
pub const MAX_KEYWORD_CHARS: usize = 32;
pub const MAX_URL_CHARS: usize = 2048;
/// Parentheses deeper than this in a license expression are refused: no real license needs
/// them, and the parser is recursive.
const MAX_LICENSE_NESTING: usize = 16;

/// A parsed and checked `souk.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: ModuleName,
    pub version: Version,
    pub publisher: PublisherSlug,
    pub description: String,
    /// An SPDX license expression, checked for syntax only (identifiers are not looked up in
    /// the SPDX list, so `LicenseRef-…` and new identifiers work).
    pub license: String,
    /// The versions of the host platform this module runs on.
    pub platform: VersionReq,
    pub display_name: Option<String>,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    pub keywords: Vec<String>,
    pub dependencies: BTreeMap<ModuleName, VersionReq>,
    /// Keys this version of Souk does not know, ignored (one sentence each).
    pub warnings: Vec<String>,
}

/// Why a manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// Dotted path to the value: `module.version`, `dependencies.foo`, or `souk.toml` when the
    /// file is not valid TOML.
    pub field: String,
    /// Stable machine-readable reason: `invalid_toml`, `missing_field`, `invalid_version`,
    /// `invalid_range`, `invalid_name`, `invalid_field`, `self_dependency`.
    pub code: &'static str,
    pub message: String,
}

impl ManifestError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

impl ManifestError {
    /// The error said about the file, for a person who does not know which file is meant:
    /// `souk.toml: module.version: …` (and not `souk.toml: souk.toml: …` for a syntax error).
    pub fn with_file_name(&self) -> String {
        if self.field == FILE_NAME {
            format!("{FILE_NAME}: {}", self.message)
        } else {
            format!("{FILE_NAME}: {self}")
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ManifestError {}

impl Manifest {
    /// Parses and checks the text of a `souk.toml`.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let doc: toml::Table = text.parse().map_err(|e| syntax_error(text, &e))?;
        let mut warnings = Vec::new();
        let mut module = None;
        let mut dependencies = None;
        for (key, value) in doc {
            match key.as_str() {
                "module" => module = Some(value),
                "dependencies" => dependencies = Some(value),
                _ => warnings.push(format!("unknown key `{key}` ignored")),
            }
        }

        let mut module = match module {
            None => {
                return Err(ManifestError::new(
                    "module",
                    "missing_field",
                    "the [module] table is missing",
                ));
            }
            Some(value) => Section::new("module", value)?,
        };

        let raw = module.required_string("name", "invalid_name")?;
        let name = ModuleName::parse_syntax(&raw).map_err(|e| {
            ManifestError::new(
                "module.name",
                "invalid_name",
                format!("`{raw}` is not a valid module name: it {}", e.message),
            )
        })?;

        let raw = module.required_string("version", "invalid_version")?;
        if raw.len() > MAX_VERSION_CHARS {
            return Err(ManifestError::new(
                "module.version",
                "invalid_version",
                format!(
                    "a version is at most {MAX_VERSION_CHARS} characters (prerelease and build included), not {}",
                    raw.len()
                ),
            ));
        }
        let version = Version::parse(&raw).map_err(|e| {
            ManifestError::new(
                "module.version",
                "invalid_version",
                format!(
                    "`{raw}` is not a semantic version (expected MAJOR.MINOR.PATCH, like 1.0.0): {e}"
                ),
            )
        })?;

        let raw = module.required_string("publisher", "invalid_name")?;
        let publisher = PublisherSlug::parse_syntax(&raw).map_err(|e| {
            ManifestError::new(
                "module.publisher",
                "invalid_name",
                format!("`{raw}` is not a valid publisher slug: it {}", e.message),
            )
        })?;

        let description = module.required_string("description", "invalid_field")?;
        let description = description.trim().to_owned();
        if description.is_empty() {
            return Err(module.invalid("description", "must not be empty"));
        }
        let len = description.chars().count();
        if len > MAX_DESCRIPTION_CHARS {
            return Err(module.invalid(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters, not {len}"),
            ));
        }

        let license = module.required_string("license", "invalid_field")?;
        let license = license.trim().to_owned();
        check_license(&license).map_err(|detail| {
            module.invalid(
                "license",
                if license.is_empty() {
                    "must not be empty: name an SPDX license such as `MIT`".to_owned()
                } else {
                    format!(
                        "`{license}` is not an SPDX license expression (like `MIT` or \
                         `MIT OR Apache-2.0`): {detail}"
                    )
                },
            )
        })?;

        let raw = module.required_string("platform", "invalid_range")?;
        let platform = parse_range(&raw)
            .map_err(|message| ManifestError::new("module.platform", "invalid_range", message))?;

        let display_name = match module.optional_string("display_name")? {
            None => None,
            Some(s) => Some(
                crate::text::display_text(&s, MAX_DISPLAY_NAME_CHARS).map_err(|e| {
                    module.invalid("display_name", e.message(MAX_DISPLAY_NAME_CHARS))
                })?,
            ),
        };

        let mut url = |key: &'static str| -> Result<Option<String>, ManifestError> {
            match module.optional_string(key)? {
                None => Ok(None),
                Some(s) => match check_url(&s) {
                    Ok(()) => Ok(Some(s)),
                    Err(why) => Err(module.invalid(key, format!("`{s}` {why}"))),
                },
            }
        };
        let homepage = url("homepage")?;
        let repository = url("repository")?;

        let keywords = module.keywords()?;
        warnings.extend(module.finish());

        let dependencies = match dependencies {
            None => BTreeMap::new(),
            Some(value) => parse_dependencies(&name, value)?,
        };

        Ok(Manifest {
            name,
            version,
            publisher,
            description,
            license,
            platform,
            display_name,
            homepage,
            repository,
            keywords,
            dependencies,
            warnings,
        })
    }

    /// Writes the manifest in canonical form: the `[module]` keys in the documented order, then
    /// `[dependencies]` sorted by name. Warnings are not written (unknown keys were dropped).
    /// [`Manifest::parse`] gives back an equal manifest.
    pub fn to_toml(&self) -> String {
        let mut out = String::from("[module]\n");
        let mut line = |key: &str, value: &str| {
            out.push_str(key);
            out.push_str(" = ");
            out.push_str(&quote(value));
            out.push('\n');
        };
        line("name", self.name.as_str());
        line("version", &self.version.to_string());
        line("publisher", self.publisher.as_str());
        if let Some(display_name) = &self.display_name {
            line("display_name", display_name);
        }
        line("description", &self.description);
        line("license", &self.license);
        line("platform", &self.platform.to_string());
        if let Some(homepage) = &self.homepage {
            line("homepage", homepage);
        }
        if let Some(repository) = &self.repository {
            line("repository", repository);
        }
        if !self.keywords.is_empty() {
            let list: Vec<String> = self.keywords.iter().map(|k| quote(k)).collect();
            out.push_str(&format!("keywords = [{}]\n", list.join(", ")));
        }
        out.push_str("\n[dependencies]\n");
        for (name, range) in &self.dependencies {
            // Module names are valid TOML bare keys: letters, digits, `-` and `_`.
            out.push_str(&format!("{name} = {}\n", quote(&range.to_string())));
        }
        out
    }
}

/// A TOML string literal for `s`, escaped as TOML requires.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// One TOML syntax error on one line, keeping the position a person needs to find it.
fn syntax_error(text: &str, e: &toml::de::Error) -> ManifestError {
    let detail = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let message = match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            // The span is a byte offset; back off to a character boundary to slice safely.
            let start = (0..=start)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("invalid TOML at line {line}, column {column}: {detail}")
        }
        None => format!("invalid TOML: {detail}"),
    };
    ManifestError::new(FILE_NAME, "invalid_toml", message)
}

/// A table of the manifest whose keys are taken one by one; what is left are unknown keys.
struct Section {
    name: &'static str,
    table: toml::Table,
}

impl Section {
    fn new(name: &'static str, value: toml::Value) -> Result<Self, ManifestError> {
        match value {
            toml::Value::Table(table) => Ok(Self { name, table }),
            other => Err(ManifestError::new(
                name,
                "invalid_field",
                format!("must be a table ([{name}]), not a {}", other.type_str()),
            )),
        }
    }

    fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.name)
    }

    fn invalid(&self, key: &str, message: impl Into<String>) -> ManifestError {
        ManifestError::new(self.path(key), "invalid_field", message)
    }

    fn required_string(&mut self, key: &str, code: &'static str) -> Result<String, ManifestError> {
        match self.optional_string_with(key, code)? {
            Some(s) => Ok(s),
            None => Err(ManifestError::new(
                self.path(key),
                "missing_field",
                format!("is required in [{}]", self.name),
            )),
        }
    }

    fn optional_string(&mut self, key: &str) -> Result<Option<String>, ManifestError> {
        self.optional_string_with(key, "invalid_field")
    }

    /// A wrong type gets the code of the value's own check (a number for `version` is an
    /// `invalid_version`), so that clients can map a code to the one field it concerns.
    fn optional_string_with(
        &mut self,
        key: &str,
        code: &'static str,
    ) -> Result<Option<String>, ManifestError> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ManifestError::new(
                self.path(key),
                code,
                format!("must be a string, not a {}", other.type_str()),
            )),
        }
    }

    fn keywords(&mut self) -> Result<Vec<String>, ManifestError> {
        let items = match self.table.remove("keywords") {
            None => return Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items,
            Some(other) => {
                return Err(self.invalid(
                    "keywords",
                    format!("must be a list of strings, not a {}", other.type_str()),
                ));
            }
        };
        if items.len() > MAX_KEYWORDS {
            return Err(self.invalid(
                "keywords",
                format!(
                    "may hold at most {MAX_KEYWORDS} keywords, not {}",
                    items.len()
                ),
            ));
        }
        let mut keywords = Vec::with_capacity(items.len());
        for item in items {
            let toml::Value::String(keyword) = item else {
                return Err(self.invalid(
                    "keywords",
                    format!("must be a list of strings, but holds a {}", item.type_str()),
                ));
            };
            let keyword = keyword.trim().to_owned();
            let len = keyword.chars().count();
            if !(1..=MAX_KEYWORD_CHARS).contains(&len) {
                return Err(self.invalid(
                    "keywords",
                    format!(
                        "each keyword must be 1 to {MAX_KEYWORD_CHARS} characters, \
                         `{keyword}` has {len}"
                    ),
                ));
            }
            keywords.push(keyword);
        }
        Ok(keywords)
    }

    /// One warning per key nobody took.
    fn finish(self) -> Vec<String> {
        let name = self.name;
        self.table
            .into_iter()
            .map(|(key, _)| format!("unknown key `{name}.{key}` ignored"))
            .collect()
    }
}

fn parse_range(raw: &str) -> Result<VersionReq, String> {
    VersionReq::parse(raw).map_err(|e| {
        format!("`{raw}` is not a version range (like \"^1.4\" or \">=1.2.0, <2\"): {e}")
    })
}

fn parse_dependencies(
    own_name: &ModuleName,
    value: toml::Value,
) -> Result<BTreeMap<ModuleName, VersionReq>, ManifestError> {
    let toml::Value::Table(table) = value else {
        return Err(ManifestError::new(
            "dependencies",
            "invalid_field",
            format!(
                "must be a table ([dependencies]) of module names and version ranges, not a {}",
                value.type_str()
            ),
        ));
    };
    let own = own_name.normalized();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut dependencies = BTreeMap::new();
    for (key, value) in table {
        let field = format!("dependencies.{key}");
        let name = ModuleName::parse_syntax(&key).map_err(|e| {
            ManifestError::new(
                &field,
                "invalid_name",
                format!("`{key}` is not a valid module name: it {}", e.message),
            )
        })?;
        let normalized = name.normalized();
        if normalized == own {
            return Err(ManifestError::new(
                &field,
                "self_dependency",
                format!("`{own_name}` cannot depend on itself"),
            ));
        }
        // `foo_bar` and `foo-bar` are one module (see `names`): two ranges for it would be
        // ambiguous.
        if let Some(other) = seen.insert(normalized, key.clone()) {
            return Err(ManifestError::new(
                &field,
                "invalid_name",
                format!("`{other}` and `{key}` name the same module; list it once"),
            ));
        }
        let toml::Value::String(raw) = value else {
            return Err(ManifestError::new(
                &field,
                "invalid_range",
                format!(
                    "must be a version range string like \"^1.2\", not a {}",
                    value.type_str()
                ),
            ));
        };
        let range =
            parse_range(&raw).map_err(|m| ManifestError::new(&field, "invalid_range", m))?;
        dependencies.insert(name, range);
    }
    Ok(dependencies)
}

/// Checks an `http` or `https` URL loosely: a scheme, a host, no spaces. Enough to make a safe
/// link; whether it answers is not our concern.
fn check_url(s: &str) -> Result<(), String> {
    if s.len() > MAX_URL_CHARS {
        return Err(format!("is longer than {MAX_URL_CHARS} characters"));
    }
    let lower = s.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return Err("is not an http:// or https:// URL".into());
    };
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Strip userinfo and port to see whether anything is left of the host itself.
    let host = host.rsplit('@').next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("");
    if host.is_empty() {
        return Err("has no host".into());
    }
    Ok(())
}

/// A token of an SPDX license expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LicenseToken<'a> {
    Open,
    Close,
    And,
    Or,
    With,
    Id(&'a str),
}

/// Checks the syntax of an SPDX license expression (SPDX specification, annex D), loosely:
/// identifiers are not looked up in the license list.
///
/// ```text
/// expression := term { ("AND" | "OR") term }
/// term       := "(" expression ")" | license [ "WITH" exception ]
/// ```
fn check_license(expr: &str) -> Result<(), String> {
    let tokens = tokenize_license(expr)?;
    if tokens.is_empty() {
        return Err("it is empty".into());
    }
    let mut pos = 0;
    license_expression(&tokens, &mut pos, 0)?;
    match tokens.get(pos) {
        None => Ok(()),
        Some(LicenseToken::Close) => Err("a `)` has no matching `(`".into()),
        Some(t) => Err(format!(
            "expected AND, OR or WITH before {}",
            describe_token(*t)
        )),
    }
}

fn tokenize_license(expr: &str) -> Result<Vec<LicenseToken<'_>>, String> {
    let mut tokens = Vec::new();
    let mut rest = expr;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else {
            return Ok(tokens);
        };
        if c == '(' || c == ')' {
            tokens.push(if c == '(' {
                LicenseToken::Open
            } else {
                LicenseToken::Close
            });
            rest = &rest[1..];
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '(' || c == ')')
            .unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        tokens.push(match word {
            "AND" => LicenseToken::And,
            "OR" => LicenseToken::Or,
            "WITH" => LicenseToken::With,
            w if ["and", "or", "with"].contains(&w.to_ascii_lowercase().as_str()) => {
                return Err(format!(
                    "write the operator `{w}` in capitals: {}",
                    w.to_ascii_uppercase()
                ));
            }
            w => {
                check_license_id(w)?;
                LicenseToken::Id(w)
            }
        });
    }
}

/// `MIT`, `GPL-2.0+`, `LicenseRef-acme`, `DocumentRef-spdx:LicenseRef-acme`.
fn check_license_id(word: &str) -> Result<(), String> {
    let idstring = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    };
    let bad = || {
        format!(
            "`{word}` is not a license identifier (letters, digits, `.` and `-`, \
             an optional `+` at the end)"
        )
    };
    if let Some(rest) = word.strip_prefix("DocumentRef-") {
        let (document, license) = rest.split_once(':').ok_or_else(bad)?;
        let license = license.strip_prefix("LicenseRef-").ok_or_else(bad)?;
        return if idstring(document) && idstring(license) {
            Ok(())
        } else {
            Err(bad())
        };
    }
    if let Some(rest) = word.strip_prefix("LicenseRef-") {
        return if idstring(rest) { Ok(()) } else { Err(bad()) };
    }
    // `+` means "this version or any later one", so it only makes sense at the end.
    let id = word.strip_suffix('+').unwrap_or(word);
    if idstring(id) { Ok(()) } else { Err(bad()) }
}

fn describe_token(t: LicenseToken<'_>) -> String {
    match t {
        LicenseToken::Open => "`(`".into(),
        LicenseToken::Close => "`)`".into(),
        LicenseToken::And => "`AND`".into(),
        LicenseToken::Or => "`OR`".into(),
        LicenseToken::With => "`WITH`".into(),
        LicenseToken::Id(id) => format!("`{id}`"),
    }
}

fn license_expression(
    tokens: &[LicenseToken<'_>],
    pos: &mut usize,
    depth: usize,
) -> Result<(), String> {
    license_term(tokens, pos, depth)?;
    while let Some(op @ (LicenseToken::And | LicenseToken::Or)) = tokens.get(*pos) {
        *pos += 1;
        if *pos == tokens.len() {
            return Err(format!("a license must follow {}", describe_token(*op)));
        }
        license_term(tokens, pos, depth)?;
    }
    Ok(())
}

fn license_term(tokens: &[LicenseToken<'_>], pos: &mut usize, depth: usize) -> Result<(), String> {
    match tokens.get(*pos) {
        Some(LicenseToken::Open) => {
            if depth >= MAX_LICENSE_NESTING {
                return Err("parentheses are nested too deeply".into());
            }
            *pos += 1;
            license_expression(tokens, pos, depth + 1)?;
            match tokens.get(*pos) {
                Some(LicenseToken::Close) => {
                    *pos += 1;
                    Ok(())
                }
                None => Err("a `(` is never closed".into()),
                Some(t) => Err(format!(
                    "expected AND, OR or `)` before {}",
                    describe_token(*t)
                )),
            }
        }
        Some(LicenseToken::Id(_)) => {
            *pos += 1;
            if tokens.get(*pos) == Some(&LicenseToken::With) {
                *pos += 1;
                match tokens.get(*pos) {
                    Some(LicenseToken::Id(_)) => *pos += 1,
                    _ => return Err("an exception identifier must follow `WITH`".into()),
                }
            }
            Ok(())
        }
        Some(t) => Err(format!("expected a license, found {}", describe_token(*t))),
        None => Err("expected a license".into()),
    }
}

#[cfg(test)]
mod tests;

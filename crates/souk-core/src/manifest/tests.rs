use super::*;

const MINIMAL: &str = r#"
[module]
name = "economy-plus"
version = "1.4.0"
publisher = "acme-games"
description = "Shops and coins for your server."
license = "MIT"
platform = ">=1.20.0, <2"
"#;

/// MINIMAL with `key = value` replaced or added in [module].
fn with(key: &str, value: &str) -> String {
    let mut lines: Vec<String> = MINIMAL
        .lines()
        .filter(|l| !l.starts_with(&format!("{key} =")))
        .map(str::to_owned)
        .collect();
    lines.push(format!("{key} = {value}"));
    lines.join("\n")
}

fn without(key: &str) -> String {
    MINIMAL
        .lines()
        .filter(|l| !l.starts_with(&format!("{key} =")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn err(text: &str) -> ManifestError {
    Manifest::parse(text).expect_err("the manifest should be refused")
}

#[test]
fn minimal_manifest() {
    let m = Manifest::parse(MINIMAL).unwrap();
    assert_eq!(m.name.as_str(), "economy-plus");
    assert_eq!(m.version, Version::new(1, 4, 0));
    assert_eq!(m.publisher.as_str(), "acme-games");
    assert_eq!(m.description, "Shops and coins for your server.");
    assert_eq!(m.license, "MIT");
    assert!(m.platform.matches(&Version::new(1, 20, 3)));
    assert!(!m.platform.matches(&Version::new(2, 0, 0)));
    assert_eq!(m.display_name, None);
    assert_eq!(m.homepage, None);
    assert!(m.keywords.is_empty());
    assert!(m.dependencies.is_empty());
    assert!(m.warnings.is_empty());
}

#[test]
fn full_manifest() {
    let text = format!(
        r#"{MINIMAL}display_name = "Economy+"
homepage = "https://economy.example/"
repository = "http://git.example/acme/economy"
keywords = ["shop", " coins "]

[dependencies]
permissions = "^2.1"
chat_format = ">=1.0.0, <3"
"#
    );
    let m = Manifest::parse(&text).unwrap();
    assert_eq!(m.display_name.as_deref(), Some("Economy+"));
    assert_eq!(m.homepage.as_deref(), Some("https://economy.example/"));
    assert_eq!(
        m.repository.as_deref(),
        Some("http://git.example/acme/economy")
    );
    assert_eq!(m.keywords, ["shop", "coins"]);
    let deps: Vec<(&str, String)> = m
        .dependencies
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_string()))
        .collect();
    assert_eq!(
        deps,
        [
            ("chat_format", ">=1.0.0, <3".to_owned()),
            ("permissions", "^2.1".to_owned())
        ]
    );
}

#[test]
fn unknown_keys_are_warnings() {
    let text = format!("{MINIMAL}autor = \"me\"\n\n[package]\nx = 1\n");
    let m = Manifest::parse(&text).unwrap();
    assert_eq!(
        m.warnings,
        [
            "unknown key `package` ignored",
            "unknown key `module.autor` ignored"
        ]
    );
}

#[test]
fn toml_syntax_error_keeps_the_position() {
    let e = err("[module]\nname = \"x\"\nversion = 1.0.0\n");
    assert_eq!(e.field, "souk.toml");
    assert_eq!(e.code, "invalid_toml");
    assert!(
        e.message.starts_with("invalid TOML at line 3, column"),
        "{e}"
    );
    assert!(!e.message.contains('\n'), "{e}");
    assert!(
        e.to_string()
            .starts_with("souk.toml: invalid TOML at line 3")
    );
    let e = err("[module\n");
    assert_eq!(e.code, "invalid_toml");
    assert!(e.message.contains("line 1"), "{e}");
}

#[test]
fn missing_fields() {
    assert_eq!(err("").field, "module");
    assert_eq!(err("").code, "missing_field");
    for key in [
        "name",
        "version",
        "publisher",
        "description",
        "license",
        "platform",
    ] {
        let e = err(&without(key));
        assert_eq!(e.field, format!("module.{key}"));
        assert_eq!(e.code, "missing_field");
        assert_eq!(
            e.to_string(),
            format!("module.{key}: is required in [module]")
        );
    }
    let e = err("module = 3\n");
    assert_eq!((e.field.as_str(), e.code), ("module", "invalid_field"));
}

#[test]
fn invalid_version() {
    let e = err(&with("version", "\"1.0\""));
    assert_eq!(e.field, "module.version");
    assert_eq!(e.code, "invalid_version");
    assert!(
        e.to_string().starts_with(
            "module.version: `1.0` is not a semantic version (expected MAJOR.MINOR.PATCH"
        ),
        "{e}"
    );
    for bad in ["\"v1.0.0\"", "\"1.0.0.0\"", "\"\"", "\"01.0.0\""] {
        assert_eq!(err(&with("version", bad)).code, "invalid_version", "{bad}");
    }
    // A number is not a version: TOML would read 1.0 as a float.
    let e = err(&with("version", "1.0"));
    assert_eq!(e.code, "invalid_version");
    assert!(e.message.contains("must be a string, not a float"), "{e}");
    let m = Manifest::parse(&with("version", "\"2.0.0-beta.1+build.5\"")).unwrap();
    assert!(!m.version.pre.is_empty());
    // A valid semantic version, but too long to show or store.
    let long = format!("1.0.0-{}", "a".repeat(59));
    assert_eq!(long.len(), 65);
    let e = err(&with("version", &format!("\"{long}\"")));
    assert_eq!(e.code, "invalid_version");
    assert!(e.message.contains("at most 64 characters"), "{e}");
    assert!(Manifest::parse(&with("version", &format!("\"{}\"", &long[..64]))).is_ok());
}

#[test]
fn display_names_are_one_visible_line() {
    for bad in [
        "\"two\\nlines\"",
        "\"evil\\u202Etxt\"",
        "\"zero\\u200Bwidth\"",
        "\"  \"",
    ] {
        let e = err(&with("display_name", bad));
        assert_eq!(e.field, "module.display_name", "{bad}");
    }
    let m = Manifest::parse(&with("display_name", "\"Économie +\"")).unwrap();
    assert_eq!(m.display_name.as_deref(), Some("Économie +"));
}

#[test]
fn invalid_names() {
    let e = err(&with("name", "\"My Mod\""));
    assert_eq!((e.field.as_str(), e.code), ("module.name", "invalid_name"));
    assert!(
        e.message.contains("`My Mod` is not a valid module name"),
        "{e}"
    );
    let e = err(&with("name", "42"));
    assert_eq!((e.field.as_str(), e.code), ("module.name", "invalid_name"));
    let e = err(&with("publisher", "\"Acme Games\""));
    assert_eq!(
        (e.field.as_str(), e.code),
        ("module.publisher", "invalid_name")
    );
    // Reserved names are the server's business: the syntax is fine.
    assert!(Manifest::parse(&with("name", "\"souk\"")).is_ok());
}

#[test]
fn invalid_description() {
    for bad in ["\"\"", "\"   \"", "3"] {
        let e = err(&with("description", bad));
        assert_eq!(
            (e.field.as_str(), e.code),
            ("module.description", "invalid_field"),
            "{bad}"
        );
    }
    let long = format!("\"{}\"", "é".repeat(501));
    assert!(err(&with("description", &long)).message.contains("500"));
    let ok = format!("\"{}\"", "é".repeat(500));
    assert!(Manifest::parse(&with("description", &ok)).is_ok());
}

#[test]
fn licenses() {
    for ok in [
        "MIT",
        "Apache-2.0",
        "GPL-2.0+",
        "GPL-2.0-or-later WITH Classpath-exception-2.0",
        "MIT OR Apache-2.0",
        "(MIT OR Apache-2.0) AND BSD-3-Clause",
        "((MIT))",
        "LicenseRef-acme-eula",
        "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
        "  MIT  ",
    ] {
        let m = Manifest::parse(&with("license", &format!("\"{ok}\""))).unwrap();
        assert_eq!(m.license, ok.trim());
    }
    for (bad, why) in [
        ("", "must not be empty"),
        ("MIT AND", "a license must follow `AND`"),
        (
            "MIT Apache-2.0",
            "expected AND, OR or WITH before `Apache-2.0`",
        ),
        ("(MIT OR Apache-2.0", "is never closed"),
        ("MIT)", "has no matching `(`"),
        ("MIT and Apache-2.0", "in capitals: AND"),
        ("MIT WITH", "exception identifier must follow `WITH`"),
        ("MIT WITH (X)", "exception identifier must follow `WITH`"),
        ("AND MIT", "expected a license, found `AND`"),
        ("()", "expected a license, found `)`"),
        ("MIT/X11", "is not a license identifier"),
        ("GPL+2.0", "is not a license identifier"),
        ("LicenseRef-", "is not a license identifier"),
        ("DocumentRef-x", "is not a license identifier"),
        ("Apache 2", "expected AND, OR or WITH"),
    ] {
        let e = err(&with("license", &format!("\"{bad}\"")));
        assert_eq!(
            (e.field.as_str(), e.code),
            ("module.license", "invalid_field"),
            "{bad}"
        );
        assert!(e.message.contains(why), "{bad}: {e}");
    }
    let deep = format!("\"{}MIT{}\"", "(".repeat(40), ")".repeat(40));
    assert!(err(&with("license", &deep)).message.contains("too deeply"));
}

#[test]
fn platform_range() {
    for ok in [
        "\"*\"",
        "\"^1.4\"",
        "\"~1.2.3\"",
        "\">=1.0.0, <2.0.0\"",
        "\"=1.2.3\"",
    ] {
        assert!(Manifest::parse(&with("platform", ok)).is_ok(), "{ok}");
    }
    for bad in [
        "\">= banana\"",
        "\"1.2.3.4\"",
        "\"\"",
        "\">1 <2\"",
        "[\">=1\"]",
    ] {
        let e = err(&with("platform", bad));
        assert_eq!(
            (e.field.as_str(), e.code),
            ("module.platform", "invalid_range"),
            "{bad}"
        );
    }
    let e = err(&with("platform", "\"latest\""));
    assert!(
        e.message.starts_with("`latest` is not a version range"),
        "{e}"
    );
}

#[test]
fn optional_fields() {
    for (key, bad) in [
        ("display_name", "\"  \""),
        ("display_name", &format!("\"{}\"", "x".repeat(101))),
        ("homepage", "\"ftp://example.com\""),
        ("homepage", "\"javascript:alert(1)\""),
        ("homepage", "\"https://\""),
        ("homepage", "\"https://exa mple.com\""),
        ("repository", "\"example.com/repo\""),
        ("repository", "true"),
        ("keywords", "\"shop\""),
        ("keywords", "[1]"),
        ("keywords", "[\"\"]"),
        ("keywords", &format!("[\"{}\"]", "k".repeat(33))),
        (
            "keywords",
            "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\"]",
        ),
    ] {
        let e = err(&with(key, bad));
        assert_eq!(e.field, format!("module.{key}"), "{key} = {bad}");
        assert_eq!(e.code, "invalid_field", "{key} = {bad}");
    }
    let m = Manifest::parse(&with("homepage", "\"HTTPS://Example.com:8443/x?y#z\"")).unwrap();
    assert_eq!(
        m.homepage.as_deref(),
        Some("HTTPS://Example.com:8443/x?y#z")
    );
    let ten = "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]";
    assert_eq!(
        Manifest::parse(&with("keywords", ten))
            .unwrap()
            .keywords
            .len(),
        10
    );
}

#[test]
fn dependency_errors() {
    let deps = |body: &str| format!("{MINIMAL}\n[dependencies]\n{body}\n");
    let e = err(&deps("\"Bad Name\" = \"^1\""));
    assert_eq!(
        (e.field.as_str(), e.code),
        ("dependencies.Bad Name", "invalid_name")
    );
    let e = err(&deps("perms = \"not a range\""));
    assert_eq!(
        (e.field.as_str(), e.code),
        ("dependencies.perms", "invalid_range")
    );
    let e = err(&deps("perms = { version = \"1\" }"));
    assert_eq!(e.code, "invalid_range");
    assert!(e.message.contains("not a table"), "{e}");
    let e = err(&deps("economy-plus = \"^1\""));
    assert_eq!(
        (e.field.as_str(), e.code),
        ("dependencies.economy-plus", "self_dependency")
    );
    // The same module under its other spelling is still itself.
    let e = err(&deps("economy_plus = \"^1\""));
    assert_eq!(e.code, "self_dependency");
    let e = err(&deps("foo-bar = \"^1\"\nfoo_bar = \"^2\""));
    assert_eq!(
        (e.field.as_str(), e.code),
        ("dependencies.foo_bar", "invalid_name")
    );
    assert!(e.message.contains("name the same module"), "{e}");
    let e = err(&format!("dependencies = [\"perms\"]\n{MINIMAL}"));
    assert_eq!(
        (e.field.as_str(), e.code),
        ("dependencies", "invalid_field")
    );
}

#[test]
fn canonical_toml_round_trips() {
    let minimal = Manifest::parse(MINIMAL).unwrap();
    let full = Manifest::parse(&format!(
        "{MINIMAL}display_name = \"Economy \\\"Plus\\\" \\\\ ünïcode\"\n\
             homepage = \"https://economy.example/\"\nkeywords = [\"shop\", \"it's\"]\n\
             unknown = 1\n\n[dependencies]\nperms = \"^2.1\"\nchat = \">=1, <3\"\n"
    ))
    .unwrap();
    for m in [minimal, full] {
        let text = m.to_toml();
        let mut again = Manifest::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(again.warnings.is_empty());
        again.warnings = m.warnings.clone();
        assert_eq!(again, m, "{text}");
        // Canonical: writing the re-parsed manifest gives the same text.
        assert_eq!(again.to_toml(), text);
    }
    let text = Manifest::parse(MINIMAL).unwrap().to_toml();
    assert_eq!(
        text,
        "[module]\nname = \"economy-plus\"\nversion = \"1.4.0\"\npublisher = \"acme-games\"\n\
             description = \"Shops and coins for your server.\"\nlicense = \"MIT\"\n\
             platform = \">=1.20.0, <2\"\n\n[dependencies]\n"
    );
}

#[test]
fn error_is_a_std_error() {
    let e: Box<dyn std::error::Error> = Box::new(err(""));
    assert_eq!(e.to_string(), "module: the [module] table is missing");
}

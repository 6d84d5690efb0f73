use super::*;

// Credential shapes are assembled with `concat!` so that this source file does not itself
// hold a string in a credential's shape (secret scanners, ours included, would flag it).
const AWS_KEY_ID: &str = concat!("AKIA", "Z7Q3K5W2M4N6P8R0");
const AWS_SECRET: &str = concat!("wJalrXUtnFEMI/K7MDENG", "/bPxRfiCYzzzzzzzzzz");
const STRIPE_LIVE: &str = concat!("sk_", "live_", "51HqLyjWDarjtT1zdp7dcXyz");
const STRIPE_TEST: &str = concat!("sk_", "test_", "4eC39HqLyjWDarjtT1zdp7dc");
const STRIPE_RESTRICTED: &str = concat!("rk_", "live_", "51HqLyjWDarjtT1zdp7dcAbC");
const STRIPE_WEBHOOK: &str = concat!("whsec_", "abcdefghijklmnopqrstuvwxyz012345");
const GITHUB_CLASSIC: &str = concat!("ghp_", "abcdefghijklmnopqrstuvwxyz0123456789");
const GITHUB_FINE: &str = concat!(
    "github_pat_",
    "11ABCDEFG0123456789abc_",
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVW"
);
const SLACK_BOT: &str = concat!(
    "xoxb-",
    "123456789012-1234567890123-abcdefghijklmnopqrstuvwx"
);
const SLACK_HOOK: &str = concat!(
    "https://hooks.slack.com/",
    "services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
);
const GOOGLE: &str = concat!("AIza", "SyA-1234567890abcdefghijklmnopqrstu");
const BRAINTREE: &str = concat!(
    "access_token$",
    "production$",
    "abcd1234efgh5678$",
    "0123456789abcdef0123456789abcdef"
);
const NPM: &str = concat!("npm_", "abcdefghijklmnopqrstuvwxyz0123456789");
const JWT: &str = concat!(
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0",
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
);

fn rsa_block() -> String {
    let body = "MIIEowIBAAKCAQEAxyz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ\n".repeat(4);
    format!(
        "{}RSA PRIVATE KEY-----\n{body}{}RSA PRIVATE KEY-----\n",
        "-----BEGIN ", "-----END "
    )
}

/// The one finding in `text`, asserting there is exactly one.
fn one(text: &str) -> Finding {
    let mut findings = scan("src/config.rs", text.as_bytes());
    assert_eq!(findings.len(), 1, "{text:?}: {findings:#?}");
    findings.remove(0)
}

fn none(text: &str) {
    let findings = scan("f", text.as_bytes());
    assert!(findings.is_empty(), "{text:?}: {findings:#?}");
}

/// Checks rule and severity, and that no more of the secret than `shown` is in the message.
fn expect(text: &str, secret: &str, rule: &str, severity: Severity, shown: &str) {
    let finding = one(text);
    assert_eq!(
        (finding.rule, finding.severity),
        (rule, severity),
        "{text:?}"
    );
    assert_eq!(finding.path, "src/config.rs");
    assert!(RULES.contains(&finding.rule));
    assert!(
        finding.message.contains(&format!("{shown}…")),
        "{}",
        finding.message
    );
    let tail = &secret[shown.len()..];
    assert!(
        !finding.message.contains(&tail[..tail.len().min(8)]),
        "the message leaks the secret: {}",
        finding.message
    );
}

#[test]
fn finds_every_documented_shape() {
    use Severity::{Error, Warning};
    let cases: &[(&str, &str, Severity, &str)] = &[
        (AWS_KEY_ID, RULE_AWS_ACCESS_KEY_ID, Error, "AKIA"),
        (STRIPE_LIVE, RULE_STRIPE_SECRET_KEY, Error, "sk_live_"),
        (STRIPE_TEST, RULE_STRIPE_SECRET_KEY, Warning, "sk_test_"),
        (
            STRIPE_RESTRICTED,
            RULE_STRIPE_RESTRICTED_KEY,
            Error,
            "rk_live_",
        ),
        (STRIPE_WEBHOOK, RULE_STRIPE_WEBHOOK_SECRET, Error, "whsec_"),
        (GITHUB_CLASSIC, RULE_GITHUB_TOKEN, Error, "ghp_"),
        (GITHUB_FINE, RULE_GITHUB_TOKEN, Error, "github_pat_"),
        (SLACK_BOT, RULE_SLACK_TOKEN, Error, "xoxb-"),
        (GOOGLE, RULE_GOOGLE_API_KEY, Error, "AIza"),
        (NPM, RULE_NPM_TOKEN, Error, "npm_"),
        (JWT, RULE_JWT, Warning, "eyJ"),
    ];
    for &(secret, rule, severity, shown) in cases {
        // Bare, quoted in code, and in an environment file.
        expect(secret, secret, rule, severity, shown);
        expect(
            &format!("let key = \"{secret}\";\n"),
            secret,
            rule,
            severity,
            shown,
        );
        expect(&format!("TOKEN={secret}\n"), secret, rule, severity, shown);
    }
}

#[test]
fn finds_every_github_and_slack_prefix() {
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        let token = format!("{prefix}{}", &GITHUB_CLASSIC[4..]);
        assert_eq!(one(&token).rule, RULE_GITHUB_TOKEN, "{token}");
    }
    for prefix in ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"] {
        let token = format!("{prefix}{}", &SLACK_BOT[5..]);
        assert_eq!(one(&token).rule, RULE_SLACK_TOKEN, "{token}");
    }
    let temporary = format!("ASIA{}", &AWS_KEY_ID[4..]);
    let f = one(&temporary);
    assert_eq!(f.rule, RULE_AWS_ACCESS_KEY_ID);
    assert!(f.message.contains("ASIA…"), "{}", f.message);
}

#[test]
fn finds_aws_documented_example_key() {
    // AWS's documentation uses this one; it is in a real key's shape, so it is reported.
    let f = one("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n");
    assert_eq!(f.rule, RULE_AWS_ACCESS_KEY_ID);
    assert_eq!((f.line, f.column), (1, 21));
    assert!(!f.message.contains("IOSFODNN"));
}

#[test]
fn finds_aws_secret_access_keys_in_their_usual_settings() {
    for text in [
        format!("aws_secret_access_key = {AWS_SECRET}"),
        format!("aws_secret_access_key={AWS_SECRET}\n"),
        format!("export AWS_SECRET_ACCESS_KEY=\"{AWS_SECRET}\""),
        format!("AWS_SECRET_ACCESS_KEY: '{AWS_SECRET}'"),
        format!("{{\"awsSecretAccessKey\": \"{AWS_SECRET}\"}}"),
        format!("aws-secret-access-key := {AWS_SECRET}"),
        format!(":aws_secret_access_key => '{AWS_SECRET}'"),
    ] {
        let f = one(&text);
        assert_eq!(
            (f.rule, f.severity),
            (RULE_AWS_SECRET_ACCESS_KEY, Severity::Error)
        );
        // The position is the secret's, not the setting name's.
        let at = text.find(AWS_SECRET).unwrap();
        assert_eq!(f.column as usize, at + 1, "{text}");
        assert!(!f.message.contains(&AWS_SECRET[..6]), "{}", f.message);
    }
    // Not 40 characters, or no assignment: not a secret.
    none(&format!("aws_secret_access_key = {}", &AWS_SECRET[..39]));
    none(&format!("aws_secret_access_key = {AWS_SECRET}x"));
    none("aws_secret_access_key = <your secret key>");
    none("Set aws_secret_access_key in ~/.aws/credentials.");
}

#[test]
fn finds_slack_webhooks_and_braintree_tokens() {
    let f = one(&format!("curl -X POST {SLACK_HOOK}\n"));
    assert_eq!((f.rule, f.severity), (RULE_SLACK_WEBHOOK, Severity::Error));
    assert_eq!(f.column, 14);
    assert!(!f.message.contains("T00000000"));
    none("see https://hooks.slack.com/services/ for details");

    let f = one(&format!("gateway = Braintree({BRAINTREE})"));
    assert_eq!(
        (f.rule, f.severity),
        (RULE_BRAINTREE_ACCESS_TOKEN, Severity::Error)
    );
    assert!(!f.message.contains("abcd1234"));
    let sandbox = BRAINTREE.replace("production", "sandbox");
    assert_eq!(one(&sandbox).severity, Severity::Warning);
    none("access_token$production$...");
}

#[test]
fn finds_pem_private_keys_of_every_kind() {
    let body =
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\n".repeat(3);
    for label in [
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ] {
        let text = format!("# deploy key\n-----BEGIN {label}-----\n{body}-----END {label}-----\n");
        let f = one(&text);
        assert_eq!(
            (f.rule, f.severity),
            (RULE_PRIVATE_KEY, Severity::Error),
            "{label}"
        );
        assert_eq!((f.line, f.column), (2, 1));
        assert!(f.message.contains(label));
    }
    // Only the header, as in documentation: a warning.
    let f = one(
        "Keys look like `-----BEGIN RSA PRIVATE KEY-----` ... `-----END RSA PRIVATE KEY-----`.",
    );
    assert_eq!((f.rule, f.severity), (RULE_PRIVATE_KEY, Severity::Warning));
    // Public material is not secret.
    none(&format!(
        "-----BEGIN PUBLIC KEY-----\n{body}-----END PUBLIC KEY-----\n"
    ));
    none(&format!(
        "-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n"
    ));
}

#[test]
fn a_key_body_is_not_scanned_for_more() {
    // "AIza…" inside a key's base64 must not be reported separately.
    let body = format!("{GOOGLE}{}\n", "A".repeat(40));
    let text = format!("-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----\n");
    assert_eq!(one(&text).rule, RULE_PRIVATE_KEY);
}

#[test]
fn finds_minisign_secret_keys_but_not_signatures_or_public_keys() {
    let key = format!(
        "untrusted comment: minisign encrypted secret key\nRWQAAEIy{}\n",
        "A".repeat(150)
    );
    let f = one(&key);
    assert_eq!(
        (f.rule, f.severity),
        (RULE_MINISIGN_SECRET_KEY, Severity::Error)
    );
    assert_eq!((f.line, f.column), (1, 1));
    let rsign = key.replace("minisign encrypted", "rsign encrypted");
    assert_eq!(one(&rsign).rule, RULE_MINISIGN_SECRET_KEY);
    let comment_only = "untrusted comment: minisign encrypted secret key\n";
    assert_eq!(one(comment_only).severity, Severity::Warning);

    // What a package may well ship: a signature and a public key.
    none(
        "untrusted comment: signature from minisign secret key\n\
             RUQv6jQwc7Ffx38Y6tFuWncnSElxfSoO45V/FBV3LO3l7wKDSAwY1jqUGIa3nmSd47rorJkNjuZ4n//N1paaMJOOn0BVsEN6UQI=\n\
             trusted comment: a trusted comment\n\
             30rX7uMcM9A0d5w33nKM7GKdy41rgssQAH1lBy/vZkEOcc6chXz5e1ACTMA6dgm7e7ZNvUVn3bc/n51fMVj5AQ==\n",
    );
    none(
        "untrusted comment: minisign public key C75FB1733034EA2F\n\
             RWQv6jQwc7FfxzpbLdHXUW+eLTv5JozUtwl+WzLQ5/oyeISUDs31HQ7A\n",
    );
}

#[test]
fn ordinary_words_and_placeholders_are_not_secrets() {
    for text in [
        "let skeleton_key = open(door);",
        "fn risk_level() -> u8 { 3 }",
        "the task_live_reload flag",
        "mask_live_abcdefghijklmnopqrstuvwxyz0123",
        "sk_live_...",
        "sk_test_YOUR_SECRET_KEY_HERE",
        "STRIPE_KEY=sk_live_xxxxxxxx",
        "pk_live_51HqLyjWDarjtT1zdp7dcXyzAbc",
        "ghp_tooShort",
        "AKIA is the prefix of AWS access key ids",
        "AKIA123",
        "akiaz7q3k5w2m4n6p8r0",
        "XAKIAZ7Q3K5W2M4N6P8R0",
        "xoxb-short",
        "npm_install_done = true",
        "github_pat_ and ghp_ are GitHub's prefixes",
        "https://hooks.slack.com/",
        "eyJ is how base64 JSON starts",
        "whsec_abc",
    ] {
        none(text);
    }
    // A key id one character too long or too short is some other token.
    none(&format!("{AWS_KEY_ID}Q"));
    none(&AWS_KEY_ID[..19]);
    none(&format!("{AWS_KEY_ID}x"));
    none(&format!("{GITHUB_CLASSIC}x"));
    none(&format!("{NPM}9"));
    none(&format!("{GOOGLE}Z"));
}

#[test]
fn positions_are_lines_and_character_columns() {
    let text = format!("# Konfiguration für Ümlaute\nname = \"x\"\n  überall = \"{NPM}\"\n");
    let f = one(&text);
    assert_eq!((f.line, f.column), (3, 14));

    let text = format!("a\n{AWS_KEY_ID}\n\n\t{GITHUB_CLASSIC} {STRIPE_LIVE}\n");
    let findings = scan("x", text.as_bytes());
    let places: Vec<_> = findings
        .iter()
        .map(|f| (f.rule, f.line, f.column))
        .collect();
    assert_eq!(
        places,
        [
            (RULE_AWS_ACCESS_KEY_ID, 2, 1),
            (RULE_GITHUB_TOKEN, 4, 2),
            (RULE_STRIPE_SECRET_KEY, 4, 43),
        ]
    );
}

#[test]
fn binary_files_are_searched_for_pem_blocks_only() {
    let mut bytes = b"\x7fELF\x02\x01\x01\x00\x00".to_vec();
    bytes.extend_from_slice(AWS_KEY_ID.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(GITHUB_CLASSIC.as_bytes());
    assert!(scan("lib/native.so", &bytes).is_empty());

    bytes.push(0);
    bytes.extend_from_slice(rsa_block().as_bytes());
    let findings = scan("lib/native.so", &bytes);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].rule, RULE_PRIVATE_KEY);

    // A NUL after the first 8 KiB does not make a text file binary.
    let mut text = "x".repeat(BINARY_SNIFF_BYTES).into_bytes();
    text.push(0);
    text.extend_from_slice(AWS_KEY_ID.as_bytes());
    assert_eq!(scan("t", &text).len(), 1);
}

#[test]
fn the_work_is_bounded() {
    let mut big = format!("{NPM}\n").into_bytes();
    big.resize(MAX_SCAN_BYTES, b' ');
    big.extend_from_slice(AWS_KEY_ID.as_bytes());
    let findings = scan("big.txt", &big);
    let rules: Vec<_> = findings.iter().map(|f| (f.rule, f.severity)).collect();
    assert_eq!(
        rules,
        [
            (RULE_NPM_TOKEN, Severity::Error),
            (RULE_SCAN_TRUNCATED, Severity::Info)
        ]
    );
    assert_eq!((findings[1].line, findings[1].column), (0, 0));

    let many = format!("{AWS_KEY_ID}\n").repeat(MAX_FINDINGS_PER_FILE + 10);
    let findings = scan("many.txt", many.as_bytes());
    assert_eq!(findings.len(), MAX_FINDINGS_PER_FILE + 1);
    assert_eq!(
        findings[MAX_FINDINGS_PER_FILE - 1].line,
        MAX_FINDINGS_PER_FILE as u32
    );
    assert_eq!(findings[MAX_FINDINGS_PER_FILE].rule, RULE_TOO_MANY_FINDINGS);

    assert!(scan("empty", b"").is_empty());
}

#[test]
fn rule_ids_are_distinct_and_well_formed() {
    let mut ids = RULES.to_vec();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
    for id in RULES {
        assert!(id.starts_with("secret."), "{id}");
        assert!(
            id.bytes()
                .all(|c| c.is_ascii_lowercase() || c == b'-' || c == b'.'),
            "{id}"
        );
    }
}

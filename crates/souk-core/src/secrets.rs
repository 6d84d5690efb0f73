//! Leaked secrets in the files of an uploaded package.
//!
//! [`scan`] looks through one file's bytes for credentials in the shapes their issuers document:
//! PEM private key blocks, AWS, Stripe, GitHub, Slack, Google, Braintree (PayPal) and npm
//! credentials, minisign secret keys, and JSON Web Tokens. Anything published in a package can be
//! read by everyone who downloads it, so a found credential is an [`Severity::Error`] that holds
//! the version back: the publisher must revoke it and upload a version without it. Credentials
//! that only reach test or sandbox systems (Stripe `sk_test_`, Braintree sandbox) and JWTs (often
//! harmless fixtures) are warnings, which send the version to a moderator.
//!
//! The matchers are written by hand, one function per shape, rather than with regular
//! expressions: the shapes are fixed prefixes with a counted tail, the build stays lean, and each
//! rule can say exactly why it matched. A token must start at a word boundary (the byte before it
//! is not a letter or digit), so `mask_live_…` is not a Stripe key; fixed-length tokens must also
//! end at one. Documentation placeholders in a real shape (`AKIAIOSFODNN7EXAMPLE`) are reported
//! like any other: we cannot tell them from a real key, and a moderator can.
//!
//! Messages name the kind of credential and its public prefix (`AKIA…`), never the secret part.
//!
//! The work is bounded: only the first [`MAX_SCAN_BYTES`] of a file are read, and at most
//! [`MAX_FINDINGS_PER_FILE`] findings are reported for one file. A file with a NUL byte in its
//! first 8 KiB is taken to be binary, where tokens would be noise; only PEM private key blocks
//! (which tools embed verbatim, in binaries too) are looked for there.

use crate::findings::{Finding, Severity};

/// How much of a file is scanned.
pub const MAX_SCAN_BYTES: usize = 4 * 1024 * 1024;
/// How many findings one file can produce; past that one Info finding says there were more.
pub const MAX_FINDINGS_PER_FILE: usize = 50;
/// How far into a file a NUL byte marks it binary (what `git` and `grep` look at, too).
const BINARY_SNIFF_BYTES: usize = 8 * 1024;
/// How far after a PEM `BEGIN` line its `END` line is looked for (a 16384-bit RSA key is ~13 KiB).
const MAX_PEM_BLOCK_BYTES: usize = 64 * 1024;

pub const RULE_PRIVATE_KEY: &str = "secret.private-key";
pub const RULE_AWS_ACCESS_KEY_ID: &str = "secret.aws-access-key-id";
pub const RULE_AWS_SECRET_ACCESS_KEY: &str = "secret.aws-secret-access-key";
pub const RULE_STRIPE_SECRET_KEY: &str = "secret.stripe-secret-key";
pub const RULE_STRIPE_RESTRICTED_KEY: &str = "secret.stripe-restricted-key";
pub const RULE_STRIPE_WEBHOOK_SECRET: &str = "secret.stripe-webhook-secret";
pub const RULE_GITHUB_TOKEN: &str = "secret.github-token";
pub const RULE_SLACK_TOKEN: &str = "secret.slack-token";
pub const RULE_SLACK_WEBHOOK: &str = "secret.slack-webhook-url";
pub const RULE_GOOGLE_API_KEY: &str = "secret.google-api-key";
pub const RULE_BRAINTREE_ACCESS_TOKEN: &str = "secret.braintree-access-token";
pub const RULE_NPM_TOKEN: &str = "secret.npm-token";
pub const RULE_MINISIGN_SECRET_KEY: &str = "secret.minisign-secret-key";
pub const RULE_JWT: &str = "secret.jwt";
/// Info: the file is longer than [`MAX_SCAN_BYTES`] and its end was not scanned.
pub const RULE_SCAN_TRUNCATED: &str = "secret.scan-truncated";
/// Info: the file had more than [`MAX_FINDINGS_PER_FILE`] findings; the rest were not reported.
pub const RULE_TOO_MANY_FINDINGS: &str = "secret.too-many-findings";

/// Every rule id this module reports.
pub const RULES: &[&str] = &[
    RULE_PRIVATE_KEY,
    RULE_AWS_ACCESS_KEY_ID,
    RULE_AWS_SECRET_ACCESS_KEY,
    RULE_STRIPE_SECRET_KEY,
    RULE_STRIPE_RESTRICTED_KEY,
    RULE_STRIPE_WEBHOOK_SECRET,
    RULE_GITHUB_TOKEN,
    RULE_SLACK_TOKEN,
    RULE_SLACK_WEBHOOK,
    RULE_GOOGLE_API_KEY,
    RULE_BRAINTREE_ACCESS_TOKEN,
    RULE_NPM_TOKEN,
    RULE_MINISIGN_SECRET_KEY,
    RULE_JWT,
    RULE_SCAN_TRUNCATED,
    RULE_TOO_MANY_FINDINGS,
];

/// What everyone who leaks a credential has to do; appended to each message.
const REVOKE: &str = "Anyone who downloads the package can read it: revoke it with its issuer \
                      and upload a version without it.";

/// A match before it is placed on a line: where it starts and how many bytes it covers.
struct Hit {
    offset: usize,
    len: usize,
    rule: &'static str,
    severity: Severity,
    message: String,
}

impl Hit {
    fn new(
        offset: usize,
        len: usize,
        rule: &'static str,
        severity: Severity,
        message: String,
    ) -> Self {
        Self {
            offset,
            len,
            rule,
            severity,
            message,
        }
    }
}

/// Scans one file of a package. `path` is only copied into the findings.
pub fn scan(path: &str, bytes: &[u8]) -> Vec<Finding> {
    let scanned = &bytes[..bytes.len().min(MAX_SCAN_BYTES)];
    let binary = scanned[..scanned.len().min(BINARY_SNIFF_BYTES)].contains(&0);

    let mut hits = Vec::new();
    let mut too_many = false;
    let mut i = 0;
    while i < scanned.len() {
        let hit = if binary {
            pem_private_key(scanned, i)
        } else {
            match_at(scanned, i)
        };
        match hit {
            Some(hit) => {
                if hits.len() == MAX_FINDINGS_PER_FILE {
                    too_many = true;
                    break;
                }
                // Resume after the match, so that a key's body is not read for more matches.
                i = hit.offset + hit.len.max(1);
                hits.push(hit);
            }
            None => i += 1,
        }
    }

    let mut findings = place(path, scanned, hits);
    if too_many {
        findings.push(Finding::whole_file(
            RULE_TOO_MANY_FINDINGS,
            Severity::Info,
            path,
            format!(
                "This file has more than {MAX_FINDINGS_PER_FILE} possible secrets; only the \
                 first {MAX_FINDINGS_PER_FILE} are listed."
            ),
        ));
    }
    if bytes.len() > MAX_SCAN_BYTES {
        findings.push(Finding::whole_file(
            RULE_SCAN_TRUNCATED,
            Severity::Info,
            path,
            format!(
                "Only the first {} MiB of this file were scanned for secrets.",
                MAX_SCAN_BYTES / (1024 * 1024)
            ),
        ));
    }
    findings
}

/// Turns hits (in increasing offset order) into findings with lines and columns, counting lines
/// once over the file.
fn place(path: &str, bytes: &[u8], hits: Vec<Hit>) -> Vec<Finding> {
    let mut line = 1usize;
    let mut line_start = 0usize;
    let mut counted = 0usize;
    hits.into_iter()
        .map(|hit| {
            // Hits come in file order; should one ever start before the last, count afresh.
            if hit.offset < counted {
                (line, line_start, counted) = (1, 0, 0);
            }
            for (k, &b) in bytes[counted..hit.offset].iter().enumerate() {
                if b == b'\n' {
                    line += 1;
                    line_start = counted + k + 1;
                }
            }
            counted = hit.offset;
            // Characters, not bytes: UTF-8 continuation bytes do not start one.
            let column = 1 + bytes[line_start..hit.offset]
                .iter()
                .filter(|&&b| b & 0xC0 != 0x80)
                .count();
            Finding {
                rule: hit.rule,
                severity: hit.severity,
                path: path.to_string(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                column: u32::try_from(column).unwrap_or(u32::MAX),
                message: hit.message,
            }
        })
        .collect()
}

/// Tries every text matcher that can start with the byte at `i`.
fn match_at(b: &[u8], i: usize) -> Option<Hit> {
    match b[i] {
        b'-' => pem_private_key(b, i),
        b'A' => aws_access_key_id(b, i)
            .or_else(|| google_api_key(b, i))
            .or_else(|| aws_secret_access_key(b, i)),
        b'a' => aws_secret_access_key(b, i).or_else(|| braintree_access_token(b, i)),
        b's' | b'r' => stripe_key(b, i),
        b'w' => stripe_webhook_secret(b, i),
        b'g' => github_token(b, i),
        b'x' => slack_token(b, i),
        b'h' => slack_webhook(b, i),
        b'n' => npm_token(b, i),
        b'u' => minisign_secret_key(b, i),
        b'e' => jwt(b, i),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Byte helpers
// ---------------------------------------------------------------------------------------------

fn at(b: &[u8], i: usize, pattern: &[u8]) -> bool {
    b.get(i..i + pattern.len()) == Some(pattern)
}

fn at_ignore_case(b: &[u8], i: usize, pattern: &[u8]) -> bool {
    b.get(i..i + pattern.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(pattern))
}

/// A token starts here if the byte before is not a letter or digit.
fn starts_word(b: &[u8], i: usize) -> bool {
    i == 0 || !b[i - 1].is_ascii_alphanumeric()
}

/// How many bytes from `start` satisfy `pred`.
fn run(b: &[u8], start: usize, pred: impl Fn(u8) -> bool) -> usize {
    b.get(start..)
        .map_or(0, |s| s.iter().take_while(|&&c| pred(c)).count())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

fn upper_or_digit(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

fn base64_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'='
}

fn base64url_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// `prefix` at a word start followed by exactly `len` bytes of `charset` (and no more of them).
fn fixed_token(
    b: &[u8],
    i: usize,
    prefix: &[u8],
    len: usize,
    charset: fn(u8) -> bool,
) -> Option<usize> {
    if !at(b, i, prefix) || !starts_word(b, i) {
        return None;
    }
    (run(b, i + prefix.len(), charset) == len).then_some(prefix.len() + len)
}

/// `prefix` at a word start followed by at least `min` bytes of `charset`; answers the length.
fn open_token(
    b: &[u8],
    i: usize,
    prefix: &[u8],
    min: usize,
    charset: fn(u8) -> bool,
) -> Option<usize> {
    if !at(b, i, prefix) || !starts_word(b, i) {
        return None;
    }
    let n = run(b, i + prefix.len(), charset);
    (n >= min).then_some(prefix.len() + n)
}

// ---------------------------------------------------------------------------------------------
// Matchers, one per documented shape
// ---------------------------------------------------------------------------------------------

/// `-----BEGIN <label>-----` where the label ends in `PRIVATE KEY` (RSA, EC, DSA, OPENSSH,
/// ENCRYPTED or none) or is `PGP PRIVATE KEY BLOCK`. With a body and an `END` line it is a key;
/// a lone header line (documentation about keys, usually) is only a warning.
fn pem_private_key(b: &[u8], i: usize) -> Option<Hit> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    if !at(b, i, BEGIN) {
        return None;
    }
    let label_start = i + BEGIN.len();
    let label_len = run(b, label_start, |c| upper_or_digit(c) || c == b' ');
    let label = &b[label_start..label_start + label_len];
    if label_len > 40
        || !(label.ends_with(b"PRIVATE KEY") || label.ends_with(b"PRIVATE KEY BLOCK"))
        || !at(b, label_start + label_len, b"-----")
    {
        return None;
    }
    let header_end = label_start + label_len + 5;
    let label_text = String::from_utf8_lossy(label);

    let mut end_marker = b"-----END ".to_vec();
    end_marker.extend_from_slice(label);
    end_marker.extend_from_slice(b"-----");
    let window = &b[header_end..b.len().min(header_end + MAX_PEM_BLOCK_BYTES)];
    let body = find(window, &end_marker).map(|at| &window[..at]);
    match body {
        // Real keys are hundreds of base64 characters; a few dots or "..." are an illustration.
        Some(body) if body.iter().filter(|&&c| base64_char(c)).count() >= 64 => Some(Hit::new(
            i,
            header_end - i + body.len() + end_marker.len(),
            RULE_PRIVATE_KEY,
            Severity::Error,
            format!("A private key (PEM block \"{label_text}\"). {REVOKE}"),
        )),
        _ => Some(Hit::new(
            i,
            header_end - i,
            RULE_PRIVATE_KEY,
            Severity::Warning,
            format!(
                "The header of a private key (PEM block \"{label_text}\") without a key body. \
                 If a key was cut out of this file, make sure no copy of it is in the package."
            ),
        )),
    }
}

/// An AWS access key id: `AKIA` (long-term) or `ASIA` (temporary) and 16 upper-case letters or
/// digits.
fn aws_access_key_id(b: &[u8], i: usize) -> Option<Hit> {
    let prefix: &[u8] = if at(b, i, b"AKIA") {
        b"AKIA"
    } else if at(b, i, b"ASIA") {
        b"ASIA"
    } else {
        return None;
    };
    let len = fixed_token(b, i, prefix, 16, upper_or_digit)?;
    // A lower-case letter right after would make it part of a longer word.
    if b.get(i + len).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(Hit::new(
        i,
        len,
        RULE_AWS_ACCESS_KEY_ID,
        Severity::Error,
        format!(
            "An AWS access key ID ({}…). {REVOKE}",
            String::from_utf8_lossy(prefix)
        ),
    ))
}

/// An AWS secret access key: 40 base64 characters assigned to `aws_secret_access_key` (any case,
/// `_`, `-` or nothing between the words, as in credentials files, environment files and code),
/// with `=` or `:` and optional quotes. The secret alone has no prefix to recognize it by.
fn aws_secret_access_key(b: &[u8], i: usize) -> Option<Hit> {
    if !starts_word(b, i) {
        return None;
    }
    let mut j = i;
    for (n, word) in [&b"aws"[..], b"secret", b"access", b"key"]
        .into_iter()
        .enumerate()
    {
        if n > 0 && matches!(b.get(j), Some(b'_' | b'-')) {
            j += 1;
        }
        if !at_ignore_case(b, j, word) {
            return None;
        }
        j += word.len();
    }
    let spaces = |j: usize| j + run(b, j, |c| c == b' ' || c == b'\t');
    j = spaces(j + usize::from(matches!(b.get(j), Some(b'"' | b'\''))));
    match b.get(j) {
        Some(b'=') => j += 1 + usize::from(b.get(j + 1) == Some(&b'>')),
        Some(b':') => j += 1 + usize::from(b.get(j + 1) == Some(&b'=')),
        _ => return None,
    }
    j = spaces(j);
    j += usize::from(matches!(b.get(j), Some(b'"' | b'\'')));
    let secret_chars = |c: u8| c.is_ascii_alphanumeric() || c == b'/' || c == b'+';
    if run(b, j, secret_chars) != 40 {
        return None;
    }
    Some(Hit::new(
        j,
        40,
        RULE_AWS_SECRET_ACCESS_KEY,
        Severity::Error,
        format!("An AWS secret access key (aws_secret_access_key = …). {REVOKE}"),
    ))
}

/// Stripe secret (`sk_`) and restricted (`rk_`) API keys, live or test, with 24 or more letters
/// and digits. Publishable keys (`pk_`) are meant to be public and are not reported.
fn stripe_key(b: &[u8], i: usize) -> Option<Hit> {
    for (prefix, rule, kind, live) in [
        (
            &b"sk_live_"[..],
            RULE_STRIPE_SECRET_KEY,
            "A live Stripe secret key",
            true,
        ),
        (
            b"sk_test_",
            RULE_STRIPE_SECRET_KEY,
            "A test-mode Stripe secret key",
            false,
        ),
        (
            b"rk_live_",
            RULE_STRIPE_RESTRICTED_KEY,
            "A live Stripe restricted key",
            true,
        ),
        (
            b"rk_test_",
            RULE_STRIPE_RESTRICTED_KEY,
            "A test-mode Stripe restricted key",
            false,
        ),
    ] {
        if let Some(len) = open_token(b, i, prefix, 24, alnum) {
            // Test-mode keys reach only test data, but are still someone's credential.
            let severity = if live {
                Severity::Error
            } else {
                Severity::Warning
            };
            let prefix = String::from_utf8_lossy(prefix);
            return Some(Hit::new(
                i,
                len,
                rule,
                severity,
                format!("{kind} ({prefix}…). {REVOKE}"),
            ));
        }
    }
    None
}

/// A Stripe webhook signing secret: `whsec_` and 32 or more letters and digits.
fn stripe_webhook_secret(b: &[u8], i: usize) -> Option<Hit> {
    let len = open_token(b, i, b"whsec_", 32, alnum)?;
    Some(Hit::new(
        i,
        len,
        RULE_STRIPE_WEBHOOK_SECRET,
        Severity::Error,
        "A Stripe webhook signing secret (whsec_…): whoever has it can forge webhooks. Roll it \
         in the Stripe dashboard and upload a version without it."
            .to_string(),
    ))
}

/// GitHub tokens: `ghp_` (personal), `gho_` (OAuth), `ghu_` (user-to-server), `ghs_`
/// (server-to-server), `ghr_` (refresh) with 36 letters and digits; fine-grained personal tokens
/// `github_pat_` with 82 letters, digits and `_` (70 or more accepted).
fn github_token(b: &[u8], i: usize) -> Option<Hit> {
    let (prefix, len): (&[u8], usize) = if let Some(len) =
        open_token(b, i, b"github_pat_", 70, |c| {
            c.is_ascii_alphanumeric() || c == b'_'
        }) {
        (b"github_pat_", len)
    } else {
        let prefix = [&b"ghp_"[..], b"gho_", b"ghu_", b"ghs_", b"ghr_"]
            .into_iter()
            .find(|p| at(b, i, p))?;
        (prefix, fixed_token(b, i, prefix, 36, alnum)?)
    };
    Some(Hit::new(
        i,
        len,
        RULE_GITHUB_TOKEN,
        Severity::Error,
        format!(
            "A GitHub token ({}…). {REVOKE}",
            String::from_utf8_lossy(prefix)
        ),
    ))
}

/// Slack tokens: `xoxb-` (bot), `xoxp-` (user), `xoxa-`, `xoxr-` (refresh), `xoxs-` and 20 or
/// more letters, digits and `-`.
fn slack_token(b: &[u8], i: usize) -> Option<Hit> {
    let prefix = [&b"xoxb-"[..], b"xoxp-", b"xoxa-", b"xoxr-", b"xoxs-"]
        .into_iter()
        .find(|p| at(b, i, p))?;
    let len = open_token(b, i, prefix, 20, |c| c.is_ascii_alphanumeric() || c == b'-')?;
    Some(Hit::new(
        i,
        len,
        RULE_SLACK_TOKEN,
        Severity::Error,
        format!(
            "A Slack token ({}…). {REVOKE}",
            String::from_utf8_lossy(prefix)
        ),
    ))
}

/// A Slack incoming webhook URL: `hooks.slack.com/services/` (or `/workflows/`) and its secret
/// path. The scheme before it is not required.
fn slack_webhook(b: &[u8], i: usize) -> Option<Hit> {
    const HOST: &[u8] = b"hooks.slack.com/";
    if !at(b, i, HOST) {
        return None;
    }
    let kind_start = i + HOST.len();
    let kind_len = [&b"services/"[..], b"workflows/"]
        .into_iter()
        .find(|k| at(b, kind_start, k))?
        .len();
    let path = run(b, kind_start + kind_len, |c| {
        c.is_ascii_alphanumeric() || c == b'/'
    });
    if path < 30 {
        return None;
    }
    // Report from the scheme where there is one, so that the position is the URL's.
    let start = [&b"https://"[..], b"http://"]
        .into_iter()
        .find(|scheme| i >= scheme.len() && at(b, i - scheme.len(), scheme))
        .map_or(i, |scheme| i - scheme.len());
    Some(Hit::new(
        start,
        i - start + HOST.len() + kind_len + path,
        RULE_SLACK_WEBHOOK,
        Severity::Error,
        format!(
            "A Slack webhook URL (https://hooks.slack.com/…): whoever has it can post to the \
             channel. {REVOKE}"
        ),
    ))
}

/// A Google API key: `AIza` and 35 letters, digits, `-` and `_`.
fn google_api_key(b: &[u8], i: usize) -> Option<Hit> {
    let len = fixed_token(b, i, b"AIza", 35, base64url_char)?;
    Some(Hit::new(
        i,
        len,
        RULE_GOOGLE_API_KEY,
        Severity::Error,
        format!("A Google API key (AIza…). {REVOKE}"),
    ))
}

/// A Braintree (PayPal) access token: `access_token$production$`, a 16-character merchant id,
/// `$` and 32 hex digits. Sandbox tokens are warnings.
fn braintree_access_token(b: &[u8], i: usize) -> Option<Hit> {
    const PREFIX: &[u8] = b"access_token$";
    if !at(b, i, PREFIX) || !starts_word(b, i) {
        return None;
    }
    let env_start = i + PREFIX.len();
    let (env, severity): (&[u8], _) = if at(b, env_start, b"production$") {
        (b"production$", Severity::Error)
    } else if at(b, env_start, b"sandbox$") {
        (b"sandbox$", Severity::Warning)
    } else {
        return None;
    };
    let id_start = env_start + env.len();
    let id_len = run(b, id_start, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit()
    });
    if id_len != 16 || b.get(id_start + 16) != Some(&b'$') {
        return None;
    }
    let hex_len = run(b, id_start + 17, |c| c.is_ascii_hexdigit());
    if hex_len != 32 {
        return None;
    }
    Some(Hit::new(
        i,
        id_start + 17 + hex_len - i,
        RULE_BRAINTREE_ACCESS_TOKEN,
        severity,
        format!(
            "A Braintree (PayPal) access token (access_token${}…). {REVOKE}",
            String::from_utf8_lossy(env)
        ),
    ))
}

/// An npm access token: `npm_` and 36 letters and digits.
fn npm_token(b: &[u8], i: usize) -> Option<Hit> {
    let len = fixed_token(b, i, b"npm_", 36, alnum)?;
    Some(Hit::new(
        i,
        len,
        RULE_NPM_TOKEN,
        Severity::Error,
        format!("An npm access token (npm_…). {REVOKE}"),
    ))
}

/// A minisign (or rsign) secret key file: its comment line, then a base64 line starting with
/// `RW` (`Ed` in base64). minisign writes "encrypted" in the comment even for a key made with
/// `-W`, which is not encrypted at all. The comment alone is only a warning.
fn minisign_secret_key(b: &[u8], i: usize) -> Option<Hit> {
    const COMMENT: &[u8] = b"untrusted comment: ";
    if !at(b, i, COMMENT) {
        return None;
    }
    let what = i + COMMENT.len();
    let what_len = [
        &b"minisign encrypted secret key"[..],
        b"rsign encrypted secret key",
    ]
    .into_iter()
    .find(|w| at(b, what, w))?
    .len();
    let mut j = what + what_len;
    j += run(b, j, |c| c != b'\n');
    j += usize::from(b.get(j) == Some(&b'\n'));
    let key_len = run(b, j, base64_char);
    if at(b, j, b"RW") && key_len >= 100 {
        Some(Hit::new(
            i,
            j + key_len - i,
            RULE_MINISIGN_SECRET_KEY,
            Severity::Error,
            "A minisign secret key. Anyone who downloads the package can sign in your name: \
             stop trusting its public key, make a new key pair, and upload a version without it."
                .to_string(),
        ))
    } else {
        Some(Hit::new(
            i,
            j - i,
            RULE_MINISIGN_SECRET_KEY,
            Severity::Warning,
            "The comment line of a minisign secret key without the key. If a key was cut out \
             of this file, make sure no copy of it is in the package."
                .to_string(),
        ))
    }
}

/// A JSON Web Token: three base64url parts separated by dots, the first two JSON objects (so
/// starting `eyJ`, the base64 of `{"`). A warning: tests and docs are full of harmless ones.
fn jwt(b: &[u8], i: usize) -> Option<Hit> {
    if !at(b, i, b"eyJ") || !starts_word(b, i) {
        return None;
    }
    let header = run(b, i, base64url_char);
    let payload_start = i + header + 1;
    if header < 12 || b.get(i + header) != Some(&b'.') || !at(b, payload_start, b"eyJ") {
        return None;
    }
    let payload = run(b, payload_start, base64url_char);
    let signature_start = payload_start + payload + 1;
    if payload < 12 || b.get(payload_start + payload) != Some(&b'.') {
        return None;
    }
    let signature = run(b, signature_start, base64url_char);
    if signature < 16 {
        return None;
    }
    Some(Hit::new(
        i,
        signature_start + signature - i,
        RULE_JWT,
        Severity::Warning,
        "A JSON Web Token (eyJ…). If it is a live credential rather than a test fixture, revoke \
         it with its issuer and upload a version without it."
            .to_string(),
    ))
}

#[cfg(test)]
mod tests;

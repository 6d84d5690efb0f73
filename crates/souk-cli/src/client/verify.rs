//! `souk verify NAME@VERSION | FILE`: prove that a package is the one the registry published and
//! signed, with one line per check:
//!
//! 1. `sha256`: the package's SHA-256 and size are what the registry recorded at publish time
//!    (the version's JSON); when no registry is asked (offline), what the registry signed (the
//!    SHA-256 in the signature's trusted comment).
//! 2. `registry signature`: the minisign signature verifies with the key whose id it names, and
//!    that key is one of the registry's (`GET /api/v1/keys`) or the one given with
//!    `--public-key`/`--public-key-file`.
//! 3. `trusted comment`: the signed comment, `souk module=NAME version=V sha256=HEX
//!    signed=RFC3339`, names this module, this version and these bytes. A genuine signature over
//!    other bytes never passes check 2; this check keeps a signature whose comment vouches for
//!    something else (another module or version) from passing.
//! 4. `publisher signature`: the publisher's own signature. Publishers cannot sign yet, so this
//!    says `none` and does not fail; [`publisher_signature`] is where their check goes.
//!
//! Every check is run and printed even after one fails, so that a person sees everything that
//! is wrong at once. A check that cannot be made (no signature published, no record and no
//! trusted comment to compare with) is a failure: absence of proof is not proof. The command
//! exits 0 only when every check passes, else ends with one `error:` line and exit 1, like every
//! refusal.
//!
//! Offline: a FILE with its signature (`FILE.minisig` or `--signature`) and a key
//! (`--public-key`/`--public-key-file`) is checked without any request.

use super::api::{Registry, cause};
use super::config::RegistryArgs;
use super::spec::ModuleSpec;
use anyhow::{Context, anyhow, bail};
use clap::Args;
use reqwest::Method;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use souk_core::signing::{self, PublicKey, SignatureError, VerifiedSignature};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// A published version (NAME@VERSION), or a package file on disk.
    #[arg(value_name = "NAME@VERSION|FILE", value_parser = parse_target)]
    pub target: Target,
    /// The minisign signature of FILE [default: FILE.minisig beside it, else the registry's].
    #[arg(long, value_name = "SIG")]
    pub signature: Option<PathBuf>,
    /// The registry's public key, as the base64 line `minisign -P` takes; no key is fetched.
    #[arg(long, value_name = "KEY", conflicts_with = "public_key_file")]
    pub public_key: Option<String>,
    /// The registry's public key, as a minisign `.pub` file; no key is fetched.
    #[arg(long, value_name = "PATH")]
    pub public_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// What to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A version on the registry: downloaded into memory, never written to disk.
    Published {
        name: String,
        version: semver::Version,
    },
    /// A package file on disk.
    File(PathBuf),
}

/// An existing path is a file; otherwise `NAME@VERSION`, unless it looks like a file name (then
/// reading it says what is wrong). A `NAME` alone is refused: verification is of one version.
fn parse_target(raw: &str) -> Result<Target, String> {
    let path = Path::new(raw);
    if path.exists() {
        return Ok(Target::File(path.to_owned()));
    }
    match raw.parse::<ModuleSpec>() {
        Ok(ModuleSpec {
            name,
            version: Some(version),
        }) => Ok(Target::Published { name, version }),
        Ok(ModuleSpec {
            name,
            version: None,
        }) => Err(format!(
            "`{name}` is not a file, and names no version: write {name}@VERSION, like \
             {name}@1.0.0, or the path of a package file"
        )),
        Err(_) if raw.contains(['/', '\\', '.']) && !raw.contains('@') => {
            Ok(Target::File(path.to_owned()))
        }
        Err(e) => Err(format!("{e}, and no file `{raw}` exists")),
    }
}

/// What the registry records about a version (the fields verification needs).
#[derive(Deserialize)]
struct VersionMeta {
    version: String,
    sha256: String,
    size: u64,
    signature_url: Option<String>,
}

#[derive(Deserialize)]
struct KeyList {
    keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
struct KeyEntry {
    id: String,
    minisign_public_key: String,
}

/// The keys a signature may be made with, and where they came from (for the messages).
pub struct Keys {
    pub keys: Vec<PublicKey>,
    pub source: KeySource,
}

pub enum KeySource {
    /// `GET /api/v1/keys` of this registry (the URL).
    Registry(String),
    /// `--public-key` or `--public-key-file`.
    Given,
}

/// Everything gathered before checking: the package, its signature, the keys, and what it is
/// expected to be.
pub struct Evidence {
    /// The package bytes.
    pub bytes: Vec<u8>,
    /// The module name and version the package should be: the ones asked for, or the ones its
    /// `souk.toml` gives; the reason when neither is known.
    pub identity: Result<(String, semver::Version), String>,
    /// The SHA-256 and size the registry recorded, when it was asked.
    pub record: Option<(String, u64)>,
    /// The signature file's text, or why there is none.
    pub signature: Result<String, String>,
    pub keys: Keys,
}

/// How a check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok(String),
    Failed(String),
    /// Could not be made; counts as a failure.
    NotChecked(String),
    /// There is nothing to check, and that is allowed (the publisher's signature, for now).
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
}

impl Check {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Ok(_) | Outcome::None)
    }

    /// The check's line: `sha256 ok (...)`, `registry signature FAILED: ...`,
    /// `trusted comment not checked: ...`, `publisher signature: none`.
    pub fn line(&self) -> String {
        match &self.outcome {
            Outcome::Ok(detail) => format!("{} ok ({detail})", self.name),
            Outcome::Failed(why) => format!("{} FAILED: {why}", self.name),
            Outcome::NotChecked(why) => format!("{} not checked: {why}", self.name),
            Outcome::None => format!("{}: none", self.name),
        }
    }
}

pub async fn run(args: &VerifyArgs) -> anyhow::Result<()> {
    let (what, evidence) = match &args.target {
        Target::Published { name, version } => {
            let what = format!("{name} {version}");
            (what, published(name, version, args).await?)
        }
        Target::File(path) => (path.display().to_string(), file(path, args).await?),
    };
    let checks = checks(&evidence);
    for check in &checks {
        println!("{}", check.line());
    }
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.passed())
        .map(|c| match c.outcome {
            Outcome::NotChecked(_) => format!("{} not checked", c.name),
            _ => format!("{} failed", c.name),
        })
        .collect();
    if !failed.is_empty() {
        bail!("{what} did not verify: {}", failed.join(", "));
    }
    match (&args.target, &evidence.identity) {
        (Target::File(_), Ok((name, version))) => println!("verified {what} ({name} {version})"),
        _ => println!("verified {what}"),
    }
    Ok(())
}

/// A version on the registry: its record, bytes, signature and the keys.
async fn published(
    name: &str,
    version: &semver::Version,
    args: &VerifyArgs,
) -> anyhow::Result<Evidence> {
    if args.signature.is_some() {
        bail!(
            "--signature goes with a package FILE; {name}@{version} is checked with the \
             registry's signature"
        );
    }
    let given = given_keys(args)?;
    let api = Registry::from_args(&args.registry)?;
    let version = version.to_string();
    let (meta, signature) = registry_record(&api, name, &version).await?;
    let bytes = download(&api, name, &version, meta.size).await?;
    let keys = match given {
        Some(keys) => keys,
        None => registry_keys(&api).await?,
    };
    // The version as the registry writes it; semver equality ignores nothing that matters.
    let identity = semver::Version::parse(&meta.version)
        .map(|v| (name.to_owned(), v))
        .map_err(|e| format!("the registry names version `{}`: {e}", meta.version));
    Ok(Evidence {
        bytes,
        identity,
        record: Some((meta.sha256.to_ascii_lowercase(), meta.size)),
        signature,
        keys,
    })
}

/// A package file: its signature beside it (or given), else the registry's.
async fn file(path: &Path, args: &VerifyArgs) -> anyhow::Result<Evidence> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let identity = identity_of(&bytes);
    let given = given_keys(args)?;
    let beside = {
        let mut name = path.as_os_str().to_owned();
        name.push(".minisig");
        PathBuf::from(name)
    };
    let local = match &args.signature {
        Some(sig) => Some(sig.clone()),
        None => beside.is_file().then_some(beside.clone()),
    };
    let mut api = None;
    let (signature, record) = match local {
        Some(sig) => {
            let text = std::fs::read_to_string(&sig)
                .with_context(|| format!("cannot read {}", sig.display()))?;
            (Ok(text), None)
        }
        None => {
            let (name, version) = identity.as_ref().map_err(|why| {
                anyhow!(
                    "no signature for {}: there is no {}, and its souk.toml, which would name \
                     the version to ask the registry about, cannot be read ({why})",
                    path.display(),
                    beside.display()
                )
            })?;
            let registry = Registry::from_args(&args.registry)?;
            let (meta, signature) = registry_record(&registry, name, &version.to_string())
                .await
                .with_context(|| {
                    format!(
                        "no {} beside the package; asked {} for {name} {version}'s signature",
                        beside.display(),
                        registry.display()
                    )
                })?;
            api = Some(registry);
            (
                signature,
                Some((meta.sha256.to_ascii_lowercase(), meta.size)),
            )
        }
    };
    let keys = match given {
        Some(keys) => keys,
        None => {
            let api = match api {
                Some(api) => api,
                None => Registry::from_args(&args.registry)?,
            };
            registry_keys(&api).await?
        }
    };
    Ok(Evidence {
        bytes,
        identity,
        record,
        signature,
        keys,
    })
}

/// The module and version a package's `souk.toml` names.
fn identity_of(bytes: &[u8]) -> Result<(String, semver::Version), String> {
    let inspection = souk_core::archive::inspect(
        std::io::Cursor::new(bytes),
        &souk_core::archive::Limits::default(),
    )
    .map_err(|e| format!("cannot read the package's souk.toml: {e}"))?;
    let manifest = inspection.manifest;
    Ok((manifest.name.as_str().to_owned(), manifest.version))
}

/// The keys of `--public-key` or `--public-key-file`, when one is given.
fn given_keys(args: &VerifyArgs) -> anyhow::Result<Option<Keys>> {
    let key = if let Some(line) = &args.public_key {
        PublicKey::from_minisign_line(line)
            .map_err(|e| anyhow!("--public-key is not a minisign public key: {}", e.message))?
    } else if let Some(path) = &args.public_key_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        PublicKey::parse(&text).map_err(|e| {
            anyhow!(
                "{} is not a minisign public key: {}",
                path.display(),
                e.message
            )
        })?
    } else {
        return Ok(None);
    };
    Ok(Some(Keys {
        keys: vec![key],
        source: KeySource::Given,
    }))
}

/// The version's record, and its signature (or why there is none).
async fn registry_record(
    api: &Registry,
    name: &str,
    version: &str,
) -> anyhow::Result<(VersionMeta, Result<String, String>)> {
    let what = format!("{name} {version}");
    let meta: VersionMeta = api
        .json(
            api.request(Method::GET, &["modules", name, "versions", version]),
            &what,
        )
        .await?;
    if meta.signature_url.is_none() {
        let why = format!("the registry has no signature for {what} (signature_url is null)");
        return Ok((meta, Err(why)));
    }
    // Built from the registry's base rather than taken from `signature_url`, which is a path
    // from the server's root and would lose a path prefix such as https://example.com/souk.
    let response = api
        .send(
            api.request(
                Method::GET,
                &["modules", name, "versions", version, "signature"],
            ),
            &format!("the signature of {what}"),
        )
        .await?;
    let text = response
        .text()
        .await
        .map_err(|e| anyhow!("the signature of {what} broke off: {}", cause(&e)))?;
    Ok((meta, Ok(text)))
}

/// Every key of the registry, current and retired.
async fn registry_keys(api: &Registry) -> anyhow::Result<Keys> {
    let url = api.url(&["keys"]);
    let list: KeyList = api
        .json(
            api.request_to(Method::GET, url.clone()),
            "the registry's keys",
        )
        .await?;
    let keys = list
        .keys
        .iter()
        .map(|k| {
            PublicKey::from_minisign_line(&k.minisign_public_key).map_err(|e| {
                anyhow!(
                    "the registry's key {} is not a minisign public key: {}",
                    k.id,
                    e.message
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Keys {
        keys,
        source: KeySource::Registry(url.to_string()),
    })
}

/// The package, into memory. More bytes than recorded can only be wrong: stop at once. A
/// marketplace that finds a stored blob no longer matching its SHA-256 refuses to serve it (an
/// error answer, or a download that breaks off before its last bytes); then there is nothing to
/// check and the command fails with that.
async fn download(api: &Registry, name: &str, version: &str, size: u64) -> anyhow::Result<Vec<u8>> {
    let what = format!("{name} {version}");
    let mut response = api
        .send(
            api.request(
                Method::GET,
                &["modules", name, "versions", version, "download"],
            ),
            &what,
        )
        .await
        .with_context(|| format!("cannot download {what}"))?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(64 << 20));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| anyhow!("the download of {what} broke off: {}", cause(&e)))?
    {
        if bytes.len() as u64 + chunk.len() as u64 > size {
            bail!("size mismatch for {what}: the registry recorded {size} bytes and sent more");
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The fields of a registry signature's trusted comment:
/// `souk module=NAME version=V sha256=HEX signed=RFC3339`.
#[derive(Debug, Default, PartialEq, Eq)]
struct RegistryComment {
    module: Option<String>,
    version: Option<String>,
    sha256: Option<String>,
    signed: Option<String>,
}

impl RegistryComment {
    /// `None` when the comment is not a Souk registry comment (a publisher's own, say).
    fn parse(comment: &str) -> Option<Self> {
        let mut words = comment.split_whitespace();
        if words.next() != Some("souk") {
            return None;
        }
        let mut c = RegistryComment::default();
        for word in words {
            let Some((key, value)) = word.split_once('=') else {
                continue;
            };
            let slot = match key {
                "module" => &mut c.module,
                "version" => &mut c.version,
                "sha256" => &mut c.sha256,
                "signed" => &mut c.signed,
                _ => continue,
            };
            // A field written twice is ambiguous; keep neither reading silently.
            if slot.is_some() {
                return None;
            }
            *slot = Some(value.to_owned());
        }
        Some(c)
    }
}

/// Runs every check on `e`, in the order they are printed.
pub fn checks(e: &Evidence) -> Vec<Check> {
    let sha256 = hex::encode(Sha256::digest(&e.bytes));
    let size = e.bytes.len() as u64;

    // `None` when there is no signature to verify.
    let verified: Option<Result<VerifiedSignature, SignatureError>> = e
        .signature
        .as_ref()
        .ok()
        .map(|text| signing::verify(&e.keys.keys[..], text, &e.bytes));
    let good = verified.as_ref().and_then(|v| v.as_ref().ok());
    // `Some(None)`: verified, but not a Souk registry comment.
    let comment = good.map(|v| RegistryComment::parse(&v.trusted_comment));

    let sha_check = match (&e.record, &comment) {
        (Some((recorded, recorded_size)), _) => {
            if *recorded == sha256 && *recorded_size == size {
                Outcome::Ok(format!("{sha256}, {size} bytes"))
            } else {
                Outcome::Failed(format!(
                    "the registry recorded {recorded} ({recorded_size} bytes), the package is \
                     {sha256} ({size} bytes)"
                ))
            }
        }
        (
            None,
            Some(Some(RegistryComment {
                sha256: Some(signed),
                ..
            })),
        ) => {
            if signed.eq_ignore_ascii_case(&sha256) {
                Outcome::Ok(format!("{sha256}, {size} bytes, as signed"))
            } else {
                Outcome::Failed(format!(
                    "the signature vouches for {signed}, the package is {sha256} ({size} bytes)"
                ))
            }
        }
        (None, _) => Outcome::NotChecked(format!(
            "the package is {sha256} ({size} bytes), but there is no registry record or \
             trusted signed SHA-256 to compare it with"
        )),
    };

    let signature_check = match &verified {
        // No signature: the reason is in `e.signature`.
        None => Outcome::Failed(e.signature.clone().err().unwrap_or_default()),
        Some(Ok(v)) => {
            let signed = comment
                .as_ref()
                .and_then(|c| c.as_ref())
                .and_then(|c| c.signed.clone())
                .map(|t| format!(", signed {t}"))
                .unwrap_or_default();
            Outcome::Ok(format!("key {}{signed}", v.key_id))
        }
        Some(Err(err)) => Outcome::Failed(signature_failure(err, &e.keys)),
    };

    let comment_check = match (&comment, &e.identity) {
        (None, _) if e.signature.is_err() => {
            Outcome::NotChecked("there is no signature, so no trusted comment".to_owned())
        }
        (None, _) => Outcome::NotChecked(
            "the signature did not verify, so its comment cannot be trusted".to_owned(),
        ),
        (Some(None), _) => Outcome::Failed(format!(
            "`{}` is not a Souk registry comment (souk module=NAME version=V sha256=HEX ...)",
            good.map(|v| v.trusted_comment.as_str()).unwrap_or_default()
        )),
        (Some(Some(_)), Err(why)) => Outcome::NotChecked(why.clone()),
        (Some(Some(c)), Ok((name, version))) => comment_outcome(c, name, version, &sha256),
    };

    vec![
        Check {
            name: "sha256",
            outcome: sha_check,
        },
        Check {
            name: "registry signature",
            outcome: signature_check,
        },
        Check {
            name: "trusted comment",
            outcome: comment_check,
        },
        Check {
            name: "publisher signature",
            outcome: publisher_signature(e),
        },
    ]
}

/// Whether a verified registry comment names `name` `version` and the bytes of `sha256`.
fn comment_outcome(
    c: &RegistryComment,
    name: &str,
    version: &semver::Version,
    sha256: &str,
) -> Outcome {
    let mut wrong = Vec::new();
    match c.module.as_deref() {
        Some(m) if m == name => {}
        Some(m) => wrong.push(format!("module={m} (not {name})")),
        None => wrong.push("no module".to_owned()),
    }
    match c.version.as_deref() {
        Some(v) if semver::Version::parse(v).is_ok_and(|v| v == *version) => {}
        Some(v) => wrong.push(format!("version={v} (not {version})")),
        None => wrong.push("no version".to_owned()),
    }
    match c.sha256.as_deref() {
        Some(h) if h.eq_ignore_ascii_case(sha256) => {}
        Some(h) => wrong.push(format!("sha256={h} (not {sha256})")),
        None => wrong.push("no sha256".to_owned()),
    }
    if wrong.is_empty() {
        Outcome::Ok(format!("module={name} version={version} sha256 matches"))
    } else {
        Outcome::Failed(format!("it names {}", wrong.join(", ")))
    }
}

/// What went wrong with a signature, with where the keys came from when the key is unknown.
fn signature_failure(err: &SignatureError, keys: &Keys) -> String {
    match (err, &keys.source) {
        (SignatureError::UnknownKey(id), KeySource::Registry(url)) => format!(
            "made by key {id}, which is not one of the registry's keys ({url}) [{}]",
            err.code()
        ),
        (SignatureError::UnknownKey(id), KeySource::Given) => {
            let given: Vec<String> = keys.keys.iter().map(|k| k.id().to_string()).collect();
            format!(
                "made by key {id}, not by the key given ({}) [{}]",
                given.join(", "),
                err.code()
            )
        }
        _ => format!("{err} [{}]", err.code()),
    }
}

/// The publisher's own signature of the package. Publishers cannot register keys or sign yet
/// (`souk sign` arrives with publisher keys), so there is never one and this answers
/// [`Outcome::None`], which does not fail verification. When they can, this fetches the
/// version's publisher signature (or reads one beside the FILE) and checks it against the
/// publisher's registered keys: [`Outcome::Ok`] naming the key, [`Outcome::Failed`] otherwise.
fn publisher_signature(_evidence: &Evidence) -> Outcome {
    Outcome::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use souk_core::signing::{KeyId, SigningKey, sign};

    fn key() -> SigningKey {
        SigningKey::from_seed(KeyId::from_bytes(*b"registry"), [9; 32])
    }

    fn evidence(bytes: &[u8], signature: Result<String, String>, record: bool) -> Evidence {
        let sha = hex::encode(Sha256::digest(bytes));
        Evidence {
            bytes: bytes.to_vec(),
            identity: Ok(("economy".into(), semver::Version::new(1, 0, 0))),
            record: record.then_some((sha, bytes.len() as u64)),
            signature,
            keys: Keys {
                keys: vec![key().public_key()],
                source: KeySource::Registry("http://x/api/v1/keys".into()),
            },
        }
    }

    fn comment_for(bytes: &[u8], module: &str, version: &str) -> String {
        format!(
            "souk module={module} version={version} sha256={} signed=2026-01-02T03:04:05Z",
            hex::encode(Sha256::digest(bytes))
        )
    }

    fn lines(checks: &[Check]) -> Vec<String> {
        checks.iter().map(Check::line).collect()
    }

    const BYTES: &[u8] = b"a package";

    #[test]
    fn a_good_package_passes_every_check() {
        let sig = sign(&key(), BYTES, &comment_for(BYTES, "economy", "1.0.0")).unwrap();
        let sha = hex::encode(Sha256::digest(BYTES));
        let checks = checks(&evidence(BYTES, Ok(sig.clone()), true));
        assert!(checks.iter().all(Check::passed), "{checks:?}");
        assert_eq!(
            lines(&checks),
            [
                format!("sha256 ok ({sha}, 9 bytes)"),
                format!(
                    "registry signature ok (key {}, signed 2026-01-02T03:04:05Z)",
                    key().id()
                ),
                "trusted comment ok (module=economy version=1.0.0 sha256 matches)".to_owned(),
                "publisher signature: none".to_owned(),
            ]
        );
        // Offline, the SHA-256 is compared with the signed one.
        let checks = super::checks(&evidence(BYTES, Ok(sig.clone()), false));
        assert!(checks.iter().all(Check::passed), "{checks:?}");
        assert_eq!(
            checks[0].line(),
            format!("sha256 ok ({sha}, 9 bytes, as signed)")
        );
    }

    #[test]
    fn changed_bytes_fail_the_hash_and_the_signature() {
        let sig = sign(&key(), BYTES, &comment_for(BYTES, "economy", "1.0.0")).unwrap();
        let mut e = evidence(BYTES, Ok(sig), true);
        e.bytes[0] ^= 1;
        let checks = checks(&e);
        let l = lines(&checks);
        assert!(
            l[0].starts_with("sha256 FAILED: the registry recorded "),
            "{l:?}"
        );
        assert!(
            l[1].starts_with("registry signature FAILED: the signature does not match"),
            "{l:?}"
        );
        assert!(l[1].ends_with("[bad_signature]"), "{l:?}");
        assert!(l[2].starts_with("trusted comment not checked: "), "{l:?}");
        assert!(checks[3].passed());
        // Offline nothing vouches for the hash either.
        e.record = None;
        let l = lines(&super::checks(&e));
        assert!(l[0].starts_with("sha256 not checked: "), "{l:?}");
    }

    #[test]
    fn a_signature_by_another_key_or_none_at_all_fails() {
        let other = SigningKey::generate();
        let sig = sign(&other, BYTES, &comment_for(BYTES, "economy", "1.0.0")).unwrap();
        let checks = checks(&evidence(BYTES, Ok(sig), true));
        assert!(checks[0].passed());
        assert_eq!(
            checks[1].line(),
            format!(
                "registry signature FAILED: made by key {}, which is not one of the registry's \
                 keys (http://x/api/v1/keys) [unknown_signing_key]",
                other.id()
            )
        );
        let none = super::checks(&evidence(BYTES, Err("no signature".into()), true));
        assert_eq!(none[1].line(), "registry signature FAILED: no signature");
        assert!(!none[2].passed());
    }

    #[test]
    fn a_good_signature_for_something_else_fails_the_comment() {
        let sig = sign(&key(), BYTES, &comment_for(BYTES, "other", "2.0.0")).unwrap();
        let checks = checks(&evidence(BYTES, Ok(sig), true));
        assert!(checks[1].passed());
        assert_eq!(
            checks[2].line(),
            "trusted comment FAILED: it names module=other (not economy), version=2.0.0 \
             (not 1.0.0)"
        );
        let sig = sign(&key(), BYTES, "timestamp:1 file:x").unwrap();
        let checks = super::checks(&evidence(BYTES, Ok(sig), true));
        assert!(
            checks[2].line().contains("is not a Souk registry comment"),
            "{checks:?}"
        );
    }

    #[test]
    fn comments_are_read_strictly() {
        let c = RegistryComment::parse("souk module=a version=1.0.0 sha256=ab signed=t").unwrap();
        assert_eq!(c.module.as_deref(), Some("a"));
        assert_eq!(c.signed.as_deref(), Some("t"));
        assert_eq!(RegistryComment::parse("timestamp:1"), None);
        assert_eq!(RegistryComment::parse("souk module=a module=b"), None);
    }

    #[test]
    fn targets_are_files_or_versions() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("economy");
        std::fs::write(&file, b"x").unwrap();
        let raw = file.to_str().unwrap();
        assert_eq!(parse_target(raw), Ok(Target::File(file.clone())));
        assert_eq!(
            parse_target("economy@1.0.0"),
            Ok(Target::Published {
                name: "economy".into(),
                version: semver::Version::new(1, 0, 0)
            })
        );
        assert_eq!(
            parse_target("missing-1.0.0.tar.gz"),
            Ok(Target::File("missing-1.0.0.tar.gz".into()))
        );
        let e = parse_target("economy").unwrap_err();
        assert!(e.contains("write economy@VERSION"), "{e}");
        let e = parse_target("economy@1.0").unwrap_err();
        assert!(e.contains("not a semantic version"), "{e}");
    }
}

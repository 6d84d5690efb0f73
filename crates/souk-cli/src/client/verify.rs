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
//! 4. `publisher signature`: the publisher's own signature (`souk sign`), when the package has
//!    one: it verifies with one of the publisher's keys (`GET /api/v1/publishers/{slug}/keys`, or
//!    the one given with `--publisher-key`). A key the publisher has revoked still vouches for a
//!    version published before the revocation (the registry checked the signature then), and for
//!    nothing else. A package without a publisher signature says `none`, which passes: signing
//!    is the publisher's choice. See [`publisher_signature`].
//!
//! Every check is run and printed even after one fails, so that a person sees everything that
//! is wrong at once. A check that cannot be made (no signature published, no record and no
//! trusted comment to compare with) is a failure: absence of proof is not proof. The command
//! exits 0 only when every check passes, else ends with one `error:` line and exit 1, like every
//! refusal.
//!
//! Offline: a FILE with its signature (`FILE.minisig` or `--signature`) and a key
//! (`--public-key`/`--public-key-file`) is checked without any request; so is its publisher
//! signature, with `--publisher-signature` (or `FILE.publisher.minisig`) and `--publisher-key`.
//!
//! Which signature is whose: `souk sign` writes the publisher's signature as `FILE.minisig`, the
//! name the registry's signature has when saved beside a download. A `FILE.minisig` is therefore
//! taken for the registry's when its key is one of the registry's keys or its trusted comment is
//! a registry comment (`souk module=...`), or it is not a signature at all (so that the check
//! says so); otherwise for the publisher's. Either way it only decides which check the file
//! faces: it can make a check fail, never pass one it should not.

use super::api::{Registry, cause};
use super::config::RegistryArgs;
use super::spec::ModuleSpec;
use anyhow::{Context, anyhow, bail};
use clap::Args;
use reqwest::Method;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use souk_core::Timestamp;
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
    /// The publisher's signature of FILE [default: FILE.publisher.minisig, or a FILE.minisig
    /// that is not the registry's, else the one the registry has].
    #[arg(long, value_name = "SIG")]
    pub publisher_signature: Option<PathBuf>,
    /// The publisher's public key, a minisign `.pub` file (or its key line); the publisher's
    /// keys are then not fetched.
    #[arg(long, value_name = "FILE")]
    pub publisher_key: Option<String>,
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
    #[serde(default)]
    publisher_signature_url: Option<String>,
    #[serde(default)]
    published_at: Option<String>,
}

#[derive(Deserialize)]
struct ModuleMeta {
    publisher: PublisherRef,
}

#[derive(Deserialize)]
struct PublisherRef {
    slug: String,
}

#[derive(Deserialize)]
struct PublisherKeyList {
    keys: Vec<PublisherKeyEntry>,
}

#[derive(Deserialize)]
struct PublisherKeyEntry {
    id: String,
    name: String,
    minisign_public_key: String,
    revoked_at: Option<String>,
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
    pub publisher: PublisherEvidence,
}

/// The publisher's side of the evidence.
pub struct PublisherEvidence {
    /// The publisher's signature file: `None` when the package has none (allowed), `Some(Err)`
    /// when one should be checked but could not be had.
    pub signature: Option<Result<String, String>>,
    /// The publisher's keys, or why they could not be had (only asked for with a signature).
    pub keys: Result<PublisherKeys, String>,
}

impl PublisherEvidence {
    fn unsigned() -> Self {
        PublisherEvidence {
            signature: None,
            keys: Err("no publisher signature".to_owned()),
        }
    }
}

/// A publisher's keys and what verification needs to know about them.
pub struct PublisherKeys {
    pub keys: Vec<PublisherKey>,
    pub source: PublisherKeySource,
    /// When the version was published, by the registry's record: a key revoked after it still
    /// vouches for it. Unknown offline, where only keys not revoked count.
    pub published_at: Option<Timestamp>,
}

pub struct PublisherKey {
    pub key: PublicKey,
    pub name: Option<String>,
    pub revoked_at: Option<Timestamp>,
}

pub enum PublisherKeySource {
    /// `GET /api/v1/publishers/{slug}/keys` (the slug and the URL).
    Registry { publisher: String, url: String },
    /// `--publisher-key`.
    Given,
}

/// How a check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok(String),
    Failed(String),
    /// Could not be made; counts as a failure.
    NotChecked(String),
    /// There is nothing to check, and that is allowed (a package without a publisher signature).
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
    if args.publisher_signature.is_some() {
        bail!(
            "--publisher-signature goes with a package FILE; {name}@{version} is checked with \
             the publisher signature the registry has"
        );
    }
    let given = given_keys(args)?;
    let given_publisher = given_publisher_key(args)?;
    let api = Registry::from_args(&args.registry)?;
    let version = version.to_string();
    let (meta, signature) = registry_record(&api, name, &version).await?;
    let bytes = download(&api, name, &version, meta.size).await?;
    let keys = match given {
        Some(keys) => keys,
        None => registry_keys(&api).await?,
    };
    let publisher_signature = match registry_publisher_signature(&api, name, &meta).await? {
        Some(text) => Some(Ok(text)),
        None if given_publisher.is_some() => Some(Err(format!(
            "--publisher-key was given, but the registry has no publisher signature for {name} \
             {version} (publisher_signature_url is null)"
        ))),
        None => None,
    };
    let publisher = publisher_evidence(
        publisher_signature,
        given_publisher,
        Some(&api),
        &args.registry,
        Ok(name),
        Some(&meta),
    )
    .await?;
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
        publisher,
    })
}

/// A package file: its signature beside it (or given), else the registry's; and the
/// publisher's, given, beside it, or the registry's.
async fn file(path: &Path, args: &VerifyArgs) -> anyhow::Result<Evidence> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let identity = identity_of(&bytes);
    let mut keys = given_keys(args)?;
    let given_publisher = given_publisher_key(args)?;
    let read = |p: &Path| {
        std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
    };
    let with_suffix = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let beside = with_suffix(".minisig");
    let beside_publisher = with_suffix(".publisher.minisig");

    let mut local = args.signature.as_deref().map(read).transpose()?;
    let mut local_publisher = match &args.publisher_signature {
        Some(p) => Some(read(p)?),
        None if beside_publisher.is_file() => Some(read(&beside_publisher)?),
        None => None,
    };
    // `FILE.minisig`, unless it is a file already named: the registry's or the publisher's?
    let named = |p: &Option<PathBuf>| p.as_deref() == Some(beside.as_path());
    if beside.is_file()
        && !named(&args.signature)
        && !named(&args.publisher_signature)
        && (local.is_none() || local_publisher.is_none())
    {
        let text = read(&beside)?;
        let registry_keys_now = match keys.take() {
            Some(k) => k,
            None => registry_keys(&Registry::from_args(&args.registry)?).await?,
        };
        let is_registry = is_registry_signature(&text, &registry_keys_now.keys);
        keys = Some(registry_keys_now);
        if is_registry && local.is_none() {
            local = Some(text);
        } else if !is_registry && local_publisher.is_none() {
            local_publisher = Some(text);
        }
    }

    let mut api = None;
    let (signature, record, meta) = match local {
        Some(text) => (Ok(text), None, None),
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
            let record = Some((meta.sha256.to_ascii_lowercase(), meta.size));
            (signature, record, Some(meta))
        }
    };
    let keys = match keys {
        Some(keys) => keys,
        None => {
            if api.is_none() {
                api = Some(Registry::from_args(&args.registry)?);
            }
            registry_keys(api.as_ref().expect("set above")).await?
        }
    };

    let publisher_signature = match local_publisher {
        Some(text) => Some(Ok(text)),
        None => {
            let from_registry = match (&meta, &api, &identity) {
                (Some(meta), Some(api), Ok((name, _))) => {
                    registry_publisher_signature(api, name, meta).await?
                }
                _ => None,
            };
            match from_registry {
                Some(text) => Some(Ok(text)),
                None if given_publisher.is_some() => Some(Err(format!(
                    "--publisher-key was given, but there is no publisher signature: none given \
                     with --publisher-signature, none beside the package ({} or a {} that is \
                     not the registry's){}",
                    beside_publisher.display(),
                    beside.display(),
                    if meta.is_some() {
                        ", and the registry has none"
                    } else {
                        ""
                    }
                ))),
                None => None,
            }
        }
    };
    let publisher = publisher_evidence(
        publisher_signature,
        given_publisher,
        api.as_ref(),
        &args.registry,
        identity
            .as_ref()
            .map(|(n, _)| n.as_str())
            .map_err(|e| e.as_str()),
        meta.as_ref(),
    )
    .await?;
    Ok(Evidence {
        bytes,
        identity,
        record,
        signature,
        keys,
        publisher,
    })
}

/// Whether a signature file found beside a package is the registry's rather than the
/// publisher's (see the module's documentation).
fn is_registry_signature(text: &str, registry_keys: &[PublicKey]) -> bool {
    match signing::SignatureFile::parse(text) {
        Err(_) => true,
        Ok(file) => {
            registry_keys.iter().any(|k| k.id() == file.key_id())
                || RegistryComment::parse(file.trusted_comment()).is_some()
        }
    }
}

/// The publisher signature the registry has for a version, if any.
async fn registry_publisher_signature(
    api: &Registry,
    name: &str,
    meta: &VersionMeta,
) -> anyhow::Result<Option<String>> {
    if meta.publisher_signature_url.is_none() {
        return Ok(None);
    }
    let what = format!("the publisher signature of {name} {}", meta.version);
    let response = api
        .send(
            api.request(
                Method::GET,
                &[
                    "modules",
                    name,
                    "versions",
                    &meta.version,
                    "publisher-signature",
                ],
            ),
            &what,
        )
        .await?;
    let text = response
        .text()
        .await
        .map_err(|e| anyhow!("{what} broke off: {}", cause(&e)))?;
    Ok(Some(text))
}

/// The publisher's evidence: with a signature, the keys to check it with, given or the
/// registry's list for the module's publisher (asked of `api`, else of the registry the
/// arguments name, only then).
async fn publisher_evidence(
    signature: Option<Result<String, String>>,
    given: Option<PublicKey>,
    api: Option<&Registry>,
    registry_args: &RegistryArgs,
    module: Result<&str, &str>,
    meta: Option<&VersionMeta>,
) -> anyhow::Result<PublisherEvidence> {
    if !matches!(signature, Some(Ok(_))) {
        return Ok(PublisherEvidence {
            signature,
            ..PublisherEvidence::unsigned()
        });
    }
    let published_at = meta
        .and_then(|m| m.published_at.as_deref())
        .and_then(Timestamp::parse_rfc3339);
    let keys = match (given, module) {
        (Some(key), _) => Ok(PublisherKeys {
            keys: vec![PublisherKey {
                key,
                name: None,
                revoked_at: None,
            }],
            source: PublisherKeySource::Given,
            published_at,
        }),
        (None, Err(why)) => Err(format!(
            "cannot tell whose keys to check it with: {why}; pass --publisher-key"
        )),
        (None, Ok(module)) => match api {
            Some(api) => Ok(publisher_keys(api, module, published_at).await?),
            None => {
                let api = Registry::from_args(registry_args)?;
                Ok(publisher_keys(&api, module, published_at).await?)
            }
        },
    };
    Ok(PublisherEvidence { signature, keys })
}

/// The keys of the publisher that owns `module`, as the registry lists them.
async fn publisher_keys(
    api: &Registry,
    module: &str,
    published_at: Option<Timestamp>,
) -> anyhow::Result<PublisherKeys> {
    let m: ModuleMeta = api
        .json(
            api.request(Method::GET, &["modules", module]),
            &format!("module {module}"),
        )
        .await?;
    let slug = m.publisher.slug;
    let url = api.url(&["publishers", &slug, "keys"]);
    let list: PublisherKeyList = api
        .json(
            api.request_to(Method::GET, url.clone()),
            &format!("the keys of publisher {slug}"),
        )
        .await?;
    let keys = list
        .keys
        .into_iter()
        .map(|k| {
            let key = PublicKey::from_minisign_line(&k.minisign_public_key).map_err(|e| {
                anyhow!(
                    "{slug}'s key {} is not a minisign public key: {}",
                    k.id,
                    e.message
                )
            })?;
            Ok(PublisherKey {
                key,
                name: Some(k.name),
                revoked_at: k.revoked_at.as_deref().and_then(Timestamp::parse_rfc3339),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(PublisherKeys {
        keys,
        source: PublisherKeySource::Registry {
            publisher: slug,
            url: url.to_string(),
        },
        published_at,
    })
}

/// The key of `--publisher-key`: a `.pub` file, or a key line.
fn given_publisher_key(args: &VerifyArgs) -> anyhow::Result<Option<PublicKey>> {
    let Some(raw) = &args.publisher_key else {
        return Ok(None);
    };
    let path = Path::new(raw);
    let key = if path.is_file() {
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
        PublicKey::parse(raw).map_err(|_| {
            anyhow!("--publisher-key: there is no file {raw}, and it is not a minisign key line")
        })?
    };
    Ok(Some(key))
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

mod judge;
pub use judge::checks;
use judge::*;

#[cfg(test)]
mod tests;

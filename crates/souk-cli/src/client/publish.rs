//! `souk publish [PATH]`: upload a version to a marketplace.
//!
//! PATH is a module folder, packed in memory exactly as `souk pack` would, or a package archive
//! (.zip or .tar.gz) that is streamed from disk as it is. Either way the manifest is read first,
//! so a broken package is refused here rather than after an upload, and its name gives the route
//! (`POST /api/v1/modules/{name}/versions`). The SHA-256 of the bytes sent is compared with the
//! one the marketplace answers, so a proxy that altered the upload cannot go unnoticed.
//!
//! An archive signed by its publisher (`souk sign`, or `minisign -S`) is sent with its signature:
//! `--signature FILE`, or `PATH.minisig` when it exists beside the archive. It travels in the
//! `Souk-Signature` header (the file in standard base64), and the marketplace refuses the upload
//! unless it verifies with one of the publisher's registered keys. A folder is packed here, so no
//! signature can cover its bytes: sign an archive instead.

use super::api::{Registry, read_json};
use super::config::RegistryArgs;
use super::pack::pack_dir;
use anyhow::{Context, anyhow, bail};
use base64::Engine;
use clap::Args;
use futures_util::TryStreamExt;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Body, Method};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use souk_core::archive::{self, ArchiveFormat, Limits};
use souk_core::signing::SignatureFile;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Args, Debug)]
pub struct PublishArgs {
    /// A module folder holding souk.toml, or a package archive (.zip or .tar.gz).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The publisher's minisign signature of the archive [default: PATH.minisig, when it
    /// exists].
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// Return as soon as the upload is accepted, without waiting for the automated checks.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for the automated checks, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub wait: u64,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// What the marketplace's checks say about a version (`GET .../checks`).
#[derive(Deserialize)]
struct Checks {
    status: String,
    #[serde(default)]
    status_reason: Option<String>,
    #[serde(default)]
    findings: Vec<FindingLine>,
    #[serde(default)]
    job: Option<CheckJob>,
}

#[derive(Deserialize)]
struct CheckJob {
    attempts: i64,
    #[serde(default)]
    last_error: Option<String>,
}

#[derive(Deserialize)]
struct FindingLine {
    rule: String,
    severity: String,
    path: String,
    line: u32,
    column: u32,
    message: String,
}

/// What is about to be uploaded.
enum Package {
    /// A folder, packed in memory.
    Packed {
        name: String,
        version: String,
        bytes: Vec<u8>,
    },
    /// An archive on disk, streamed.
    Archive {
        name: String,
        version: String,
        path: PathBuf,
        size: u64,
        format: ArchiveFormat,
    },
}

/// The parts of the answer (a version) that are reported.
#[derive(Deserialize)]
struct Published {
    name: String,
    version: String,
    sha256: String,
    size: u64,
    #[serde(default)]
    status: String,
    #[serde(default)]
    publisher_key_id: Option<String>,
}

pub async fn run(args: &PublishArgs) -> anyhow::Result<()> {
    let api = Registry::from_args(&args.registry)?;
    let path = args.path.clone();
    // Packing and inspecting read and compress files: work for a blocking thread.
    let package = tokio::task::spawn_blocking(move || open(&path))
        .await
        .context("packing stopped unexpectedly")??;
    api.require_token()?;

    let (name, version) = match &package {
        Package::Packed { name, version, .. } | Package::Archive { name, version, .. } => {
            (name.clone(), version.clone())
        }
    };
    let signature = signature_for(&package, args.signature.as_deref())?;
    let hasher = Arc::new(Mutex::new(Sha256::new()));
    let mut request = api.request(Method::POST, &["modules", &name, "versions"]);
    if let Some((path, key_id, header)) = &signature {
        println!("sending the signature {} (key {key_id})", path.display());
        request = request.header("Souk-Signature", header);
    }
    let request = match package {
        Package::Packed { bytes, .. } => {
            hasher
                .lock()
                .map_err(|_| anyhow!("hashing failed"))?
                .update(&bytes);
            request
                .header(CONTENT_TYPE, ArchiveFormat::TarGz.content_type())
                .body(bytes)
        }
        Package::Archive {
            path, size, format, ..
        } => {
            let file = tokio::fs::File::open(&path)
                .await
                .with_context(|| format!("cannot read {}", path.display()))?;
            let sent = Arc::clone(&hasher);
            let stream = tokio_util::io::ReaderStream::new(file).inspect_ok(move |chunk| {
                if let Ok(mut h) = sent.lock() {
                    h.update(chunk);
                }
            });
            // The length up front lets the marketplace refuse an oversized package at once,
            // rather than after the whole upload.
            request
                .header(CONTENT_TYPE, format.content_type())
                .header(CONTENT_LENGTH, size)
                .body(Body::wrap_stream(stream))
        }
    };
    let response = api.send(request, &format!("module {name}")).await?;
    let published: Published = read_json(response).await?;
    let sent = hex::encode(
        hasher
            .lock()
            .map_err(|_| anyhow!("hashing failed"))?
            .clone()
            .finalize(),
    );
    if !published.sha256.eq_ignore_ascii_case(&sent) {
        bail!(
            "{name} {version} was stored with sha256 {}, but the package sent has sha256 {sent}: \
             something between here and {} changed the upload",
            published.sha256,
            api.display()
        );
    }
    println!(
        "uploaded {} {} (sha256 {}, {} bytes)",
        published.name, published.version, published.sha256, published.size
    );
    if let Some(id) = &published.publisher_key_id {
        println!("publisher signature: key {id}");
    }
    if args.no_wait || published.status != "pending_checks" {
        println!("status: {}", published.status);
        return Ok(());
    }
    println!("the marketplace's automated checks are running...");
    let checks = wait_for_checks(&api, &published.name, &published.version, args.wait).await?;
    report(&published.name, &published.version, &checks, args.wait);
    Ok(())
}

/// Polls the version's checks until they leave `pending_checks` or `secs` pass.
async fn wait_for_checks(
    api: &Registry,
    name: &str,
    version: &str,
    secs: u64,
) -> anyhow::Result<Checks> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let mut pause = std::time::Duration::from_millis(100);
    loop {
        let request = api.request(
            Method::GET,
            &["modules", name, "versions", version, "checks"],
        );
        let checks: Checks = api
            .json(request, &format!("the checks of {name} {version}"))
            .await?;
        if checks.status != "pending_checks" || std::time::Instant::now() >= deadline {
            return Ok(checks);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(2));
    }
}

/// Says where the version stands and lists what the checks found.
fn report(name: &str, version: &str, checks: &Checks, waited: u64) {
    for f in &checks.findings {
        let at = match (f.path.as_str(), f.line) {
            ("", _) => String::new(),
            (p, 0) => format!("{p}: "),
            (p, l) => format!("{p}:{l}:{}: ", f.column),
        };
        println!("  {}[{}] {at}{}", f.severity, f.rule, f.message);
    }
    let reason = checks
        .status_reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    match checks.status.as_str() {
        "published" => println!("published {name} {version}"),
        "pending_review" => println!("{name} {version} waits for a moderator{reason}"),
        "pending_checks" => {
            let why = checks
                .job
                .as_ref()
                .and_then(|j| {
                    j.last_error
                        .as_ref()
                        .map(|e| format!(" (attempt {}: {e})", j.attempts))
                })
                .unwrap_or_default();
            println!(
                "{name} {version} is still being checked after {waited} s{why}; \
                 `souk info {name}` shows its status later"
            );
        }
        other => println!("{name} {version} is {other}{reason}"),
    }
}

/// The signature to send with `package`: its path, key id and `Souk-Signature` value. `given` is
/// `--signature`; without it, `ARCHIVE.minisig` is sent when it exists.
fn signature_for(
    package: &Package,
    given: Option<&Path>,
) -> anyhow::Result<Option<(PathBuf, String, String)>> {
    let path = match (package, given) {
        (Package::Packed { .. }, Some(_)) => bail!(
            "--signature goes with a package archive: a folder is packed as it is published,              so no signature covers its bytes; run `souk pack`, sign the archive (souk sign),              then publish the archive"
        ),
        (Package::Packed { .. }, None) => return Ok(None),
        (Package::Archive { .. }, Some(path)) => path.to_owned(),
        (Package::Archive { path, .. }, None) => {
            let beside = super::sign::signature_path(path);
            if !beside.is_file() {
                return Ok(None);
            }
            beside
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let parsed = SignatureFile::parse(&text)
        .map_err(|e| anyhow!("{} is not a minisign signature: {e}", path.display()))?;
    let header = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    Ok(Some((path, parsed.key_id().to_hex(), header)))
}

/// Packs a folder, or reads the manifest of an archive.
fn open(path: &Path) -> anyhow::Result<Package> {
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow!("{} does not exist", path.display()),
        _ => anyhow!("cannot read {}: {e}", path.display()),
    })?;
    if metadata.is_dir() {
        let (manifest, bytes) = pack_dir(path)?;
        return Ok(Package::Packed {
            name: manifest.name.as_str().to_owned(),
            version: manifest.version.to_string(),
            bytes,
        });
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    // Only the manifest is wanted here; the marketplace applies its own limits (which its
    // operator may have raised), so none are imposed beyond the manifest's size.
    let limits = Limits {
        max_entries: usize::MAX,
        max_unpacked_bytes: u64::MAX,
        max_ratio: u64::MAX,
        ..Limits::default()
    };
    let inspection =
        archive::inspect(std::io::BufReader::new(file), &limits).map_err(|e| match e {
            archive::ArchiveError::NotAnArchive => anyhow!(
                "{} is neither a module folder nor a .zip or .tar.gz package",
                path.display()
            ),
            e => anyhow!("{}: {e}", path.display()),
        })?;
    Ok(Package::Archive {
        name: inspection.manifest.name.as_str().to_owned(),
        version: inspection.manifest.version.to_string(),
        path: path.to_owned(),
        size: metadata.len(),
        format: inspection.format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::init::scaffold;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        publish: PublishArgs,
    }

    #[test]
    fn the_path_defaults_to_the_current_folder() {
        let a = Cli::try_parse_from(["publish", "--registry", "https://x", "--token", "t"])
            .unwrap()
            .publish;
        assert_eq!(a.path, Path::new("."));
        assert_eq!(a.registry.registry.as_deref(), Some("https://x"));
        assert_eq!(a.registry.token.as_deref(), Some("t"));
        let a = Cli::try_parse_from(["publish", "pkg.zip"]).unwrap().publish;
        assert_eq!(a.path, Path::new("pkg.zip"));
    }

    #[test]
    fn folders_are_packed_and_archives_read() {
        let dir = tempfile::tempdir().unwrap();
        let module = dir.path().join("economy");
        scaffold(
            &module,
            &souk_core::ModuleName::parse("economy").unwrap(),
            &souk_core::PublisherSlug::parse("acme").unwrap(),
        )
        .unwrap();
        let Package::Packed {
            name,
            version,
            bytes,
        } = open(&module).unwrap()
        else {
            panic!("a folder is packed");
        };
        assert_eq!((name.as_str(), version.as_str()), ("economy", "0.1.0"));

        let file = dir.path().join("economy.tar.gz");
        std::fs::write(&file, &bytes).unwrap();
        let Package::Archive {
            name, size, format, ..
        } = open(&file).unwrap()
        else {
            panic!("an archive is streamed");
        };
        assert_eq!(name, "economy");
        assert_eq!(size, bytes.len() as u64);
        assert_eq!(format, ArchiveFormat::TarGz);

        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello").unwrap();
        let e = open(&text).err().unwrap().to_string();
        assert!(
            e.ends_with("is neither a module folder nor a .zip or .tar.gz package"),
            "{e}"
        );
        let e = open(&dir.path().join("missing")).err().unwrap().to_string();
        assert!(e.ends_with("missing does not exist"), "{e}");
    }
}

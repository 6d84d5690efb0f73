//! `souk download NAME[@VERSION] [-o FILE]`: fetch a package and prove it is the one published.
//!
//! The version's JSON gives the SHA-256 and size the marketplace recorded at publish time. The
//! package is streamed into a temporary file beside the destination while it is hashed; only
//! when its SHA-256 matches (and the `ETag`, which the marketplace sets to the same hash, when
//! there is one) is it renamed into place. Otherwise the temporary file is removed and the
//! command fails: a corrupted or substituted package never ends up where a person expects it.

use super::api::{Registry, cause};
use super::config::RegistryArgs;
use super::spec::ModuleSpec;
use anyhow::{Context, anyhow, bail};
use clap::Args;
use reqwest::Method;
use reqwest::header::{CONTENT_DISPOSITION, ETAG, HeaderMap};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

#[derive(Args, Debug)]
pub struct DownloadArgs {
    /// The module, and the version [default: the latest].
    #[arg(value_name = "NAME[@VERSION]")]
    pub spec: ModuleSpec,
    /// Where to write the package; a folder keeps the default name
    /// [default: NAME-VERSION.tar.gz or .zip in the current folder].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Deserialize)]
struct ModuleLatest {
    latest_version: Option<String>,
}

/// What the marketplace recorded about the version.
#[derive(Deserialize)]
struct VersionMeta {
    version: String,
    sha256: String,
    size: u64,
    #[serde(default)]
    format: String,
}

pub async fn run(args: &DownloadArgs) -> anyhow::Result<()> {
    let api = Registry::from_args(&args.registry)?;
    let name = &args.spec.name;
    let version = match &args.spec.version {
        Some(v) => v.to_string(),
        None => {
            let module: ModuleLatest = api
                .json(
                    api.request(Method::GET, &["modules", name]),
                    &format!("module {name}"),
                )
                .await?;
            module.latest_version.ok_or_else(|| {
                anyhow!(
                    "{name} has no latest version (none published, or all yanked); \
                     name one: {name}@VERSION"
                )
            })?
        }
    };
    let what = format!("{name} {version}");
    let meta: VersionMeta = api
        .json(
            api.request(Method::GET, &["modules", name, "versions", &version]),
            &what,
        )
        .await?;
    let expected = meta.sha256.to_ascii_lowercase();

    let mut response = api
        .send(
            api.request(
                Method::GET,
                &["modules", name, "versions", &version, "download"],
            ),
            &what,
        )
        .await?;
    let etag = etag_sha256(response.headers());
    let default_name = file_name_from(response.headers()).unwrap_or_else(|| {
        let ext = if meta.format == "zip" {
            "zip"
        } else {
            "tar.gz"
        };
        format!("{name}-{}.{ext}", meta.version)
    });
    let output = match &args.output {
        Some(path) if path.is_dir() => path.join(&default_name),
        Some(path) => path.clone(),
        None => PathBuf::from(&default_name),
    };

    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".souk-download-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let mut file = tokio::fs::File::from_std(
        temp.as_file()
            .try_clone()
            .with_context(|| format!("cannot write {}", temp.path().display()))?,
    );
    let mut hasher = Sha256::new();
    let mut received: u64 = 0;
    let write_error = |e: std::io::Error| anyhow!("cannot write {}: {e}", temp.path().display());
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| anyhow!("the download of {what} broke off: {}", cause(&e)))?
    {
        received += chunk.len() as u64;
        // More than announced can only be wrong; stop before it fills the disk.
        if received > meta.size {
            bail!(
                "size mismatch for {what}: expected {} bytes, got more",
                meta.size
            );
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(write_error)?;
    }
    file.flush().await.map_err(write_error)?;
    file.sync_all().await.map_err(write_error)?;
    drop(file);

    let got = hex::encode(hasher.finalize());
    // The recorded hash first: it is the one the publisher's upload produced.
    for claimed in std::iter::once(expected.as_str()).chain(etag.as_deref()) {
        if claimed != got {
            // Dropping `temp` would remove it too; closing says so if that fails.
            let _ = temp.close();
            bail!("checksum mismatch for {what}: expected {claimed}, got {got}");
        }
    }

    // A temporary file is private (0600); a package is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot write {}", temp.path().display()))?;
    }
    temp.persist(&output)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "downloaded {what} to {} (sha256 {got}, {received} bytes)",
        output.display()
    );
    Ok(())
}

/// The SHA-256 the `ETag` carries (`"hex"`, maybe weak), when it looks like one.
fn etag_sha256(headers: &HeaderMap) -> Option<String> {
    let tag = headers.get(ETAG)?.to_str().ok()?.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
    // Another kind of tag (a CDN's own, say) says nothing about the hash.
    (tag.len() == 64 && tag.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| tag.to_ascii_lowercase())
}

/// The file name of `Content-Disposition`, if it is a plain name: it comes from the network and
/// must not be able to name another folder, a hidden file or anything odd.
fn file_name_from(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_DISPOSITION)?.to_str().ok()?;
    let name = value.split(';').find_map(|part| {
        let (key, value) = part.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("filename")
            .then(|| value.trim().trim_matches('"').to_owned())
    })?;
    let plain = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'));
    plain.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn file_names_from_the_server_are_plain_or_ignored() {
        let name = |v: &str| file_name_from(&headers(&[(CONTENT_DISPOSITION, v)]));
        assert_eq!(
            name("attachment; filename=\"economy-1.0.0.tar.gz\"").as_deref(),
            Some("economy-1.0.0.tar.gz")
        );
        assert_eq!(
            name("attachment;filename=economy-1.0.0+b.1.zip").as_deref(),
            Some("economy-1.0.0+b.1.zip")
        );
        for bad in [
            "attachment; filename=\"../../.bashrc\"",
            "attachment; filename=\"/etc/passwd\"",
            "attachment; filename=\".hidden\"",
            "attachment; filename=\"a b.zip\"",
            "attachment; filename=\"\"",
            "attachment",
        ] {
            assert_eq!(name(bad), None, "{bad}");
        }
        assert_eq!(file_name_from(&HeaderMap::new()), None);
    }

    #[test]
    fn etags_count_only_when_they_are_a_sha256() {
        let hash = "ab".repeat(32);
        let tag = |v: &str| etag_sha256(&headers(&[(ETAG, v)]));
        assert_eq!(tag(&format!("\"{hash}\"")), Some(hash.clone()));
        assert_eq!(tag(&format!("W/\"{}\"", hash.to_uppercase())), Some(hash));
        assert_eq!(tag("\"v1-abc\""), None);
        assert_eq!(etag_sha256(&HeaderMap::new()), None);
    }

    #[test]
    fn the_version_is_optional() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            download: DownloadArgs,
        }
        let a = Cli::try_parse_from(["download", "economy"])
            .unwrap()
            .download;
        assert_eq!(a.spec.version, None);
        assert_eq!(a.output, None);
        let a = Cli::try_parse_from(["download", "economy@1.0.0", "-o", "x.tgz"])
            .unwrap()
            .download;
        assert_eq!(a.spec.version, Some(semver::Version::new(1, 0, 0)));
        assert_eq!(a.output, Some(PathBuf::from("x.tgz")));
    }
}

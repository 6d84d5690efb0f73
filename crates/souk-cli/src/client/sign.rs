//! `souk sign [--key FILE] PACKAGE`: the publisher's signature of a package archive, written as
//! `PACKAGE.minisig` (or `--output`), which `souk publish` then sends along.
//!
//! The signature is minisign's, prehashed (`ED`: Ed25519 over the BLAKE2b-512 of the file, which
//! is streamed, never held in memory), so `minisign -V -p KEY.pub -m PACKAGE` checks it too. Its
//! trusted comment names the file and its SHA-256, minisign style:
//! `timestamp:UNIX\tfile:NAME\tsha256:HEX`. The key is a minisign secret key file that is not
//! encrypted (`souk key generate`, or `minisign -G -W`); with an encrypted one, sign with
//! `minisign -S` instead: the marketplace accepts either.

use super::key::default_secret_key_path;
use anyhow::{Context, anyhow, bail};
use clap::Args;
use sha2::{Digest, Sha256};
use souk_core::Timestamp;
use souk_core::signing::{Prehasher, SigningKey};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct SignArgs {
    /// The package archive to sign (.tar.gz or .zip, as `souk pack` makes).
    #[arg(value_name = "PACKAGE")]
    pub package: PathBuf,
    /// The secret key file [default: signing.key beside the credentials file].
    #[arg(long, short, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Where to write the signature [default: PACKAGE.minisig].
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: &SignArgs) -> anyhow::Result<()> {
    let key_path = match &args.key {
        Some(p) => p.clone(),
        None => default_secret_key_path()?,
    };
    let key = read_secret_key(&key_path, args.key.is_none())?;
    if args.package.is_dir() {
        bail!(
            "{} is a folder: pack it first (souk pack {0}), then sign the archive and publish \
             that archive",
            args.package.display()
        );
    }
    let (signature, sha256) = sign_file(&key, &args.package, Timestamp::now())?;
    let output = match &args.output {
        Some(p) => p.clone(),
        None => signature_path(&args.package),
    };
    std::fs::write(&output, &signature)
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "signed {} (sha256 {sha256}) with key {}",
        args.package.display(),
        key.id()
    );
    println!("signature: {}", output.display());
    Ok(())
}

/// `PACKAGE.minisig`.
pub fn signature_path(package: &Path) -> PathBuf {
    let mut name = package.as_os_str().to_owned();
    name.push(".minisig");
    PathBuf::from(name)
}

fn read_secret_key(path: &Path, default: bool) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound if default => anyhow!(
            "there is no {}: make a key with `souk key generate` (and register it with `souk \
             key register`), or pass --key FILE",
            path.display()
        ),
        _ => anyhow!("cannot read {}: {e}", path.display()),
    })?;
    SigningKey::from_minisign_secret_file(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Signs the file at `path`, streaming it; answers the signature file's text and the file's
/// SHA-256 (hex).
pub fn sign_file(
    key: &SigningKey,
    path: &Path,
    now: Timestamp,
) -> anyhow::Result<(String, String)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut prehasher = Prehasher::new();
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        prehasher.update(&buf[..n]);
        sha.update(&buf[..n]);
    }
    let sha256 = hex::encode(sha.finalize());
    let comment = trusted_comment(path, &sha256, now);
    let signature = prehasher.finish_sign(key, &comment)?;
    Ok((signature, sha256))
}

/// `timestamp:UNIX\tfile:NAME\tsha256:HEX`, with any control character in the name replaced
/// (a line break would end the comment early).
fn trusted_comment(path: &Path, sha256: &str, now: Timestamp) -> String {
    let name: String = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .take(200)
        .collect();
    format!(
        "timestamp:{}\tfile:{name}\tsha256:{sha256}",
        now.millis().div_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use souk_core::signing::verify;

    #[test]
    fn signs_a_file_with_its_name_and_sha256_in_the_trusted_comment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("economy-1.0.0.tar.gz");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let key = SigningKey::generate();
        let (sig, sha) = sign_file(&key, &path, Timestamp::from_millis(1_700_000_000_999)).unwrap();
        assert_eq!(sha, hex::encode(Sha256::digest(&bytes)));
        let v = verify(&key.public_key(), &sig, &bytes).unwrap();
        assert!(v.prehashed);
        assert_eq!(
            v.trusted_comment,
            format!("timestamp:1700000000\tfile:economy-1.0.0.tar.gz\tsha256:{sha}")
        );
        assert_eq!(
            trusted_comment(Path::new("a\nb"), "ab", Timestamp::from_millis(0)),
            "timestamp:0\tfile:a_b\tsha256:ab"
        );
        assert_eq!(
            signature_path(&path),
            dir.path().join("economy-1.0.0.tar.gz.minisig")
        );
    }

    #[test]
    fn refuses_keys_it_cannot_use() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_secret_key(&dir.path().join("none.key"), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("make a key with `souk key generate`"), "{e}");
        let public = dir.path().join("k.pub");
        std::fs::write(
            &public,
            SigningKey::generate().public_key().to_minisign_file(),
        )
        .unwrap();
        let e = read_secret_key(&public, false).unwrap_err().to_string();
        assert!(e.contains("not a minisign secret key file"), "{e}");
    }
}

//! `souk key generate | register | list | revoke`: a publisher's own signing keys.
//!
//! `generate` makes an Ed25519 key pair in minisign's formats: the secret key file is what
//! `minisign -G -W` writes (not encrypted, so written with mode 0600), which `souk sign` and
//! `minisign -S -s FILE` both sign with; the public key is a minisign `.pub` file, which
//! `minisign -V -p FILE` verifies with and `souk key register` sends to the marketplace.
//! By default both live beside the credentials file (`signing.key`, `signing.pub`), out of any
//! module folder, so that a secret key is never packed into a package by mistake.

use super::api::{Registry, read_json};
use super::config::{self, RegistryArgs};
use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde::Deserialize;
use souk_core::signing::{PublicKey, SecretKeyFileError, SigningKey};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The default file names, in the folder of `credentials.toml`.
const SECRET_KEY_FILE: &str = "signing.key";
const PUBLIC_KEY_FILE: &str = "signing.pub";

#[derive(Args, Debug)]
pub struct KeyArgs {
    #[command(subcommand)]
    pub command: KeyCommand,
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Make a signing key pair: a minisign secret key file (not encrypted, mode 0600) and its
    /// public key (.pub).
    Generate {
        /// The secret key file [default: signing.key beside the credentials file]; the public
        /// key goes beside it, with `.pub` for `.key` (or `.pub` added).
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Replace existing key files.
        #[arg(long)]
        force: bool,
    },
    /// Register a public key with a publisher, so that uploads may be signed with it.
    Register {
        /// The publisher (its slug).
        #[arg(long, value_name = "SLUG")]
        publisher: String,
        /// A label for the key, such as "release laptop" [default: key ID].
        #[arg(long)]
        name: Option<String>,
        /// The public key: a minisign .pub file [default: signing.pub beside the credentials
        /// file].
        #[arg(value_name = "PUBFILE")]
        public_key: Option<PathBuf>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// List a publisher's keys, revoked ones included.
    List {
        #[arg(long, value_name = "SLUG")]
        publisher: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Revoke one of a publisher's keys: no upload signed with it is accepted any more.
    Revoke {
        #[arg(long, value_name = "SLUG")]
        publisher: String,
        /// The key id (16 hex digits).
        #[arg(value_name = "ID")]
        id: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

/// A key as the marketplace lists it.
#[derive(Deserialize)]
struct KeyView {
    id: String,
    name: String,
    created_at: String,
    revoked_at: Option<String>,
}

#[derive(Deserialize)]
struct KeyList {
    keys: Vec<KeyView>,
}

pub async fn run(args: &KeyArgs) -> anyhow::Result<()> {
    match &args.command {
        KeyCommand::Generate { output, force } => generate(output.as_deref(), *force),
        KeyCommand::Register {
            publisher,
            name,
            public_key,
            registry,
        } => register(publisher, name.as_deref(), public_key.as_deref(), registry).await,
        KeyCommand::List {
            publisher,
            registry,
        } => list(publisher, registry).await,
        KeyCommand::Revoke {
            publisher,
            id,
            registry,
        } => revoke(publisher, id, registry).await,
    }
}

/// `signing.key` beside the credentials file.
pub fn default_secret_key_path() -> anyhow::Result<PathBuf> {
    Ok(config_dir()?.join(SECRET_KEY_FILE))
}

fn default_public_key_path() -> anyhow::Result<PathBuf> {
    Ok(config_dir()?.join(PUBLIC_KEY_FILE))
}

fn config_dir() -> anyhow::Result<PathBuf> {
    let credentials = config::default_credentials_path()?;
    Ok(credentials.parent().map(Path::to_owned).unwrap_or_default())
}

/// The public key file that goes with a secret key file: `x.key` → `x.pub`, else `x` → `x.pub`.
pub fn public_key_path(secret: &Path) -> PathBuf {
    if secret.extension().is_some_and(|e| e == "key") {
        secret.with_extension("pub")
    } else {
        let mut name = secret.as_os_str().to_owned();
        name.push(".pub");
        PathBuf::from(name)
    }
}

fn generate(output: Option<&Path>, force: bool) -> anyhow::Result<()> {
    let secret_path = match output {
        Some(p) => p.to_owned(),
        None => default_secret_key_path()?,
    };
    let public_path = public_key_path(&secret_path);
    if !force {
        for path in [&secret_path, &public_path] {
            if path.exists() {
                bail!(
                    "{} already exists; pass --force to replace it (a key that signed published \
                     versions is better revoked than lost)",
                    path.display()
                );
            }
        }
    }
    let dir = secret_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;

    let key = SigningKey::generate();
    let public = key.public_key();
    write_atomically(&secret_path, &key.to_minisign_secret_file(), force)?;
    write_atomically(&public_path, &public.to_minisign_file(), force)?;
    #[cfg(unix)]
    {
        // The public key may be read by anyone; tempfile made it 0600 like the secret.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&public_path, std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot set the mode of {}", public_path.display()))?;
    }
    println!("key id {}", public.id());
    println!(
        "secret key: {} (not encrypted: keep it private, never put it in a module folder)",
        secret_path.display()
    );
    println!("public key: {}", public_path.display());
    println!("public key line: {}", public.to_minisign_line());
    println!(
        "next: souk key register --publisher SLUG {}",
        public_path.display()
    );
    Ok(())
}

/// Writes `text` to a temporary file (mode 0600) beside `path` and renames it into place, so a
/// secret is never readable by others, even half-written. Without `replace`, an existing `path`
/// is left alone and is an error.
fn write_atomically(path: &Path, text: &str, replace: bool) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".souk-key-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", temp.path().display()))?;
    let persisted = if replace {
        temp.persist(path).map(|_| ())
    } else {
        temp.persist_noclobber(path).map(|_| ())
    };
    persisted
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))
}

async fn register(
    publisher: &str,
    name: Option<&str>,
    public_key: Option<&Path>,
    registry: &RegistryArgs,
) -> anyhow::Result<()> {
    let path = match public_key {
        Some(p) => p.to_owned(),
        None => default_public_key_path()?,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound if public_key.is_none() => anyhow!(
            "there is no {}: make a key with `souk key generate`, or name a .pub file",
            path.display()
        ),
        _ => anyhow!("cannot read {}: {e}", path.display()),
    })?;
    // Checked here too, so that a secret key given by mistake never leaves the machine.
    if matches!(
        SigningKey::from_minisign_secret_file(&text),
        Ok(_) | Err(SecretKeyFileError::Encrypted)
    ) {
        bail!(
            "{} is a secret key; register its public key (the .pub file) instead",
            path.display()
        );
    }
    let public = PublicKey::parse(&text).map_err(|e| {
        anyhow!(
            "{} is not a minisign public key: {}",
            path.display(),
            e.message
        )
    })?;
    let api = Registry::from_args(registry)?;
    api.require_token()?;
    let mut body = serde_json::json!({ "public_key": public.to_minisign_line() });
    if let Some(name) = name {
        body["name"] = name.into();
    }
    let response = api
        .send(
            api.request(Method::POST, &["publishers", publisher, "keys"])
                .json(&body),
            &format!("publisher {publisher}"),
        )
        .await?;
    let key: KeyView = read_json(response).await?;
    println!(
        "registered key {} (\"{}\") for {publisher} on {}",
        key.id,
        key.name,
        api.display()
    );
    Ok(())
}

async fn list(publisher: &str, registry: &RegistryArgs) -> anyhow::Result<()> {
    let api = Registry::from_args(registry)?;
    let list: KeyList = api
        .json(
            api.request(Method::GET, &["publishers", publisher, "keys"]),
            &format!("publisher {publisher}"),
        )
        .await?;
    if list.keys.is_empty() {
        println!("{publisher} has no signing keys");
    }
    for k in &list.keys {
        let state = match &k.revoked_at {
            Some(at) => format!("revoked {at}"),
            None => "active".to_owned(),
        };
        println!("{}  {state}  added {}  {}", k.id, k.created_at, k.name);
    }
    Ok(())
}

async fn revoke(publisher: &str, id: &str, registry: &RegistryArgs) -> anyhow::Result<()> {
    let api = Registry::from_args(registry)?;
    api.require_token()?;
    let key: KeyView = api
        .json(
            api.request(Method::DELETE, &["publishers", publisher, "keys", id]),
            &format!("key {id} of {publisher}"),
        )
        .await?;
    println!(
        "revoked key {} of {publisher} at {}: no upload signed with it is accepted any more",
        key.id,
        key.revoked_at.unwrap_or_default()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_paths_follow_secret_key_paths() {
        assert_eq!(
            public_key_path(Path::new("a/signing.key")),
            Path::new("a/signing.pub")
        );
        assert_eq!(
            public_key_path(Path::new("a/release")),
            Path::new("a/release.pub")
        );
        assert_eq!(
            public_key_path(Path::new("ci.secret")),
            Path::new("ci.secret.pub")
        );
    }

    #[test]
    fn keys_are_written_privately_and_never_over_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("keys/release.key");
        generate(Some(&secret), false).unwrap();
        let text = std::fs::read_to_string(&secret).unwrap();
        let key = SigningKey::from_minisign_secret_file(&text).unwrap();
        let public = std::fs::read_to_string(dir.path().join("keys/release.pub")).unwrap();
        assert_eq!(PublicKey::parse(&public).unwrap(), key.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&secret), 0o600);
            assert_eq!(mode(&dir.path().join("keys/release.pub")), 0o644);
        }
        let e = generate(Some(&secret), false).unwrap_err().to_string();
        assert!(e.contains("already exists; pass --force"), "{e}");
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), text);
        generate(Some(&secret), true).unwrap();
        assert_ne!(std::fs::read_to_string(&secret).unwrap(), text);
    }
}

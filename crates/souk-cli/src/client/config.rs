//! Which marketplace the client commands talk to, and with which token.
//!
//! Each setting comes from the first of: the flag (`--registry`, `--token`), the environment
//! (`SOUK_REGISTRY`, `SOUK_TOKEN`), the credentials file written by `souk login`, and for the
//! registry the default `http://127.0.0.1:8080`.
//!
//! The file is `$SOUK_CONFIG_HOME/credentials.toml`, else `$XDG_CONFIG_HOME/souk/credentials.toml`,
//! else `$HOME/.config/souk/credentials.toml`:
//!
//! ```toml
//! registry = "https://souk.example.com"
//! token = "souk_ses_..."
//! ```
//!
//! The stored token belongs to the stored registry: it is only sent when the effective registry
//! is that one, so `--registry https://elsewhere` never hands the token to another server.

use anyhow::{Context, anyhow, bail};
use clap::Args;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where a marketplace runs when nothing says otherwise: `souk serve`'s own default.
pub const DEFAULT_REGISTRY: &str = "http://127.0.0.1:8080";

/// The credentials file's name inside the configuration folder.
pub const CREDENTIALS_FILE: &str = "credentials.toml";

/// `--registry` and `--token`, shared by the commands that talk to a marketplace.
#[derive(Args, Clone, Debug, Default)]
pub struct RegistryArgs {
    /// The marketplace's URL [default: the one `souk login` stored, else http://127.0.0.1:8080].
    #[arg(long, env = "SOUK_REGISTRY", value_name = "URL")]
    pub registry: Option<String>,
    /// An API or session token [default: the one `souk login` stored for this registry].
    #[arg(long, env = "SOUK_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// The contents of `credentials.toml`.
/// Unknown keys are ignored, so that a file written by a newer `souk` still works.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    pub registry: Option<String>,
    pub token: Option<String>,
}

/// The registry and token a command uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub registry: Url,
    pub token: Option<String>,
}

/// The credentials file's path, from the environment as `env` reads it. Empty and relative
/// values are ignored, as the XDG base directory specification asks.
pub fn credentials_path(env: impl Fn(&str) -> Option<OsString>) -> anyhow::Result<PathBuf> {
    let dir = |name: &str| env(name).map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(home) = dir("SOUK_CONFIG_HOME") {
        return Ok(home.join(CREDENTIALS_FILE));
    }
    if let Some(xdg) = dir("XDG_CONFIG_HOME") {
        return Ok(xdg.join("souk").join(CREDENTIALS_FILE));
    }
    if let Some(home) = dir("HOME") {
        return Ok(home.join(".config").join("souk").join(CREDENTIALS_FILE));
    }
    bail!("cannot tell where to keep credentials: set SOUK_CONFIG_HOME or HOME")
}

/// The credentials file's path for this process.
pub fn default_credentials_path() -> anyhow::Result<PathBuf> {
    credentials_path(|name| std::env::var_os(name))
}

/// Reads the credentials file; `None` when there is none.
pub fn read_credentials(path: &Path) -> anyhow::Result<Option<Credentials>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let credentials = toml::from_str(&text).map_err(|e| {
        // The parser's message spans lines (it quotes the source); its first line says it all.
        let message = e
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_owned();
        anyhow!("{}: {message} (run `souk login` again)", path.display())
    })?;
    Ok(Some(credentials))
}

/// Writes the credentials file readable by its owner only: the folder is created 0700, the file
/// written 0600 to a temporary name beside it and renamed over the old one, so a crash never
/// leaves a half-written file and the token is never readable by others, not even briefly.
pub fn write_credentials(path: &Path, credentials: &Credentials) -> anyhow::Result<()> {
    let dir = path
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
    let text = toml::to_string(credentials).context("cannot encode the credentials")?;
    // tempfile creates the file with mode 0600 on Unix.
    let mut temp = tempfile::Builder::new()
        .prefix(".credentials-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", temp.path().display()))?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Parses a registry URL: http or https, no query or fragment, without the trailing `/` (so
/// `https://x/` and `https://x` are the same registry).
pub fn parse_registry(raw: &str) -> anyhow::Result<Url> {
    let mut url = Url::parse(raw.trim()).map_err(|e| {
        anyhow!("`{raw}` is not a registry URL: {e} (like https://souk.example.com)")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("`{raw}` is not a registry URL: use http:// or https://");
    }
    if url.query().is_some() || url.fragment().is_some() || url.cannot_be_a_base() {
        bail!("`{raw}` is not a registry URL: no query or fragment, please");
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

/// Chooses the registry and token from the flags (or environment) and the stored credentials.
pub fn resolve(args: &RegistryArgs, stored: Option<&Credentials>) -> anyhow::Result<Settings> {
    let stored_registry = stored
        .and_then(|c| c.registry.as_deref())
        .map(|r| {
            parse_registry(r).context("the registry stored by `souk login` is not a valid URL")
        })
        .transpose()?;
    let registry = match &args.registry {
        Some(r) => parse_registry(r)?,
        None => match &stored_registry {
            Some(r) => r.clone(),
            None => parse_registry(DEFAULT_REGISTRY)?,
        },
    };
    let token = match &args.token {
        Some(t) => Some(t.trim().to_owned()).filter(|t| !t.is_empty()),
        None if stored_registry.as_ref() == Some(&registry) => stored.and_then(|c| c.token.clone()),
        None => None,
    };
    Ok(Settings { registry, token })
}

/// [`resolve`] with this user's credentials file, read only when a flag leaves something open.
pub fn settings(args: &RegistryArgs) -> anyhow::Result<Settings> {
    if args.registry.is_some() && args.token.is_some() {
        return resolve(args, None);
    }
    // Without a place for the file (no HOME, as under some service managers) there is simply no
    // stored login; only `souk login` needs one.
    let stored = match default_credentials_path() {
        Ok(path) => read_credentials(&path)?,
        Err(_) => None,
    };
    resolve(args, stored.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn the_credentials_file_follows_souk_then_xdg_then_home() {
        let all = [
            ("SOUK_CONFIG_HOME", "/souk"),
            ("XDG_CONFIG_HOME", "/xdg"),
            ("HOME", "/home/ana"),
        ];
        assert_eq!(
            credentials_path(env(&all)).unwrap(),
            Path::new("/souk/credentials.toml")
        );
        assert_eq!(
            credentials_path(env(&all[1..])).unwrap(),
            Path::new("/xdg/souk/credentials.toml")
        );
        assert_eq!(
            credentials_path(env(&all[2..])).unwrap(),
            Path::new("/home/ana/.config/souk/credentials.toml")
        );
        // Empty or relative values do not count.
        assert_eq!(
            credentials_path(env(&[
                ("SOUK_CONFIG_HOME", ""),
                ("XDG_CONFIG_HOME", "relative/dir"),
                ("HOME", "/home/ana"),
            ]))
            .unwrap(),
            Path::new("/home/ana/.config/souk/credentials.toml")
        );
        let e = credentials_path(env(&[])).unwrap_err().to_string();
        assert!(e.contains("SOUK_CONFIG_HOME"), "{e}");
    }

    #[test]
    fn registry_urls_are_checked_and_normalized() {
        assert_eq!(
            parse_registry("https://souk.example.com/")
                .unwrap()
                .as_str(),
            "https://souk.example.com/"
        );
        assert_eq!(
            parse_registry("http://host:9000/souk/").unwrap().as_str(),
            "http://host:9000/souk"
        );
        assert_eq!(
            parse_registry("http://host:9000/souk").unwrap(),
            parse_registry("http://host:9000/souk/").unwrap()
        );
        for bad in [
            "souk.example.com",
            "ftp://x",
            "https://x/?a=1",
            "mailto:a@b",
        ] {
            let e = parse_registry(bad).unwrap_err().to_string();
            assert!(e.contains("is not a registry URL"), "{bad}: {e}");
        }
    }

    fn args(registry: Option<&str>, token: Option<&str>) -> RegistryArgs {
        RegistryArgs {
            registry: registry.map(str::to_owned),
            token: token.map(str::to_owned),
        }
    }

    #[test]
    fn flags_win_then_the_stored_login_then_the_default() {
        let stored = Credentials {
            registry: Some("https://souk.example.com/".into()),
            token: Some("stored".into()),
        };
        let s = resolve(&args(None, None), Some(&stored)).unwrap();
        assert_eq!(s.registry.as_str(), "https://souk.example.com/");
        assert_eq!(s.token.as_deref(), Some("stored"));

        let s = resolve(&args(None, Some("flag")), Some(&stored)).unwrap();
        assert_eq!(s.token.as_deref(), Some("flag"));

        // The same registry written differently still gets the stored token.
        let s = resolve(&args(Some("https://souk.example.com"), None), Some(&stored)).unwrap();
        assert_eq!(s.token.as_deref(), Some("stored"));

        // Another registry never gets it.
        let s = resolve(&args(Some("http://127.0.0.1:9"), None), Some(&stored)).unwrap();
        assert_eq!(s.registry.as_str(), "http://127.0.0.1:9/");
        assert_eq!(s.token, None);

        let s = resolve(&args(None, None), None).unwrap();
        assert_eq!(s.registry.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(s.token, None);

        // An empty token (SOUK_TOKEN= ) means none.
        let s = resolve(&args(None, Some(" ")), Some(&stored)).unwrap();
        assert_eq!(s.token, None);
    }

    #[test]
    fn credentials_round_trip_privately() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/souk").join(CREDENTIALS_FILE);
        assert_eq!(read_credentials(&path).unwrap(), None);
        let credentials = Credentials {
            registry: Some("https://souk.example.com/".into()),
            token: Some("souk_ses_abc".into()),
        };
        write_credentials(&path, &credentials).unwrap();
        assert_eq!(read_credentials(&path).unwrap(), Some(credentials.clone()));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("token = \"souk_ses_abc\""), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
        // Written again: replaced, and no temporary file left beside it.
        write_credentials(&path, &Credentials::default()).unwrap();
        assert_eq!(
            read_credentials(&path).unwrap(),
            Some(Credentials::default())
        );
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }

    #[test]
    fn a_broken_credentials_file_is_one_line_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CREDENTIALS_FILE);
        std::fs::write(&path, "registry = [\n").unwrap();
        let e = format!("{:#}", read_credentials(&path).unwrap_err());
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        assert!(!e.contains('\n'), "{e}");
        std::fs::write(&path, "registry = \"x\"\ntoken = 3\n").unwrap();
        let e = format!("{:#}", read_credentials(&path).unwrap_err());
        assert!(e.contains("invalid type"), "{e}");
    }
}

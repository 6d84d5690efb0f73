//! Configuration in four layers, each overriding the last: built-in defaults, a `souk.toml` (named
//! by `--config`, else the one in the data directory), `SOUK_*` environment variables, then
//! command-line flags. Every key is declared once in [`KEYS`] with its environment name, whether it
//! is a secret, and how to parse it; an unknown key in the file or a bad value anywhere is an error
//! that names the key.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where a value came from, shown by `souk config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    Env,
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Env => "env",
            Source::Flag => "flag",
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("unknown configuration key `{0}`")]
    UnknownKey(String),
    #[error("invalid value for `{key}`: {reason}")]
    BadValue { key: String, reason: String },
    #[error("cannot read configuration file {path}: {reason}")]
    File { path: String, reason: String },
}

use secrecy::ExposeSecret;
/// A string that never shows in `Debug` output and is wiped from memory when dropped: the
/// database URL (it may carry a password), the server key, S3 and NATS credentials.
pub use secrecy::SecretString as Secret;

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Empty means the SQLite file in the data directory.
    pub database_url: Secret,
    pub database_max_connections: u32,
    /// Empty means `http://` + `listen`.
    pub public_url: String,
    /// Empty means the key file in the data directory, created on first start.
    pub secret_key: Secret,
    pub log: String,
    pub http: HttpConfig,
    pub auth: AuthConfig,
    pub s3: S3Config,
    pub packages: PackageLimits,
    pub search: SearchConfig,
    /// Where the registry's signing keys live; empty means `DATA_DIR/keys`.
    pub signing_keys_dir: String,
    pub moderation: ModerationConfig,
    pub jobs: JobsConfig,
    pub nats: NatsConfig,
    sources: Vec<(&'static str, Source)>,
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    pub trust_proxy_headers: bool,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub allow_registration: bool,
    pub session_ttl_hours: u64,
    pub login_max_failures_per_account: i64,
    pub login_max_failures_per_ip: i64,
    pub login_window_secs: i64,
}

/// S3-compatible blob storage; off (local files) while `bucket` is empty.
#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    /// Empty means AWS itself; set it for MinIO, R2, Ceph and the like.
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    /// Answer downloads with a redirect to a short-lived presigned URL instead of streaming.
    pub presign_downloads: bool,
    pub presign_ttl_secs: u64,
}

/// The bus between nodes.
#[derive(Debug, Clone, Default)]
pub struct NatsConfig {
    /// `nats://[USER:PASS@]HOST:PORT`; empty means the embedded bus (one node).
    pub url: Secret,
}

/// The job runner every kind of background work goes through.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// How long a node holds a job before another may take it over; 0 means each kind's own
    /// (a check job's covers its scanners' timeouts). Never under 30 seconds.
    pub lease_secs: u64,
}

/// The check pipeline's queue and the review policy.
#[derive(Debug, Clone)]
pub struct ModerationConfig {
    /// Which uploads a moderator sees before they are published (`SOUK_REVIEW_POLICY`).
    pub review_policy: ReviewPolicy,
    /// How many times the checks of one version are tried before they wait for a rescan.
    pub check_attempts: u32,
    /// The wait before the first retry; it doubles with each attempt.
    pub check_retry_secs: u64,
    /// How often an idle node looks for check jobs (a node that takes an upload starts at once).
    pub poll_interval_ms: u64,
    /// What native code and which extensions do to a version.
    pub file_types: souk_core::filetypes::Policy,
    /// External scanners run on every package (`moderation.scanners`).
    pub scanners: Vec<crate::checks::scanners::Scanner>,
    /// How long one scanner may take on one package before it counts as failed.
    pub scanner_timeout_secs: u64,
}

/// `none`: versions that pass the checks are published at once. `new-publishers` (the default):
/// the first version of a module from an unverified publisher, and any version with warnings,
/// wait for a moderator. `all`: every version waits. Whatever the policy, a version with an error
/// finding waits for a moderator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewPolicy {
    None,
    NewPublishers,
    All,
}

impl ReviewPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::NewPublishers => "new-publishers",
            Self::All => "all",
        }
    }

    pub fn parse(v: &str) -> Option<Self> {
        [Self::None, Self::NewPublishers, Self::All]
            .into_iter()
            .find(|p| p.as_str() == v.trim())
    }
}

/// The search index (`DATA_DIR/search`).
#[derive(Debug, Clone)]
pub struct SearchConfig {
    /// How often a node reads the change log for catalog writes (its own and other nodes').
    pub follow_interval_ms: u64,
}

/// Limits on uploaded packages.
#[derive(Debug, Clone)]
pub struct PackageLimits {
    pub max_upload_bytes: u64,
    pub max_unpacked_bytes: u64,
    pub max_entries: usize,
    pub max_ratio: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./souk-data"),
            database_url: Secret::default(),
            database_max_connections: 16,
            public_url: String::new(),
            secret_key: Secret::default(),
            log: "info".into(),
            http: HttpConfig {
                max_body_bytes: 2 * 1024 * 1024,
                request_timeout_secs: 30,
                trust_proxy_headers: false,
            },
            auth: AuthConfig {
                allow_registration: true,
                session_ttl_hours: 24 * 30,
                login_max_failures_per_account: 5,
                login_max_failures_per_ip: 30,
                login_window_secs: 15 * 60,
            },
            s3: S3Config {
                bucket: String::new(),
                endpoint: String::new(),
                region: "us-east-1".into(),
                access_key_id: String::new(),
                secret_access_key: Secret::default(),
                presign_downloads: false,
                presign_ttl_secs: 300,
            },
            packages: PackageLimits {
                max_upload_bytes: 50 * 1024 * 1024,
                max_unpacked_bytes: 500 * 1024 * 1024,
                max_entries: 10_000,
                max_ratio: 100,
            },
            search: SearchConfig {
                follow_interval_ms: 250,
            },
            signing_keys_dir: String::new(),
            moderation: ModerationConfig {
                review_policy: ReviewPolicy::NewPublishers,
                check_attempts: 5,
                check_retry_secs: 30,
                poll_interval_ms: 1000,
                file_types: souk_core::filetypes::Policy::default(),
                scanners: Vec::new(),
                scanner_timeout_secs: 300,
            },
            jobs: JobsConfig { lease_secs: 0 },
            nats: NatsConfig::default(),
            sources: Vec::new(),
        }
    }
}

/// One configuration key: its dotted name (the TOML path), whether it is secret, a line of help,
/// and how to set and show it.
pub struct Key {
    pub name: &'static str,
    pub secret: bool,
    pub help: &'static str,
    set: fn(&mut Config, &str) -> Result<(), String>,
    get: fn(&Config) -> String,
}

impl Key {
    /// `http.max_body_bytes` is read from `SOUK_HTTP_MAX_BODY_BYTES`.
    pub fn env_name(&self) -> String {
        format!("SOUK_{}", self.name.replace('.', "_").to_ascii_uppercase())
    }
}

fn parse<T: std::str::FromStr>(v: &str, what: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("expected {what}, got `{v}`"))
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true or false, got `{v}`")),
    }
}

fn positive<T: PartialOrd + Default>(v: T) -> Result<T, String> {
    if v > T::default() {
        Ok(v)
    } else {
        Err("must be greater than zero".into())
    }
}

fn check_database_url(v: &str) -> Result<(), String> {
    if v.is_empty()
        || v.starts_with("sqlite:")
        || v.starts_with("postgres://")
        || v.starts_with("postgresql://")
    {
        Ok(())
    } else {
        Err("expected a sqlite://PATH or postgres://... URL".into())
    }
}

fn check_public_url(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Ok(());
    }
    match url::Url::parse(v) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(()),
        _ => Err(format!("expected an http:// or https:// URL, got `{v}`")),
    }
}

fn check_log(v: &str) -> Result<(), String> {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    v.parse::<Targets>()
        .map_err(|e| format!("bad log filter: {e}"))?;
    // `Targets` reads a bare word as a target's name (`loud` would enable everything logged
    // under a target called `loud`); in Souk's filters that place holds a level, so a mistyped
    // level is refused instead of quietly changing nothing.
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let level = part.rsplit_once('=').map_or(part, |(_, l)| l);
        if level.is_empty() || level.parse::<LevelFilter>().is_err() {
            return Err(format!(
                "bad log filter: `{level}` is not a level (trace, debug, info, warn, error, off)"
            ));
        }
    }
    Ok(())
}

pub use keys::KEYS;

/// The layers a caller gathered: an explicit file, the environment and the flags.
#[derive(Debug, Default, Clone)]
pub struct Layers {
    /// `--config FILE`; when absent, `DATA_DIR/souk.toml` is read if it exists.
    pub file: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    /// Flags as (key name, value), e.g. `("listen", "0.0.0.0:80")`.
    pub flags: Vec<(&'static str, String)>,
}

impl Layers {
    /// The process environment's `SOUK_*` variables.
    pub fn with_process_env(mut self) -> Self {
        self.env = std::env::vars()
            .filter(|(k, _)| k.starts_with("SOUK_"))
            .collect();
        self
    }
}

impl Config {
    pub fn load(layers: &Layers) -> Result<Self, ConfigError> {
        let mut cfg = Config::default();
        // The data directory decides where the default file is, so look at it first from the
        // higher layers.
        let data_dir_override = layers
            .flags
            .iter()
            .find(|(k, _)| *k == "data_dir")
            .map(|(_, v)| v.clone())
            .or_else(|| {
                layers
                    .env
                    .iter()
                    .find(|(k, _)| k == "SOUK_DATA_DIR")
                    .map(|(_, v)| v.clone())
            });
        let file = match &layers.file {
            Some(f) => Some(f.clone()),
            None => {
                let dir = data_dir_override
                    .clone()
                    .map(PathBuf::from)
                    .unwrap_or_else(|| cfg.data_dir.clone());
                Some(dir.join("souk.toml")).filter(|p| p.exists())
            }
        };
        if let Some(path) = file {
            cfg.apply_file(&path, layers.file.is_some())?;
        }
        for key in KEYS {
            let env = key.env_name();
            if let Some((_, v)) = layers.env.iter().find(|(k, _)| *k == env) {
                cfg.set(key, v, Source::Env)?;
            }
        }
        for (name, v) in &layers.flags {
            let key = KEYS
                .iter()
                .find(|k| k.name == *name)
                .ok_or_else(|| ConfigError::UnknownKey((*name).into()))?;
            cfg.set(key, v, Source::Flag)?;
        }
        Ok(cfg)
    }

    fn set(&mut self, key: &Key, value: &str, source: Source) -> Result<(), ConfigError> {
        (key.set)(self, value).map_err(|reason| ConfigError::BadValue {
            key: key.name.into(),
            reason,
        })?;
        self.sources.retain(|(k, _)| *k != key.name);
        self.sources.push((key.name, source));
        Ok(())
    }

    fn apply_file(&mut self, path: &Path, explicit: bool) -> Result<(), ConfigError> {
        let file_err = |reason: String| ConfigError::File {
            path: path.display().to_string(),
            reason,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(file_err(e.to_string())),
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| file_err(e.message().to_owned()))?;
        let mut flat = Vec::new();
        flatten("", &table, &mut flat);
        for (name, value) in flat {
            let key = KEYS
                .iter()
                .find(|k| k.name == name)
                .ok_or(ConfigError::UnknownKey(name.clone()))?;
            self.set(key, &value, Source::File)?;
        }
        Ok(())
    }

    pub fn source_of(&self, name: &str) -> Source {
        self.sources
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(Source::Default, |(_, s)| *s)
    }

    /// Where the registry's signing keys are kept.
    pub fn signing_keys_dir(&self) -> PathBuf {
        if self.signing_keys_dir.is_empty() {
            self.data_dir.join("keys")
        } else {
            PathBuf::from(&self.signing_keys_dir)
        }
    }

    /// The database URL in force: the configured one, or the SQLite file in the data directory.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.expose_secret().is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("souk.db").display()
            )
        } else {
            self.database_url.expose_secret().to_owned()
        }
    }

    pub fn effective_public_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.public_url.clone()
        }
    }

    /// Cookies get `Secure` when people reach Souk over https.
    pub fn secure_cookies(&self) -> bool {
        self.effective_public_url().starts_with("https://")
    }

    /// The effective configuration as TOML, secrets redacted, each value's source in a comment.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut section = "";
        for key in KEYS {
            let (sec, leaf) = key.name.split_once('.').unwrap_or(("", key.name));
            if sec != section {
                out.push_str(&format!("\n[{sec}]\n"));
                section = sec;
            }
            let raw = (key.get)(self);
            let shown = match key.name {
                "database_url" if raw.is_empty() => redact_url(&self.effective_database_url()),
                "database_url" | "nats.url" => redact_url(&raw),
                _ if key.secret && !raw.is_empty() => "***".into(),
                "secret_key" => format!("(from {})", self.data_dir.join("secret.key").display()),
                "public_url" if raw.is_empty() => self.effective_public_url(),
                _ => raw,
            };
            let value = if shown.parse::<i64>().is_ok() || shown == "true" || shown == "false" {
                shown
            } else {
                toml::Value::String(shown).to_string()
            };
            out.push_str(&format!(
                "{leaf} = {value}  # {} ({})\n",
                self.source_of(key.name),
                key.env_name()
            ));
        }
        out.trim_start().to_owned()
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>) {
    for (k, v) in table {
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&name, t, out),
            toml::Value::String(s) => out.push((name, s.clone())),
            other => out.push((name, other.to_string())),
        }
    }
}

/// Hides the password of a database URL: `postgres://souk:***@db/souk`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        // A user name alone may be the secret itself (NATS token authentication).
        Ok(mut u) if !u.username().is_empty() => {
            let _ = u.set_username("***");
            u.to_string()
        }
        Ok(_) => raw.to_owned(),
        // Not a URL: show nothing of what might hold a credential.
        Err(_) if raw.contains('@') => "***".to_owned(),
        Err(_) => raw.to_owned(),
    }
}

mod keys;
#[cfg(test)]
mod tests;

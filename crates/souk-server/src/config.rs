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

/// Every key Souk reads, in the order `souk config` shows them.
pub static KEYS: &[Key] = &[
    Key {
        name: "listen",
        secret: false,
        help: "address to serve HTTP on",
        set: |c, v| {
            c.listen = parse(v, "an address like 127.0.0.1:8080")?;
            Ok(())
        },
        get: |c| c.listen.to_string(),
    },
    Key {
        name: "data_dir",
        secret: false,
        help: "directory for the SQLite database, blobs, index and keys",
        set: |c, v| {
            if v.trim().is_empty() {
                return Err("must not be empty".into());
            }
            c.data_dir = PathBuf::from(v);
            Ok(())
        },
        get: |c| c.data_dir.display().to_string(),
    },
    Key {
        name: "database_url",
        secret: true,
        help: "sqlite://PATH or postgres://USER:PASS@HOST/DB (default: DATA_DIR/souk.db)",
        set: |c, v| {
            check_database_url(v)?;
            c.database_url = Secret::from(v);
            Ok(())
        },
        get: |c| c.database_url.expose_secret().to_owned(),
    },
    Key {
        name: "database_max_connections",
        secret: false,
        help: "PostgreSQL connection pool size",
        set: |c, v| {
            c.database_max_connections = positive(parse(v, "a whole number")?)?;
            Ok(())
        },
        get: |c| c.database_max_connections.to_string(),
    },
    Key {
        name: "public_url",
        secret: false,
        help: "URL people reach Souk at; https makes cookies Secure",
        set: |c, v| {
            check_public_url(v)?;
            c.public_url = v.trim_end_matches('/').to_owned();
            Ok(())
        },
        get: |c| c.public_url.clone(),
    },
    Key {
        name: "secret_key",
        secret: true,
        help: "server MAC key; set the same on every node (default: DATA_DIR/secret.key)",
        set: |c, v| {
            if !v.is_empty() && v.len() < 32 {
                return Err("must be at least 32 characters".into());
            }
            c.secret_key = Secret::from(v);
            Ok(())
        },
        get: |c| c.secret_key.expose_secret().to_owned(),
    },
    Key {
        name: "log",
        secret: false,
        help: "log filter, e.g. info or warn,souk_server=debug",
        set: |c, v| {
            check_log(v)?;
            c.log = v.to_owned();
            Ok(())
        },
        get: |c| c.log.clone(),
    },
    Key {
        name: "http.max_body_bytes",
        secret: false,
        help: "largest request body accepted (413 past it)",
        set: |c, v| {
            c.http.max_body_bytes = positive(parse(v, "a number of bytes")?)?;
            Ok(())
        },
        get: |c| c.http.max_body_bytes.to_string(),
    },
    Key {
        name: "http.request_timeout_secs",
        secret: false,
        help: "time limit for one request",
        set: |c, v| {
            c.http.request_timeout_secs = positive(parse(v, "a number of seconds")?)?;
            Ok(())
        },
        get: |c| c.http.request_timeout_secs.to_string(),
    },
    Key {
        name: "http.trust_proxy_headers",
        secret: false,
        help: "take the client address from X-Forwarded-For",
        set: |c, v| {
            c.http.trust_proxy_headers = parse_bool(v)?;
            Ok(())
        },
        get: |c| c.http.trust_proxy_headers.to_string(),
    },
    Key {
        name: "auth.allow_registration",
        secret: false,
        help: "let anyone create an account",
        set: |c, v| {
            c.auth.allow_registration = parse_bool(v)?;
            Ok(())
        },
        get: |c| c.auth.allow_registration.to_string(),
    },
    Key {
        name: "auth.session_ttl_hours",
        secret: false,
        help: "how long a sign-in lasts",
        set: |c, v| {
            c.auth.session_ttl_hours = positive(parse(v, "a number of hours")?)?;
            Ok(())
        },
        get: |c| c.auth.session_ttl_hours.to_string(),
    },
    Key {
        name: "auth.login_max_failures_per_account",
        secret: false,
        help: "failed sign-ins per account per window before 429",
        set: |c, v| {
            c.auth.login_max_failures_per_account = positive(parse(v, "a whole number")?)?;
            Ok(())
        },
        get: |c| c.auth.login_max_failures_per_account.to_string(),
    },
    Key {
        name: "auth.login_max_failures_per_ip",
        secret: false,
        help: "failed sign-ins per client address per window before 429",
        set: |c, v| {
            c.auth.login_max_failures_per_ip = positive(parse(v, "a whole number")?)?;
            Ok(())
        },
        get: |c| c.auth.login_max_failures_per_ip.to_string(),
    },
    Key {
        name: "auth.login_window_secs",
        secret: false,
        help: "the sign-in throttling window",
        set: |c, v| {
            c.auth.login_window_secs = positive(parse(v, "a number of seconds")?)?;
            Ok(())
        },
        get: |c| c.auth.login_window_secs.to_string(),
    },
    Key {
        name: "s3.bucket",
        secret: false,
        help: "store blobs in this S3 bucket instead of DATA_DIR/blobs",
        set: |c, v| {
            c.s3.bucket = v.trim().to_owned();
            Ok(())
        },
        get: |c| c.s3.bucket.clone(),
    },
    Key {
        name: "s3.endpoint",
        secret: false,
        help: "S3-compatible endpoint URL (MinIO, R2...); empty for AWS",
        set: |c, v| {
            check_public_url(v)?;
            c.s3.endpoint = v.trim_end_matches('/').to_owned();
            Ok(())
        },
        get: |c| c.s3.endpoint.clone(),
    },
    Key {
        name: "s3.region",
        secret: false,
        help: "S3 region",
        set: |c, v| {
            c.s3.region = v.trim().to_owned();
            Ok(())
        },
        get: |c| c.s3.region.clone(),
    },
    Key {
        name: "s3.access_key_id",
        secret: false,
        help: "S3 access key id (empty: the instance's metadata-service credentials)",
        set: |c, v| {
            c.s3.access_key_id = v.trim().to_owned();
            Ok(())
        },
        get: |c| c.s3.access_key_id.clone(),
    },
    Key {
        name: "s3.secret_access_key",
        secret: true,
        help: "S3 secret access key",
        set: |c, v| {
            c.s3.secret_access_key = Secret::from(v.trim());
            Ok(())
        },
        get: |c| c.s3.secret_access_key.expose_secret().to_owned(),
    },
    Key {
        name: "s3.presign_downloads",
        secret: false,
        help: "redirect downloads to short-lived presigned S3 URLs",
        set: |c, v| {
            c.s3.presign_downloads = parse_bool(v)?;
            Ok(())
        },
        get: |c| c.s3.presign_downloads.to_string(),
    },
    Key {
        name: "s3.presign_ttl_secs",
        secret: false,
        help: "lifetime of a presigned download URL",
        set: |c, v| {
            c.s3.presign_ttl_secs = positive(parse(v, "a number of seconds")?)?;
            Ok(())
        },
        get: |c| c.s3.presign_ttl_secs.to_string(),
    },
    Key {
        name: "packages.max_upload_bytes",
        secret: false,
        help: "largest package upload (413 past it)",
        set: |c, v| {
            c.packages.max_upload_bytes = positive(parse(v, "a number of bytes")?)?;
            Ok(())
        },
        get: |c| c.packages.max_upload_bytes.to_string(),
    },
    Key {
        name: "packages.max_unpacked_bytes",
        secret: false,
        help: "largest total unpacked size of a package",
        set: |c, v| {
            c.packages.max_unpacked_bytes = positive(parse(v, "a number of bytes")?)?;
            Ok(())
        },
        get: |c| c.packages.max_unpacked_bytes.to_string(),
    },
    Key {
        name: "packages.max_entries",
        secret: false,
        help: "most entries in a package archive",
        set: |c, v| {
            c.packages.max_entries = positive(parse(v, "a whole number")?)?;
            Ok(())
        },
        get: |c| c.packages.max_entries.to_string(),
    },
    Key {
        name: "packages.max_ratio",
        secret: false,
        help: "highest unpacked-to-packed size ratio of an archive entry",
        set: |c, v| {
            c.packages.max_ratio = positive(parse(v, "a whole number")?)?;
            Ok(())
        },
        get: |c| c.packages.max_ratio.to_string(),
    },
    Key {
        name: "search.follow_interval_ms",
        secret: false,
        help: "how often the search index picks up catalog changes, in milliseconds",
        set: |c, v| {
            c.search.follow_interval_ms = positive(parse(v, "a number of milliseconds")?)?;
            Ok(())
        },
        get: |c| c.search.follow_interval_ms.to_string(),
    },
    Key {
        name: "signing_keys_dir",
        secret: false,
        help: "directory of the registry's signing keys (default DATA_DIR/keys); share it between nodes",
        set: |c, v| {
            c.signing_keys_dir = v.to_owned();
            Ok(())
        },
        get: |c| c.signing_keys_dir.clone(),
    },
    Key {
        name: "review_policy",
        secret: false,
        help: "which uploads wait for a moderator: none, new-publishers or all",
        set: |c, v| {
            c.moderation.review_policy = ReviewPolicy::parse(v)
                .ok_or_else(|| format!("expected none, new-publishers or all, got `{v}`"))?;
            Ok(())
        },
        get: |c| c.moderation.review_policy.as_str().to_owned(),
    },
    Key {
        name: "moderation.check_attempts",
        secret: false,
        help: "how many times a version's checks are tried before they wait for a rescan",
        set: |c, v| {
            c.moderation.check_attempts = positive(parse(v, "a whole number")?)?;
            Ok(())
        },
        get: |c| c.moderation.check_attempts.to_string(),
    },
    Key {
        name: "moderation.check_retry_secs",
        secret: false,
        help: "seconds before the first retry of checks that could not finish (doubling after)",
        set: |c, v| {
            c.moderation.check_retry_secs = positive(parse(v, "a number of seconds")?)?;
            Ok(())
        },
        get: |c| c.moderation.check_retry_secs.to_string(),
    },
    Key {
        name: "moderation.poll_interval_ms",
        secret: false,
        help: "how often an idle node looks for check jobs, in milliseconds",
        set: |c, v| {
            c.moderation.poll_interval_ms = positive(parse(v, "a number of milliseconds")?)?;
            Ok(())
        },
        get: |c| c.moderation.poll_interval_ms.to_string(),
    },
    Key {
        name: "nats.url",
        secret: true,
        help: "NATS server for the bus between nodes, nats://[USER:PASS@]HOST:PORT with JetStream (default: the embedded bus)",
        set: |c, v| {
            if !(v.is_empty() || v.starts_with("nats://") || v.starts_with("tls://")) {
                return Err(format!(
                    "expected nats://HOST:PORT, got `{}`",
                    redact_url(v)
                ));
            }
            c.nats.url = Secret::from(v);
            Ok(())
        },
        get: |c| c.nats.url.expose_secret().to_owned(),
    },
    Key {
        name: "jobs.lease_secs",
        secret: false,
        help: "seconds a node holds a background job before another may take it over; 0 = each kind's own (at least 30)",
        set: |c, v| {
            c.jobs.lease_secs = parse(v, "a number of seconds")?;
            Ok(())
        },
        get: |c| c.jobs.lease_secs.to_string(),
    },
    Key {
        name: "moderation.native_code",
        secret: false,
        help: "what native executables and libraries in a package do: allow, flag (to review) or forbid",
        set: |c, v| {
            c.moderation.file_types.native_code = souk_core::filetypes::Action::parse(v)
                .ok_or_else(|| format!("expected allow, flag or forbid, got `{v}`"))?;
            Ok(())
        },
        get: |c| c.moderation.file_types.native_code.as_str().to_owned(),
    },
    Key {
        name: "moderation.forbidden_extensions",
        secret: false,
        help: "file extensions refused in packages, comma-separated (e.g. bat,cmd,ps1)",
        set: |c, v| {
            let mut exts = Vec::new();
            for e in v.split(',').map(|e| e.trim().trim_start_matches('.')) {
                if e.is_empty() {
                    continue;
                }
                if !e.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(format!("`{e}` is not a file extension"));
                }
                exts.push(e.to_ascii_lowercase());
            }
            c.moderation.file_types.forbidden_extensions = exts;
            Ok(())
        },
        get: |c| c.moderation.file_types.forbidden_extensions.join(","),
    },
    Key {
        name: "moderation.scanners",
        secret: false,
        help: "external scanners run on every package, `;`-separated: clamav, clamd, or NAME=COMMAND ARGS ({} is the package)",
        set: |c, v| {
            c.moderation.scanners = crate::checks::scanners::Scanner::parse_list(v)?;
            Ok(())
        },
        get: |c| {
            c.moderation
                .scanners
                .iter()
                .map(|s| s.display())
                .collect::<Vec<_>>()
                .join("; ")
        },
    },
    Key {
        name: "moderation.scanner_timeout_secs",
        secret: false,
        help: "seconds one scanner may take on one package before it counts as failed",
        set: |c, v| {
            c.moderation.scanner_timeout_secs = positive(parse(v, "a number of seconds")?)?;
            Ok(())
        },
        get: |c| c.moderation.scanner_timeout_secs.to_string(),
    },
];

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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn layers_override_in_order_and_record_sources() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("souk.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nlog = \"debug\"\n[auth]\nsession_ttl_hours = 2\n",
        )
        .unwrap();
        let layers = Layers {
            file: Some(file),
            env: env(&[
                ("SOUK_LOG", "warn"),
                ("SOUK_AUTH_LOGIN_WINDOW_SECS", "60"),
                ("SOUK_TEST_POSTGRES_URL", "x"),
            ]),
            flags: vec![("listen", "0.0.0.0:7000".into())],
        };
        let c = Config::load(&layers).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:7000");
        assert_eq!(c.source_of("listen"), Source::Flag);
        assert_eq!((c.log.as_str(), c.source_of("log")), ("warn", Source::Env));
        assert_eq!(
            (
                c.auth.session_ttl_hours,
                c.source_of("auth.session_ttl_hours")
            ),
            (2, Source::File)
        );
        assert_eq!(c.auth.login_window_secs, 60);
        assert_eq!(c.source_of("data_dir"), Source::Default);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("souk.toml");
        std::fs::write(&file, "[http]\nmax_body = 3\n").unwrap();
        let err = Config::load(&Layers {
            file: Some(file.clone()),
            ..Layers::default()
        })
        .unwrap_err();
        assert_eq!(err, ConfigError::UnknownKey("http.max_body".into()));
        std::fs::write(&file, "listen = 8080\n").unwrap();
        let err = Config::load(&Layers {
            file: Some(file),
            ..Layers::default()
        })
        .unwrap_err();
        assert!(
            err.to_string().starts_with("invalid value for `listen`"),
            "{err}"
        );
        let err = Config::load(&Layers {
            env: env(&[("SOUK_HTTP_TRUST_PROXY_HEADERS", "maybe")]),
            ..Layers::default()
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("`http.trust_proxy_headers`"),
            "{err}"
        );
        let err = Config::load(&Layers {
            env: env(&[("SOUK_DATABASE_URL", "mysql://x")]),
            ..Layers::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("`database_url`"), "{err}");
        let err = Config::load(&Layers {
            env: env(&[("SOUK_LOG", "loud")]),
            ..Layers::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("`log`"), "{err}");
    }

    #[test]
    fn log_filters_are_levels_with_optional_targets() {
        for good in [
            "info",
            "WARN",
            "warn,souk_server=debug",
            "off,souk::jobs=trace",
            "",
        ] {
            assert_eq!(check_log(good), Ok(()), "{good}");
        }
        for bad in ["loud", "info,souk_server=lots", "souk_server=", "info,[bad"] {
            assert!(check_log(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn render_redacts_secrets() {
        let layers = Layers {
            env: env(&[
                ("SOUK_DATABASE_URL", "postgres://souk:hunter2@db/souk"),
                ("SOUK_SECRET_KEY", &"k".repeat(40)),
            ]),
            ..Layers::default()
        };
        let text = Config::load(&layers).unwrap().render();
        assert!(
            !text.contains("hunter2") && !text.contains(&"k".repeat(40)),
            "{text}"
        );
        assert!(text.contains("postgres://souk:***@db/souk"), "{text}");
        assert!(text.contains("secret_key = \"***\""), "{text}");
        let debug = format!("{:?}", Config::load(&layers).unwrap());
        assert!(
            !debug.contains("hunter2") && debug.contains("REDACTED"),
            "{debug}"
        );
    }

    #[test]
    fn nats_url_is_shown_without_its_password_and_checked() {
        let layers = Layers {
            env: env(&[("SOUK_NATS_URL", "nats://souk:s3cret@nats.internal:4222")]),
            flags: vec![],
            ..Layers::default()
        };
        let config = Config::load(&layers).unwrap();
        assert_eq!(
            config.nats.url.expose_secret(),
            "nats://souk:s3cret@nats.internal:4222"
        );
        let text = config.render();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(
            text.contains("url = \"nats://souk:***@nats.internal:4222\""),
            "{text}"
        );
        // The flag wins over the environment.
        let flagged = Config::load(&Layers {
            flags: vec![("nats.url", "nats://127.0.0.1:4222".into())],
            ..layers
        })
        .unwrap();
        assert_eq!(flagged.nats.url.expose_secret(), "nats://127.0.0.1:4222");
        let err = Config::load(&Layers {
            env: env(&[("SOUK_NATS_URL", "http://nats:4222")]),
            ..Layers::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("nats.url"), "{err}");
        // Token authentication: the user name is the secret.
        assert_eq!(
            redact_url("nats://s3cr3tT0ken@nats.internal:4222"),
            "nats://***@nats.internal:4222"
        );
        assert_eq!(redact_url("not a url with user:pass@host"), "***");
    }
}

//! Every configuration key: its name, whether it is secret, how its value is checked and where
//! it lands in [`Config`]. A table of data, kept apart from the loading code.

use super::*;

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

//! Two `souk serve` processes as the docs describe several nodes: one PostgreSQL database, one
//! S3-compatible bucket, one NATS server, the same `secret_key` and signing key files, a data
//! directory each. What one node does, the other sees: a published version is downloadable and
//! found through the other node within two seconds of the upload's answer; a session made on one
//! works on the other; and a check job held by a node that is killed with SIGKILL is finished by
//! another once its lease runs out.
//!
//! Needs `SOUK_TEST_POSTGRES_URL`, `SOUK_TEST_S3_URL` and `SOUK_TEST_NATS_SERVER` (a
//! `nats-server` binary: the test runs a NATS server of its own). Skipped without them, unless
//! `SOUK_TEST_REQUIRE_ALL` is set.

#[path = "common/author.rs"]
mod author;
mod common;

use common::{Server, free_port, souk};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn required(name: &str) -> Option<String> {
    match std::env::var(name).ok().filter(|v| !v.is_empty()) {
        Some(v) => Some(v),
        None => {
            assert!(
                std::env::var_os("SOUK_TEST_REQUIRE_ALL").is_none(),
                "SOUK_TEST_REQUIRE_ALL is set but {name} is not"
            );
            eprintln!("skipped: {name} not set");
            None
        }
    }
}

/// A NATS server with JetStream of this test's own (its store in the directory), stopped on drop.
struct Nats {
    child: Child,
    _store: tempfile::TempDir,
    port: u16,
}

impl Nats {
    fn start(binary: &str) -> Nats {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Nats {
            child,
            _store: dir,
            port,
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What every node shares.
struct Cluster {
    database_url: String,
    s3_url: String,
    bucket: String,
    nats_url: String,
    secret_key: String,
    keys_dir: PathBuf,
}

impl Cluster {
    /// A node with its own data directory under `dir`; `extra` adds or overrides variables.
    async fn node(&self, dir: &Path, name: &str, extra: &[(&str, &str)]) -> (Server, String) {
        let data = dir.join(name);
        std::fs::create_dir_all(&data).unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let mut cmd = souk(dir);
        cmd.args(["serve", "--listen", &addr])
            .env("SOUK_DATA_DIR", &data)
            .env("SOUK_DATABASE_URL", &self.database_url)
            .env("SOUK_S3_BUCKET", &self.bucket)
            .env("SOUK_S3_ENDPOINT", &self.s3_url)
            .env("SOUK_S3_REGION", "us-east-1")
            .env("SOUK_S3_ACCESS_KEY_ID", "souk-test")
            .env("SOUK_S3_SECRET_ACCESS_KEY", "souk-test-secret")
            .env("SOUK_NATS_URL", &self.nats_url)
            .env("SOUK_SECRET_KEY", &self.secret_key)
            .env("SOUK_SIGNING_KEYS_DIR", &self.keys_dir);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let server = Server::start(cmd, &addr).await;
        let base = server.base.clone();
        (server, base)
    }
}

/// Makes an administrator with `souk admin create-user` against the shared database and signs
/// them in through `base`; answers the session token.
async fn admin_token(dir: &Path, cluster: &Cluster, base: &str) -> String {
    use std::io::Write;
    let mut child = souk(dir)
        .args([
            "admin",
            "create-user",
            "--email",
            "root@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .env("SOUK_DATABASE_URL", &cluster.database_url)
        .env("SOUK_DATA_DIR", dir.join("admin"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(common::PASSWORD.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let resp = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "root@example.com", "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Packs a fresh module `name` 0.1.0 (what `souk init` writes) of publisher acme with the CLI; answers the archive.
fn packed(dir: &Path, name: &str) -> Vec<u8> {
    for args in [
        vec!["init", name, "--publisher", "acme"],
        vec!["pack", name, "-o", &format!("{name}.tar.gz")],
    ] {
        let out = souk(dir).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::read(dir.join(format!("{name}.tar.gz"))).unwrap()
}

async fn upload(base: &str, token: &str, name: &str, bytes: Vec<u8>) -> Instant {
    let resp = reqwest::Client::new()
        .post(format!("{base}/api/v1/modules/{name}/versions"))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    Instant::now()
}

/// Polls `check` until it holds, for at most `limit`; answers how long it took.
async fn within<F, Fut>(limit: Duration, what: &str, check: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn two_nodes_share_catalog_sessions_and_jobs() {
    let (Some(_), Some(s3_url), Some(nats_binary)) = (
        required("SOUK_TEST_POSTGRES_URL"),
        required("SOUK_TEST_S3_URL"),
        required("SOUK_TEST_NATS_SERVER"),
    ) else {
        return;
    };
    souk_server::install_crypto_provider();
    let db = souk_store_postgres::testing::FreshDatabase::create()
        .await
        .expect("a fresh database");
    let bucket = format!(
        "souk-nodes-{}",
        hex::encode(souk_core::secret::random_bytes::<6>())
    );
    // moto creates a bucket from an unsigned PUT.
    let resp = reqwest::Client::new()
        .put(format!("{s3_url}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let nats = Nats::start(&nats_binary);
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster {
        database_url: db.url.clone(),
        s3_url,
        bucket,
        nats_url: format!("nats://127.0.0.1:{}", nats.port),
        secret_key: hex::encode(souk_core::secret::random_bytes::<32>()),
        keys_dir: dir.path().join("keys"),
    };
    let (_a, a) = cluster.node(dir.path(), "a", &[]).await;
    let (_b, b) = cluster.node(dir.path(), "b", &[]).await;
    let http = reqwest::Client::new();

    // A session made on A works on B.
    let token = author::author_with_publisher(&a).await;
    let me: Value = http
        .get(format!("{b}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "author@example.com");

    // Published through A: downloadable and found through B within 2 s of the upload's 201.
    let bytes = packed(dir.path(), "crossing");
    let answered = upload(&a, &token, "crossing", bytes.clone()).await;
    let download = format!("{b}/api/v1/modules/crossing/versions/0.1.0/download");
    within(Duration::from_secs(2), "download through B", || async {
        http.get(&download)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    let search = format!("{b}/api/v1/search?q=crossing");
    within(Duration::from_secs(2), "search through B", || async {
        let Ok(resp) = http.get(&search).send().await else {
            return false;
        };
        let found: Value = resp.json().await.unwrap_or_default();
        found["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|m| m["name"] == "crossing"))
    })
    .await;
    let took = answered.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let got = http
        .get(&download)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), bytes.as_slice());
    eprintln!("visible through the other node {took:?} after the upload's 201");

    // A node whose scanner hangs takes the checks of an upload made through it, and is killed
    // while it holds the job: another node finishes it once the lease (30 s) runs out.
    let hang = dir.path().join("hang.sh");
    std::fs::write(&hang, "#!/bin/sh\nsleep 600\n").unwrap();
    std::fs::set_permissions(&hang, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let scanner = format!("hang={}", hang.display());
    let (mut c, c_base) = cluster
        .node(
            dir.path(),
            "c",
            &[
                ("SOUK_MODERATION_SCANNERS", &scanner),
                ("SOUK_MODERATION_SCANNER_TIMEOUT_SECS", "600"),
                ("SOUK_JOBS_LEASE_SECS", "30"),
            ],
        )
        .await;
    upload(&c_base, &token, "stranded", packed(dir.path(), "stranded")).await;
    let checks = format!("{b}/api/v1/modules/stranded/versions/0.1.0/checks");
    let status = || async {
        let resp = http.get(&checks).bearer_auth(&token).send().await.unwrap();
        resp.json::<Value>().await.unwrap()
    };
    // C holds it (its process id is in the lease's holder): attempt 1 is under way and nothing
    // is decided.
    let admin = admin_token(dir.path(), &cluster, &a).await;
    let held_by_c = format!("-{}-", c.child.id());
    within(Duration::from_secs(10), "C takes the job", || async {
        let running: Value = http
            .get(format!("{a}/api/v1/admin/jobs?status=running"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        running["items"].as_array().is_some_and(|jobs| {
            jobs.iter().any(|j| {
                j["key"].as_str().is_some_and(|k| k.starts_with("check:"))
                    && j["locked_by"]
                        .as_str()
                        .is_some_and(|by| by.contains(&held_by_c))
            })
        })
    })
    .await;
    assert_eq!(status().await["job"]["attempts"], 1);
    assert_eq!(status().await["status"], "pending_checks");
    c.child.kill().unwrap(); // SIGKILL
    c.child.wait().unwrap();
    let took = within(
        Duration::from_secs(90),
        "another node finishes the job",
        || async { status().await["status"] == "published" },
    )
    .await;
    eprintln!("the job of the killed node was finished {took:?} after the kill");
    drop(db);
}

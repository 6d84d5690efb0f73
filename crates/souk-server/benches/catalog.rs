//! Publishing and download speed: `cargo bench -p souk-server --bench catalog`.
//!
//! Starts the whole application in this process (SQLite and local blobs in a temporary
//! directory), then:
//! 1. publishes a 10 MiB and a 50 MiB package (incompressible payload) and prints how long each
//!    upload took, end to end (stream to disk while hashing, inspect, store, record); then a
//!    series of small packages (64 KiB, `SOUK_BENCH_PUBLISHES` of them, default 50), one after
//!    another, and prints their p50 and p95;
//! 2. downloads the 10 MiB package with 1 and with 16 concurrent clients for a fixed time and
//!    prints MiB/s and per-download latency (p50, p95, p99);
//! 3. does the same against Debian's nginx serving the same file from disk (started here with a
//!    minimal configuration on a free port; `apt-get install nginx` first), and prints the ratio.
//!
//! Client and servers share the machine, as a load generator on the same host would; the same
//! client code measures both. Environment: `SOUK_BENCH_SECONDS` (per measurement, default 5),
//! `SOUK_BENCH_NGINX` (path of the nginx binary, default /usr/sbin/nginx).

use souk_server::config::Layers;
use souk_server::{AppState, Config, ServerKeys};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::{env_num, machine, percentile};
mod payload;
use payload::noise;

const MIB: usize = 1024 * 1024;

/// A package of `name` at `version` whose archive is about `size` bytes (the payload does not
/// compress).
fn package(name: &str, version: &str, size: usize) -> Vec<u8> {
    use souk_core::package::{PackageFile, write_tar_gz};
    let manifest = format!(
        "[module]\nname = \"{name}\"\nversion = \"{version}\"\npublisher = \"bench\"\n\
         description = \"Benchmark payload\"\nlicense = \"MIT\"\nplatform = \"*\"\n"
    );
    let files = [
        PackageFile {
            path: "souk.toml".into(),
            contents: manifest.into_bytes(),
            executable: false,
        },
        PackageFile {
            path: "data.bin".into(),
            contents: noise(size - 4096, size as u64),
            executable: false,
        },
    ];
    write_tar_gz(&files, Vec::new()).unwrap()
}

struct Run {
    mib_per_s: f64,
    downloads: usize,
    p50: Duration,
    p95: Duration,
    p99: Duration,
}

/// `clients` loops each fetching `url` (and reading every byte) for `secs` seconds.
async fn hammer(url: &str, clients: usize, secs: u64, expect_len: usize) -> Run {
    let bytes = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let url = url.to_owned();
        let bytes = bytes.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let resp = client.get(&url).send().await.unwrap();
                assert!(resp.status().is_success(), "{url}: {}", resp.status());
                let body = resp.bytes().await.unwrap();
                assert_eq!(body.len(), expect_len);
                bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort();
    Run {
        mib_per_s: bytes.load(Ordering::Relaxed) as f64 / MIB as f64 / elapsed,
        downloads: lat.len(),
        p50: percentile(&lat, 0.50),
        p95: percentile(&lat, 0.95),
        p99: percentile(&lat, 0.99),
    }
}

/// The nginx master process and the directory holding its configuration and files.
struct Nginx {
    master: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: the master then stops its workers, which would otherwise
        // outlive it.
        let _ = std::process::Command::new("kill")
            .arg(self.master.id().to_string())
            .status();
        let _ = self.master.wait();
    }
}

/// Starts nginx serving `file` at `/package.tar.gz` on a free port.
fn start_nginx(file: &std::path::Path) -> Option<(Nginx, SocketAddr)> {
    let bin = std::env::var("SOUK_BENCH_NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into());
    if !std::path::Path::new(&bin).exists() {
        eprintln!(
            "nginx not found at {bin}: install it (apt-get install nginx) for the comparison"
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("www");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(file, root.join("package.tar.gz")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = dir.path().display();
    // Debian's defaults for a static file server: sendfile on, one worker per core.
    let conf = format!(
        "worker_processes auto;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_timeout 65;\n\
           client_body_temp_path {d};\n  proxy_temp_path {d};\n  fastcgi_temp_path {d};\n\
           uwsgi_temp_path {d};\n  scgi_temp_path {d};\n\
           server {{ listen 127.0.0.1:{port}; root {root}; }}\n}}\n",
        root = root.display()
    );
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = std::process::Command::new(&bin)
        .args(["-c", &conf_path.display().to_string(), "-g", "daemon off;"])
        .spawn()
        .ok()?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    for _ in 0..50 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Some((
                Nginx {
                    master: child,
                    _dir: dir,
                },
                addr,
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[tokio::main]
async fn main() {
    souk_server::install_crypto_provider();
    let secs = env_num("SOUK_BENCH_SECONDS", 5) as u64;
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("SOUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("SOUK_LOG".to_owned(), "warn".to_owned()),
        // A clean package is published as soon as its checks finish.
        ("SOUK_REVIEW_POLICY".to_owned(), "none".to_owned()),
    ];
    let config = Config::load(&Layers {
        env,
        ..Layers::default()
    })
    .unwrap();
    let store = souk_server::open_store(&config, true).await.unwrap();
    let keys = ServerKeys::load_or_create(&config).unwrap();
    let blobs = souk_server::blob::BlobStore::from_config(&config).unwrap();
    let state = AppState::new(store, config, keys, blobs).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = souk_server::app(state.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    http.post(format!("{base}/api/v1/auth/register"))
        .json(&serde_json::json!({ "email": "bench@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": "bench@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let resp = http
        .post(format!("{base}/api/v1/publishers"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "slug": "bench", "display_name": "Bench" }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());

    println!("machine: {}", machine());
    println!("build: release={}", !cfg!(debug_assertions));
    let mut ten_mib = Vec::new();
    for (name, size) in [("ten-mib", 10 * MIB), ("fifty-mib", 50 * MIB - 64 * 1024)] {
        let bytes = package(name, "1.0.0", size);
        let len = bytes.len();
        let t = Instant::now();
        let resp = http
            .post(format!("{base}/api/v1/modules/{name}/versions"))
            .bearer_auth(&token)
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        let took = t.elapsed();
        assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
        println!(
            "publish {name}: {:.1} MiB in {:.0} ms ({:.0} MiB/s)",
            len as f64 / MIB as f64,
            took.as_secs_f64() * 1000.0,
            len as f64 / MIB as f64 / took.as_secs_f64()
        );
        if name == "ten-mib" {
            ten_mib = bytes;
        }
    }

    let publishes = env_num("SOUK_BENCH_PUBLISHES", 50);
    let mut lat = Vec::with_capacity(publishes);
    for i in 0..publishes {
        let bytes = package("series", &format!("1.0.{i}"), 64 * 1024);
        let t = Instant::now();
        let resp = http
            .post(format!("{base}/api/v1/modules/series/versions"))
            .bearer_auth(&token)
            .body(bytes)
            .send()
            .await
            .unwrap();
        lat.push(t.elapsed());
        assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    }
    lat.sort();
    println!(
        "publish series: {publishes} packages of 64 KiB, one after another: p50 {:.1} ms, p95 {:.1} ms",
        percentile(&lat, 0.50).as_secs_f64() * 1000.0,
        percentile(&lat, 0.95).as_secs_f64() * 1000.0
    );

    // The checks run in the background on a server; here, at once, before downloading.
    while state.jobs.run_due().await.unwrap() > 0 {}

    let souk_url = format!("{base}/api/v1/modules/ten-mib/versions/1.0.0/download");
    let file = dir.path().join("ten-mib.tar.gz");
    std::fs::write(&file, &ten_mib).unwrap();
    let nginx = start_nginx(&file);
    println!(
        "download of the {:.1} MiB package, {secs} s per run:",
        ten_mib.len() as f64 / MIB as f64
    );
    for clients in [1, 16] {
        let souk = hammer(&souk_url, clients, secs, ten_mib.len()).await;
        print!(
            "  {clients:>2} clients  souk:  {:>7.0} MiB/s ({} downloads, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms)",
            souk.mib_per_s,
            souk.downloads,
            souk.p50.as_secs_f64() * 1000.0,
            souk.p95.as_secs_f64() * 1000.0,
            souk.p99.as_secs_f64() * 1000.0
        );
        if let Some((_, naddr)) = &nginx {
            let url = format!("http://{naddr}/package.tar.gz");
            let ng = hammer(&url, clients, secs, ten_mib.len()).await;
            println!(
                "\n             nginx: {:>7.0} MiB/s ({} downloads, p50 {:.1} ms, p99 {:.1} ms)\n             souk/nginx = {:.2}",
                ng.mib_per_s,
                ng.downloads,
                ng.p50.as_secs_f64() * 1000.0,
                ng.p99.as_secs_f64() * 1000.0,
                souk.mib_per_s / ng.mib_per_s
            );
        } else {
            println!();
        }
    }
    drop(nginx);
}

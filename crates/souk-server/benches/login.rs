//! Login latency under concurrent clients: `cargo bench -p souk-server --bench login`.
//!
//! Starts the whole application in this process on SQLite in a temporary directory, registers
//! one user, then has `CLIENTS` concurrent HTTP clients sign in `REQUESTS` times in all, and prints
//! p50, p95, p99, the maximum and the throughput, with the machine it ran on. argon2id dominates:
//! each sign-in hashes the password once with the parameters printed. The clients share the
//! machine's cores with the server, as a load generator on the same host would.
//!
//! Environment: `SOUK_BENCH_CLIENTS` (default 20), `SOUK_BENCH_REQUESTS` (default 400).

use souk_server::config::Layers;
use souk_server::{AppState, Config, ServerKeys};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

mod common;
use common::{env_num, machine, percentile};

#[tokio::main]
async fn main() {
    let clients = env_num("SOUK_BENCH_CLIENTS", 20);
    let requests = env_num("SOUK_BENCH_REQUESTS", 400);
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("SOUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        // The benchmark signs in far more often than the throttle allows a real client.
        (
            "SOUK_AUTH_LOGIN_MAX_FAILURES_PER_IP".to_owned(),
            "1000000".to_owned(),
        ),
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
    state
        .accounts
        .register("bench@example.com", "correct horse battery", None, "local")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = souk_server::app(state);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let url = format!("http://{addr}/api/v1/auth/login");
    let body =
        serde_json::json!({"email": "bench@example.com", "password": "correct horse battery"});

    // Warm up connections and caches.
    let client = reqwest::Client::new();
    for _ in 0..clients {
        assert_eq!(
            client.post(&url).json(&body).send().await.unwrap().status(),
            200
        );
    }

    let per_client = requests.div_ceil(clients);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let t = Instant::now();
                let resp = client.post(&url).json(&body).send().await.unwrap();
                assert_eq!(resp.status(), 200);
                resp.bytes().await.unwrap();
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.unwrap());
    }
    let wall = started.elapsed();
    times.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!("souk login benchmark");
    println!("machine:     {}", machine());
    println!(
        "argon2id:    m={} KiB, t={}, p={}",
        souk_core::password::ARGON2_M_KIB,
        souk_core::password::ARGON2_T,
        souk_core::password::ARGON2_P
    );
    println!(
        "clients:     {clients} concurrent, {} sign-ins",
        times.len()
    );
    println!("p50:         {}", ms(percentile(&times, 0.50)));
    println!("p95:         {}", ms(percentile(&times, 0.95)));
    println!("p99:         {}", ms(percentile(&times, 0.99)));
    println!("max:         {}", ms(*times.last().unwrap()));
    println!(
        "throughput:  {:.1} sign-ins/s",
        times.len() as f64 / wall.as_secs_f64()
    );
}

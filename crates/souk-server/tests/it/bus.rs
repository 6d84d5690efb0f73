//! The outbox, the relay and the bus against a real NATS server with JetStream: each test runs
//! its own `nats-server` (named by `SOUK_TEST_NATS_SERVER`, which `.ci/run` sets) on a free port,
//! so that it can stop and start it. Skipped without it, unless `SOUK_TEST_REQUIRE_ALL` is set.

use crate::TestApp;
use crate::catalog::publisher_owner;
use reqwest::StatusCode;
use serde_json::{Value, json};
use souk_server::bus::BusEvent;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::broadcast;

/// A `nats-server` with JetStream of this test's own.
struct NatsServer {
    binary: std::path::PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl NatsServer {
    fn start() -> Option<NatsServer> {
        let Some(binary) = std::env::var_os("SOUK_TEST_NATS_SERVER") else {
            assert!(
                std::env::var_os("SOUK_TEST_REQUIRE_ALL").is_none(),
                "SOUK_TEST_REQUIRE_ALL is set but SOUK_TEST_NATS_SERVER is not"
            );
            eprintln!("note: SOUK_TEST_NATS_SERVER is not set; NATS tests skipped");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = NatsServer {
            binary: binary.into(),
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        server.run();
        Some(server)
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the process and waits until it takes connections.
    fn run(&mut self) {
        let child = std::process::Command::new(&self.binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nats-server did not start");
    }

    /// SIGKILL: no goodbye to the clients.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn app_on(nats: &NatsServer) -> TestApp {
    let app = TestApp::builder()
        .env("SOUK_NATS_URL", &nats.url())
        .start()
        .await
        .unwrap();
    tokio::spawn(app.state.relay.clone().run(Duration::from_millis(100)));
    app
}

/// Events received until `done` says enough, or 15 s pass.
async fn collect(
    rx: &mut broadcast::Receiver<BusEvent>,
    done: impl Fn(&BTreeMap<i64, usize>) -> bool,
) -> BTreeMap<i64, usize> {
    let mut seen = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !done(&seen) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(e)) => *seen.entry(e.id).or_insert(0) += 1,
            Ok(Err(e)) => panic!("bus subscription: {e}"),
            Err(_) => break,
        }
    }
    seen
}

async fn readiness(app: &TestApp) -> (StatusCode, Value) {
    let resp = app.get("/readyz").send().await.unwrap();
    (resp.status(), resp.json().await.unwrap())
}

/// Polls `/readyz` until it answers `want`, for at most `secs` seconds.
async fn ready_within(app: &TestApp, want: StatusCode, secs: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let (status, body) = readiness(app).await;
        if status == want {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz did not answer {want} within {secs} s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn catalog_writes_reach_the_bus_once_each_through_the_outbox() {
    let Some(nats) = NatsServer::start() else {
        return;
    };
    let app = app_on(&nats).await;
    let mut rx = app.state.bus.subscribe();
    ready_within(&app, StatusCode::OK, 10).await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let resp = app
        .post_json_as(
            "/api/v1/modules",
            &ada,
            &json!({"name": "announced", "publisher": "acme"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    // Every event the writes put in the outbox arrives, and the outbox is then empty.
    let seen = collect(&mut rx, |seen| !seen.is_empty()).await;
    assert!(!seen.is_empty(), "no event arrived");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(app.store.pending_events(100).await.unwrap().is_empty());
    // The same event published twice (a relay that died before marking it, then ran again) is
    // dropped by JetStream the second time: it arrives once.
    let id = app
        .store
        .append_event("test.ping", "{}", souk_core::Timestamp::now())
        .await
        .unwrap();
    let event = app
        .store
        .pending_events(100)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.id == id)
        .expect("the new event waits in the outbox");
    app.state.bus.publish(&event).await.unwrap();
    app.state.bus.publish(&event).await.unwrap();
    let mut after = collect(&mut rx, |s| s.contains_key(&id)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(e) = rx.try_recv() {
        *after.entry(e.id).or_insert(0) += 1;
    }
    assert_eq!(after.get(&id), Some(&1), "{after:?}");
    // The relay then publishes it once more and marks it: still dropped as the same event.
    app.state.relay.relay_pending().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rx.try_recv().is_err(), "a copy came through");
    assert!(app.store.pending_events(100).await.unwrap().is_empty());
}

#[tokio::test]
async fn readiness_follows_nats_and_writes_wait_in_the_outbox_while_it_is_down() {
    let Some(mut nats) = NatsServer::start() else {
        return;
    };
    let app = app_on(&nats).await;
    let mut rx = app.state.bus.subscribe();
    let body = ready_within(&app, StatusCode::OK, 10).await;
    let bus = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "bus")
        .cloned()
        .expect("a bus check");
    assert_eq!(bus["ok"], true, "{body}");
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;

    nats.kill();
    let body = ready_within(&app, StatusCode::SERVICE_UNAVAILABLE, 10).await;
    assert!(body.to_string().contains("nats unreachable"), "{body}");
    // Writes still commit; their events wait in the outbox.
    let resp = app
        .post_json_as(
            "/api/v1/modules",
            &ada,
            &json!({"name": "while-down", "publisher": "acme"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let waiting: Vec<i64> = app
        .store
        .pending_events(100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert!(!waiting.is_empty());

    nats.run();
    ready_within(&app, StatusCode::OK, 15).await;
    let seen = collect(&mut rx, |s| waiting.iter().all(|id| s.contains_key(id))).await;
    for id in &waiting {
        assert_eq!(seen.get(id), Some(&1), "event {id}: {seen:?}");
    }
    assert!(app.store.pending_events(100).await.unwrap().is_empty());
}

/// Two nodes on one database and one NATS: a module published through one is found by the
/// other's search, which follows catalog changes through the bus.
#[tokio::test]
async fn another_node_follows_catalog_changes_through_the_bus() {
    let Some(nats) = NatsServer::start() else {
        return;
    };
    let Some(a) = TestApp::builder()
        .postgres()
        .env("SOUK_NATS_URL", &nats.url())
        // Only the bus, not the change-log tick, can bring node B's index up to date in time.
        .env("SOUK_SEARCH_FOLLOW_INTERVAL_MS", "3600000")
        .start()
        .await
    else {
        return;
    };
    let b = TestApp::builder()
        .postgres_url(&a.database_url())
        .env("SOUK_NATS_URL", &nats.url())
        .env("SOUK_SEARCH_FOLLOW_INTERVAL_MS", "3600000")
        .start()
        .await
        .unwrap();
    tokio::spawn(a.state.relay.clone().run(Duration::from_millis(100)));
    tokio::spawn(
        b.state
            .search
            .clone()
            .follow(Duration::from_secs(3600), b.state.bus.subscribe()),
    );
    ready_within(&b, StatusCode::OK, 10).await;
    let ada = publisher_owner(&a, "ada@example.com", "acme").await;
    let resp = crate::catalog::upload(
        &a,
        &ada,
        "bridged",
        crate::packages::package("bridged", "1.0.0", "acme", &[]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found: Value = b
            .get("/api/v1/search?q=bridged")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "bridged")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "node B never found it: {found}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The relay killed part-way, a hundred times, between taking events from the outbox and marking
/// them published: every event still arrives, and arrives once (JetStream drops the copies a
/// restarted relay publishes again, by their outbox ids). Each round commits ten events, starts a
/// relay and kills it as soon as the first of them arrives, while it is still publishing the rest
/// and has marked none.
#[tokio::test]
async fn a_relay_killed_between_publishing_and_marking_delivers_every_event_once() {
    let Some(nats) = NatsServer::start() else {
        return;
    };
    let app = TestApp::builder()
        .env("SOUK_NATS_URL", &nats.url())
        .start()
        .await
        .unwrap();
    ready_within(&app, StatusCode::OK, 10).await;
    let mut rx = app.state.bus.subscribe();
    let mut ids = Vec::new();
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    let mut published_but_not_marked = 0;
    for round in 0..100 {
        let mut batch = Vec::new();
        for n in 0..10 {
            batch.push(
                app.store
                    .append_event(
                        "test.fault",
                        &format!("{{\"round\":{round},\"n\":{n}}}"),
                        souk_core::Timestamp::now(),
                    )
                    .await
                    .unwrap(),
            );
        }
        ids.extend(&batch);
        let relay = app.state.relay.clone();
        let task = tokio::spawn(async move { relay.relay_pending().await });
        // Kill it as soon as one event of this round is out (or after 2 s, whatever it did).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while let Ok(Ok(e)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            *seen.entry(e.id).or_insert(0) += 1;
            if batch.contains(&e.id) {
                break;
            }
        }
        task.abort();
        let _ = task.await;
        let pending: Vec<i64> = app
            .store
            .pending_events(10_000)
            .await
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        if pending.iter().any(|id| seen.contains_key(id)) {
            // Out on the bus, and the relay died before it could say so.
            published_but_not_marked += 1;
        }
    }
    assert!(
        published_but_not_marked > 0,
        "no kill landed between publishing and marking"
    );
    // A relay that is left alone finishes the job.
    app.state.relay.relay_pending().await.unwrap();
    assert!(app.store.pending_events(10_000).await.unwrap().is_empty());
    let rest = collect(&mut rx, |s| {
        ids.iter()
            .all(|id| seen.contains_key(id) || s.contains_key(id))
    })
    .await;
    for (id, n) in rest {
        *seen.entry(id).or_insert(0) += n;
    }
    // Copies would have arrived by now; give them a moment anyway.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(e) = rx.try_recv() {
        *seen.entry(e.id).or_insert(0) += 1;
    }
    for id in &ids {
        assert_eq!(seen.get(id), Some(&1), "event {id}");
    }
    assert_eq!(seen.len(), ids.len());
    eprintln!(
        "{} events, {published_but_not_marked} of 100 kills between publishing and marking",
        ids.len()
    );
}

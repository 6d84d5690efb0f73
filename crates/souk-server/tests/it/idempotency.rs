//! The `Idempotency-Key` helper on a route of the test's own, since the routes that move money
//! arrive with commerce: same key and body replays, other body 422, server errors not stored.

use crate::TestApp;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde_json::json;
use souk_server::services::idempotency;
use souk_store::DynStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Clone)]
struct Ctx {
    store: DynStore,
    runs: Arc<AtomicU32>,
}

async fn charge(State(ctx): State<Ctx>, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers
        .get(idempotency::HEADER)
        .and_then(|v| v.to_str().ok());
    let runs = ctx.runs.clone();
    let fail = body.as_ref() == b"fail";
    idempotency::run(&ctx.store, "user:1", key, &body, || async move {
        let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
        if fail {
            return Err(souk_server::error::AppError::internal(anyhow::anyhow!(
                "provider down"
            )));
        }
        Ok((StatusCode::CREATED, json!({ "charge": n })))
    })
    .await
}

async fn serve(app: &TestApp) -> (String, Arc<AtomicU32>) {
    let runs = Arc::new(AtomicU32::new(0));
    let router = Router::new()
        .route("/charge", post(charge))
        .with_state(Ctx {
            store: app.store.clone(),
            runs: runs.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/charge", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, runs)
}

#[tokio::test]
async fn same_key_replays_other_body_is_refused_errors_can_retry() {
    let app = TestApp::spawn().await;
    let (url, runs) = serve(&app).await;
    let client = reqwest::Client::new();
    let send = |key: &'static str, body: &'static str| {
        client
            .post(&url)
            .header("idempotency-key", key)
            .body(body)
            .send()
    };

    let first = send("k1", "amount=100").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_body = first.text().await.unwrap();
    let again = send("k1", "amount=100").await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.text().await.unwrap(), first_body);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler ran once");

    let other = send("k1", "amount=999").await.unwrap();
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = other.json().await.unwrap();
    assert_eq!(body["error"]["code"], "idempotency_key_reused");

    // A server error is not stored: the same key may be retried.
    assert_eq!(
        send("k2", "fail").await.unwrap().status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        send("k2", "fail").await.unwrap().status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(runs.load(Ordering::SeqCst), 3);

    // No key: runs every time. A bad key: 400.
    client.post(&url).body("x").send().await.unwrap();
    client.post(&url).body("x").send().await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 5);
    let bad = client
        .post(&url)
        .header("idempotency-key", "")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

//! The conventions every API route shares: the error envelope for bad bodies, bad credentials,
//! unknown routes and wrong methods; request ids; health, readiness and metrics.

use crate::{PASSWORD, TestApp, envelope};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;
use souk_core::Timestamp;
use souk_core::token::{TokenKind, display_prefix, hash_token};
use souk_store::NewApiToken;

#[tokio::test]
async fn malformed_json_is_400_and_nothing_stored() {
    let app = TestApp::spawn().await;
    let resp = app
        .post("/api/v1/auth/register")
        .header(CONTENT_TYPE, "application/json")
        .body(r#"{"email": "a@example.com", "password": "#)
        .send()
        .await
        .unwrap();
    let (code, _) = envelope(resp, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "malformed_json");
    assert_eq!(app.users().await, 0);
}

#[tokio::test]
async fn body_of_the_wrong_shape_is_422_and_a_missing_content_type_415() {
    let app = TestApp::spawn().await;
    let resp = app
        .post_json("/api/v1/auth/register", &json!({"email": "a@example.com"}))
        .await;
    let (code, details) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        (code.as_str(), details["field"].as_str()),
        ("invalid_body", Some("body"))
    );
    let resp = app
        .post("/api/v1/auth/register")
        .body(r#"{"email":"a@example.com","password":"x"}"#)
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert_eq!(app.users().await, 0);
}

#[tokio::test]
async fn oversized_body_is_413_and_nothing_stored() {
    let app = TestApp::builder()
        .env("SOUK_HTTP_MAX_BODY_BYTES", "1024")
        .start()
        .await
        .unwrap();
    let body =
        json!({"email": "big@example.com", "password": PASSWORD, "display_name": "x".repeat(4000)});
    let (code, _) = envelope(
        app.post_json("/api/v1/auth/register", &body).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(code, "payload_too_large");
    assert_eq!(app.users().await, 0);
}

#[tokio::test]
async fn missing_malformed_revoked_and_expired_tokens_are_401() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("t@example.com").await;
    let user = app
        .store
        .user_by_email(&souk_core::Email::parse("t@example.com").unwrap())
        .await
        .unwrap();
    let (_, _) = envelope(
        app.get("/api/v1/me").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    for bad in [
        "Bearer",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        &format!("Bearer {}", TokenKind::Personal.generate()),
    ] {
        let resp = app
            .get("/api/v1/me")
            .header("authorization", bad)
            .send()
            .await
            .unwrap();
        let (code, _) = envelope(resp, StatusCode::UNAUTHORIZED).await;
        assert_eq!(code, "unauthorized", "{bad}");
    }
    // Revoked.
    let created: serde_json::Value = app
        .post_json_as(
            "/api/v1/tokens",
            &session,
            &json!({"name": "soon revoked", "scopes": ["read"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = created["token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/me")
            .bearer_auth(secret)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{}", created["id"])))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    envelope(
        app.get("/api/v1/me")
            .bearer_auth(secret)
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Expired: a token whose expiry has passed, written straight to the store.
    let expired = TokenKind::Personal.generate();
    let new = NewApiToken {
        user_id: user.id,
        name: "old".into(),
        token_hash: hash_token(&expired),
        display_prefix: display_prefix(&expired),
        scopes: souk_core::Scopes::all(),
        expires_at: Some(Timestamp::now().plus_secs(-60)),
        parent_id: None,
    };
    app.store
        .create_token(&new, Timestamp::now().plus_secs(-3600))
        .await
        .unwrap();
    envelope(
        app.get("/api/v1/me")
            .bearer_auth(&expired)
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn unknown_api_routes_and_wrong_methods_answer_the_envelope() {
    let app = TestApp::spawn().await;
    let (code, _) = envelope(
        app.get("/api/v1/no/such/thing").send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code, "not_found");
    let (code, _) = envelope(
        app.client
            .delete(app.url("/api/v1/auth/login"))
            .send()
            .await
            .unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    assert_eq!(code, "method_not_allowed");
    // Outside the API, a person gets an HTML page.
    let resp = app.get("/no/such/page").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(
        resp.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(resp.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_security_headers() {
    let app = TestApp::spawn().await;
    let resp = app.get("/healthz").send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let resp = app
        .get("/healthz")
        .header("x-request-id", "from-the-proxy")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "from-the-proxy");
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::spawn().await;
    let health: serde_json::Value = app
        .get("/healthz")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let resp = app.get("/readyz").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ready: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"][0]["detail"], "sqlite");
    app.signed_up("m@example.com").await;
    let resp = app.get("/metrics").send().await.unwrap();
    assert!(
        resp.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    assert!(text.contains(r#"souk_http_requests_total{method="POST",route="/api/v1/auth/register",status="201"} 1"#), "{text}");
    assert!(text.contains(r#"souk_http_request_duration_seconds_count{method="POST",route="/api/v1/auth/login",status="200"} 1"#));
    assert!(text.contains("souk_db_pool_max_connections 8"));
    assert!(text.contains(r#"souk_db_pool_connections{state="idle"}"#));
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.store.close().await;
    let resp = app.get("/readyz").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"][0]["ok"], false);
    // Liveness is about the process, not its dependencies.
    assert_eq!(
        app.get("/healthz").send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_request_that_times_out_answers_408_in_the_envelope() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::builder()
        .env("SOUK_HTTP_REQUEST_TIMEOUT_SECS", "1")
        .start()
        .await
        .unwrap();
    // A client that promises a body and never sends it all.
    let mut conn = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":";
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        conn.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
}

/// Sends a request head that declares a body and never sends a byte of it; answers what the
/// server said before the request timeout (60 s) could have fired.
pub(crate) async fn declare_and_wait(app: &TestApp, head: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(20), conn.read(&mut answer))
        .await
        .expect("the server answered before the body arrived")
        .unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn a_declared_oversize_body_is_413_before_any_byte_is_sent() {
    let app = TestApp::builder()
        .env("SOUK_HTTP_REQUEST_TIMEOUT_SECS", "60")
        .env("SOUK_PACKAGES_MAX_UPLOAD_BYTES", "1000000")
        .start()
        .await
        .unwrap();
    let session = app.signed_up("big@example.com").await;
    for head in [
        // A JSON route over http.max_body_bytes (2 MiB), with and without Expect: 100-continue.
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 30000000\r\n\r\n".to_owned(),
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 30000000\r\n\r\n".to_owned(),
        // An upload over packages.max_upload_bytes, though under what other routes would allow.
        format!("POST /api/v1/modules/big/versions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {session}\r\nExpect: 100-continue\r\nContent-Length: 1000001\r\n\r\n"),
        // An image over its 5 MiB.
        format!("PUT /api/v1/modules/big/icon HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {session}\r\nContent-Length: 6000000\r\n\r\n"),
    ] {
        let answer = declare_and_wait(&app, &head).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{head}\n{answer}");
        assert!(
            answer.contains(r#""code":"payload_too_large""#),
            "{head}\n{answer}"
        );
    }
    // A web form is answered with the error page.
    let answer = declare_and_wait(
        &app,
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 30000000\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("text/html"), "{answer}");
    assert_eq!(app.users().await, 1);
}

#[tokio::test]
async fn query_and_path_values_that_do_not_parse_answer_the_envelope() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("parse@example.com").await;
    for (path, code) in [
        ("/api/v1/tokens?limit=abc", "invalid_query"),
        ("/api/v1/tokens?limit=1.5", "invalid_query"),
        ("/api/v1/search?q=x&limit=many", "invalid_query"),
        (
            "/api/v1/publishers/acme/messages?before=abc",
            "invalid_query",
        ),
        ("/api/v1/trending?limit=-", "invalid_query"),
        ("/api/v1/modules/%FF%FE", "invalid_path"),
        ("/api/v1/modules/x/versions/%C0", "invalid_path"),
    ] {
        let resp = app.get(path).bearer_auth(&session).send().await.unwrap();
        assert_eq!(resp.headers()[CONTENT_TYPE], "application/json", "{path}");
        let (got, _) = envelope(resp, StatusCode::BAD_REQUEST).await;
        assert_eq!(got, code, "{path}");
    }
    let resp = app
        .client
        .delete(app.url("/api/v1/tokens/abc"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    let (got, _) = envelope(resp, StatusCode::BAD_REQUEST).await;
    assert_eq!(got, "invalid_path");
}

#[tokio::test]
async fn list_limits_are_clamped_as_documented() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("limits@example.com").await;
    for _ in 0..3 {
        let resp = app
            .post_json_as(
                "/api/v1/tokens",
                &session,
                &json!({"name": "t", "scopes": ["read"]}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    // Below the range is 1, above it is 100, empty is the default: never an error.
    for (limit, items) in [("-1", 1), ("0", 1), ("99999999999", 3), ("", 3), ("2", 2)] {
        let page = app
            .get_json(&format!("/api/v1/tokens?limit={limit}"), &session)
            .await;
        assert_eq!(
            page["items"].as_array().unwrap().len(),
            items,
            "limit={limit}"
        );
    }
    let page = app.get_json("/api/v1/search?q=&limit=-5", &session).await;
    assert!(page["items"].is_array());
}

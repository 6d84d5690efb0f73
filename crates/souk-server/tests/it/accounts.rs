//! Registration, sign-in, throttling, sign-out and password changes through the API, including
//! every bad input a person can send, each checked for its answer and for leaving nothing stored.

use crate::{PASSWORD, TestApp, envelope};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn register_login_and_me() {
    let app = TestApp::spawn().await;
    let resp = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "Ada@Example.com", "password": PASSWORD, "display_name": "Ada"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let user: Value = resp.json().await.unwrap();
    assert_eq!(
        (user["email"].as_str(), user["role"].as_str()),
        (Some("ada@example.com"), Some("user"))
    );
    let token = app.login("ADA@example.com", PASSWORD).await;
    assert!(token.starts_with("souk_ses_"));
    let me: Value = app.get_json("/api/v1/me", &token).await;
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["role"], "user");
    assert_eq!(me["display_name"], "Ada");
}

#[tokio::test]
async fn runs_on_postgres_too() {
    let Some(app) = TestApp::builder().postgres().start().await else {
        return;
    };
    let token = app.signed_up("pg@example.com").await;
    let me: Value = app.get_json("/api/v1/me", &token).await;
    assert_eq!(me["email"], "pg@example.com");
    assert_eq!(app.store.backend(), "postgres");
}

#[tokio::test]
async fn invalid_email_is_refused_and_nothing_stored() {
    let app = TestApp::spawn().await;
    for email in ["", "not-an-email", "a@b", "a b@example.com"] {
        let resp = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        let (code, details) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(
            (code.as_str(), details["field"].as_str()),
            ("invalid_email", Some("email")),
            "{email}"
        );
    }
    assert_eq!(app.users().await, 0);
}

#[tokio::test]
async fn weak_passwords_are_refused_and_nothing_stored() {
    let app = TestApp::spawn().await;
    for password in [
        "short",
        "123456789",
        "password123",
        "Qwertyuiop",
        "aaaaaaaaaaaa",
        "weak@example.com",
    ] {
        let resp = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": "weak@example.com", "password": password}),
            )
            .await;
        let (code, details) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(
            (code.as_str(), details["field"].as_str()),
            ("weak_password", Some("password")),
            "{password}"
        );
    }
    assert_eq!(app.users().await, 0);
}

#[tokio::test]
async fn duplicate_email_is_a_conflict_naming_the_field() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.register("dup@example.com").await.status(),
        StatusCode::CREATED
    );
    let resp = app.register("DUP@example.com").await;
    let (code, details) = envelope(resp, StatusCode::CONFLICT).await;
    assert_eq!(
        (code.as_str(), details["field"].as_str()),
        ("conflict", Some("email"))
    );
    assert_eq!(app.users().await, 1);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.register("known@example.com").await;
    let wrong = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "known@example.com", "password": "not the password"}),
        )
        .await;
    let unknown = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "nobody@example.com", "password": "not the password"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_account_with_retry_after() {
    let app = TestApp::builder()
        .env("SOUK_AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3")
        .start()
        .await
        .unwrap();
    app.register("target@example.com").await;
    for _ in 0..3 {
        let resp = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": "target@example.com", "password": "guess guess guess"}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now: the throttle does not tell guesses apart.
    let resp = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "target@example.com", "password": PASSWORD}),
        )
        .await;
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 900, "{retry_after}");
    let (code, _) = envelope(resp, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(code, "too_many_requests");
    // Another account from elsewhere is unaffected by this account's lock.
    app.register("other@example.com").await;
    app.login("other@example.com", PASSWORD).await;
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_client_address() {
    let app = TestApp::builder()
        .env("SOUK_AUTH_LOGIN_MAX_FAILURES_PER_IP", "4")
        .start()
        .await
        .unwrap();
    for i in 0..4 {
        let body =
            json!({"email": format!("spray{i}@example.com"), "password": "guess guess guess"});
        assert_eq!(
            app.post_json("/api/v1/auth/login", &body).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let resp = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "spray9@example.com", "password": "x"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let token = app.signed_up("bye@example.com").await;
    let resp = app
        .post("/api/v1/auth/logout")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = app
        .get("/api/v1/me")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn password_change_checks_the_current_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let mine = app.signed_up("pw@example.com").await;
    let other = app.login("pw@example.com", PASSWORD).await;
    let resp = app
        .post_json_as(
            "/api/v1/me/password",
            &mine,
            &json!({"current_password": "not it at all", "new_password": "a new horse battery"}),
        )
        .await;
    let (code, details) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        (code.as_str(), details["field"].as_str()),
        ("wrong_password", Some("current_password"))
    );
    let resp = app
        .post_json_as(
            "/api/v1/me/password",
            &mine,
            &json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    let (_, details) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(details["field"], "new_password");
    // Neither failure changed anything: the old password still works.
    app.login("pw@example.com", PASSWORD).await;
    let resp = app
        .post_json_as(
            "/api/v1/me/password",
            &mine,
            &json!({"current_password": PASSWORD, "new_password": "a new horse battery"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me")
            .bearer_auth(&mine)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/me")
            .bearer_auth(&other)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    app.login("pw@example.com", "a new horse battery").await;
}

#[tokio::test]
async fn display_name_can_change_but_not_to_nothing() {
    let app = TestApp::spawn().await;
    let token = app.signed_up("name@example.com").await;
    let resp = app
        .client
        .patch(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .json(&json!({"display_name": "  "}))
        .send()
        .await
        .unwrap();
    let (_, details) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(details["field"], "display_name");
    let resp = app
        .client
        .patch(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .json(&json!({"display_name": "Grace"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["display_name"], "Grace");
}

#[tokio::test]
async fn api_tokens_cannot_change_account_settings() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("owner@example.com").await;
    let created: Value = app
        .post_json_as(
            "/api/v1/tokens",
            &session,
            &json!({"name": "all", "scopes": ["read", "publish", "admin"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap();
    let resp = app
        .post_json_as(
            "/api/v1/me/password",
            token,
            &json!({"current_password": PASSWORD, "new_password": "taken over horse"}),
        )
        .await;
    envelope(resp, StatusCode::FORBIDDEN).await;
    let resp = app
        .client
        .patch(app.url("/api/v1/me"))
        .bearer_auth(token)
        .json(&json!({"display_name": "Pwned"}))
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::FORBIDDEN).await;
    app.login("owner@example.com", PASSWORD).await;
    let me: Value = app.get_json("/api/v1/me", &session).await;
    assert_eq!(me["display_name"], "owner");
}

#[tokio::test]
async fn closed_registration_refuses_sign_up() {
    let app = TestApp::builder()
        .env("SOUK_AUTH_ALLOW_REGISTRATION", "false")
        .start()
        .await
        .unwrap();
    let (code, _) = envelope(
        app.register("late@example.com").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code, "forbidden");
    assert_eq!(app.users().await, 0);
}

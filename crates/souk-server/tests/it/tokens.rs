//! Personal API tokens: creation (secret shown once), scopes enforced, listing with cursor
//! pagination, revocation, and the bad inputs of each.

use crate::{TestApp, envelope};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn create(app: &TestApp, bearer: &str, body: Value) -> reqwest::Response {
    app.post_json_as("/api/v1/tokens", bearer, &body).await
}

#[tokio::test]
async fn create_use_and_list_tokens() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("tok@example.com").await;
    let resp = create(
        &app,
        &session,
        json!({"name": "ci", "scopes": ["read", "publish"], "expires_in_days": 30}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    let secret = created["token"].as_str().unwrap();
    assert!(secret.starts_with("souk_pat_") && secret.len() == 9 + 64);
    assert_eq!(created["scopes"], json!(["read", "publish"]));
    assert!(created["expires_at"].as_str().is_some());
    // The token works as a bearer credential and is listed without its secret.
    let me: Value = app.get_json("/api/v1/me", secret).await;
    assert_eq!(me["email"], "tok@example.com");
    let list: Value = app.get_json("/api/v1/tokens", secret).await;
    assert_eq!(list["items"][0]["name"], "ci");
    assert!(list["items"][0]["last_used_at"].as_str().is_some());
    assert!(!list.to_string().contains(secret));
    assert_eq!(list["next_cursor"], Value::Null);
}

#[tokio::test]
async fn the_store_keeps_only_a_hash() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("hash@example.com").await;
    let created: Value = create(&app, &session, json!({"name": "x", "scopes": ["read"]}))
        .await
        .json()
        .await
        .unwrap();
    let secret = created["token"].as_str().unwrap();
    let (row, _) = app
        .store
        .token_by_hash(&souk_core::token::hash_token(secret))
        .await
        .unwrap();
    assert_eq!(row.display_prefix, &secret[..16]);
    assert!(app.store.token_by_hash(secret).await.is_err());
}

#[tokio::test]
async fn a_token_without_the_needed_scope_is_403() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("scope@example.com").await;
    let publish_only: Value = create(&app, &session, json!({"name": "p", "scopes": ["publish"]}))
        .await
        .json()
        .await
        .unwrap();
    let secret = publish_only["token"].as_str().unwrap();
    let (code, _) = envelope(
        app.get("/api/v1/tokens")
            .bearer_auth(secret)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code, "forbidden");
    // Nor can it mint a token wider than itself.
    let resp = create(&app, secret, json!({"name": "wider", "scopes": ["read"]})).await;
    envelope(resp, StatusCode::FORBIDDEN).await;
    let list: Value = app.get_json("/api/v1/tokens", &session).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_token_requests_are_422_and_store_nothing() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("bad@example.com").await;
    for (body, field) in [
        (json!({"name": "x", "scopes": ["root"]}), "scopes"),
        (json!({"name": "x", "scopes": []}), "scopes"),
        (json!({"name": " ", "scopes": ["read"]}), "name"),
        (json!({"name": "x".repeat(101), "scopes": ["read"]}), "name"),
        (
            json!({"name": "x", "scopes": ["read"], "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"name": "x", "scopes": ["read"], "expires_in_days": 4000}),
            "expires_in_days",
        ),
    ] {
        let (_, details) = envelope(
            create(&app, &session, body.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(details["field"], field, "{body}");
    }
    let list: Value = app.get_json("/api/v1/tokens", &session).await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn pages_follow_the_cursor_and_a_tampered_cursor_is_400() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("pages@example.com").await;
    for i in 0..5 {
        create(
            &app,
            &session,
            json!({"name": format!("t{i}"), "scopes": ["read"]}),
        )
        .await;
    }
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tokens?limit=2&cursor={c}"),
            None => "/api/v1/tokens?limit=2".into(),
        };
        let page: Value = app.get_json(&path, &session).await;
        names.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(names, ["t4", "t3", "t2", "t1", "t0"]);
    let resp = app
        .get("/api/v1/tokens?cursor=%7Bnot-ours%7D")
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    let (code, _) = envelope(resp, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "invalid_cursor");
}

#[tokio::test]
async fn another_users_token_cannot_be_revoked_and_answers_404() {
    let app = TestApp::spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let mallory = app.signed_up("mallory@example.com").await;
    let created: Value = create(&app, &alice, json!({"name": "a", "scopes": ["read"]}))
        .await
        .json()
        .await
        .unwrap();
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{}", created["id"])))
        .bearer_auth(&mallory)
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::NOT_FOUND).await;
    let me = app
        .get("/api/v1/me")
        .bearer_auth(created["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

async fn secret_of(resp: reqwest::Response) -> (String, Value) {
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    (body["token"].as_str().unwrap().to_owned(), body)
}

#[tokio::test]
async fn a_token_made_with_a_token_never_outlives_it() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("life@example.com").await;
    let (parent, parent_row) = secret_of(
        create(
            &app,
            &session,
            json!({"name": "day", "scopes": ["read"], "expires_in_days": 1}),
        )
        .await,
    )
    .await;
    let parent_expiry = parent_row["expires_at"].as_str().unwrap().to_owned();
    // Asked for no expiry, or for a longer one: it ends when its parent does.
    for body in [
        json!({"name": "forever", "scopes": ["read"]}),
        json!({"name": "month", "scopes": ["read"], "expires_in_days": 30}),
    ] {
        let (_, child) = secret_of(create(&app, &parent, body).await).await;
        assert_eq!(child["expires_at"], parent_expiry.as_str(), "{child}");
    }
    // A session's token may have no expiry at all.
    let (_, unbounded) = secret_of(
        create(
            &app,
            &session,
            json!({"name": "unbounded", "scopes": ["read"]}),
        )
        .await,
    )
    .await;
    assert_eq!(unbounded["expires_at"], Value::Null);
}

#[tokio::test]
async fn revoking_a_token_revokes_what_was_made_with_it() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("tree@example.com").await;
    let (parent, parent_row) = secret_of(
        create(
            &app,
            &session,
            json!({"name": "parent", "scopes": ["read"]}),
        )
        .await,
    )
    .await;
    let (child, _) =
        secret_of(create(&app, &parent, json!({"name": "child", "scopes": ["read"]})).await).await;
    let (grandchild, _) = secret_of(
        create(
            &app,
            &child,
            json!({"name": "grandchild", "scopes": ["read"]}),
        )
        .await,
    )
    .await;
    let (other, _) =
        secret_of(create(&app, &session, json!({"name": "other", "scopes": ["read"]})).await).await;
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{}", parent_row["id"])))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for gone in [&parent, &child, &grandchild] {
        let resp = app
            .get("/api/v1/me")
            .bearer_auth(gone)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = app
        .get("/api/v1/me")
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_revokes_itself_and_narrower_tokens_but_not_wider_ones() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("narrow@example.com").await;
    let (read, read_row) =
        secret_of(create(&app, &session, json!({"name": "read", "scopes": ["read"]})).await).await;
    let (wide, wide_row) = secret_of(
        create(
            &app,
            &session,
            json!({"name": "wide", "scopes": ["read", "publish"]}),
        )
        .await,
    )
    .await;
    let (_, read2_row) =
        secret_of(create(&app, &session, json!({"name": "read2", "scopes": ["read"]})).await).await;
    let delete = |bearer: String, id: Value| {
        let app = &app;
        async move {
            app.client
                .delete(app.url(&format!("/api/v1/tokens/{id}")))
                .bearer_auth(bearer)
                .send()
                .await
                .unwrap()
        }
    };
    // `read` cannot revoke a token that also holds `publish`: 403, and it still works.
    let (code, _) = envelope(
        delete(read.clone(), wide_row["id"].clone()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code, "forbidden");
    let resp = app
        .get("/api/v1/me")
        .bearer_auth(&wide)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // It may revoke a token no wider than itself, and itself.
    assert_eq!(
        delete(read.clone(), read2_row["id"].clone()).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(read.clone(), read_row["id"].clone()).await.status(),
        StatusCode::NO_CONTENT
    );
    let resp = app
        .get("/api/v1/me")
        .bearer_auth(&read)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // The wider token may revoke anything it covers; a session may revoke anything.
    assert_eq!(
        delete(session.clone(), wide_row["id"].clone())
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn answers_that_carry_a_secret_are_not_cached() {
    let app = TestApp::spawn().await;
    let session = app.signed_up("cache@example.com").await;
    let resp = create(&app, &session, json!({"name": "x", "scopes": ["read"]})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let resp = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "cache@example.com", "password": crate::PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
}

/// The route table in `policy` decides, before any handler runs: archiving needs `publish`
/// (it once checked no scope), reading the account and a module with a token needs `read`,
/// account settings need a session, and the same module reads fine with no credential at all.
#[tokio::test]
async fn every_route_asks_its_scope_of_a_token() {
    let app = TestApp::spawn().await;
    let session = crate::catalog::publisher_owner(&app, "scopes@example.com", "acme").await;
    let resp = app
        .post_json_as(
            "/api/v1/modules",
            &session,
            &json!({ "name": "shop", "publisher": "acme" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let token = |scopes: &'static [&'static str]| {
        let (app, session) = (&app, &session);
        async move {
            let resp = create(app, session, json!({"name": "t", "scopes": scopes})).await;
            secret_of(resp).await.0
        }
    };
    let read_only = token(&["read"]).await;
    let publish_only = token(&["publish"]).await;

    let archive = |bearer: String| {
        app.post("/api/v1/modules/shop/archive")
            .bearer_auth(bearer)
            .send()
    };
    envelope(
        archive(read_only.clone()).await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let m: Value = app.get_json("/api/v1/modules/shop", &session).await;
    assert_eq!(m["archived"], json!(false), "{m}");

    for path in ["/api/v1/me", "/api/v1/modules/shop"] {
        let resp = app
            .get(path)
            .bearer_auth(&publish_only)
            .send()
            .await
            .unwrap();
        let (code, _) = envelope(resp, StatusCode::FORBIDDEN).await;
        assert_eq!(code, "forbidden", "{path}");
        let resp = app.get(path).bearer_auth(&read_only).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
    let anonymous = app.get("/api/v1/modules/shop").send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::OK);

    let rename = app
        .client
        .patch(app.url("/api/v1/me"))
        .bearer_auth(&read_only)
        .json(&json!({ "display_name": "Changed" }))
        .send()
        .await
        .unwrap();
    envelope(rename, StatusCode::FORBIDDEN).await;
    let me: Value = app.get_json("/api/v1/me", &session).await;
    assert_ne!(me["display_name"], json!("Changed"));

    let resp = archive(publish_only).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

//! The author every publishing test starts from (kept apart from `common` so that test binaries
//! without it see no unused code).

/// Registers `author@example.com`, signs in and creates publisher `acme`, over HTTP; answers the
/// session token.
pub async fn author_with_publisher(base: &str) -> String {
    let http = reqwest::Client::new();
    let account =
        serde_json::json!({"email": "author@example.com", "password": crate::common::PASSWORD});
    let resp = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let resp = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let token = resp.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = http
        .post(format!("{base}/api/v1/publishers"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"slug": "acme", "display_name": "Acme Games"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    token
}

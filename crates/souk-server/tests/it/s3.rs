//! The blob store on S3: publishing and downloading through a local S3-compatible server
//! (`SOUK_TEST_S3_URL`; `.ci/run` starts moto's server from PyPI), including ranges, readiness
//! and redirects to presigned URLs.

use crate::TestApp;
use crate::packages::{package, sha256_hex};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

/// A fresh bucket on the test S3 server, or `None` when none is configured.
async fn bucket() -> Option<(String, String)> {
    souk_server::install_crypto_provider();
    let Some(url) = std::env::var("SOUK_TEST_S3_URL")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        assert!(
            std::env::var("SOUK_TEST_REQUIRE_ALL").is_err(),
            "SOUK_TEST_REQUIRE_ALL is set but SOUK_TEST_S3_URL is not: S3 tests would be skipped"
        );
        eprintln!("skipped: SOUK_TEST_S3_URL not set");
        return None;
    };
    let name = format!(
        "souk-test-{}",
        hex::encode(souk_core::secret::random_bytes::<6>())
    );
    // moto creates a bucket from an unsigned PUT, which keeps the test free of an S3 client.
    let resp = reqwest::Client::new()
        .put(format!("{url}/{name}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("SOUK_TEST_S3_URL is set but {url} does not answer: {e}"));
    assert!(
        resp.status().is_success(),
        "cannot create bucket: {}",
        resp.status()
    );
    Some((url, name))
}

async fn s3_app(presign: bool) -> Option<TestApp> {
    let (url, name) = bucket().await?;
    TestApp::builder()
        .env("SOUK_S3_BUCKET", &name)
        .env("SOUK_S3_ENDPOINT", &url)
        .env("SOUK_S3_REGION", "us-east-1")
        .env("SOUK_S3_ACCESS_KEY_ID", "souk-test")
        .env("SOUK_S3_SECRET_ACCESS_KEY", "souk-test-secret")
        .env(
            "SOUK_S3_PRESIGN_DOWNLOADS",
            if presign { "true" } else { "false" },
        )
        // Above the single-request threshold, so the multipart path runs too.
        .env("SOUK_PACKAGES_MAX_RATIO", "100000")
        .start()
        .await
}

async fn owner(app: &TestApp) -> String {
    let token = app.signed_up("ada@example.com").await;
    let resp = app
        .post_json_as(
            "/api/v1/publishers",
            &token,
            &json!({ "slug": "acme", "display_name": "Acme" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    token
}

/// A package of about `size` bytes whose payload does not compress.
fn big_package(name: &str, size: usize) -> Vec<u8> {
    let mut noise = Vec::with_capacity(size);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while noise.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    let m = crate::packages::manifest(name, "1.0.0", "acme", &[]);
    crate::packages::tar_gz(&[
        crate::packages::Entry::File("souk.toml", m.as_bytes()),
        crate::packages::Entry::File("data.bin", &noise),
    ])
}

#[tokio::test]
async fn packages_live_in_the_bucket() {
    let Some(app) = s3_app(false).await else {
        return;
    };
    let ready: Value = app
        .get("/readyz")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert!(
        ready["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "blobs" && c["detail"] == "s3"),
        "{ready}"
    );
    let token = owner(&app).await;
    for (name, bytes) in [
        ("small", package("small", "1.0.0", "acme", &[])),
        ("large", big_package("large", 12 * 1024 * 1024)),
    ] {
        let resp = app
            .post(&format!("/api/v1/modules/{name}/versions"))
            .bearer_auth(&token)
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED, "{name}");
        app.settle().await;
        let resp = app
            .get(&format!("/api/v1/modules/{name}/versions/1.0.0/download"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let got = resp.bytes().await.unwrap();
        assert_eq!(sha256_hex(&got), sha256_hex(&bytes), "{name}");
        let resp = app
            .get(&format!("/api/v1/modules/{name}/versions/1.0.0/download"))
            .header(header::RANGE, "bytes=-100")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            resp.bytes().await.unwrap().as_ref(),
            &bytes[bytes.len() - 100..]
        );
    }
    // Nothing was written to the local blob directory.
    assert!(!app.dir.path().join("blobs/packages").exists());
}

#[tokio::test]
async fn downloads_can_redirect_to_presigned_urls() {
    let Some(app) = s3_app(true).await else {
        return;
    };
    let token = owner(&app).await;
    let bytes = package("signed", "1.0.0", "acme", &[]);
    let resp = app
        .post("/api/v1/modules/signed/versions")
        .bearer_auth(&token)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    app.settle().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects
        .get(app.url("/api/v1/modules/signed/versions/1.0.0/download"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.contains("X-Amz-Signature="), "{location}");
    let got = reqwest::get(&location).await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
    app.state.downloads.flush().await;
    let m = app.get_json("/api/v1/modules/signed", &token).await;
    assert_eq!(m["downloads"], 1);
}

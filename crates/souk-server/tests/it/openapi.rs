//! The OpenAPI document: valid 3.1, every route present, and a committed snapshot so that any
//! change to the API shows in review. Set `SOUK_UPDATE_SNAPSHOTS=1` to rewrite the snapshot.

use crate::TestApp;
use serde_json::Value;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");

async fn document(app: &TestApp) -> Value {
    let resp = app.get("/api/v1/openapi.json").send().await.unwrap();
    resp.json().await.unwrap()
}

#[tokio::test]
async fn openapi_document_is_3_1_and_matches_the_snapshot() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me", "patch"),
        ("/api/v1/me/password", "post"),
        ("/api/v1/tokens", "get"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/tokens/{id}", "delete"),
        ("/api/v1/openapi.json", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    // Every $ref points at a schema that exists.
    let text = serde_json::to_string(&doc).unwrap();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var("SOUK_UPDATE_SNAPSHOTS").is_ok() {
        std::fs::create_dir_all(std::path::Path::new(SNAPSHOT).parent().unwrap()).unwrap();
        std::fs::write(SNAPSHOT, &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(SNAPSHOT)
        .expect("run with SOUK_UPDATE_SNAPSHOTS=1 to create the snapshot");
    assert!(
        committed == pretty,
        "the OpenAPI document changed: review it and rerun with SOUK_UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn every_operation_has_its_own_operation_id() {
    let doc = serde_json::to_value(souk_server::api::openapi()).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operationId {id} is used by {other} and {method} {path}");
            }
        }
    }
}

/// The document passes a real validator: `openapi-spec-validator` (PyPI), named by
/// `SOUK_TEST_OPENAPI_VALIDATOR` (`.ci/run` installs it). Skipped without it, unless
/// `SOUK_TEST_REQUIRE_ALL` is set.
#[test]
fn openapi_document_passes_openapi_spec_validator() {
    let Some(validator) = std::env::var_os("SOUK_TEST_OPENAPI_VALIDATOR") else {
        assert!(
            std::env::var_os("SOUK_TEST_REQUIRE_ALL").is_none(),
            "SOUK_TEST_REQUIRE_ALL is set but SOUK_TEST_OPENAPI_VALIDATOR is not"
        );
        eprintln!("note: SOUK_TEST_OPENAPI_VALIDATOR is not set; openapi-spec-validator not run");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, souk_server::api::openapi().to_json().unwrap()).unwrap();
    let out = std::process::Command::new(validator)
        .arg("--schema")
        .arg("3.1")
        .arg(&file)
        .output()
        .expect("openapi-spec-validator runs");
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document: {said}"
    );
    assert!(said.contains("OK"), "unexpected validator output: {said}");
}

/// Schemathesis (PyPI), named by `SOUK_TEST_SCHEMATHESIS` (`.ci/run` installs it), generates
/// requests from the document against a running server, as an administrator who owns a publisher
/// with a published module: no answer may be a server error or a status the document does not
/// list for the operation. Skipped without it, unless `SOUK_TEST_REQUIRE_ALL` is set.
#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_undocumented_status() {
    let Some(schemathesis) = std::env::var_os("SOUK_TEST_SCHEMATHESIS") else {
        assert!(
            std::env::var_os("SOUK_TEST_REQUIRE_ALL").is_none(),
            "SOUK_TEST_REQUIRE_ALL is set but SOUK_TEST_SCHEMATHESIS is not"
        );
        eprintln!("note: SOUK_TEST_SCHEMATHESIS is not set; schemathesis not run");
        return;
    };
    let app = TestApp::spawn().await;
    let session = app.staff("root@example.com", souk_core::Role::Admin).await;
    let resp = app
        .post_json_as(
            "/api/v1/tokens",
            &session,
            &serde_json::json!({"name": "fuzz", "scopes": ["read", "publish", "admin"]}),
        )
        .await;
    let token = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .post_json_as(
            "/api/v1/publishers",
            &token,
            &serde_json::json!({"slug": "acme", "display_name": "Acme"}),
        )
        .await;
    assert_eq!(resp.status(), reqwest::StatusCode::CREATED);
    let resp = crate::catalog::upload(
        &app,
        &token,
        "economy",
        crate::packages::package("economy", "1.0.0", "acme", &[]),
    )
    .await;
    assert_eq!(resp.status(), reqwest::StatusCode::CREATED);
    let work = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(schemathesis)
        .current_dir(work.path())
        .args(["run", &app.url("/api/v1/openapi.json")])
        .args(["--checks", "not_a_server_error,status_code_conformance"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // These end the credential the run uses; the token and session tests cover them.
        .args(["--exclude-operation-id", "revoke_token"])
        .args(["--exclude-operation-id", "logout"])
        .args(["--phases", "examples,coverage,fuzzing"])
        // One worker: hypothesis parses lambdas with `ast` while it generates, which CPython 3.11
        // cannot do from two threads at once ("AST constructor recursion depth mismatch").
        .args([
            "--max-examples",
            "25",
            "--seed",
            "20261207",
            "--workers",
            "1",
        ])
        .args(["--no-color"])
        .output()
        .await
        .expect("schemathesis runs");
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schemathesis found problems:\n{said}");
    assert!(said.contains(" passed"), "{said}");
}

/// Every operation of the document declares what it asks of its caller in the one policy table,
/// and the table names no route the server does not have.
#[tokio::test]
async fn every_operation_declares_its_access_policy() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let undeclared: Vec<_> = operations
        .iter()
        .filter(|(m, p)| souk_server::policy::access(m, p).is_none())
        .collect();
    assert!(undeclared.is_empty(), "no policy declared: {undeclared:?}");
    let stale: Vec<_> = souk_server::policy::API
        .iter()
        .filter(|(m, p, _)| !operations.iter().any(|(om, op)| om == m && op == p))
        .collect();
    assert!(stale.is_empty(), "declared for no operation: {stale:?}");
    assert_eq!(operations.len(), souk_server::policy::API.len());
}

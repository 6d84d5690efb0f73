//! Registry signatures: the keys at `/api/v1/keys`, a minisign signature for every published
//! version, checked by our verifier and by Debian's `minisign`, and keys kept across restarts.

use crate::catalog::{publisher_owner, upload};
use crate::packages::package;
use crate::{TestApp, envelope};
use reqwest::StatusCode;
use serde_json::Value;
use souk_core::signing::{PublicKey, verify};

fn minisign_available() -> bool {
    let found = std::process::Command::new("minisign")
        .arg("-v")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("SOUK_TEST_REQUIRE_ALL").is_none(),
            "minisign is not installed (apt-get install minisign)"
        );
        eprintln!("skipped the minisign check: minisign is not installed");
    }
    found
}

#[tokio::test]
async fn published_versions_carry_a_registry_signature_minisign_accepts() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let bytes = package("signed-mod", "1.0.0", "acme", &[]);
    let resp = upload(&app, &ada, "signed-mod", bytes.clone()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let uploaded: Value = resp.json().await.unwrap();
    // The registry signs a version when it becomes published, not at upload.
    assert_eq!(uploaded["signature_url"], Value::Null);
    let v: Value = app
        .get("/api/v1/modules/signed-mod/versions/1.0.0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "published");

    let keys: Value = app
        .get("/api/v1/keys")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = keys["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["algorithm"], "Ed25519");
    assert_eq!(v["registry_key_id"], key["id"]);
    let public =
        PublicKey::from_minisign_line(key["minisign_public_key"].as_str().unwrap()).unwrap();
    assert_eq!(public.id().to_hex(), key["id"].as_str().unwrap());

    let url = v["signature_url"].as_str().unwrap();
    assert_eq!(url, "/api/v1/modules/signed-mod/versions/1.0.0/signature");
    let resp = app.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("signed-mod-1.0.0.tar.gz.minisig")
    );
    let sig = resp.text().await.unwrap();
    let checked = verify(&public, &sig, &bytes).unwrap();
    assert!(
        checked
            .trusted_comment
            .contains("module=signed-mod version=1.0.0"),
        "{}",
        checked.trusted_comment
    );
    assert!(
        checked
            .trusted_comment
            .contains(v["sha256"].as_str().unwrap())
    );
    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(verify(&public, &sig, &tampered).is_err());

    // Debian's minisign checks the same files with the published key line.
    if minisign_available() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("signed-mod-1.0.0.tar.gz");
        std::fs::write(&file, &bytes).unwrap();
        std::fs::write(dir.path().join("signed-mod-1.0.0.tar.gz.minisig"), &sig).unwrap();
        let out = std::process::Command::new("minisign")
            .args([
                "-V",
                "-P",
                key["minisign_public_key"].as_str().unwrap(),
                "-m",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("module=signed-mod"));
        std::fs::write(&file, &tampered).unwrap();
        let out = std::process::Command::new("minisign")
            .args([
                "-V",
                "-P",
                key["minisign_public_key"].as_str().unwrap(),
                "-m",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(!out.status.success(), "minisign must refuse changed bytes");
    }

    // No signature for what does not exist.
    let resp = app
        .get("/api/v1/modules/signed-mod/versions/9.9.9/signature")
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn the_signing_key_is_private_and_kept_across_restarts() {
    let app = TestApp::spawn().await;
    let dir = app.dir.path().join("keys");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let first = app.state.catalog.keys().all()[0].key.id();
    let again = souk_server::signing::RegistryKeys::load_or_create(&dir).unwrap();
    assert_eq!(again.all().len(), 1);
    assert_eq!(again.all()[0].key.id(), first);
    // A damaged key file stops the start rather than signing with a surprise key.
    std::fs::write(dir.join("0000000000000000.json"), "{ not a key").unwrap();
    let err = souk_server::signing::RegistryKeys::load_or_create(&dir)
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("0000000000000000.json"),
        "{err:#}"
    );
}

#[tokio::test]
async fn a_package_changed_in_storage_is_refused_not_served() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let resp = upload(
        &app,
        &ada,
        "tampered",
        package("tampered", "1.0.0", "acme", &[]),
    )
    .await;
    let v: Value = resp.json().await.unwrap();
    let sha = v["sha256"].as_str().unwrap();
    let path = app
        .dir
        .path()
        .join("blobs/packages")
        .join(&sha[..2])
        .join(sha);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let resp = app
        .get("/api/v1/modules/tampered/versions/1.0.0/download")
        .send()
        .await
        .unwrap();
    let (code, _) = envelope(resp, StatusCode::INTERNAL_SERVER_ERROR).await;
    assert_eq!(code, "blob_corrupt");
    // A range of it is refused too: the whole blob is checked before any part is served.
    let resp = app
        .get("/api/v1/modules/tampered/versions/1.0.0/download")
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn every_node_lists_the_keys_of_all() {
    // Two nodes on one database, each with its own key directory (as when an operator forgot to
    // share the keys): each lists both keys, so a signature made on either verifies.
    let Some(a) = TestApp::builder().postgres().start().await else {
        return;
    };
    let url = a.state.config.effective_database_url();
    let b = TestApp::builder()
        .env("SOUK_DATABASE_URL", &url)
        .start()
        .await
        .unwrap();
    let ids = |app: &TestApp| app.state.catalog.keys().all()[0].key.id().to_hex();
    assert_ne!(ids(&a), ids(&b));
    for app in [&a, &b] {
        let keys: Value = app
            .get("/api/v1/keys")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let listed: Vec<&str> = keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap())
            .collect();
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert!(listed.contains(&ids(&a).as_str()) && listed.contains(&ids(&b).as_str()));
    }
}

//! Publishers' signing keys: registering, listing and revoking them (API and portal), uploads
//! signed with them (`Souk-Signature`), the publisher signature served beside the package, and
//! every refused signature leaving neither a version row nor a blob behind.

use crate::catalog::{publisher_owner, stored_files, upload, version_rows};
use crate::packages::package;
use crate::{PASSWORD, TestApp, envelope};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};
use souk_core::signing::{self, PublicKey, SigningKey};

/// Registers `key` for publisher `slug` as `token`; answers the response.
async fn register(app: &TestApp, token: &str, slug: &str, key: &str) -> reqwest::Response {
    app.post_json_as(
        &format!("/api/v1/publishers/{slug}/keys"),
        token,
        &json!({ "public_key": key, "name": "release laptop" }),
    )
    .await
}

/// Registers a new key for `slug` and answers its secret half.
async fn registered_key(app: &TestApp, token: &str, slug: &str) -> SigningKey {
    let key = SigningKey::generate();
    let resp = register(app, token, slug, &key.public_key().to_minisign_file()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    key
}

/// Uploads `bytes` as a version of `name` with `Souk-Signature: signature` (sent as is).
async fn upload_signed(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
    signature: &str,
) -> reqwest::Response {
    app.post(&format!("/api/v1/modules/{name}/versions"))
        .bearer_auth(token)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header("Souk-Signature", signature)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

fn header_of(signature: &str) -> String {
    BASE64.encode(signature)
}

async fn keys_of(app: &TestApp, slug: &str) -> Vec<Value> {
    let resp = app
        .get(&format!("/api/v1/publishers/{slug}/keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["publisher"], slug);
    body["keys"].as_array().unwrap().clone()
}

#[tokio::test]
async fn keys_are_registered_listed_and_revoked() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let bob = publisher_owner(&app, "bob@example.com", "other").await;
    assert!(keys_of(&app, "acme").await.is_empty());

    // The whole .pub file, or its line alone.
    let first = SigningKey::generate().public_key();
    let resp = register(&app, &ada, "acme", &first.to_minisign_file()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let k: Value = resp.json().await.unwrap();
    assert_eq!(k["id"], first.id().to_hex());
    assert_eq!(k["name"], "release laptop");
    assert_eq!(k["algorithm"], "Ed25519");
    assert_eq!(k["minisign_public_key"], first.to_minisign_line());
    assert_eq!(k["minisign_public_key_file"], first.to_minisign_file());
    assert!(k["revoked_at"].is_null());
    let second = SigningKey::generate().public_key();
    let resp = app
        .post_json_as(
            "/api/v1/publishers/acme/keys",
            &ada,
            &json!({ "public_key": format!("  {}\n", second.to_minisign_line()) }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let k: Value = resp.json().await.unwrap();
    assert_eq!(k["name"], format!("key {}", second.id()));

    // Anyone may list them: verifiers need them. Oldest first.
    let listed = keys_of(&app, "acme").await;
    let ids: Vec<&str> = listed.iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [first.id().to_hex(), second.id().to_hex()]);
    let resp = app
        .get("/api/v1/publishers/nobody/keys")
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::NOT_FOUND).await;

    // Refusals, none of which stores anything.
    let garbage = [
        "",
        "not a key",
        "untrusted comment: x\nnot base64!\n",
        &BASE64.encode([0u8; 41]),
    ];
    for bad in garbage {
        let resp = register(&app, &ada, "acme", bad).await;
        let (code, details) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(code, "invalid_public_key", "{bad:?}");
        assert_eq!(details["field"], "public_key");
    }
    let resp = app
        .post_json_as(
            "/api/v1/publishers/acme/keys",
            &ada,
            &json!({ "public_key": SigningKey::generate().public_key().to_minisign_line(), "name": "x".repeat(101) }),
        )
        .await;
    envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    // The same key again, here or at another publisher: key ids are unique in the registry.
    let resp = register(&app, &ada, "acme", &first.to_minisign_line()).await;
    let (code, details) = envelope(resp, StatusCode::CONFLICT).await;
    assert_eq!(code, "conflict");
    assert_eq!(details["field"], "public_key");
    let resp = register(&app, &bob, "other", &first.to_minisign_line()).await;
    envelope(resp, StatusCode::CONFLICT).await;
    // Not a member; not signed in.
    let fresh = SigningKey::generate().public_key().to_minisign_line();
    let resp = register(&app, &bob, "acme", &fresh).await;
    envelope(resp, StatusCode::FORBIDDEN).await;
    let resp = app
        .post_json(
            "/api/v1/publishers/acme/keys",
            &json!({ "public_key": fresh }),
        )
        .await;
    envelope(resp, StatusCode::UNAUTHORIZED).await;
    assert_eq!(keys_of(&app, "acme").await.len(), 2);
    assert!(keys_of(&app, "other").await.is_empty());

    // Revoking: the key stays listed, with the time; again changes nothing.
    let url = format!("/api/v1/publishers/acme/keys/{}", first.id());
    let resp = app
        .client
        .delete(app.url(&url))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::FORBIDDEN).await;
    let resp = app.client.delete(app.url(&url)).send().await.unwrap();
    envelope(resp, StatusCode::UNAUTHORIZED).await;
    let resp = app
        .client
        .delete(app.url(&url))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let revoked: Value = resp.json().await.unwrap();
    let at = revoked["revoked_at"].as_str().unwrap().to_owned();
    // Lower-case ids name the same key.
    let lower = url
        .to_ascii_lowercase()
        .replace("/api/v1/publishers/acme/keys/", "");
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/publishers/acme/keys/{lower}")))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["revoked_at"],
        at.as_str()
    );
    let listed = keys_of(&app, "acme").await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["revoked_at"], at.as_str());
    assert!(listed[1]["revoked_at"].is_null());
    // A key of another publisher, or none at all, is not found here.
    for missing in ["0000000000000000", "not-an-id"] {
        let resp = app
            .client
            .delete(app.url(&format!("/api/v1/publishers/acme/keys/{missing}")))
            .bearer_auth(&ada)
            .send()
            .await
            .unwrap();
        envelope(resp, StatusCode::NOT_FOUND).await;
    }
    let theirs = registered_key(&app, &bob, "other").await;
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/publishers/acme/keys/{}", theirs.id())))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::NOT_FOUND).await;
    assert!(keys_of(&app, "other").await[0]["revoked_at"].is_null());
}

async fn signed_uploads_are_checked_stored_and_served(app: TestApp) {
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let key = registered_key(&app, &ada, "acme").await;

    // The first version creates the module; a signature by the publisher's key is accepted.
    let bytes = package("signed", "1.0.0", "acme", &[]);
    let sig = signing::sign(&key, &bytes, "file:signed-1.0.0.tar.gz").unwrap();
    let resp = upload_signed(&app, &ada, "signed", bytes.clone(), &header_of(&sig)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["publisher_key_id"], key.id().to_hex());
    let url = v["publisher_signature_url"].as_str().unwrap();
    assert_eq!(
        url,
        "/api/v1/modules/signed/versions/1.0.0/publisher-signature"
    );
    // The registry signs it once the checks publish it.
    assert_eq!(v["status"], "pending_checks");
    app.settle().await;
    let v: Value = app
        .get("/api/v1/modules/signed/versions/1.0.0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "published");
    assert!(v["signature_url"].is_string());
    assert_eq!(v["publisher_key_id"], key.id().to_hex());

    let resp = app.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("signed-1.0.0.tar.gz.publisher.minisig")
    );
    let served = resp.text().await.unwrap();
    assert_eq!(served, sig);
    let public = PublicKey::parse(
        keys_of(&app, "acme").await[0]["minisign_public_key"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(signing::verify(&public, &served, &bytes).is_ok());
    let listed: Value = app
        .get("/api/v1/modules/signed/versions")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["publisher_key_id"], key.id().to_hex());

    // Unsigned uploads still publish; they have no publisher signature to serve.
    let resp = upload(
        &app,
        &ada,
        "signed",
        package("signed", "1.1.0", "acme", &[]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.unwrap();
    assert!(v["publisher_signature_url"].is_null());
    assert!(v["publisher_key_id"].is_null());
    let resp = app
        .get("/api/v1/modules/signed/versions/1.1.0/publisher-signature")
        .send()
        .await
        .unwrap();
    let (code, _) = envelope(resp, StatusCode::NOT_FOUND).await;
    assert_eq!(code, "no_publisher_signature");
    let resp = app
        .get("/api/v1/modules/signed/versions/9.9.9/publisher-signature")
        .send()
        .await
        .unwrap();
    let (code, _) = envelope(resp, StatusCode::NOT_FOUND).await;
    assert_eq!(code, "not_found");

    // After the key is revoked, the old version keeps its signature; new uploads may not use it.
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/publishers/acme/keys/{}", key.id())))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .get("/api/v1/modules/signed/versions/1.0.0/publisher-signature")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = package("signed", "1.2.0", "acme", &[]);
    let sig = signing::sign(&key, &bytes, "c").unwrap();
    let resp = upload_signed(&app, &ada, "signed", bytes, &header_of(&sig)).await;
    let (code, _) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(code, "unknown_signing_key");
}

#[tokio::test]
async fn signed_uploads_are_checked_stored_and_served_on_sqlite() {
    signed_uploads_are_checked_stored_and_served(TestApp::spawn().await).await;
}

#[tokio::test]
async fn signed_uploads_are_checked_stored_and_served_on_postgres() {
    if let Some(app) = TestApp::builder().postgres().start().await {
        signed_uploads_are_checked_stored_and_served(app).await;
    }
}

/// Flips one bit of the Ed25519 signature (line 2, after algorithm and key id).
fn flip_signature_bit(sig: &str) -> String {
    let mut lines: Vec<String> = sig.lines().map(str::to_owned).collect();
    let mut raw = BASE64.decode(&lines[1]).unwrap();
    raw[20] ^= 0x01;
    lines[1] = BASE64.encode(raw);
    lines.join("\n") + "\n"
}

#[tokio::test]
async fn refused_signatures_leave_nothing_stored() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let bob = publisher_owner(&app, "bob@example.com", "other").await;
    let key = registered_key(&app, &ada, "acme").await;
    let revoked = registered_key(&app, &ada, "acme").await;
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/publishers/acme/keys/{}", revoked.id())))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bobs = registered_key(&app, &bob, "other").await;
    // `existing` has a version already; `fresh` would be created by the upload.
    let resp = upload(
        &app,
        &ada,
        "existing",
        package("existing", "1.0.0", "acme", &[]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    for module in ["existing", "fresh"] {
        let bytes = package(module, "2.0.0", "acme", &[]);
        let good = signing::sign(&key, &bytes, "c").unwrap();
        let stranger = SigningKey::generate();
        let cases: Vec<(&str, String, StatusCode, &str)> = vec![
            (
                "a key the publisher never registered",
                header_of(&signing::sign(&stranger, &bytes, "c").unwrap()),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_signing_key",
            ),
            (
                "a key another publisher registered",
                header_of(&signing::sign(&bobs, &bytes, "c").unwrap()),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_signing_key",
            ),
            (
                "a revoked key",
                header_of(&signing::sign(&revoked, &bytes, "c").unwrap()),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_signing_key",
            ),
            (
                "a signature of other bytes",
                header_of(&signing::sign(&key, b"other bytes", "c").unwrap()),
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_signature",
            ),
            (
                "a flipped bit",
                header_of(&flip_signature_bit(&good)),
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_signature",
            ),
            (
                "a changed trusted comment",
                header_of(&good.replace("trusted comment: c", "trusted comment: d")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_signature",
            ),
            (
                "a header that is not base64",
                "not base64 at all!".to_owned(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_signature",
            ),
            (
                "base64 of something that is not a signature",
                BASE64.encode("hello"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_signature",
            ),
            (
                "the signature file itself, not in base64",
                good.lines().nth(1).unwrap().to_owned(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_signature",
            ),
        ];
        for (what, header, status, code) in cases {
            let before = (stored_files(&app), version_rows(&app).await);
            let resp = upload_signed(&app, &ada, module, bytes.clone(), &header).await;
            let (got, details) = envelope(resp, status).await;
            assert_eq!(got, code, "{module}: {what}");
            assert_eq!(details["field"], "signature", "{module}: {what}");
            assert_eq!(
                (stored_files(&app), version_rows(&app).await),
                before,
                "{module}: {what} left something behind"
            );
        }
        // An empty header is refused too, rather than taken for "unsigned".
        let resp = upload_signed(&app, &ada, module, bytes.clone(), "").await;
        let (got, _) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(got, "invalid_signature");
    }
    // The refused first upload created no module.
    let resp = app.get("/api/v1/modules/fresh").send().await.unwrap();
    envelope(resp, StatusCode::NOT_FOUND).await;
    let resp = app
        .get("/api/v1/modules/existing/versions/2.0.0")
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::NOT_FOUND).await;

    // And with the right signature, the same upload goes through.
    let bytes = package("fresh", "2.0.0", "acme", &[]);
    let good = signing::sign(&key, &bytes, "c").unwrap();
    let resp = upload_signed(&app, &ada, "fresh", bytes, &header_of(&good)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

/// Whether Debian's `minisign` can be run (a note, or a failure under `SOUK_TEST_REQUIRE_ALL`).
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
async fn signatures_made_by_minisign_are_accepted() {
    if !minisign_available() {
        return;
    }
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new("minisign")
            .args(args)
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "minisign {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["-G", "-W", "-p", "acme.pub", "-s", "acme.key"]);
    let public = std::fs::read_to_string(dir.path().join("acme.pub")).unwrap();
    let resp = register(&app, &ada, "acme", &public).await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    // Prehashed (minisign's default) and legacy (`-l`) signatures are both checked and kept.
    for (version, legacy) in [("1.0.0", false), ("1.1.0", true)] {
        let bytes = package("by-minisign", version, "acme", &[]);
        std::fs::write(dir.path().join("pkg.tar.gz"), &bytes).unwrap();
        let mut args = vec!["-S", "-s", "acme.key", "-m", "pkg.tar.gz"];
        if legacy {
            args.push("-l");
        }
        run(&args);
        let sig = std::fs::read_to_string(dir.path().join("pkg.tar.gz.minisig")).unwrap();
        let resp = upload_signed(&app, &ada, "by-minisign", bytes.clone(), &header_of(&sig)).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "legacy: {legacy}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(
            v["publisher_key_id"],
            PublicKey::parse(&public).unwrap().id().to_hex()
        );
        // A legacy signature of other bytes is refused like any other.
        if legacy {
            let other = package("by-minisign", "1.2.0", "acme", &[]);
            let resp = upload_signed(&app, &ada, "by-minisign", other, &header_of(&sig)).await;
            let (code, _) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(code, "bad_signature");
        }
    }
}

/// A browser session: signs up through the form and keeps its cookies.
struct Browser {
    client: Client,
    base: String,
    csrf: String,
}

impl Browser {
    async fn sign_up(app: &TestApp, email: &str) -> Browser {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap();
        let mut b = Browser {
            client,
            base: app.url(""),
            csrf: String::new(),
        };
        b.csrf = csrf_of(&b.page("/login").await);
        let resp = b
            .post(
                "/register",
                &[
                    ("email", email),
                    ("display_name", "Ada"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(resp.url().path(), "/account");
        // Forms are bound to the session: the anonymous page's token no longer works.
        b.csrf = csrf_of(&resp.text().await.unwrap());
        b
    }

    async fn page(&self, path: &str) -> String {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        resp.text().await.unwrap()
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(format!("{}{path}", self.base))
            .form(&all)
            .send()
            .await
            .unwrap()
    }
}

fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_portal_adds_and_revokes_keys_and_takes_a_signature_with_an_upload() {
    let app = TestApp::spawn().await;
    let ada = Browser::sign_up(&app, "ada@example.com").await;
    let resp = ada
        .post(
            "/portal/publishers",
            &[("slug", "acme"), ("display_name", "Acme")],
        )
        .await;
    assert_eq!(resp.url().path(), "/portal/publishers/acme");
    let html = resp.text().await.unwrap();
    assert!(html.contains("Signing keys"), "{html}");
    assert!(html.contains("No signing keys yet"));

    let key = SigningKey::generate();
    let id = key.id().to_hex();
    let resp = ada
        .post(
            "/portal/publishers/acme/keys",
            &[
                ("public_key", &key.public_key().to_minisign_file()),
                ("name", "CI"),
            ],
        )
        .await;
    assert_eq!(resp.url().path(), "/portal/publishers/acme");
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("Key {id} added")), "{html}");
    assert!(html.contains(&format!(r#"<tr id="key-{id}">"#)));
    assert!(html.contains(&key.public_key().to_minisign_line()));

    // Garbage is refused with a message on the page, and nothing is added.
    let html = ada
        .post(
            "/portal/publishers/acme/keys",
            &[("public_key", "garbage"), ("name", "")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("flash-error"), "{html}");
    assert_eq!(keys_of(&app, "acme").await.len(), 1);

    // A package with its .minisig through the upload form.
    let resp = ada
        .post(
            "/portal/publishers/acme/modules",
            &[
                ("name", "webmod"),
                ("display_name", "Web Mod"),
                ("summary", ""),
                ("visibility", "public"),
            ],
        )
        .await;
    assert!(resp.status().is_success());
    let bytes = package("webmod", "1.0.0", "acme", &[]);
    let sig = signing::sign(&key, &bytes, "file:webmod-1.0.0.tar.gz").unwrap();
    let upload_form = |bytes: Vec<u8>, sig: String| {
        reqwest::multipart::Form::new()
            .text("csrf_token", ada.csrf.clone())
            .part(
                "package",
                reqwest::multipart::Part::bytes(bytes).file_name("webmod-1.0.0.tar.gz"),
            )
            .part(
                "signature",
                reqwest::multipart::Part::bytes(sig.into_bytes())
                    .file_name("webmod-1.0.0.tar.gz.minisig"),
            )
    };
    // A signature of other bytes: refused on the page, nothing stored.
    let before = (stored_files(&app), version_rows(&app).await);
    let wrong = signing::sign(&key, b"other", "c").unwrap();
    let resp = ada
        .client
        .post(format!("{}/portal/modules/webmod/versions", ada.base))
        .multipart(upload_form(bytes.clone(), wrong))
        .send()
        .await
        .unwrap();
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("flash-error") && html.contains("does not verify"),
        "{html}"
    );
    assert_eq!((stored_files(&app), version_rows(&app).await), before);
    let resp = ada
        .client
        .post(format!("{}/portal/modules/webmod/versions", ada.base))
        .multipart(upload_form(bytes, sig.clone()))
        .send()
        .await
        .unwrap();
    let html = resp.text().await.unwrap();
    assert!(html.contains("Uploaded webmod 1.0.0"), "{html}");
    app.settle().await;
    let served = app
        .get("/api/v1/modules/webmod/versions/1.0.0/publisher-signature")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, sig);

    // Revoking from the page.
    let resp = ada
        .post(&format!("/portal/publishers/acme/keys/{id}/revoke"), &[])
        .await;
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("Key {id} is revoked")), "{html}");
    assert!(keys_of(&app, "acme").await[0]["revoked_at"].is_string());
    // Without the CSRF token, nothing happens.
    let other = SigningKey::generate().public_key().to_minisign_line();
    let resp = ada
        .client
        .post(format!("{}/portal/publishers/acme/keys", ada.base))
        .form(&[("public_key", other.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(keys_of(&app, "acme").await.len(), 1);
}

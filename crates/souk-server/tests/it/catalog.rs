//! The catalog over HTTP: publishers and members, publishing, reading, yanking and downloading
//! versions, visibility, media, and every refused upload leaving nothing behind.

use crate::packages::{Entry, PNG_1X1, manifest, package, sha256_hex, tar_gz, zip_package};
use crate::{TestApp, envelope};
use reqwest::StatusCode;
use reqwest::header;
use serde_json::{Value, json};

/// A signed-up user who owns publisher `acme`; answers their token.
pub async fn publisher_owner(app: &TestApp, email: &str, slug: &str) -> String {
    let token = app.signed_up(email).await;
    let resp = app
        .post_json_as(
            "/api/v1/publishers",
            &token,
            &json!({ "slug": slug, "display_name": "Acme Games" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    token
}

/// Uploads a package and lets the checks run on it, so that (under the tests' default review
/// policy, `none`) a clean package is published when this answers. The response is the upload's
/// own, with status `pending_checks`.
pub async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let resp = app
        .post(&format!("/api/v1/modules/{name}/versions"))
        .bearer_auth(token)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    app.settle().await;
    resp
}

async fn published(app: &TestApp, token: &str, name: &str, version: &str) -> Value {
    let resp = upload(app, token, name, package(name, version, "acme", &[])).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "{name} {version}");
    resp.json().await.unwrap()
}

/// Files under the blob directory and the staging directory.
pub(crate) fn stored_files(app: &TestApp) -> (usize, usize) {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        count(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    let blobs = app.dir.path().join("blobs/packages");
    (count(&blobs), count(&app.dir.path().join("tmp")))
}

pub(crate) async fn version_rows(app: &TestApp) -> usize {
    let modules = app
        .store
        .list_modules(&souk_store::ModuleQuery {
            publisher_id: None,
            listed_only: false,
            sort: souk_store::ModuleSort::Newest,
            after: None,
            limit: 100,
        })
        .await
        .unwrap();
    let mut n = 0;
    for m in modules {
        n += app.store.versions(m.id).await.unwrap().len();
    }
    n
}

async fn publish_read_download_yank(app: TestApp) {
    let token = publisher_owner(&app, "ada@example.com", "acme").await;
    let bytes = package("economy", "1.0.0", "acme", &[]);
    let resp = upload(&app, &token, "economy", bytes.clone()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let uploaded: Value = resp.json().await.unwrap();
    // The upload answers at once; the checks publish it in the background.
    assert_eq!(uploaded["status"], "pending_checks");
    let v: Value = app
        .get("/api/v1/modules/economy/versions/1.0.0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["version"], "1.0.0");
    assert_eq!(v["status"], "published");
    assert_eq!(v["sha256"], sha256_hex(&bytes));
    assert_eq!(v["size"], bytes.len());
    assert_eq!(v["format"], "tar.gz");
    assert!(v["readme"].as_str().unwrap().contains("# economy"));
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["README.md", "souk.toml", "src/main.lua"]);

    // Anyone reads the module and the version.
    let m: Value = app
        .get("/api/v1/modules/economy")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["name"], "economy");
    assert_eq!(m["publisher"]["slug"], "acme");
    assert_eq!(m["latest_version"], "1.0.0");
    assert_eq!(m["versions"][0]["version"], "1.0.0");
    assert!(m["description_html"].as_str().unwrap().contains("<h1>"));
    let got: Value = app
        .get("/api/v1/modules/economy/versions/1.0.0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["sha256"], sha256_hex(&bytes));
    assert_eq!(got["size"], bytes.len());

    // The download is the exact bytes, with its hash as ETag.
    let resp = app
        .get("/api/v1/modules/economy/versions/1.0.0/download")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let etag = resp.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", sha256_hex(&bytes)));
    assert_eq!(
        resp.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"economy-1.0.0.tar.gz\""
    );
    assert_eq!(resp.headers()[header::ACCEPT_RANGES], "bytes");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let resp = app
        .get("/api/v1/modules/economy/versions/1.0.0/download")
        .header(header::RANGE, "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        resp.headers()[header::CONTENT_RANGE],
        format!("bytes 10-19/{}", bytes.len()).as_str()
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[10..20]);
    let resp = app
        .get("/api/v1/modules/economy/versions/1.0.0/download")
        .header(header::RANGE, format!("bytes={}-", bytes.len() + 5))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let resp = app
        .get("/api/v1/modules/economy/versions/1.0.0/download")
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);

    // Downloads are counted (the full one and the range from byte 10 are one download).
    app.state.downloads.flush().await;
    let m: Value = app.get_json("/api/v1/modules/economy", &token).await;
    assert_eq!(m["downloads"], 1);

    // Versions are immutable.
    let resp = upload(&app, &token, "economy", bytes.clone()).await;
    let (code, details) = envelope(resp, StatusCode::CONFLICT).await;
    assert_eq!(
        (code.as_str(), details["field"].as_str()),
        ("conflict", Some("version"))
    );

    published(&app, &token, "economy", "1.1.0").await;
    published(&app, &token, "economy", "2.0.0-rc.1").await;
    let m = app.get_json("/api/v1/modules/economy", &token).await;
    assert_eq!(m["latest_version"], "1.1.0", "a prerelease is never latest");
    let order: Vec<&str> = m["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["2.0.0-rc.1", "1.1.0", "1.0.0"]);
    assert_eq!(m["versions"][0]["prerelease"], true);

    let resp = app
        .post_json_as(
            "/api/v1/modules/economy/versions/1.1.0/yank",
            &token,
            &json!({ "reason": "corrupts saves" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let y: Value = resp.json().await.unwrap();
    assert_eq!(
        (y["yanked"].clone(), y["yank_reason"].clone()),
        (json!(true), json!("corrupts saves"))
    );
    let m = app.get_json("/api/v1/modules/economy", &token).await;
    assert_eq!(m["latest_version"], "1.0.0");
    // A yanked version still cannot be published again, and is still downloadable.
    let resp = upload(
        &app,
        &token,
        "economy",
        package("economy", "1.1.0", "acme", &[]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let resp = app
        .get("/api/v1/modules/economy/versions/1.1.0/download")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .post_json_as(
            "/api/v1/modules/economy/versions/1.1.0/unyank",
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let m = app.get_json("/api/v1/modules/economy", &token).await;
    assert_eq!(m["latest_version"], "1.1.0");

    // Dependencies on modules that exist are stored and shown.
    let resp = upload(
        &app,
        &token,
        "shops",
        package("shops", "0.1.0", "acme", &[("economy", "^1.0")]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v["dependencies"],
        json!([{ "name": "economy", "req": "^1.0" }])
    );
    assert_eq!(v["platform"], ">=1.0.0");

    // Browsing lists both, newest first, and by downloads.
    let list: Value = app
        .get("/api/v1/modules?sort=downloads")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["economy", "shops"]);
}

#[tokio::test]
async fn publish_read_download_yank_on_sqlite() {
    publish_read_download_yank(TestApp::spawn().await).await;
}

#[tokio::test]
async fn publish_read_download_yank_on_postgres() {
    if let Some(app) = TestApp::builder().postgres().start().await {
        publish_read_download_yank(app).await;
    }
}

#[tokio::test]
async fn a_zip_package_is_accepted_too() {
    let app = TestApp::spawn().await;
    let token = publisher_owner(&app, "ada@example.com", "acme").await;
    let m = manifest("zipped", "1.0.0", "acme", &[]);
    let bytes = zip_package(&[("souk.toml", m.as_bytes()), ("CHANGELOG.md", b"## 1.0.0\n")]);
    let resp = upload(&app, &token, "zipped", bytes.clone()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["format"], "zip");
    assert_eq!(v["changelog"], "## 1.0.0\n");
    let resp = app
        .get("/api/v1/modules/zipped/versions/1.0.0/download")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"zipped-1.0.0.zip\""
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), bytes.as_slice());
}

#[tokio::test]
async fn refused_uploads_answer_clearly_and_leave_nothing_behind() {
    let app = TestApp::builder()
        .env("SOUK_PACKAGES_MAX_ENTRIES", "20")
        .env("SOUK_PACKAGES_MAX_UPLOAD_BYTES", "3000000")
        .start()
        .await
        .unwrap();
    let token = publisher_owner(&app, "ada@example.com", "acme").await;
    published(&app, &token, "my-mod", "1.0.0").await;
    let other = publisher_owner(&app, "eve@example.com", "evil").await;
    let baseline = (stored_files(&app), version_rows(&app).await);

    let m = |v: &str| manifest("my-mod", v, "acme", &[]);
    let file = |n: &'static str| Entry::File(n, b"x");
    let many: Vec<String> = (0..25).map(|i| format!("f{i}.txt")).collect();
    let mut many_entries: Vec<Entry<'_>> =
        many.iter().map(|n| Entry::File(n.as_str(), b"x")).collect();
    let ok_manifest = m("2.0.0");
    many_entries.push(Entry::File("souk.toml", ok_manifest.as_bytes()));
    let zeros = vec![0u8; 2_000_000];
    let bomb = zip_package(&[("souk.toml", ok_manifest.as_bytes()), ("zeros.bin", &zeros)]);

    // (what, target module, body, status, error code, details.field)
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<u8>,
        StatusCode,
        &'a str,
        Option<&'a str>,
    );
    let cases: Vec<Case<'_>> = vec![
        ("manifest missing", "my-mod", tar_gz(&[file("README.md")]), StatusCode::UNPROCESSABLE_ENTITY, "missing_manifest", None),
        ("not TOML", "my-mod", tar_gz(&[Entry::File("souk.toml", b"[module\nname=")]), StatusCode::UNPROCESSABLE_ENTITY, "invalid_toml", None),
        ("missing field", "my-mod", tar_gz(&[Entry::File("souk.toml", b"[module]\nname = \"my-mod\"\npublisher = \"acme\"\ndescription = \"d\"\nlicense = \"MIT\"\nplatform = \"*\"\n")]), StatusCode::UNPROCESSABLE_ENTITY, "missing_field", Some("module.version")),
        ("invalid semver", "my-mod", tar_gz(&[Entry::File("souk.toml", m("1.0").as_bytes())]), StatusCode::UNPROCESSABLE_ENTITY, "invalid_version", Some("module.version")),
        ("invalid range", "my-mod", tar_gz(&[Entry::File("souk.toml", manifest("my-mod", "2.0.0", "acme", &[("economy", "^^1")]).as_bytes())]), StatusCode::UNPROCESSABLE_ENTITY, "invalid_range", Some("dependencies.economy")),
        ("unknown dependency", "my-mod", package("my-mod", "2.0.0", "acme", &[("nowhere", "^1")]), StatusCode::UNPROCESSABLE_ENTITY, "unknown_dependency", Some("dependencies.nowhere")),
        ("name differs from target", "other-mod", package("my-mod", "2.0.0", "acme", &[]), StatusCode::UNPROCESSABLE_ENTITY, "name_mismatch", Some("module.name")),
        ("already published", "my-mod", package("my-mod", "1.0.0", "acme", &[]), StatusCode::CONFLICT, "conflict", Some("version")),
        ("clash after normalization", "my_mod", package("my_mod", "1.0.0", "acme", &[]), StatusCode::CONFLICT, "conflict", Some("name")),
        ("parent path", "my-mod", tar_gz(&[Entry::File("souk.toml", ok_manifest.as_bytes()), file("../evil.sh")]), StatusCode::UNPROCESSABLE_ENTITY, "unsafe_path", None),
        ("absolute path", "my-mod", tar_gz(&[Entry::File("souk.toml", ok_manifest.as_bytes()), file("/etc/passwd")]), StatusCode::UNPROCESSABLE_ENTITY, "unsafe_path", None),
        ("symlink", "my-mod", tar_gz(&[Entry::File("souk.toml", ok_manifest.as_bytes()), Entry::Symlink("link", "/etc/passwd")]), StatusCode::UNPROCESSABLE_ENTITY, "link_entry", None),
        ("hardlink", "my-mod", tar_gz(&[Entry::File("souk.toml", ok_manifest.as_bytes()), Entry::Hardlink("hard", "souk.toml")]), StatusCode::UNPROCESSABLE_ENTITY, "link_entry", None),
        ("too many entries", "my-mod", tar_gz(&many_entries), StatusCode::UNPROCESSABLE_ENTITY, "too_many_entries", None),
        ("bomb by ratio", "my-mod", bomb, StatusCode::UNPROCESSABLE_ENTITY, "compression_bomb", None),
        ("not an archive", "my-mod", b"just some text, not a package".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "not_an_archive", None),
        ("over the upload size", "my-mod", vec![7u8; 3_500_000], StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None),
    ];
    for (what, target, bytes, status, code, field) in cases {
        let resp = upload(&app, &token, target, bytes).await;
        let (got_code, details) = envelope(resp, status).await;
        assert_eq!(got_code, code, "{what}");
        if let Some(f) = field {
            assert_eq!(details["field"], f, "{what}");
        }
        assert_eq!(
            (stored_files(&app), version_rows(&app).await),
            baseline,
            "{what} left something behind"
        );
    }

    // Not a member of the manifest's publisher, for a new module and for an existing one.
    let resp = upload(
        &app,
        &other,
        "stolen",
        package("stolen", "1.0.0", "acme", &[]),
    )
    .await;
    envelope(resp, StatusCode::FORBIDDEN).await;
    let resp = upload(
        &app,
        &other,
        "my-mod",
        package("my-mod", "9.0.0", "acme", &[]),
    )
    .await;
    envelope(resp, StatusCode::FORBIDDEN).await;
    // A reserved name.
    let resp = upload(&app, &token, "souk", package("souk", "1.0.0", "acme", &[])).await;
    let (code, _) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(code, "reserved_name");
    // No token at all.
    let resp = app
        .post("/api/v1/modules/x1/versions")
        .body(package("x1", "1.0.0", "acme", &[]))
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::UNAUTHORIZED).await;
    assert_eq!((stored_files(&app), version_rows(&app).await), baseline);
}

#[tokio::test]
async fn publishers_members_and_the_last_owner() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let bob = app.signed_up("bob@example.com").await;

    let resp = app
        .post_json_as(
            "/api/v1/publishers",
            &bob,
            &json!({ "slug": "acme", "display_name": "Again" }),
        )
        .await;
    let (_, details) = envelope(resp, StatusCode::CONFLICT).await;
    assert_eq!(details["field"], "slug");
    let resp = app
        .post_json_as(
            "/api/v1/publishers",
            &bob,
            &json!({ "slug": "Bad Slug", "display_name": "x" }),
        )
        .await;
    envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let resp = app
        .post_json_as(
            "/api/v1/publishers",
            &bob,
            &json!({ "slug": "bobco", "display_name": "" }),
        )
        .await;
    envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;

    // Only owners add members; the member must have an account.
    let resp = app
        .post_json_as(
            "/api/v1/publishers/acme/members",
            &bob,
            &json!({ "email": "bob@example.com", "role": "owner" }),
        )
        .await;
    envelope(resp, StatusCode::FORBIDDEN).await;
    let resp = app
        .post_json_as(
            "/api/v1/publishers/acme/members",
            &ada,
            &json!({ "email": "nobody@example.com", "role": "maintainer" }),
        )
        .await;
    envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let resp = app
        .post_json_as(
            "/api/v1/publishers/acme/members",
            &ada,
            &json!({ "email": "bob@example.com", "role": "maintainer" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let bob_id = resp.json::<Value>().await.unwrap()["user_id"]
        .as_i64()
        .unwrap();
    let resp = app
        .post_json_as(
            "/api/v1/publishers/acme/members",
            &ada,
            &json!({ "email": "bob@example.com", "role": "maintainer" }),
        )
        .await;
    envelope(resp, StatusCode::CONFLICT).await;

    // A maintainer publishes, and sees the members.
    published(&app, &bob, "bobs-mod", "1.0.0").await;
    let members = app.get_json("/api/v1/publishers/acme/members", &bob).await;
    assert_eq!(members.as_array().unwrap().len(), 2);
    let mine = app.get_json("/api/v1/me/publishers", &bob).await;
    assert_eq!(mine[0]["slug"], "acme");
    assert_eq!(mine[0]["role"], "maintainer");

    // The last owner cannot leave.
    let ada_id = members[0]["user_id"].as_i64().unwrap();
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/publishers/acme/members/{ada_id}")))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    let (_, details) = envelope(resp, StatusCode::CONFLICT).await;
    assert_eq!(details["field"], "owner");
    // Once Bob is an owner, Ada may go.
    let resp = app
        .client
        .patch(app.url(&format!("/api/v1/publishers/acme/members/{bob_id}")))
        .bearer_auth(&ada)
        .json(&json!({ "role": "owner" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/publishers/acme/members/{ada_id}")))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = upload(
        &app,
        &ada,
        "bobs-mod",
        package("bobs-mod", "1.1.0", "acme", &[]),
    )
    .await;
    envelope(resp, StatusCode::FORBIDDEN).await;

    let p: Value = app
        .get("/api/v1/publishers/acme")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["display_name"], "Acme Games");
}

#[tokio::test]
async fn private_modules_are_invisible_outside_their_publisher() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let eve = app.signed_up("eve@example.com").await;
    published(&app, &ada, "secret", "1.0.0").await;
    let resp = app
        .client
        .patch(app.url("/api/v1/modules/secret"))
        .bearer_auth(&ada)
        .json(&json!({ "visibility": "private", "summary": "Hidden", "tags": ["Admin", "tools"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let m: Value = resp.json().await.unwrap();
    assert_eq!(m["visibility"], "private");
    assert_eq!(m["tags"], json!(["admin", "tools"]));

    for path in [
        "/api/v1/modules/secret",
        "/api/v1/modules/secret/versions",
        "/api/v1/modules/secret/versions/1.0.0",
        "/api/v1/modules/secret/versions/1.0.0/download",
    ] {
        let anon = app.get(path).send().await.unwrap();
        envelope(anon, StatusCode::NOT_FOUND).await;
        let other = app.get(path).bearer_auth(&eve).send().await.unwrap();
        envelope(other, StatusCode::NOT_FOUND).await;
        let member = app.get(path).bearer_auth(&ada).send().await.unwrap();
        assert_eq!(member.status(), StatusCode::OK, "{path}");
    }
    let list: Value = app
        .get("/api/v1/modules")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    let theirs = app.get_json("/api/v1/modules?publisher=acme", &ada).await;
    assert_eq!(theirs["items"][0]["name"], "secret");
    // Depending on it from outside answers as if it did not exist.
    let eve_pub = app
        .post_json_as(
            "/api/v1/publishers",
            &eve,
            &json!({ "slug": "evil", "display_name": "Evil" }),
        )
        .await;
    assert_eq!(eve_pub.status(), StatusCode::CREATED);
    let resp = upload(
        &app,
        &eve,
        "snoop",
        package("snoop", "1.0.0", "evil", &[("secret", "^1")]),
    )
    .await;
    let (code, _) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(code, "unknown_dependency");
    // A bad field is 422.
    let resp = app
        .client
        .patch(app.url("/api/v1/modules/secret"))
        .bearer_auth(&ada)
        .json(&json!({ "homepage": "javascript:alert(1)" }))
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn descriptions_are_rendered_without_script() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    published(&app, &ada, "shiny", "1.0.0").await;
    let resp = app
        .client
        .patch(app.url("/api/v1/modules/shiny"))
        .bearer_auth(&ada)
        .json(&json!({
            "description": "**Bold** <script>alert(1)</script> [x](javascript:alert(2))",
            "category": "economy",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let m: Value = resp.json().await.unwrap();
    let html = m["description_html"].as_str().unwrap();
    assert!(html.contains("<strong>Bold</strong>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert_eq!(m["category"], "economy");
    let resp = app
        .client
        .patch(app.url("/api/v1/modules/shiny"))
        .bearer_auth(&ada)
        .json(&json!({ "category": "no-such-category" }))
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn icons_and_screenshots_must_be_images() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    published(&app, &ada, "pretty", "1.0.0").await;
    let images = || std::fs::read_dir(app.dir.path().join("blobs/images")).map_or(0, |d| d.count());

    for bad in [
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec(),
        b"GIF89a but not really".to_vec(),
        b"hello".to_vec(),
    ] {
        let resp = app
            .client
            .put(app.url("/api/v1/modules/pretty/icon"))
            .bearer_auth(&ada)
            .body(bad)
            .send()
            .await
            .unwrap();
        let (code, _) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(code, "invalid_image");
    }
    assert_eq!(images(), 0);

    let resp = app
        .client
        .put(app.url("/api/v1/modules/pretty/icon"))
        .bearer_auth(&ada)
        .body(PNG_1X1.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let icon = resp.json::<Value>().await.unwrap()["icon_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app.get(&icon).send().await.unwrap();
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG_1X1);

    let resp = app
        .post("/api/v1/modules/pretty/screenshots?caption=Main%20menu")
        .bearer_auth(&ada)
        .body(PNG_1X1.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let shot: Value = resp.json().await.unwrap();
    assert_eq!(shot["caption"], "Main menu");
    let m = app.get_json("/api/v1/modules/pretty", &ada).await;
    assert_eq!(m["screenshots"][0]["width"], 1);
    let resp = app
        .client
        .delete(app.url(&format!(
            "/api/v1/modules/pretty/screenshots/{}",
            shot["id"]
        )))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // The icon still uses the same bytes, so the blob stays.
    assert_eq!(images(), 1);

    // Images may be larger than the 2 MiB JSON body limit, up to 5 MiB.
    let mut big = PNG_1X1.to_vec();
    big.resize(3 * 1024 * 1024, 0);
    let resp = app
        .client
        .put(app.url("/api/v1/modules/pretty/icon"))
        .bearer_auth(&ada)
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    big.resize(6 * 1024 * 1024, 0);
    let resp = app
        .client
        .put(app.url("/api/v1/modules/pretty/icon"))
        .bearer_auth(&ada)
        .body(big)
        .send()
        .await
        .unwrap();
    let (code, _) = envelope(resp, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(code, "payload_too_large");
}

#[tokio::test]
async fn modules_can_be_created_empty_archived_and_categories_managed_by_admins() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let resp = app
        .post_json_as(
            "/api/v1/modules",
            &ada,
            &json!({ "name": "fresh-mod", "publisher": "acme", "summary": "Soon" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let m: Value = resp.json().await.unwrap();
    assert_eq!(m["latest_version"], Value::Null);
    for (name, status) in [
        ("Fresh_Mod", StatusCode::CONFLICT),
        ("fresh_mod", StatusCode::CONFLICT),
        ("9lives", StatusCode::UNPROCESSABLE_ENTITY),
        ("admin", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let resp = app
            .post_json_as(
                "/api/v1/modules",
                &ada,
                &json!({ "name": name, "publisher": "acme" }),
            )
            .await;
        envelope(resp, status).await;
    }
    published(&app, &ada, "fresh-mod", "0.1.0").await;
    let resp = app
        .post_json_as("/api/v1/modules/fresh-mod/archive", &ada, &json!({}))
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["archived"], true);
    let list: Value = app
        .get("/api/v1/modules")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    let resp = upload(
        &app,
        &ada,
        "fresh-mod",
        package("fresh-mod", "0.2.0", "acme", &[]),
    )
    .await;
    envelope(resp, StatusCode::CONFLICT).await;
    let resp = app
        .post_json_as("/api/v1/modules/fresh-mod/unarchive", &ada, &json!({}))
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["archived"], false);

    let cats: Value = app
        .get("/api/v1/categories")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        cats.as_array()
            .unwrap()
            .iter()
            .any(|c| c["slug"] == "economy")
    );
    let resp = app
        .post_json_as(
            "/api/v1/categories",
            &ada,
            &json!({ "slug": "racing", "name": "Racing" }),
        )
        .await;
    envelope(resp, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn the_demo_catalog_loads_once() {
    let app = TestApp::spawn().await;
    assert!(souk_server::demo::load(&app.state).await.unwrap());
    assert!(!souk_server::demo::load(&app.state).await.unwrap());
    let page: Value = app
        .get("/api/v1/modules?limit=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 30);
    let m: Value = app
        .get("/api/v1/modules/auction-house")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["category"], "shops");
    assert!(m["versions"].as_array().unwrap().len() >= 2);
    assert!(
        m["versions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["yanked"] == true)
    );
    assert_eq!(m["versions"][0]["dependencies"][0]["name"], "economy-core");
    // The demo account can sign in and owns the demo publishers.
    let token = app
        .login(
            souk_server::demo::DEMO_EMAIL,
            souk_server::demo::DEMO_PASSWORD,
        )
        .await;
    let mine = app.get_json("/api/v1/me/publishers", &token).await;
    assert_eq!(mine.as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn admins_manage_the_category_tree() {
    let app = TestApp::spawn().await;
    app.state
        .accounts
        .create_user(
            "root@example.com",
            crate::PASSWORD,
            None,
            souk_core::Role::Admin,
        )
        .await
        .unwrap();
    let admin = app.login("root@example.com", crate::PASSWORD).await;
    let patch = |path: &str, body: Value| {
        app.client
            .patch(app.url(path))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let delete = |path: &str| app.client.delete(app.url(path)).bearer_auth(&admin).send();

    let resp = app
        .post_json_as(
            "/api/v1/categories",
            &admin,
            &json!({ "slug": "racing", "name": "Racing", "parent": "gameplay" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let tree: Value = resp.json().await.unwrap();
    let racing = tree
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == "racing")
        .unwrap();
    assert_eq!(racing["parent"], "gameplay");
    for (body, status) in [
        (
            json!({ "slug": "racing", "name": "Again" }),
            StatusCode::CONFLICT,
        ),
        (
            json!({ "slug": "karts", "name": "Karts", "parent": "nowhere" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({ "slug": "Bad Slug", "name": "x" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let resp = app.post_json_as("/api/v1/categories", &admin, &body).await;
        envelope(resp, status).await;
    }

    // A category cannot move under its own descendant.
    let resp = patch(
        "/api/v1/categories/gameplay",
        json!({ "slug": "gameplay", "name": "Gameplay", "parent": "racing" }),
    )
    .await
    .unwrap();
    envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let resp = patch(
        "/api/v1/categories/racing",
        json!({ "slug": "racing", "name": "Racing games", "position": 4 }),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let tree: Value = resp.json().await.unwrap();
    let racing = tree
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == "racing")
        .unwrap();
    assert_eq!(
        (racing["name"].clone(), racing["parent"].clone()),
        (json!("Racing games"), Value::Null)
    );

    let resp = delete("/api/v1/categories/economy").await.unwrap();
    envelope(resp, StatusCode::CONFLICT).await;
    let resp = delete("/api/v1/categories/racing").await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = delete("/api/v1/categories/racing").await.unwrap();
    envelope(resp, StatusCode::NOT_FOUND).await;
}

/// Display names are one visible line: a bidirectional override, a zero-width character or a
/// line break is 422 on `display_name`, for users, publishers and modules, and nothing changes.
#[tokio::test]
async fn display_names_refuse_invisible_reordering_and_line_breaks() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let resp = app
        .post_json_as(
            "/api/v1/modules",
            &ada,
            &json!({ "name": "shown", "publisher": "acme", "display_name": "Shown" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    for bad in [
        "evil\u{202E}gpj.exe",
        "zero\u{200B}width",
        "two\nlines",
        "iso\u{2067}late",
    ] {
        let check = |resp: reqwest::Response| async move {
            let (code, details) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(details["field"], "display_name", "{bad:?}: {code}");
        };
        check(
            app.client
                .patch(app.url("/api/v1/me"))
                .bearer_auth(&ada)
                .json(&json!({ "display_name": bad }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        check(
            app.post_json_as(
                "/api/v1/publishers",
                &ada,
                &json!({ "slug": "other", "display_name": bad }),
            )
            .await,
        )
        .await;
        check(
            app.client
                .patch(app.url("/api/v1/publishers/acme"))
                .bearer_auth(&ada)
                .json(&json!({ "display_name": bad }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        check(
            app.post_json_as(
                "/api/v1/modules",
                &ada,
                &json!({ "name": "other-mod", "publisher": "acme", "display_name": bad }),
            )
            .await,
        )
        .await;
        check(
            app.client
                .patch(app.url("/api/v1/modules/shown"))
                .bearer_auth(&ada)
                .json(&json!({ "display_name": bad }))
                .send()
                .await
                .unwrap(),
        )
        .await;
    }
    let me: Value = app.get_json("/api/v1/me", &ada).await;
    assert!(
        !me["display_name"]
            .as_str()
            .unwrap_or("")
            .contains('\u{202E}')
    );
    let acme: Value = app.get_json("/api/v1/publishers/acme", &ada).await;
    assert_eq!(acme["display_name"], "Acme Games");
    let shown: Value = app.get_json("/api/v1/modules/shown", &ada).await;
    assert_eq!(shown["display_name"], "Shown");
    for gone in ["/api/v1/publishers/other", "/api/v1/modules/other-mod"] {
        let resp = app.get(gone).bearer_auth(&ada).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{gone}");
    }
}

/// An upload the route alone shows to be refused is answered before its body is read: the
/// client waits on `Expect: 100-continue` and never sends a byte.
#[tokio::test]
async fn uploads_the_caller_may_not_make_are_refused_before_the_body() {
    let app = TestApp::builder()
        .env("SOUK_HTTP_REQUEST_TIMEOUT_SECS", "60")
        .start()
        .await
        .unwrap();
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    published(&app, &ada, "market", "1.0.0").await;
    let eve = publisher_owner(&app, "eve@example.com", "evil").await;
    let nobody = app.signed_up("nobody@example.com").await;
    for (token, name, status) in [
        // Another publisher's module.
        (&eve, "market", "403"),
        // A new name, by someone who belongs to no publisher.
        (&nobody, "brand-new", "403"),
    ] {
        let head = format!(
            "POST /api/v1/modules/{name}/versions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/octet-stream\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n"
        );
        let answer = crate::api_conventions::declare_and_wait(&app, &head).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{name}: {answer}"
        );
        assert!(answer.contains(r#""code":"forbidden""#), "{name}: {answer}");
    }
    // Nothing was published either.
    let resp = app.get("/api/v1/modules/brand-new").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// Concurrent uploads of the same bytes as the same version: one is published, the others are
/// 409, and the published one's blob is always there to download (a refused upload never
/// removes a blob another upload recorded).
#[tokio::test]
async fn concurrent_uploads_of_the_same_bytes_never_lose_the_recorded_blob() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    for round in 0..5 {
        let version = format!("1.0.{round}");
        let bytes = package("twin", &version, "acme", &[]);
        let send = || {
            app.post("/api/v1/modules/twin/versions")
                .bearer_auth(&ada)
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .body(bytes.clone())
                .send()
        };
        let answers = futures_util::future::join_all((0..4).map(|_| send())).await;
        let statuses: Vec<StatusCode> = answers
            .iter()
            .map(|r| r.as_ref().unwrap().status())
            .collect();
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CREATED)
                .count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
            "{statuses:?}"
        );
        app.settle().await;
        let resp = app
            .get(&format!("/api/v1/modules/twin/versions/{version}/download"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "round {round}");
        assert_eq!(resp.bytes().await.unwrap().as_ref(), bytes.as_slice());
    }
}

/// The sweep removes leftover staged uploads, partly written blob files and blobs no row refers
/// to, and keeps every blob a version or an image refers to.
#[tokio::test]
async fn the_sweep_removes_leftovers_and_keeps_what_rows_refer_to() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    published(&app, &ada, "kept", "1.0.0").await;
    let resp = app
        .client
        .put(app.url("/api/v1/modules/kept/icon"))
        .bearer_auth(&ada)
        .body(crate::packages::PNG_1X1.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (packages_before, _) = stored_files(&app);
    // What a crash leaves: a staged upload, a partly written blob, a blob with no row.
    let data = app.dir.path();
    std::fs::write(data.join("tmp/upload-crashed"), b"half an upload").unwrap();
    let orphan = "ab".repeat(32);
    std::fs::create_dir_all(data.join("blobs/packages/ab")).unwrap();
    std::fs::write(data.join(format!("blobs/packages/ab/{orphan}")), b"no row").unwrap();
    std::fs::write(
        data.join(format!("blobs/packages/ab/{orphan}#3")),
        b"partial",
    )
    .unwrap();
    std::fs::create_dir_all(data.join("blobs/images/cd")).unwrap();
    std::fs::write(
        data.join(format!("blobs/images/cd/{}", "cd".repeat(32))),
        b"no row",
    )
    .unwrap();
    // Within the grace period nothing young is touched.
    let blobs = app.state.catalog.blobs();
    assert_eq!(
        blobs
            .sweep(&app.store, std::time::Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        blobs
            .sweep(&app.store, std::time::Duration::ZERO)
            .await
            .unwrap(),
        4
    );
    assert_eq!(stored_files(&app), (packages_before, 0));
    assert!(
        !data
            .join("blobs/images/cd")
            .read_dir()
            .unwrap()
            .any(|_| true)
    );
    // What rows refer to is still served.
    let resp = app
        .get("/api/v1/modules/kept/versions/1.0.0/download")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let module: Value = app.get_json("/api/v1/modules/kept", &ada).await;
    let icon = module["icon_url"].as_str().expect("an icon url");
    let resp = app.get(icon).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

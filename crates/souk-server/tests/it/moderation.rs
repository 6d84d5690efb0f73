//! Moderation over HTTP: what the automated checks find in uploads (leaked credentials, native
//! code, an external scanner with ClamAV and the EICAR file, look-alike names), scanners that
//! fail or hang, the review policy, and the moderators' decisions with their 409 and 403 rules.

use crate::catalog::{publisher_owner, upload};
use crate::packages::{Entry, manifest, package, tar_gz};
use crate::{TestApp, envelope};
use reqwest::StatusCode;
use serde_json::{Value, json};
use souk_core::Role;

/// A package of `name` 0.1.0 by `acme` with extra files.
fn package_with(name: &str, version: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    let m = manifest(name, version, "acme", &[]);
    let mut entries = vec![Entry::File("souk.toml", m.as_bytes())];
    entries.extend(files.iter().map(|(p, d)| Entry::File(p, d)));
    tar_gz(&entries)
}

async fn checks(app: &TestApp, token: &str, name: &str, version: &str) -> Value {
    app.get_json(
        &format!("/api/v1/modules/{name}/versions/{version}/checks"),
        token,
    )
    .await
}

/// The findings of a checks answer as `(rule, severity, path, line, column)`.
fn findings(checks: &Value) -> Vec<(String, String, String, u64, u64)> {
    checks["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn anonymous_download(app: &TestApp, name: &str, version: &str) -> StatusCode {
    app.get(&format!(
        "/api/v1/modules/{name}/versions/{version}/download"
    ))
    .send()
    .await
    .unwrap()
    .status()
}

// Credential shapes are assembled with `concat!` so that this file does not itself hold one.
const CREDENTIALS: &[(&str, &str, &str)] = &[
    (
        "aws.env",
        concat!("AKIA", "Z7Q3K5W2M4N6P8R0"),
        "secret.aws-access-key-id",
    ),
    (
        "stripe.env",
        concat!("sk_", "live_", "51HqLyjWDarjtT1zdp7dcXyz"),
        "secret.stripe-secret-key",
    ),
    (
        "stripe_hook.env",
        concat!("whsec_", "abcdefghijklmnopqrstuvwxyz012345"),
        "secret.stripe-webhook-secret",
    ),
    (
        "github.env",
        concat!("ghp_", "abcdefghijklmnopqrstuvwxyz0123456789"),
        "secret.github-token",
    ),
    (
        "slack.env",
        concat!(
            "xoxb-",
            "123456789012-1234567890123-abcdefghijklmnopqrstuvwx"
        ),
        "secret.slack-token",
    ),
    (
        "google.env",
        concat!("AIza", "SyA-1234567890abcdefghijklmnopqrstu"),
        "secret.google-api-key",
    ),
    (
        "npm.env",
        concat!("npm_", "abcdefghijklmnopqrstuvwxyz0123456789"),
        "secret.npm-token",
    ),
];

#[tokio::test]
async fn leaked_credentials_hold_a_version_back_with_rule_and_place() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let files: Vec<(String, String)> = CREDENTIALS
        .iter()
        .map(|(file, secret, _)| {
            (
                format!("config/{file}"),
                format!("# settings\nKEY={secret}\n"),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_bytes()))
        .collect();
    let resp = upload(
        &app,
        &ada,
        "leaky",
        package_with("leaky", "0.1.0", &borrowed),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["status"], "pending_checks",
        "the upload answers at once"
    );

    let c = checks(&app, &ada, "leaky", "0.1.0").await;
    assert_eq!(c["status"], "pending_review", "{c}");
    let found = findings(&c);
    for (file, secret, rule) in CREDENTIALS {
        let at = (
            rule.to_string(),
            "error".to_owned(),
            format!("config/{file}"),
            2,
            5,
        );
        assert!(found.contains(&at), "{rule} in {file}: {found:?}");
        // The message names the kind of credential but never repeats it.
        let text = c.to_string();
        assert!(!text.contains(&secret[secret.len() - 10..]), "{text}");
    }
    assert_eq!(
        anonymous_download(&app, "leaky", "0.1.0").await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_private_key_block_holds_a_version_back() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let key = format!(
        "{}OPENSSH PRIVATE KEY-----\n{}{}OPENSSH PRIVATE KEY-----\n",
        "-----BEGIN ",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n".repeat(3),
        "-----END "
    );
    let pkg = package_with(
        "keyed",
        "0.1.0",
        &[
            ("README.md", b"# keyed\n"),
            ("deploy/id_ed25519", key.as_bytes()),
        ],
    );
    upload(&app, &ada, "keyed", pkg).await;
    let c = checks(&app, &ada, "keyed", "0.1.0").await;
    assert_eq!(c["status"], "pending_review");
    assert_eq!(
        findings(&c),
        [(
            "secret.private-key".to_owned(),
            "error".to_owned(),
            "deploy/id_ed25519".to_owned(),
            1,
            1
        )]
    );
}

#[tokio::test]
async fn native_code_is_flagged_or_forbidden_as_the_policy_says() {
    let elf: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0binary";
    for (policy, severity) in [("flag", "warning"), ("forbid", "error")] {
        let app = TestApp::builder()
            .env("SOUK_MODERATION_NATIVE_CODE", policy)
            .start()
            .await
            .unwrap();
        let ada = publisher_owner(&app, "ada@example.com", "acme").await;
        upload(
            &app,
            &ada,
            "native",
            package_with("native", "0.1.0", &[("bin/helper", elf)]),
        )
        .await;
        let c = checks(&app, &ada, "native", "0.1.0").await;
        // Under the tests' review policy, `none`, only an error holds a version back.
        let expected = if severity == "error" {
            "pending_review"
        } else {
            "published"
        };
        assert_eq!(c["status"], expected, "{policy}: {c}");
        assert_eq!(
            findings(&c),
            [(
                "filetype.native-executable".to_owned(),
                severity.to_owned(),
                "bin/helper".to_owned(),
                0,
                0
            )],
            "{policy}"
        );
    }

    // Under the default policy, a warning sends the version to a moderator.
    let app = TestApp::builder()
        .env("SOUK_REVIEW_POLICY", "new-publishers")
        .start()
        .await
        .unwrap();
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let admin = app.staff("root@example.com", Role::Admin).await;
    let resp = app
        .post_json_as("/api/v1/admin/publishers/acme/verify", &admin, &json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    upload(&app, &ada, "clean", package("clean", "0.1.0", "acme", &[])).await;
    assert_eq!(
        checks(&app, &ada, "clean", "0.1.0").await["status"],
        "published",
        "a verified publisher's clean version is published at once"
    );
    upload(
        &app,
        &ada,
        "native",
        package_with("native", "0.1.0", &[("bin/helper", elf)]),
    )
    .await;
    let c = checks(&app, &ada, "native", "0.1.0").await;
    assert_eq!(c["status"], "pending_review", "{c}");
}

#[tokio::test]
async fn forbidden_extensions_are_errors() {
    let app = TestApp::builder()
        .env("SOUK_MODERATION_FORBIDDEN_EXTENSIONS", "bat, .ps1")
        .start()
        .await
        .unwrap();
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    upload(
        &app,
        &ada,
        "scripted",
        package_with(
            "scripted",
            "0.1.0",
            &[("tools/Setup.PS1", b"Write-Host hi")],
        ),
    )
    .await;
    let c = checks(&app, &ada, "scripted", "0.1.0").await;
    assert_eq!(c["status"], "pending_review");
    assert_eq!(findings(&c)[0].0, "filetype.forbidden-extension", "{c}");
}

/// EICAR's standard antivirus test file, assembled so that this source is not itself one.
fn eicar() -> Vec<u8> {
    [
        "X5O!P%@AP[4\\PZX54(P^)7CC)7}$",
        "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
    ]
    .concat()
    .into_bytes()
}

fn clamscan_available() -> bool {
    let found = std::process::Command::new("clamscan")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("SOUK_TEST_REQUIRE_ALL").is_none(),
            "clamscan is not installed (apt-get install clamav)"
        );
        eprintln!("skipped the ClamAV check: clamscan is not installed");
    }
    found
}

/// A ClamAV signature database that knows the EICAR file by its SHA-256 and size (the official
/// databases come from ClamAV's mirrors, which this machine cannot reach; the scanner and the
/// way Souk runs it are the same).
fn eicar_database(dir: &std::path::Path) -> std::path::PathBuf {
    let body = eicar();
    let db = dir.join("eicar.hsb");
    std::fs::write(
        &db,
        format!(
            "{}:{}:Souk.Test.EICAR\n",
            crate::packages::sha256_hex(&body),
            body.len()
        ),
    )
    .unwrap();
    db
}

#[tokio::test]
async fn clamav_finds_the_eicar_file_and_passes_a_clean_package() {
    if !clamscan_available() {
        return;
    }
    let dbdir = tempfile::tempdir().unwrap();
    let db = eicar_database(dbdir.path());
    let scanners = format!(
        "clamav=clamscan --no-summary --stdout -d {} {{}}",
        db.display()
    );
    for format in ["tar.gz", "zip"] {
        let app = TestApp::builder()
            .env("SOUK_MODERATION_SCANNERS", &scanners)
            .start()
            .await
            .unwrap();
        let ada = publisher_owner(&app, "ada@example.com", "acme").await;
        upload(&app, &ada, "clean", package("clean", "0.1.0", "acme", &[])).await;
        let c = checks(&app, &ada, "clean", "0.1.0").await;
        assert_eq!(c["status"], "published", "{format}: {c}");
        assert!(findings(&c).is_empty());

        let m = manifest("infected", "0.1.0", "acme", &[]);
        let body = eicar();
        let pkg = if format == "zip" {
            crate::packages::zip_package(&[("souk.toml", m.as_bytes()), ("assets/test.com", &body)])
        } else {
            tar_gz(&[
                Entry::File("souk.toml", m.as_bytes()),
                Entry::File("assets/test.com", &body),
            ])
        };
        upload(&app, &ada, "infected", pkg).await;
        let c = checks(&app, &ada, "infected", "0.1.0").await;
        assert_eq!(c["status"], "pending_review", "{format}: {c}");
        let f = &c["findings"][0];
        assert_eq!(f["rule"], "scanner.found", "{c}");
        assert_eq!(f["severity"], "error");
        let message = f["message"].as_str().unwrap();
        assert!(
            message.contains("clamav found") && message.contains("Souk.Test.EICAR"),
            "{message}"
        );
        assert!(
            !message.contains("/tmp"),
            "no server paths in findings: {message}"
        );
        assert_eq!(
            anonymous_download(&app, "infected", "0.1.0").await,
            StatusCode::NOT_FOUND
        );
    }
}

/// Whether process `pid` has ended (gone, or a zombie waiting to be reaped), within 5 s.
async fn stopped(pid: &str) -> bool {
    for _ in 0..50 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat) => {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                if state.starts_with('Z') {
                    return true;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_scanner_that_hangs_or_crashes_never_lets_a_version_through() {
    let dir = tempfile::tempdir().unwrap();
    let script = |name: &str, body: &str| {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    };
    // The hanging scanner starts a process of its own too; both must be stopped.
    let pids = dir.path().join("pids");
    let hang = script(
        "hang.sh",
        &format!("sleep 30 &\necho $$ $! > {}\nwait", pids.display()),
    );
    let crash = script("crash.sh", "echo 'database is broken' >&2\nexit 2");
    let cases = [
        (
            &*format!("hang={}", hang.display()),
            "did not finish within 1 s",
        ),
        (
            &*format!("broken={}", crash.display()),
            "failed with exit code 2: database is broken",
        ),
        ("missing=/nonexistent/scanner", "could not start"),
    ];
    for (scanner, said) in cases {
        let app = TestApp::builder()
            .env("SOUK_MODERATION_SCANNERS", scanner)
            .env("SOUK_MODERATION_SCANNER_TIMEOUT_SECS", "1")
            .env("SOUK_MODERATION_CHECK_ATTEMPTS", "2")
            .env("SOUK_MODERATION_CHECK_RETRY_SECS", "1")
            .start()
            .await
            .unwrap();
        let ada = publisher_owner(&app, "ada@example.com", "acme").await;
        upload(
            &app,
            &ada,
            "guarded",
            package("guarded", "0.1.0", "acme", &[]),
        )
        .await;
        if scanner.starts_with("hang=") {
            let text = std::fs::read_to_string(&pids).unwrap();
            for pid in text.split_whitespace() {
                assert!(
                    stopped(pid).await,
                    "process {pid} of the scanner still runs"
                );
            }
        }
        let c = checks(&app, &ada, "guarded", "0.1.0").await;
        assert_eq!(c["status"], "pending_checks", "{scanner}: {c}");
        let f = &c["findings"][0];
        assert_eq!(f["rule"], "scanner.error", "{c}");
        assert!(f["message"].as_str().unwrap().contains(said), "{c}");
        assert_eq!(c["job"]["attempts"], 1, "{c}");
        assert!(c["job"]["last_error"].as_str().unwrap().contains(said));
        assert_eq!(
            anonymous_download(&app, "guarded", "0.1.0").await,
            StatusCode::NOT_FOUND
        );

        // The retry fails the same way; after the last attempt the version waits for a rescan
        // and its publisher is told.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        app.settle().await;
        let c = checks(&app, &ada, "guarded", "0.1.0").await;
        assert_eq!(c["status"], "pending_checks", "{c}");
        // No more retries: the job is parked as dead, where administrators see it.
        assert_eq!(c["job"]["status"], "dead", "{c}");
        assert_eq!(c["job"]["attempts"], 2, "{c}");
        let notices = app.get_json("/api/v1/publishers/acme/messages", &ada).await;
        assert!(
            notices["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["kind"] == "checks_failed"),
            "{notices}"
        );
        // And the audit log has it, as the system's doing.
        let admin = app.staff("root@example.com", Role::Admin).await;
        let log = app
            .get_json("/api/v1/admin/audit?action=version.checks_failed", &admin)
            .await;
        let entry = &log["items"][0];
        assert_eq!(entry["target"], "guarded@0.1.0", "{log}");
        assert_eq!(entry["actor"], "system");
        assert_eq!(entry["after"]["attempts"], 2, "{log}");
        assert!(entry["after"]["error"].as_str().unwrap().contains(said));
    }
}

#[tokio::test]
async fn a_look_alike_of_a_popular_name_goes_to_review() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    upload(
        &app,
        &ada,
        "worldedit",
        package("worldedit", "1.0.0", "acme", &[]),
    )
    .await;
    assert_eq!(
        checks(&app, &ada, "worldedit", "1.0.0").await["status"],
        "published"
    );
    let eve = publisher_owner(&app, "eve@example.com", "evil").await;
    for name in ["world-edit", "wor1dedit", "worldedlt"] {
        let m = manifest(name, "1.0.0", "evil", &[]);
        upload(
            &app,
            &eve,
            name,
            tar_gz(&[Entry::File("souk.toml", m.as_bytes())]),
        )
        .await;
        let c = checks(&app, &eve, name, "1.0.0").await;
        assert_eq!(c["status"], "pending_review", "{name}: {c}");
        let f = &c["findings"][0];
        assert_eq!(f["rule"], "name.lookalike", "{name}: {c}");
        assert!(f["message"].as_str().unwrap().contains("`worldedit`"));
    }
    // A name that is merely different is not held back.
    let m = manifest("skyblock", "1.0.0", "evil", &[]);
    upload(
        &app,
        &eve,
        "skyblock",
        tar_gz(&[Entry::File("souk.toml", m.as_bytes())]),
    )
    .await;
    assert_eq!(
        checks(&app, &eve, "skyblock", "1.0.0").await["status"],
        "published"
    );
}

async fn moderators_decide(owned: TestApp) {
    let app = &owned;
    let ada = publisher_owner(app, "ada@example.com", "acme").await;
    let moderator = app.staff("mod@example.com", Role::Moderator).await;
    let admin = app.staff("root@example.com", Role::Admin).await;
    upload(app, &ada, "shop", package("shop", "1.0.0", "acme", &[])).await;
    assert_eq!(
        checks(app, &ada, "shop", "1.0.0").await["status"],
        "pending_review",
        "an unverified publisher's first version waits for a moderator"
    );
    let queue = app.get_json("/api/v1/admin/queue", &moderator).await;
    assert_eq!(queue["items"][0]["name"], "shop", "{queue}");

    let act = move |who: &str, what: &str, body: Value| {
        let path = format!("/api/v1/admin/modules/shop/versions/1.0.0/{what}");
        let who = who.to_owned();
        async move { app.post_json_as(&path, &who, &body).await }
    };

    // Not staff: 403; the publisher itself cannot approve its own version either.
    let (code, _) = envelope(act(&ada, "approve", json!({})).await, StatusCode::FORBIDDEN).await;
    assert_eq!(code, "forbidden");
    // Rights come before the reason: no hint to outsiders about what a decision needs.
    let (code, _) = envelope(
        act(&ada, "reject", json!({ "reason": "" })).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code, "forbidden");
    // A rejection needs a reason; nothing changes without one.
    let (code, details) = envelope(
        act(&moderator, "reject", json!({ "reason": "  " })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        (code.as_str(), &details["field"]),
        ("invalid_reason", &json!("reason"))
    );
    assert_eq!(
        checks(app, &ada, "shop", "1.0.0").await["status"],
        "pending_review"
    );

    let resp = act(&moderator, "approve", json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["status"], "published");
    assert_eq!(
        anonymous_download(app, "shop", "1.0.0").await,
        StatusCode::OK
    );
    // Approving what is not pending: 409, and nothing changes.
    let (code, details) = envelope(
        act(&moderator, "approve", json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code, "conflict");
    assert_eq!(details["field"], "status");
    let (_, _) = envelope(
        act(&moderator, "reject", json!({ "reason": "late" })).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        checks(app, &ada, "shop", "1.0.0").await["status"],
        "published"
    );

    // Quarantine pulls it: hidden from search, downloads refused; release brings it back.
    let resp = act(
        &moderator,
        "quarantine",
        json!({ "reason": "reported as malware" }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ne!(
        anonymous_download(app, "shop", "1.0.0").await,
        StatusCode::OK
    );
    app.settle().await;
    let found = app.get("/api/v1/search?q=shop").send().await.unwrap();
    let found: Value = found.json().await.unwrap();
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["name"] != "shop"),
        "{found}"
    );
    let resp = act(&moderator, "release", json!({})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        anonymous_download(app, "shop", "1.0.0").await,
        StatusCode::OK
    );

    // A moderator who belongs to the publisher may not decide on its versions.
    let resp = app
        .post_json_as(
            "/api/v1/publishers/acme/members",
            &ada,
            &json!({ "email": "mod@example.com", "role": "maintainer" }),
        )
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let m = manifest("shop", "1.1.0", "acme", &[]);
    upload(
        app,
        &ada,
        "shop",
        tar_gz(&[
            Entry::File("souk.toml", m.as_bytes()),
            Entry::File("x", &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]),
        ]),
    )
    .await;
    let v = "/api/v1/admin/modules/shop/versions/1.1.0/approve";
    let (code, _) = envelope(
        app.post_json_as(v, &moderator, &json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code, "own_publisher");
    assert_eq!(
        checks(app, &ada, "shop", "1.1.0").await["status"],
        "pending_review"
    );
    // The rejection and its reason reach the publisher.
    let resp = app
        .post_json_as(
            "/api/v1/admin/modules/shop/versions/1.1.0/reject",
            &admin,
            &json!({ "reason": "native code is not allowed here" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let c = checks(app, &ada, "shop", "1.1.0").await;
    assert_eq!(c["status"], "rejected");
    assert_eq!(c["status_reason"], "native code is not allowed here");

    // A suspended publisher cannot publish: 403, and nothing is stored.
    let resp = app
        .post_json_as(
            "/api/v1/admin/publishers/acme/suspend",
            &admin,
            &json!({ "reason": "chargebacks" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let before = crate::catalog::version_rows(app).await;
    let resp = upload(app, &ada, "shop", package("shop", "1.2.0", "acme", &[])).await;
    let (code, _) = envelope(resp, StatusCode::FORBIDDEN).await;
    assert_eq!(code, "publisher_suspended");
    assert_eq!(crate::catalog::version_rows(app).await, before);
}

#[tokio::test]
async fn moderators_decide_on_sqlite() {
    moderators_decide(
        TestApp::builder()
            .env("SOUK_REVIEW_POLICY", "new-publishers")
            .start()
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn moderators_decide_on_postgres() {
    if let Some(app) = TestApp::builder()
        .env("SOUK_REVIEW_POLICY", "new-publishers")
        .postgres()
        .start()
        .await
    {
        moderators_decide(app).await;
    }
}

#[tokio::test]
async fn a_rescan_never_undoes_a_rejection() {
    let app = TestApp::builder()
        .env("SOUK_REVIEW_POLICY", "new-publishers")
        .start()
        .await
        .unwrap();
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let moderator = app.staff("mod@example.com", Role::Moderator).await;
    let admin = app.staff("root@example.com", Role::Admin).await;
    upload(&app, &ada, "shop", package("shop", "1.0.0", "acme", &[])).await;
    let base = "/api/v1/modules/shop/versions/1.0.0";
    let decide = "/api/v1/admin/modules/shop/versions/1.0.0";
    let resp = app
        .post_json_as(
            &format!("{decide}/reject"),
            &moderator,
            &json!({ "reason": "spam" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    // The publisher may not rescan a rejected version: 409, and it stays rejected.
    let (code, _) = envelope(
        app.post_json_as(&format!("{base}/rescan"), &ada, &json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code, "conflict");
    app.settle().await;
    assert_eq!(
        checks(&app, &ada, "shop", "1.0.0").await["status"],
        "rejected"
    );

    // An appeal puts it back in review; even once the publisher is verified (so that clean
    // checks alone would publish it), a rescan leaves it for a moderator.
    let resp = app
        .post_json_as(
            &format!("{base}/appeal"),
            &ada,
            &json!({ "message": "It is not spam: see the README." }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .post_json_as("/api/v1/admin/publishers/acme/verify", &admin, &json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .post_json_as(&format!("{base}/rescan"), &ada, &json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    app.settle().await;
    let c = checks(&app, &ada, "shop", "1.0.0").await;
    assert_eq!(c["status"], "pending_review", "{c}");
    assert_eq!(
        c["status_reason"],
        "the publisher appealed a moderator's decision"
    );
    assert_eq!(
        anonymous_download(&app, "shop", "1.0.0").await,
        StatusCode::NOT_FOUND
    );

    // Staff may rescan a rejected version.
    let resp = app
        .post_json_as(
            &format!("{decide}/reject"),
            &moderator,
            &json!({ "reason": "spam" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .post_json_as(&format!("{base}/rescan"), &moderator, &json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(
        checks(&app, &ada, "shop", "1.0.0").await["status"],
        "pending_checks"
    );
}

#[tokio::test]
async fn the_queue_and_the_publisher_list_page_by_opaque_cursor() {
    let app = TestApp::builder()
        .env("SOUK_REVIEW_POLICY", "all")
        .start()
        .await
        .unwrap();
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    publisher_owner(&app, "bob@example.com", "bobs").await;
    publisher_owner(&app, "cy@example.com", "cys").await;
    let moderator = app.staff("mod@example.com", Role::Moderator).await;
    for name in ["alpha", "beta", "gamma"] {
        upload(&app, &ada, name, package(name, "1.0.0", "acme", &[])).await;
    }
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                i["name"]
                    .as_str()
                    .or(i["slug"].as_str())
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let first = app
        .get_json("/api/v1/admin/queue?limit=2", &moderator)
        .await;
    assert_eq!(names(&first), ["alpha", "beta"], "oldest first: {first}");
    let empty = app
        .get_json("/api/v1/admin/queue?limit=2&cursor=", &moderator)
        .await;
    assert_eq!(
        names(&empty),
        ["alpha", "beta"],
        "an empty cursor is the first page"
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app
        .get_json(
            &format!("/api/v1/admin/queue?limit=2&cursor={cursor}"),
            &moderator,
        )
        .await;
    assert_eq!(names(&rest), ["gamma"]);
    assert!(rest["next_cursor"].is_null(), "{rest}");

    let first = app
        .get_json("/api/v1/admin/publishers?limit=2", &moderator)
        .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2, "{first}");
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app
        .get_json(
            &format!("/api/v1/admin/publishers?limit=2&cursor={cursor}"),
            &moderator,
        )
        .await;
    let mut all = names(&first);
    all.extend(names(&rest));
    all.sort();
    assert_eq!(all, ["acme", "bobs", "cys"]);

    // Bad input: a cursor we did not issue is 400, an unknown state or limit 422.
    for (path, status, code) in [
        (
            "/api/v1/admin/queue?cursor=not-ours",
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
        ),
        (
            "/api/v1/admin/publishers?cursor=%7B",
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
        ),
        (
            "/api/v1/admin/queue?status=waiting",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_status",
        ),
        (
            "/api/v1/admin/queue?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_limit",
        ),
    ] {
        let resp = app.get(path).bearer_auth(&moderator).send().await.unwrap();
        let (got, _) = envelope(resp, status).await;
        assert_eq!(got, code, "{path}");
    }
    // Not staff: 403.
    let resp = app
        .get("/api/v1/admin/queue")
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::FORBIDDEN).await;
}

/// With a token, reading a version's checks and the publisher's notices needs `read`, and marking
/// notices read needs `publish`; the refused call changes nothing.
#[tokio::test]
async fn checks_and_notices_need_their_scopes_with_a_token() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    upload(
        &app,
        &ada,
        "scoped",
        package("scoped", "1.0.0", "acme", &[]),
    )
    .await;
    let token = |scopes: &[&str]| {
        let app = &app;
        let ada = ada.clone();
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        async move {
            let created: Value = app
                .post_json_as(
                    "/api/v1/tokens",
                    &ada,
                    &serde_json::json!({"name": "t", "scopes": scopes}),
                )
                .await
                .json()
                .await
                .unwrap();
            created["token"].as_str().unwrap().to_owned()
        }
    };
    let publish_only = token(&["publish"]).await;
    let read_only = token(&["read"]).await;
    for path in [
        "/api/v1/modules/scoped/versions/1.0.0/checks",
        "/api/v1/publishers/acme/messages",
    ] {
        let resp = app
            .get(path)
            .bearer_auth(&publish_only)
            .send()
            .await
            .unwrap();
        envelope(resp, StatusCode::FORBIDDEN).await;
        let resp = app.get(path).bearer_auth(&read_only).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
    let notices = app.get_json("/api/v1/publishers/acme/messages", &ada).await;
    let unread = notices["unread"].clone();
    let newest = notices["items"][0]["id"].as_i64().unwrap();
    let resp = app
        .post_json_as(
            "/api/v1/publishers/acme/messages/read",
            &read_only,
            &serde_json::json!({"up_to": newest}),
        )
        .await;
    envelope(resp, StatusCode::FORBIDDEN).await;
    let after = app.get_json("/api/v1/publishers/acme/messages", &ada).await;
    assert_eq!(after["unread"], unread);
    let resp = app
        .post_json_as(
            "/api/v1/publishers/acme/messages/read",
            &publish_only,
            &serde_json::json!({"up_to": newest}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let after = app.get_json("/api/v1/publishers/acme/messages", &ada).await;
    assert_eq!(after["unread"], 0);
}

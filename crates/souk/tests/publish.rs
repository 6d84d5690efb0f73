//! End to end: a module author's round trip with the `souk` binary against a real `souk serve`:
//! log in, scaffold, pack, publish (a folder and an archive), look the module up, download it
//! and check its bytes, yank and unyank; and the failures a person meets on the way, each one
//! `error:` line with exit code 1. A small fake marketplace shows that a package whose SHA-256
//! does not match what the marketplace recorded is refused and leaves no file behind.

#[path = "common/author.rs"]
mod author;
mod common;
#[path = "common/run.rs"]
mod run;

use author::author_with_publisher;
use common::{PASSWORD, Server, free_port, souk};
use run::{ok, refused, stderr, stdout};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `souk args`, expecting a refusal (exit 1, one `error:` line); that line.
fn fails(cmd: Command, args: &[&str]) -> String {
    refused(cmd, args, 1).0
}

const EMAIL: &str = "author@example.com";

/// `souk serve` on a free port with its data in `data`, started from `root`.
async fn serve(root: &Path, data: &Path) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = souk(root);
    cmd.args([
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        &addr,
    ]);
    Server::start(cmd, &addr).await
}

fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

#[tokio::test]
async fn publish_info_download_and_yank_against_a_real_marketplace() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let work = root.path().join("work");
    let config = root.path().join("config");
    std::fs::create_dir_all(&work).unwrap();
    let server = serve(root.path(), &data).await;
    let base = server.base.clone();
    let token = author_with_publisher(&base).await;

    // Every client command runs with its own configuration folder.
    let client = || {
        let mut cmd = souk(&work);
        cmd.env("SOUK_CONFIG_HOME", &config);
        cmd
    };

    // Not logged in yet: publishing says so before uploading anything.
    let init = ok(client(), &["init", "economy", "--publisher", "acme"]);
    assert!(init.starts_with("created module economy"), "{init}");
    let e = fails(client(), &["publish", "economy", "--registry", &base]);
    assert!(
        e.starts_with(&format!("error: not logged in to {base}: run `souk login`")),
        "{e}"
    );

    // A wrong password, then the right one, from standard input.
    let login = |password: &str| {
        let mut child = client()
            .args([
                "login",
                "--registry",
                &base,
                "--email",
                EMAIL,
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let wrong = login("not the password at all");
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(
        stderr(&wrong).trim(),
        format!("error: {base} refused the sign-in: wrong email or password")
    );
    assert!(!config.join("credentials.toml").exists());
    let right = login(PASSWORD);
    assert!(right.status.success(), "{}", stderr(&right));
    let said = stdout(&right);
    assert!(
        said.starts_with(&format!("logged in to {base} as author ({EMAIL})\n")),
        "{said}"
    );
    let credentials = config.join("credentials.toml");
    let stored = std::fs::read_to_string(&credentials).unwrap();
    assert!(
        stored.contains(&format!("registry = \"{base}\"")),
        "{stored}"
    );
    assert!(stored.contains("token = \"souk_"), "{stored}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&credentials)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "credentials are private: {mode:o}");
        let mode = std::fs::metadata(&config).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    }

    // Pack, then publish the folder with the stored login: the same bytes reach the marketplace.
    ok(client(), &["pack", "economy", "-o", "economy.tar.gz"]);
    let packed = sha256_of(&work.join("economy.tar.gz"));
    let size = std::fs::metadata(work.join("economy.tar.gz"))
        .unwrap()
        .len();
    let out = ok(client(), &["publish", "economy"]);
    // The upload is accepted, then `publish` waits for the marketplace's checks.
    assert_eq!(
        out.trim(),
        format!(
            "uploaded economy 0.1.0 (sha256 {packed}, {size} bytes)\n\
             the marketplace's automated checks are running...\n\
             published economy 0.1.0"
        )
    );
    let recorded: Value = reqwest::get(format!("{base}/api/v1/modules/economy/versions/0.1.0"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(recorded["sha256"], packed.as_str());

    let info = ok(client(), &["info", "economy"]);
    for line in [
        "name:         economy",
        "publisher:    acme (Acme Games)",
        "latest:       0.1.0",
        "downloads:    0",
    ] {
        assert!(info.contains(line), "{line:?} in {info}");
    }
    assert!(info.contains("\n  0.1.0  "), "{info}");
    assert!(!info.contains("yanked"), "{info}");
    let json: Value = serde_json::from_str(&ok(client(), &["info", "economy", "--json"])).unwrap();
    assert_eq!(json["name"], "economy");
    assert_eq!(json["versions"][0]["sha256"], packed.as_str());

    // Download by exact version to a chosen file: the bytes published, checked.
    let out = ok(
        client(),
        &["download", "economy@0.1.0", "-o", "fetched.tar.gz"],
    );
    assert_eq!(
        out.trim(),
        format!("downloaded economy 0.1.0 to fetched.tar.gz (sha256 {packed}, {size} bytes)")
    );
    assert_eq!(sha256_of(&work.join("fetched.tar.gz")), packed);

    // Publishing the same version again: refused with the marketplace's reason, on one line.
    let e = fails(client(), &["publish", "economy"]);
    assert_eq!(
        e,
        "error: 409 conflict: economy 0.1.0 is already published; versions are immutable, \
         publish a new one (field: version)"
    );

    // A new version as an archive, with the registry and token as flags: streamed from disk.
    let manifest = work.join("economy/souk.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("version = \"0.1.0\"", "version = \"0.2.0\""),
    )
    .unwrap();
    ok(client(), &["pack", "economy", "-o", "economy-next.tar.gz"]);
    let next = sha256_of(&work.join("economy-next.tar.gz"));
    let out = ok(
        souk(&work),
        &[
            "publish",
            "economy-next.tar.gz",
            "--registry",
            &base,
            "--token",
            &token,
        ],
    );
    assert!(
        out.starts_with(&format!("uploaded economy 0.2.0 (sha256 {next}, "))
            && out.trim_end().ends_with("published economy 0.2.0"),
        "{out}"
    );

    // Yank 0.1.0 with the stored login; info marks it, with the reason.
    let out = ok(client(), &["yank", "economy@0.1.0", "--reason", "x"]);
    assert_eq!(out.trim(), "yanked economy 0.1.0: x");
    let info = ok(client(), &["info", "economy"]);
    assert!(info.contains("latest:       0.2.0"), "{info}");
    let yanked_line = info
        .lines()
        .find(|l| l.trim_start().starts_with("0.1.0 "))
        .unwrap();
    assert!(yanked_line.ends_with("yanked: x"), "{info}");

    // Without a version, download takes the latest, named as the marketplace names it.
    let out = ok(client(), &["download", "economy"]);
    assert!(
        out.starts_with("downloaded economy 0.2.0 to economy-0.2.0.tar.gz"),
        "{out}"
    );
    assert_eq!(sha256_of(&work.join("economy-0.2.0.tar.gz")), next);
    // A yanked version is still there by its exact version, here into a folder.
    std::fs::create_dir(work.join("into")).unwrap();
    ok(client(), &["download", "economy@0.1.0", "-o", "into"]);
    assert_eq!(sha256_of(&work.join("into/economy-0.1.0.tar.gz")), packed);

    // Unyank through the environment variables instead of the stored login.
    let mut env_client = souk(&work);
    env_client
        .env("SOUK_REGISTRY", &base)
        .env("SOUK_TOKEN", &token);
    let out = ok(env_client, &["unyank", "economy@0.1.0"]);
    assert_eq!(out.trim(), "unyanked economy 0.1.0");
    assert!(!ok(client(), &["info", "economy"]).contains("yanked"));

    // Unknown module, unknown version, a version where none is allowed, a bad token.
    let e = fails(client(), &["download", "no-such-module"]);
    assert_eq!(e, "error: 404 not_found: module no-such-module not found");
    let e = fails(
        client(),
        &["download", "economy@9.9.9", "-o", "nine.tar.gz"],
    );
    assert_eq!(e, "error: 404 not_found: economy 9.9.9 not found");
    assert!(!work.join("nine.tar.gz").exists());
    let e = fails(client(), &["info", "economy@0.1.0"]);
    assert!(e.contains("give economy, without @0.1.0"), "{e}");
    let e = fails(
        souk(&work),
        &[
            "yank",
            "economy@0.2.0",
            "--reason",
            "x",
            "--registry",
            &base,
            "--token",
            "souk_pat_wrong",
        ],
    );
    assert!(e.starts_with("error: 401 unauthorized: "), "{e}");

    // A broken credentials file is named by the commands that read it, and replaced by a login.
    std::fs::write(&credentials, "registry = [\n").unwrap();
    let e = fails(client(), &["info", "economy"]);
    assert!(
        e.contains("credentials.toml: ") && e.contains("run `souk login` again"),
        "{e}"
    );
    assert!(login(PASSWORD).status.success());
    assert!(ok(client(), &["info", "economy"]).contains("latest:       0.2.0"));

    // No temporary file is left anywhere.
    let leftovers: Vec<String> = std::fs::read_dir(&work)
        .unwrap()
        .chain(std::fs::read_dir(&config).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn an_unreachable_registry_is_one_line() {
    let work = tempfile::tempdir().unwrap();
    let base = format!("http://127.0.0.1:{}", free_port());
    let e = fails(souk(work.path()), &["info", "economy", "--registry", &base]);
    assert!(
        e.starts_with(&format!("error: cannot reach {base}: ")),
        "{e}"
    );
    let e = fails(
        souk(work.path()),
        &["info", "economy", "--registry", "ftp://x"],
    );
    assert!(e.contains("is not a registry URL"), "{e}");
}

/// A marketplace that records `recorded` as the SHA-256 of version 1.0.0 of `fake` but serves
/// `body`; answers every connection once with `Connection: close`. Its base URL.
fn fake_marketplace(recorded: String, body: &'static [u8]) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head);
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let (content_type, answer): (&str, Vec<u8>) = match path.as_str() {
                "/api/v1/modules/fake/versions/1.0.0" => (
                    "application/json",
                    json!({
                        "name": "fake", "version": "1.0.0", "sha256": recorded,
                        "size": body.len(), "format": "tar.gz"
                    })
                    .to_string()
                    .into_bytes(),
                ),
                "/api/v1/modules/fake/versions/1.0.0/download" => {
                    ("application/gzip", body.to_vec())
                }
                _ => continue,
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                 Content-Disposition: attachment; filename=\"fake-1.0.0.tar.gz\"\r\n\
                 Connection: close\r\n\r\n",
                answer.len()
            );
            let _ = stream.write_all(&answer);
        }
    });
    base
}

#[test]
fn a_checksum_mismatch_is_refused_and_leaves_no_file() {
    let body: &'static [u8] = b"these are not the bytes that were published";
    let recorded = "0".repeat(64);
    let base = fake_marketplace(recorded.clone(), body);
    let work = tempfile::tempdir().unwrap();
    let got = hex::encode(Sha256::digest(body));

    let e = fails(
        souk(work.path()),
        &[
            "download",
            "fake@1.0.0",
            "-o",
            "out.tar.gz",
            "--registry",
            &base,
        ],
    );
    assert_eq!(
        e,
        format!("error: checksum mismatch for fake 1.0.0: expected {recorded}, got {got}")
    );
    // Neither the file nor its temporary twin is left; the default name fares the same.
    let e = fails(
        souk(work.path()),
        &["download", "fake@1.0.0", "--registry", &base],
    );
    assert!(e.starts_with("error: checksum mismatch"), "{e}");
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);

    // The same marketplace telling the truth: the file is kept.
    let honest = fake_marketplace(got.clone(), body);
    let out = ok(
        souk(work.path()),
        &["download", "fake@1.0.0", "--registry", &honest],
    );
    assert!(
        out.starts_with(&format!(
            "downloaded fake 1.0.0 to fake-1.0.0.tar.gz (sha256 {got}"
        )),
        "{out}"
    );
    assert_eq!(
        std::fs::read(work.path().join("fake-1.0.0.tar.gz")).unwrap(),
        body
    );
}

#[tokio::test]
async fn publish_waits_for_the_checks_and_shows_what_holds_a_version_back() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let server = serve(root.path(), &data).await;
    let base = server.base.clone();
    let token = author_with_publisher(&base).await;
    let client = || souk(&work);
    ok(client(), &["init", "leaky", "--publisher", "acme"]);
    std::fs::create_dir_all(work.join("leaky/config")).unwrap();
    // Assembled so that this source holds no credential-shaped string.
    let key = concat!("AKIA", "Z7Q3K5W2M4N6P8R0");
    std::fs::write(
        work.join("leaky/config/aws.env"),
        format!("# deploy\nKEY={key}\n"),
    )
    .unwrap();

    // Even with review policy `none` (as the test server runs), an error holds the version back;
    // `publish` says which rule matched where, and that a moderator decides. Not an error of
    // the command: the upload worked.
    let out = ok(
        client(),
        &["publish", "leaky", "--registry", &base, "--token", &token],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("uploaded leaky 0.1.0 (sha256 "),
        "{out}"
    );
    assert_eq!(
        lines[1],
        "the marketplace's automated checks are running..."
    );
    assert!(
        lines[2].starts_with(
            "  error[secret.aws-access-key-id] config/aws.env:2:5: An AWS access key ID (AKIA…)"
        ),
        "{out}"
    );
    assert!(!out.contains(&key[4..]), "the key is never shown: {out}");
    assert_eq!(
        lines.last().unwrap(),
        &"leaky 0.1.0 waits for a moderator: the automated checks found problems that need a moderator"
    );

    // --no-wait answers as soon as the upload is accepted.
    let manifest = work.join("leaky/souk.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("version = \"0.1.0\"", "version = \"0.2.0\""),
    )
    .unwrap();
    let out = ok(
        client(),
        &[
            "publish",
            "leaky",
            "--no-wait",
            "--registry",
            &base,
            "--token",
            &token,
        ],
    );
    assert_eq!(
        out.lines().last().unwrap(),
        "status: pending_checks",
        "{out}"
    );
}

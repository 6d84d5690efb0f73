//! End to end: `souk verify` against a real `souk serve`. A published version verifies by name;
//! the file `souk download` wrote verifies offline with the registry's key and its `.minisig`
//! (no request: the registry given is unreachable), and Debian's `minisign` agrees. Then what
//! must fail, each with exit 1, one `error:` line and a check line saying what failed: one byte
//! changed, a signature by a key the registry does not have, forged and garbled signatures, a
//! genuine signature whose comment names another module, a blob changed in the server's storage
//! after publishing (the server refuses to serve it), and, with a small fake marketplace, a
//! version without a signature and a marketplace that serves other bytes than it signed.

#[path = "common/author.rs"]
mod author;
mod common;
#[path = "common/minisign.rs"]
mod minisign;
#[path = "common/run.rs"]
mod run;

use author::author_with_publisher;
use common::{Server, free_port, souk};
use minisign::minisign_available;
use run::{ok, refused, run, stderr, stdout};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use souk_core::signing::{SigningKey, sign};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `souk args`, expecting a refusal (exit 1, one `error:` line); that line and the
/// standard output (the check lines).
fn fails(cmd: Command, args: &[&str]) -> (String, String) {
    refused(cmd, args, 1)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn get_text(url: String) -> String {
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.text().await.unwrap()
}

fn serve(root: &Path, data: &Path) -> (Command, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = souk(root);
    cmd.args([
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        &addr,
    ]);
    (cmd, addr)
}

/// Flips one bit in the middle of a file.
fn flip_a_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// Where the server keeps a package blob: DATA_DIR/blobs/packages/AB/SHA256.
fn blob_path(data: &Path, sha256: &str) -> PathBuf {
    let path = data.join("blobs/packages").join(&sha256[..2]).join(sha256);
    assert!(path.is_file(), "no blob at {}", path.display());
    path
}

#[tokio::test]
async fn verify_published_versions_and_files_against_a_real_marketplace() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let (cmd, addr) = serve(root.path(), &data);
    let server = Server::start(cmd, &addr).await;
    let base = server.base.clone();
    let token = author_with_publisher(&base).await;
    let client = || souk(&work);
    // Nothing listens here: any request made through it fails the command.
    let unreachable = format!("http://127.0.0.1:{}", free_port());

    // Two versions of one module, published as archives.
    ok(client(), &["init", "economy", "--publisher", "acme"]);
    ok(client(), &["pack", "economy", "-o", "economy-0.1.0.tar.gz"]);
    let manifest = work.join("economy/souk.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("version = \"0.1.0\"", "version = \"0.2.0\""),
    )
    .unwrap();
    ok(client(), &["pack", "economy", "-o", "economy-0.2.0.tar.gz"]);
    for file in ["economy-0.1.0.tar.gz", "economy-0.2.0.tar.gz"] {
        ok(
            client(),
            &["publish", file, "--registry", &base, "--token", &token],
        );
    }
    let package = std::fs::read(work.join("economy-0.1.0.tar.gz")).unwrap();
    let sha = sha256_hex(&package);
    let size = package.len();
    let package_2 = std::fs::read(work.join("economy-0.2.0.tar.gz")).unwrap();
    let sha_2 = sha256_hex(&package_2);

    let keys: Value = serde_json::from_str(&get_text(format!("{base}/api/v1/keys")).await).unwrap();
    let key_id = keys["keys"][0]["id"].as_str().unwrap().to_owned();
    let key_line = keys["keys"][0]["minisign_public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let key_file = work.join("registry.pub");
    std::fs::write(
        &key_file,
        keys["keys"][0]["minisign_public_key_file"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let signature = get_text(format!(
        "{base}/api/v1/modules/economy/versions/0.1.0/signature"
    ))
    .await;
    let signature_2 = get_text(format!(
        "{base}/api/v1/modules/economy/versions/0.2.0/signature"
    ))
    .await;

    // 1. A published version, by name: every check passes.
    let out = ok(client(), &["verify", "economy@0.1.0", "--registry", &base]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(lines[0], format!("sha256 ok ({sha}, {size} bytes)"));
    assert!(
        lines[1].starts_with(&format!("registry signature ok (key {key_id}, signed 20")),
        "{out}"
    );
    assert_eq!(
        lines[2],
        "trusted comment ok (module=economy version=0.1.0 sha256 matches)"
    );
    assert_eq!(lines[3], "publisher signature: none");
    assert_eq!(lines[4], "verified economy 0.1.0");

    // 2. What `souk download` wrote, with the signature beside it: offline with the key (the
    //    registry given is unreachable, so any request would fail the command)...
    std::fs::create_dir(work.join("dl")).unwrap();
    ok(
        client(),
        &[
            "download",
            "economy@0.1.0",
            "-o",
            "dl/economy-0.1.0.tar.gz",
            "--registry",
            &base,
        ],
    );
    let downloaded = work.join("dl/economy-0.1.0.tar.gz");
    std::fs::write(work.join("dl/economy-0.1.0.tar.gz.minisig"), &signature).unwrap();
    let out = ok(
        client(),
        &[
            "verify",
            "dl/economy-0.1.0.tar.gz",
            "--public-key",
            &key_line,
            "--registry",
            &unreachable,
        ],
    );
    assert!(
        out.starts_with(&format!(
            "sha256 ok ({sha}, {size} bytes, as signed)\nregistry signature ok (key {key_id}, "
        )),
        "{out}"
    );
    assert!(
        out.ends_with(
            "trusted comment ok (module=economy version=0.1.0 sha256 matches)\n\
             publisher signature: none\n\
             verified dl/economy-0.1.0.tar.gz (economy 0.1.0)\n"
        ),
        "{out}"
    );
    // ...with a .pub file and an explicit --signature too...
    let out = ok(
        client(),
        &[
            "verify",
            "dl/economy-0.1.0.tar.gz",
            "--signature",
            "dl/economy-0.1.0.tar.gz.minisig",
            "--public-key-file",
            key_file.to_str().unwrap(),
            "--registry",
            &unreachable,
        ],
    );
    assert!(out.ends_with("(economy 0.1.0)\n"), "{out}");
    // ...and Debian's minisign agrees, with the key line and with the .pub file.
    let minisign = minisign_available();
    if minisign {
        for key_args in [
            vec!["-P", key_line.as_str()],
            vec!["-p", key_file.to_str().unwrap()],
        ] {
            let out = Command::new("minisign")
                .arg("-V")
                .args(&key_args)
                .arg("-m")
                .arg(&downloaded)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "minisign: {}{}",
                stdout(&out),
                stderr(&out)
            );
            let said = stdout(&out);
            assert!(
                said.contains(&format!(
                    "Trusted comment: souk module=economy version=0.1.0 sha256={sha} signed="
                )),
                "{said}"
            );
        }
    }

    // 3. A file without a signature beside it: the registry's, with its record of the SHA-256.
    std::fs::create_dir(work.join("nosig")).unwrap();
    std::fs::copy(&downloaded, work.join("nosig/economy-0.1.0.tar.gz")).unwrap();
    let out = ok(
        client(),
        &["verify", "nosig/economy-0.1.0.tar.gz", "--registry", &base],
    );
    assert!(
        out.starts_with(&format!("sha256 ok ({sha}, {size} bytes)\n")),
        "{out}"
    );
    // Unreachable, it says where it looked.
    let (e, _) = fails(
        client(),
        &[
            "verify",
            "nosig/economy-0.1.0.tar.gz",
            "--public-key",
            &key_line,
            "--registry",
            &unreachable,
        ],
    );
    assert!(
        e.contains("economy-0.1.0.tar.gz.minisig beside the package; asked")
            && e.contains(&format!("cannot reach {unreachable}")),
        "{e}"
    );

    // 4. One byte changed: the signature does not match; offline, nothing vouches for the hash.
    std::fs::create_dir(work.join("changed")).unwrap();
    let changed = work.join("changed/economy-0.1.0.tar.gz");
    std::fs::copy(&downloaded, &changed).unwrap();
    flip_a_byte(&changed);
    std::fs::write(
        work.join("changed/economy-0.1.0.tar.gz.minisig"),
        &signature,
    )
    .unwrap();
    let (e, out) = fails(
        client(),
        &[
            "verify",
            "changed/economy-0.1.0.tar.gz",
            "--public-key",
            &key_line,
            "--registry",
            &unreachable,
        ],
    );
    assert_eq!(
        e,
        "error: changed/economy-0.1.0.tar.gz did not verify: sha256 not checked, registry \
         signature failed, trusted comment not checked"
    );
    assert!(
        out.contains(
            "registry signature FAILED: the signature does not match the file [bad_signature]\n"
        ),
        "{out}"
    );
    // A --signature that is not there is an error before any check.
    let (e, out) = fails(
        client(),
        &[
            "verify",
            "changed/economy-0.1.0.tar.gz",
            "--signature",
            "/nonexistent/x.minisig",
            "--registry",
            &base,
        ],
    );
    assert!(
        e.starts_with("error: cannot read /nonexistent/x.minisig: "),
        "{e}"
    );
    assert!(out.is_empty(), "{out}");
    // Without a signature beside it, the registry is asked, and the SHA-256 fails against its
    // record.
    std::fs::remove_file(work.join("changed/economy-0.1.0.tar.gz.minisig")).unwrap();
    // (the flipped byte may break the gzip stream, so souk.toml cannot name the version: the
    // registry is then not asked, and the command says why)
    let out = run(
        client(),
        &[
            "verify",
            "changed/economy-0.1.0.tar.gz",
            "--registry",
            &base,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains(&format!(
            "sha256 FAILED: the registry recorded {sha} ({size} bytes)"
        )) || said.contains("cannot read the package's souk.toml"),
        "{said}"
    );
    if minisign {
        let out = Command::new("minisign")
            .args(["-V", "-P", &key_line, "-m"])
            .arg(&changed)
            .arg("-x")
            .arg(work.join("dl/economy-0.1.0.tar.gz.minisig"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "minisign accepted a changed file");
    }

    // 5. A signature by a key the registry does not have, over the right bytes and comment.
    std::fs::create_dir(work.join("other")).unwrap();
    std::fs::copy(&downloaded, work.join("other/economy-0.1.0.tar.gz")).unwrap();
    let other = SigningKey::generate();
    let comment =
        format!("souk module=economy version=0.1.0 sha256={sha} signed=2026-01-01T00:00:00Z");
    std::fs::write(
        work.join("other/economy-0.1.0.tar.gz.minisig"),
        sign(&other, &package, &comment).unwrap(),
    )
    .unwrap();
    let (e, out) = fails(
        client(),
        &["verify", "other/economy-0.1.0.tar.gz", "--registry", &base],
    );
    assert!(
        e.contains("did not verify: sha256 not checked, registry signature failed"),
        "{e}"
    );
    assert!(
        out.contains(&format!(
            "registry signature FAILED: made by key {}, which is not one of the registry's keys \
             ({base}/api/v1/keys) [unknown_signing_key]\n",
            other.id()
        )),
        "{out}"
    );
    let (_, out) = fails(
        client(),
        &[
            "verify",
            "other/economy-0.1.0.tar.gz",
            "--public-key",
            &key_line,
            "--registry",
            &unreachable,
        ],
    );
    assert!(
        out.contains(&format!(
            "made by key {}, not by the key given ({key_id}) [unknown_signing_key]",
            other.id()
        )),
        "{out}"
    );
    // Its own key accepts the signature; a genuine signature whose comment names another
    // module and version still fails, on the comment.
    std::fs::write(
        work.join("other/economy-0.1.0.tar.gz.minisig"),
        sign(
            &other,
            &package,
            &format!("souk module=banking version=9.9.9 sha256={sha} signed=2026-01-01T00:00:00Z"),
        )
        .unwrap(),
    )
    .unwrap();
    let (e, out) = fails(
        client(),
        &[
            "verify",
            "other/economy-0.1.0.tar.gz",
            "--public-key",
            &other.public_key().to_minisign_line(),
            "--registry",
            &unreachable,
        ],
    );
    assert!(e.ends_with("did not verify: trusted comment failed"), "{e}");
    assert!(
        out.contains(
            "trusted comment FAILED: it names module=banking (not economy), version=9.9.9 (not \
             0.1.0)\n"
        ),
        "{out}"
    );

    // 6. Forged and garbled signatures.
    std::fs::create_dir(work.join("forged")).unwrap();
    std::fs::copy(&downloaded, work.join("forged/economy-0.1.0.tar.gz")).unwrap();
    let sig_path = work.join("forged/economy-0.1.0.tar.gz.minisig");
    let verify_forged = || {
        fails(
            client(),
            &[
                "verify",
                "forged/economy-0.1.0.tar.gz",
                "--public-key",
                &key_line,
                "--registry",
                &unreachable,
            ],
        )
        .1
    };
    // The trusted comment rewritten to claim another version: its global signature breaks.
    let rewritten = signature.replace("version=0.1.0", "version=0.3.0");
    assert_ne!(rewritten, signature);
    std::fs::write(&sig_path, &rewritten).unwrap();
    let out = verify_forged();
    assert!(
        out.contains(
            "registry signature FAILED: the trusted comment does not match its signature (it \
             was changed) [bad_trusted_comment_signature]"
        ),
        "{out}"
    );
    // A genuine registry signature of another package (0.2.0).
    std::fs::write(&sig_path, &signature_2).unwrap();
    let out = verify_forged();
    assert!(
        out.contains("registry signature FAILED: the signature does not match the file"),
        "{out}"
    );
    // Garbled: one character of the signature line changed, then not a signature at all.
    let mut lines: Vec<String> = signature.lines().map(str::to_owned).collect();
    let mut chars: Vec<char> = lines[1].chars().collect();
    chars[20] = if chars[20] == 'A' { 'B' } else { 'A' };
    lines[1] = chars.into_iter().collect();
    std::fs::write(&sig_path, lines.join("\n") + "\n").unwrap();
    let out = verify_forged();
    assert!(out.contains("registry signature FAILED: "), "{out}");
    std::fs::write(&sig_path, "untrusted comment: x\nnot base64 at all!\n").unwrap();
    let out = verify_forged();
    assert!(
        out.contains("registry signature FAILED: not a minisign signature: the second line is not base64 [malformed_signature]"),
        "{out}"
    );
    std::fs::write(&sig_path, "").unwrap();
    let out = verify_forged();
    assert!(out.contains("[malformed_signature]"), "{out}");

    // 7. A blob changed in the server's storage after publishing. The marketplace re-checks a
    //    blob's SHA-256 when it serves it and refuses one that no longer matches (the download
    //    fails: nothing to check); a marketplace that served it anyway would fail the sha256 and
    //    signature checks. Either way: exit 1, saying so. 0.2.0 was never downloaded, so the
    //    server reads it from disk.
    let tampered = |base: &str, version: &str, package: &[u8]| {
        let what = format!("economy {version}");
        let (e, out) = fails(
            client(),
            &["verify", &format!("economy@{version}"), "--registry", base],
        );
        let refused = e.starts_with(&format!("error: cannot download {what}: "))
            || e.starts_with(&format!("error: the download of {what} broke off"));
        if refused {
            assert!(out.is_empty(), "{out}");
        } else {
            assert_eq!(
                e,
                format!(
                    "error: {what} did not verify: sha256 failed, registry signature failed, \
                     trusted comment not checked"
                )
            );
            assert!(
                out.starts_with(&format!(
                    "sha256 FAILED: the registry recorded {} ({} bytes), the package is ",
                    sha256_hex(package),
                    package.len()
                )),
                "{out}"
            );
        }
        eprintln!("note: a blob changed in storage, souk verify economy@{version}: {e}");
    };
    flip_a_byte(&blob_path(&data, &sha_2));
    tampered(&base, "0.2.0", &package_2);
    // 0.1.0 was downloaded above, and the server keeps recent blobs in memory (checked as they
    // enter): a change to the file may not show until the server restarts. Say what happened,
    // then restart.
    flip_a_byte(&blob_path(&data, &sha));
    let cached = run(client(), &["verify", "economy@0.1.0", "--registry", &base]);
    eprintln!(
        "note: a changed blob of a version downloaded before, with the server still running: \
         souk verify exited {:?} ({})",
        cached.status.code(),
        stderr(&cached).trim()
    );
    drop(server);
    let (cmd, addr) = serve(root.path(), &data);
    let server = Server::start(cmd, &addr).await;
    tampered(&server.base, "0.1.0", &package);
    // The keys survived the restart: the untouched file still verifies against the registry.
    let out = ok(
        client(),
        &[
            "verify",
            "dl/economy-0.1.0.tar.gz",
            "--registry",
            &server.base,
        ],
    );
    assert!(
        out.ends_with("verified dl/economy-0.1.0.tar.gz (economy 0.1.0)\n"),
        "{out}"
    );
}

#[test]
fn mistakes_on_the_command_line() {
    let work = tempfile::tempdir().unwrap();
    // A name without a version, and no such file: the command line is wrong (exit 2).
    let out = run(souk(work.path()), &["verify", "economy"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("write economy@VERSION"),
        "{}",
        stderr(&out)
    );
    // A file that is not there, a key that is not a key, a signature flag with a name.
    let (e, _) = fails(souk(work.path()), &["verify", "missing-1.0.0.tar.gz"]);
    assert!(
        e.starts_with("error: cannot read missing-1.0.0.tar.gz: "),
        "{e}"
    );
    std::fs::write(work.path().join("p.tar.gz"), b"x").unwrap();
    std::fs::write(work.path().join("p.tar.gz.minisig"), b"x").unwrap();
    let (e, _) = fails(
        souk(work.path()),
        &["verify", "p.tar.gz", "--public-key", "not a key"],
    );
    assert!(
        e.contains("--public-key is not a minisign public key"),
        "{e}"
    );
    let (e, _) = fails(
        souk(work.path()),
        &["verify", "economy@1.0.0", "--signature", "p.tar.gz.minisig"],
    );
    assert!(e.contains("--signature goes with a package FILE"), "{e}");
}

/// A marketplace that answers `routes` (path to content type and body), each connection once
/// with `Connection: close`, and 404 to anything else. Its base URL.
fn fake_marketplace(routes: Vec<(String, &'static str, Vec<u8>)>) -> String {
    use std::io::{Read, Write};
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
            let (status, content_type, body) = match routes.iter().find(|r| r.0 == path) {
                Some((_, content_type, body)) => ("200 OK", *content_type, body.clone()),
                None => (
                    "404 Not Found",
                    "application/json",
                    br#"{"error":{"code":"not_found","message":"not found"}}"#.to_vec(),
                ),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    base
}

#[test]
fn a_version_without_a_signature_does_not_verify() {
    let body = b"a package published before the registry signed".to_vec();
    let sha = sha256_hex(&body);
    let key = SigningKey::generate();
    let version = json!({
        "name": "old", "version": "1.0.0", "sha256": sha, "size": body.len(),
        "format": "tar.gz", "signature_url": null, "registry_key_id": null
    });
    let keys = json!({"keys": [{
        "id": key.id().to_string(), "algorithm": "Ed25519",
        "minisign_public_key": key.public_key().to_minisign_line()
    }]});
    let base = fake_marketplace(vec![
        (
            "/api/v1/modules/old/versions/1.0.0".into(),
            "application/json",
            version.to_string().into_bytes(),
        ),
        (
            "/api/v1/modules/old/versions/1.0.0/download".into(),
            "application/gzip",
            body.clone(),
        ),
        (
            "/api/v1/keys".into(),
            "application/json",
            keys.to_string().into_bytes(),
        ),
    ]);
    let work = tempfile::tempdir().unwrap();
    let (e, out) = fails(
        souk(work.path()),
        &["verify", "old@1.0.0", "--registry", &base],
    );
    assert_eq!(
        e,
        "error: old 1.0.0 did not verify: registry signature failed, trusted comment not checked"
    );
    assert_eq!(
        out,
        format!(
            "sha256 ok ({sha}, {} bytes)\n\
             registry signature FAILED: the registry has no signature for old 1.0.0 \
             (signature_url is null)\n\
             trusted comment not checked: there is no signature, so no trusted comment\n\
             publisher signature: none\n",
            body.len()
        )
    );
}

/// What a marketplace that did not re-check its blobs would do with one changed in storage: it
/// serves other bytes than it recorded and signed. Both the SHA-256 and the signature fail.
#[test]
fn a_marketplace_serving_other_bytes_does_not_verify() {
    let published = b"the bytes that were published".to_vec();
    let mut served = published.clone();
    served[3] ^= 1;
    let sha = sha256_hex(&published);
    let key = SigningKey::generate();
    let signature = sign(
        &key,
        &published,
        &format!("souk module=changed version=1.0.0 sha256={sha} signed=2026-01-01T00:00:00Z"),
    )
    .unwrap();
    let version = json!({
        "name": "changed", "version": "1.0.0", "sha256": sha, "size": published.len(),
        "format": "tar.gz",
        "signature_url": "/api/v1/modules/changed/versions/1.0.0/signature",
        "registry_key_id": key.id().to_string()
    });
    let keys = json!({"keys": [{
        "id": key.id().to_string(), "algorithm": "Ed25519",
        "minisign_public_key": key.public_key().to_minisign_line()
    }]});
    let route = |path: &str, content_type: &'static str, body: Vec<u8>| {
        (format!("/api/v1{path}"), content_type, body)
    };
    let base = fake_marketplace(vec![
        route(
            "/modules/changed/versions/1.0.0",
            "application/json",
            version.to_string().into_bytes(),
        ),
        route(
            "/modules/changed/versions/1.0.0/download",
            "application/gzip",
            served.clone(),
        ),
        route(
            "/modules/changed/versions/1.0.0/signature",
            "text/plain",
            signature.into_bytes(),
        ),
        route("/keys", "application/json", keys.to_string().into_bytes()),
    ]);
    let work = tempfile::tempdir().unwrap();
    let (e, out) = fails(
        souk(work.path()),
        &["verify", "changed@1.0.0", "--registry", &base],
    );
    assert_eq!(
        e,
        "error: changed 1.0.0 did not verify: sha256 failed, registry signature failed, trusted \
         comment not checked"
    );
    assert_eq!(
        out,
        format!(
            "sha256 FAILED: the registry recorded {sha} ({len} bytes), the package is {} ({len} \
             bytes)\n\
             registry signature FAILED: the signature does not match the file [bad_signature]\n\
             trusted comment not checked: the signature did not verify, so its comment cannot \
             be trusted\n\
             publisher signature: none\n",
            sha256_hex(&served),
            len = published.len()
        )
    );
}

#[tokio::test]
async fn a_rotated_signing_key_signs_new_versions_and_old_signatures_still_verify() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let client = || souk(&work);
    let (cmd, addr) = serve(root.path(), &data);
    let server = Server::start(cmd, &addr).await;
    let base = server.base.clone();
    let token = author_with_publisher(&base).await;
    ok(client(), &["init", "economy", "--publisher", "acme"]);
    ok(
        client(),
        &["publish", "economy", "--registry", &base, "--token", &token],
    );
    let keys: Value = serde_json::from_str(&get_text(format!("{base}/api/v1/keys")).await).unwrap();
    let old = keys["keys"][0]["id"].as_str().unwrap().to_owned();
    drop(server);

    let out = ok(
        souk(root.path()),
        &[
            "admin",
            "rotate-signing-key",
            "--data-dir",
            data.to_str().unwrap(),
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let new = lines[0]
        .strip_prefix("new registry signing key ")
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    assert_ne!(new, old);
    assert_eq!(
        lines[1],
        format!("retired key {old}: it signs no more and stays published")
    );

    let (cmd, addr) = serve(root.path(), &data);
    let server = Server::start(cmd, &addr).await;
    let base = server.base.clone();
    let keys: Value = serde_json::from_str(&get_text(format!("{base}/api/v1/keys")).await).unwrap();
    let ids: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&old.as_str()) && ids.contains(&new.as_str()),
        "{keys}"
    );

    let manifest = work.join("economy/souk.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("version = \"0.1.0\"", "version = \"0.2.0\""),
    )
    .unwrap();
    ok(
        client(),
        &["publish", "economy", "--registry", &base, "--token", &token],
    );
    // The rotation is on the audit log, as the system's doing.
    let mut admin = souk(root.path())
        .args([
            "admin",
            "create-user",
            "--email",
            "root@example.com",
            "--role",
            "admin",
            "--password-stdin",
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    admin
        .stdin
        .take()
        .unwrap()
        .write_all(common::PASSWORD.as_bytes())
        .unwrap();
    assert!(admin.wait().unwrap().success());
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "root@example.com", "password": common::PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let log: Value = http
        .get(format!(
            "{base}/api/v1/admin/audit?action=signing_key.rotate"
        ))
        .bearer_auth(login["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = &log["items"][0];
    assert_eq!(entry["actor"], "system", "{log}");
    assert_eq!(entry["target"], new.as_str());
    assert_eq!(entry["before"]["signing"], json!([old.clone()]));

    for (version, key) in [("0.1.0", &old), ("0.2.0", &new)] {
        let out = ok(
            client(),
            &["verify", &format!("economy@{version}"), "--registry", &base],
        );
        assert!(
            out.contains(&format!("registry signature ok (key {key}, ")),
            "{version}: {out}"
        );
    }
}

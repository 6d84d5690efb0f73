//! End to end: a publisher's own signing key with a real `souk serve`. `souk key generate`
//! makes a minisign key pair, `souk key register` registers it, `souk sign` signs a package
//! (and Debian's `minisign -V` agrees), `souk publish` sends the signature, and `souk verify`
//! checks it, by name, as a file and offline. A key made and used by `minisign` itself works
//! the same way. Then what must fail, each with exit 1 and one `error:` line: a signature by an
//! unregistered key or a revoked key (refused at upload, nothing stored), a forged publisher
//! signature and the wrong publisher key at verification.

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
use run::{ok, refused, stderr, stdout};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `souk args`, expecting a refusal (exit 1, one `error:` line); that line and the
/// standard output.
fn fails(cmd: Command, args: &[&str]) -> (String, String) {
    refused(cmd, args, 1)
}

fn minisign(dir: &Path, args: &[&str]) -> Output {
    Command::new("minisign")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("minisign runs")
}

/// The `NAME-VERSION.tar.gz` of the starter module at `version`.
fn pack(work: &Path, version: &str) -> String {
    let manifest = work.join("economy/souk.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("version = ") {
                format!("version = \"{version}\"")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&manifest, text + "\n").unwrap();
    let file = format!("economy-{version}.tar.gz");
    ok(souk(work), &["pack", "economy", "-o", &file]);
    file
}

async fn version_status(base: &str, version: &str) -> u16 {
    reqwest::get(format!("{base}/api/v1/modules/economy/versions/{version}"))
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn publishers_sign_and_tenants_verify() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = souk(root.path());
    cmd.args([
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        &addr,
    ]);
    let server = Server::start(cmd, &addr).await;
    let base = server.base.clone();
    let token = author_with_publisher(&base).await;
    let unreachable = format!("http://127.0.0.1:{}", free_port());
    // Every client command gets the registry and token from the environment; the config home
    // (where `souk key generate` writes by default) is inside the test's folder.
    let client = || {
        let mut c = souk(&work);
        c.env("SOUK_REGISTRY", &base)
            .env("SOUK_TOKEN", &token)
            .env("SOUK_CONFIG_HOME", root.path().join("config"));
        c
    };

    // A key pair where souk keeps it by default: a secret only its owner reads.
    let out = ok(client(), &["key", "generate"]);
    let secret = root.path().join("config/signing.key");
    let public = root.path().join("config/signing.pub");
    assert!(
        out.contains(&format!("secret key: {}", secret.display())),
        "{out}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key_id = out
        .lines()
        .find_map(|l| l.strip_prefix("key id "))
        .unwrap()
        .to_owned();
    let (e, _) = fails(client(), &["key", "generate"]);
    assert!(e.contains("already exists; pass --force"), "{e}");
    // Registering the secret key by mistake sends nothing.
    let (e, _) = fails(
        client(),
        &[
            "key",
            "register",
            "--publisher",
            "acme",
            secret.to_str().unwrap(),
        ],
    );
    assert!(e.contains("is a secret key"), "{e}");
    let out = ok(
        client(),
        &["key", "register", "--publisher", "acme", "--name", "laptop"],
    );
    assert!(
        out.starts_with(&format!("registered key {key_id} (\"laptop\") for acme")),
        "{out}"
    );
    let out = ok(client(), &["key", "list", "--publisher", "acme"]);
    assert!(
        out.starts_with(&format!("{key_id}  active  added ")),
        "{out}"
    );
    assert!(out.trim_end().ends_with("laptop"), "{out}");

    // Sign, and minisign agrees with the signature.
    ok(client(), &["init", "economy", "--publisher", "acme"]);
    let v1 = pack(&work, "0.1.0");
    let out = ok(client(), &["sign", &v1]);
    assert!(out.contains(&format!("with key {key_id}")), "{out}");
    let sig = std::fs::read_to_string(work.join(format!("{v1}.minisig"))).unwrap();
    assert!(sig.contains(&format!("\tfile:{v1}\tsha256:")), "{sig}");
    let have_minisign = minisign_available();
    if have_minisign {
        let out = minisign(&work, &["-V", "-p", public.to_str().unwrap(), "-m", &v1]);
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    }
    // Publish sends PACKAGE.minisig by itself.
    let out = ok(client(), &["publish", &v1]);
    assert!(
        out.contains(&format!("publisher signature: key {key_id}")),
        "{out}"
    );

    // By name: the publisher's signature is fetched and checked with the publisher's keys.
    let out = ok(client(), &["verify", "economy@0.1.0"]);
    assert!(
        out.contains(&format!(
            "publisher signature ok (key {key_id} \"laptop\" of acme)\n"
        )),
        "{out}"
    );
    // As a file: the .minisig beside it is the publisher's, the registry's is fetched.
    let out = ok(client(), &["verify", &v1]);
    assert!(out.contains("registry signature ok"), "{out}");
    assert!(
        out.contains(&format!("publisher signature ok (key {key_id}")),
        "{out}"
    );
    // Offline, with both keys and both signatures given: no request is made.
    let registry_key: serde_json::Value = reqwest::get(format!("{base}/api/v1/keys"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let registry_line = registry_key["keys"][0]["minisign_public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let registry_sig = reqwest::get(format!(
        "{base}/api/v1/modules/economy/versions/0.1.0/signature"
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    std::fs::write(work.join("registry.minisig"), &registry_sig).unwrap();
    let offline = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            v1.as_str(),
            "--public-key",
            registry_line.as_str(),
            "--signature",
            "registry.minisig",
            "--registry",
            unreachable.as_str(),
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let args = offline(&["--publisher-key", public.to_str().unwrap()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = ok(client(), &args);
    assert!(
        out.contains(&format!("publisher signature ok (key {key_id}, given)\n")),
        "{out}"
    );

    // A forged publisher signature, and the wrong publisher key: exit 1.
    let other = root.path().join("other.key");
    ok(
        client(),
        &["key", "generate", "--output", other.to_str().unwrap()],
    );
    let other_id = souk_core::signing::PublicKey::parse(
        &std::fs::read_to_string(root.path().join("other.pub")).unwrap(),
    )
    .unwrap()
    .id()
    .to_hex();
    std::fs::write(work.join("other-bytes"), b"other bytes").unwrap();
    ok(client(), &["sign", "other-bytes"]);
    let args = offline(&[
        "--publisher-key",
        public.to_str().unwrap(),
        "--publisher-signature",
        "other-bytes.minisig",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (e, out) = fails(client(), &args);
    assert!(
        e.ends_with("did not verify: publisher signature failed"),
        "{e}"
    );
    assert!(
        out.contains(
            "publisher signature FAILED: the signature does not match the file [bad_signature]"
        ),
        "{out}"
    );
    let args = offline(&[
        "--publisher-key",
        root.path().join("other.pub").to_str().unwrap(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_, out) = fails(client(), &args);
    assert!(
        out.contains(&format!(
            "publisher signature FAILED: made by key {key_id}, not by the publisher key given \
             ({other_id}) [unknown_signing_key]"
        )),
        "{out}"
    );

    // Uploads signed with a key acme never registered are refused, and nothing is stored.
    let v2 = pack(&work, "0.2.0");
    ok(client(), &["sign", "--key", other.to_str().unwrap(), &v2]);
    let (e, _) = fails(client(), &["publish", &v2]);
    assert!(e.contains("422 unknown_signing_key"), "{e}");
    assert!(e.contains(&format!("key {other_id}")), "{e}");
    assert_eq!(version_status(&base, "0.2.0").await, 404);
    // A garbled signature file is caught before anything is sent.
    std::fs::write(work.join(format!("{v2}.minisig")), "garbage").unwrap();
    let (e, _) = fails(client(), &["publish", &v2]);
    assert!(e.contains("is not a minisign signature"), "{e}");
    // --signature with a folder makes no sense: its bytes are packed on the fly.
    let (e, _) = fails(
        client(),
        &["publish", "economy", "--signature", "x.minisig"],
    );
    assert!(e.contains("--signature goes with a package archive"), "{e}");

    // Revoked: 0.1.0 still verifies (signed before), new uploads with the key are refused.
    let out = ok(client(), &["key", "revoke", "--publisher", "acme", &key_id]);
    assert!(
        out.starts_with(&format!("revoked key {key_id} of acme at ")),
        "{out}"
    );
    let out = ok(client(), &["verify", "economy@0.1.0"]);
    assert!(
        out.contains(&format!(
            "publisher signature ok (key {key_id} \"laptop\" of acme; revoked "
        )),
        "{out}"
    );
    assert!(out.contains("after this version was published)"), "{out}");
    ok(client(), &["sign", &v2]);
    let (e, _) = fails(client(), &["publish", &v2]);
    assert!(
        e.contains("422 unknown_signing_key") && e.contains("revoked"),
        "{e}"
    );
    assert_eq!(version_status(&base, "0.2.0").await, 404);

    // A key made and used by minisign itself: registered, signed with `minisign -S`, accepted.
    if have_minisign {
        let out = minisign(&work, &["-G", "-W", "-p", "ms.pub", "-s", "ms.key"]);
        assert!(out.status.success(), "{}", stderr(&out));
        ok(
            client(),
            &["key", "register", "--publisher", "acme", "ms.pub"],
        );
        let out = minisign(&work, &["-S", "-s", "ms.key", "-m", &v2]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = ok(client(), &["publish", &v2]);
        assert!(out.contains("publisher signature: key "), "{out}");
        let out = ok(client(), &["verify", "economy@0.2.0"]);
        assert!(out.contains("publisher signature ok (key "), "{out}");
        // ...and souk signs with minisign's unencrypted key file.
        let v3 = pack(&work, "0.3.0");
        ok(client(), &["sign", "--key", "ms.key", &v3]);
        let out = minisign(&work, &["-V", "-p", "ms.pub", "-m", &v3]);
        assert!(out.status.success(), "{}", stderr(&out));
        ok(client(), &["publish", &v3]);
    }
    drop(server);
}

//! Our signatures against the real `minisign` (Debian's package): it must verify what we sign, and
//! we must verify what it signs. Without `minisign` on the PATH the tests only print a note, unless
//! `SOUK_TEST_REQUIRE_ALL` is set (as CI does), where they fail.

use souk_core::signing::{
    self, Prehasher, PublicKey, SignatureError, SignatureFile, SigningKey, verify, verify_prehashed,
};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Whether `minisign` can be run; panics if it cannot and the environment requires it.
fn minisign_available() -> bool {
    match Command::new("minisign")
        .arg("-v")
        .stdin(Stdio::null())
        .output()
    {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var_os("SOUK_TEST_REQUIRE_ALL").is_none(),
                "SOUK_TEST_REQUIRE_ALL is set but minisign cannot be run ({e}); \
                 install Debian's minisign package"
            );
            eprintln!("note: minisign is not installed ({e}); skipping the minisign test");
            false
        }
    }
}

/// Runs minisign with no standard input, so that a password prompt fails instead of hanging.
fn minisign(dir: &Path, args: &[&str]) -> Output {
    Command::new("minisign")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("minisign runs")
}

fn describe(out: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Package-like bytes: a few hundred KiB that are not all alike.
fn package_bytes() -> Vec<u8> {
    (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

#[test]
fn minisign_verifies_our_signatures() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate();
    let public = key.public_key();
    let data = package_bytes();
    std::fs::write(dir.path().join("pkg.zip"), &data).unwrap();

    // Signed in chunks, the way the server streams an upload.
    let mut hasher = Prehasher::new();
    for chunk in data.chunks(64 * 1024) {
        hasher.update(chunk);
    }
    let comment = "souk module:worldedit version:1.2.3 sha256:abc";
    let sig = hasher.finish_sign(&key, comment).unwrap();
    std::fs::write(dir.path().join("pkg.zip.minisig"), &sig).unwrap();
    std::fs::write(dir.path().join("souk.pub"), public.to_minisign_file()).unwrap();

    let line = public.to_minisign_line();
    // -H: minisign insists on the prehashed algorithm, which is the one we promise.
    let out = minisign(
        dir.path(),
        &[
            "-V",
            "-H",
            "-P",
            &line,
            "-m",
            "pkg.zip",
            "-x",
            "pkg.zip.minisig",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(comment), "{stdout}");

    // The .pub file form works too (and its key id is the one minisign expects).
    let out = minisign(dir.path(), &["-V", "-p", "souk.pub", "-m", "pkg.zip"]);
    assert!(out.status.success(), "{}", describe(&out));

    // One byte changed in the package.
    let mut tampered = data.clone();
    tampered[1234] ^= 0x40;
    std::fs::write(dir.path().join("pkg.zip"), &tampered).unwrap();
    let out = minisign(dir.path(), &["-V", "-P", &line, "-m", "pkg.zip"]);
    assert!(!out.status.success(), "{}", describe(&out));
    std::fs::write(dir.path().join("pkg.zip"), &data).unwrap();

    // The trusted comment changed.
    let forged = sig.replace("version:1.2.3", "version:9.9.9");
    std::fs::write(dir.path().join("pkg.zip.minisig"), &forged).unwrap();
    let out = minisign(dir.path(), &["-V", "-P", &line, "-m", "pkg.zip"]);
    assert!(!out.status.success(), "{}", describe(&out));

    // Another key.
    std::fs::write(dir.path().join("pkg.zip.minisig"), &sig).unwrap();
    let other = SigningKey::generate().public_key().to_minisign_line();
    let out = minisign(dir.path(), &["-V", "-P", &other, "-m", "pkg.zip"]);
    assert!(!out.status.success(), "{}", describe(&out));
}

#[test]
fn we_verify_minisign_keys_and_signatures() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = minisign(
        dir.path(),
        &["-G", "-W", "-p", "publisher.pub", "-s", "publisher.key"],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let pub_file = std::fs::read_to_string(dir.path().join("publisher.pub")).unwrap();
    let public = PublicKey::from_minisign_file(&pub_file).unwrap();
    // minisign prints the key id in its comment the way we do (it drops leading zeros).
    let shown_id = pub_file.lines().next().unwrap().rsplit(' ').next().unwrap();
    assert_eq!(
        public.id().to_hex().trim_start_matches('0'),
        shown_id.trim_start_matches('0')
    );

    let data = package_bytes();
    std::fs::write(dir.path().join("pkg.tar.gz"), &data).unwrap();
    let out = minisign(
        dir.path(),
        &[
            "-S",
            "-W",
            "-s",
            "publisher.key",
            "-m",
            "pkg.tar.gz",
            "-t",
            "signed by the publisher",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let sig = std::fs::read_to_string(dir.path().join("pkg.tar.gz.minisig")).unwrap();
    assert!(SignatureFile::parse(&sig).unwrap().is_prehashed());

    let verified = verify(&public, &sig, &data).unwrap();
    assert_eq!(verified.key_id, public.id());
    assert_eq!(verified.trusted_comment, "signed by the publisher");
    assert!(verify_prehashed(&public, &sig, &signing::Prehash::of(&data)).is_ok());

    let mut tampered = data.clone();
    tampered[0] ^= 1;
    assert_eq!(
        verify(&public, &sig, &tampered).unwrap_err(),
        SignatureError::BadSignature
    );
    let stranger = SigningKey::generate().public_key();
    assert_eq!(
        verify(&stranger, &sig, &data).unwrap_err(),
        SignatureError::UnknownKey(public.id())
    );

    // minisign's legacy format (Ed25519 over the file itself) still verifies.
    let out = minisign(
        dir.path(),
        &[
            "-S",
            "-W",
            "-l",
            "-s",
            "publisher.key",
            "-m",
            "pkg.tar.gz",
            "-x",
            "legacy.minisig",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let legacy = std::fs::read_to_string(dir.path().join("legacy.minisig")).unwrap();
    let verified = verify(&public, &legacy, &data).unwrap();
    assert!(!verified.prehashed);
    assert_eq!(
        verify(&public, &legacy, &tampered).unwrap_err(),
        SignatureError::BadSignature
    );
}

#[test]
fn secret_key_files_work_in_both_directions() {
    if !minisign_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = package_bytes();
    std::fs::write(dir.path().join("pkg.zip"), &data).unwrap();

    // Our secret key file: minisign signs with it (no password asked), and we verify that.
    let ours = SigningKey::generate();
    std::fs::write(dir.path().join("ours.key"), ours.to_minisign_secret_file()).unwrap();
    let out = minisign(
        dir.path(),
        &[
            "-S",
            "-s",
            "ours.key",
            "-m",
            "pkg.zip",
            "-x",
            "by-minisign.minisig",
            "-t",
            "t",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let sig = std::fs::read_to_string(dir.path().join("by-minisign.minisig")).unwrap();
    let verified = verify(&ours.public_key(), &sig, &data).unwrap();
    assert_eq!(verified.trusted_comment, "t");

    // minisign's unencrypted key: we read it and sign, and minisign verifies with its .pub.
    let out = minisign(
        dir.path(),
        &["-G", "-W", "-p", "theirs.pub", "-s", "theirs.key"],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let text = std::fs::read_to_string(dir.path().join("theirs.key")).unwrap();
    let theirs = SigningKey::from_minisign_secret_file(&text).unwrap();
    let public = std::fs::read_to_string(dir.path().join("theirs.pub")).unwrap();
    assert_eq!(PublicKey::parse(&public).unwrap(), theirs.public_key());
    let sig = signing::sign(&theirs, &data, "by souk").unwrap();
    std::fs::write(dir.path().join("pkg.zip.minisig"), sig).unwrap();
    let out = minisign(dir.path(), &["-V", "-p", "theirs.pub", "-m", "pkg.zip"]);
    assert!(out.status.success(), "{}", describe(&out));
}

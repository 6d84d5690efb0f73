use super::*;
use souk_core::signing::{KeyId, SigningKey, sign};

fn key() -> SigningKey {
    SigningKey::from_seed(KeyId::from_bytes(*b"registry"), [9; 32])
}

fn evidence(bytes: &[u8], signature: Result<String, String>, record: bool) -> Evidence {
    let sha = hex::encode(Sha256::digest(bytes));
    Evidence {
        bytes: bytes.to_vec(),
        identity: Ok(("economy".into(), semver::Version::new(1, 0, 0))),
        record: record.then_some((sha, bytes.len() as u64)),
        signature,
        keys: Keys {
            keys: vec![key().public_key()],
            source: KeySource::Registry("http://x/api/v1/keys".into()),
        },
        publisher: PublisherEvidence::unsigned(),
    }
}

fn comment_for(bytes: &[u8], module: &str, version: &str) -> String {
    format!(
        "souk module={module} version={version} sha256={} signed=2026-01-02T03:04:05Z",
        hex::encode(Sha256::digest(bytes))
    )
}

fn lines(checks: &[Check]) -> Vec<String> {
    checks.iter().map(Check::line).collect()
}

const BYTES: &[u8] = b"a package";

#[test]
fn a_good_package_passes_every_check() {
    let sig = sign(&key(), BYTES, &comment_for(BYTES, "economy", "1.0.0")).unwrap();
    let sha = hex::encode(Sha256::digest(BYTES));
    let checks = checks(&evidence(BYTES, Ok(sig.clone()), true));
    assert!(checks.iter().all(Check::passed), "{checks:?}");
    assert_eq!(
        lines(&checks),
        [
            format!("sha256 ok ({sha}, 9 bytes)"),
            format!(
                "registry signature ok (key {}, signed 2026-01-02T03:04:05Z)",
                key().id()
            ),
            "trusted comment ok (module=economy version=1.0.0 sha256 matches)".to_owned(),
            "publisher signature: none".to_owned(),
        ]
    );
    // Offline, the SHA-256 is compared with the signed one.
    let checks = super::checks(&evidence(BYTES, Ok(sig.clone()), false));
    assert!(checks.iter().all(Check::passed), "{checks:?}");
    assert_eq!(
        checks[0].line(),
        format!("sha256 ok ({sha}, 9 bytes, as signed)")
    );
}

#[test]
fn changed_bytes_fail_the_hash_and_the_signature() {
    let sig = sign(&key(), BYTES, &comment_for(BYTES, "economy", "1.0.0")).unwrap();
    let mut e = evidence(BYTES, Ok(sig), true);
    e.bytes[0] ^= 1;
    let checks = checks(&e);
    let l = lines(&checks);
    assert!(
        l[0].starts_with("sha256 FAILED: the registry recorded "),
        "{l:?}"
    );
    assert!(
        l[1].starts_with("registry signature FAILED: the signature does not match"),
        "{l:?}"
    );
    assert!(l[1].ends_with("[bad_signature]"), "{l:?}");
    assert!(l[2].starts_with("trusted comment not checked: "), "{l:?}");
    assert!(checks[3].passed());
    // Offline nothing vouches for the hash either.
    e.record = None;
    let l = lines(&super::checks(&e));
    assert!(l[0].starts_with("sha256 not checked: "), "{l:?}");
}

#[test]
fn a_signature_by_another_key_or_none_at_all_fails() {
    let other = SigningKey::generate();
    let sig = sign(&other, BYTES, &comment_for(BYTES, "economy", "1.0.0")).unwrap();
    let checks = checks(&evidence(BYTES, Ok(sig), true));
    assert!(checks[0].passed());
    assert_eq!(
        checks[1].line(),
        format!(
            "registry signature FAILED: made by key {}, which is not one of the registry's \
                 keys (http://x/api/v1/keys) [unknown_signing_key]",
            other.id()
        )
    );
    let none = super::checks(&evidence(BYTES, Err("no signature".into()), true));
    assert_eq!(none[1].line(), "registry signature FAILED: no signature");
    assert!(!none[2].passed());
}

#[test]
fn a_good_signature_for_something_else_fails_the_comment() {
    let sig = sign(&key(), BYTES, &comment_for(BYTES, "other", "2.0.0")).unwrap();
    let checks = checks(&evidence(BYTES, Ok(sig), true));
    assert!(checks[1].passed());
    assert_eq!(
        checks[2].line(),
        "trusted comment FAILED: it names module=other (not economy), version=2.0.0 \
             (not 1.0.0)"
    );
    let sig = sign(&key(), BYTES, "timestamp:1 file:x").unwrap();
    let checks = super::checks(&evidence(BYTES, Ok(sig), true));
    assert!(
        checks[2].line().contains("is not a Souk registry comment"),
        "{checks:?}"
    );
}

fn publisher_key() -> SigningKey {
    SigningKey::from_seed(KeyId::from_bytes(*b"publishr"), [5; 32])
}

/// Evidence with a good registry signature and `publisher` as the publisher's side.
fn with_publisher(publisher: PublisherEvidence) -> Evidence {
    let sig = sign(&key(), BYTES, &comment_for(BYTES, "economy", "1.0.0")).unwrap();
    Evidence {
        publisher,
        ..evidence(BYTES, Ok(sig), true)
    }
}

fn acme_keys(revoked_at: Option<i64>, published_at: Option<i64>) -> PublisherKeys {
    PublisherKeys {
        keys: vec![PublisherKey {
            key: publisher_key().public_key(),
            name: Some("laptop".into()),
            revoked_at: revoked_at.map(Timestamp::from_millis),
        }],
        source: PublisherKeySource::Registry {
            publisher: "acme".into(),
            url: "http://x/api/v1/publishers/acme/keys".into(),
        },
        published_at: published_at.map(Timestamp::from_millis),
    }
}

fn signed_by(key: &SigningKey, data: &[u8], keys: PublisherKeys) -> Evidence {
    with_publisher(PublisherEvidence {
        signature: Some(Ok(sign(key, data, "timestamp:1\tfile:x").unwrap())),
        keys: Ok(keys),
    })
}

#[test]
fn the_publisher_signature_is_checked_with_the_publishers_keys() {
    let id = publisher_key().id();
    let checks = checks(&signed_by(&publisher_key(), BYTES, acme_keys(None, None)));
    assert!(checks.iter().all(Check::passed), "{checks:?}");
    assert_eq!(
        checks[3].line(),
        format!("publisher signature ok (key {id} \"laptop\" of acme)")
    );
    // Other bytes, or a key acme does not have.
    let c = super::checks(&signed_by(
        &publisher_key(),
        b"other",
        acme_keys(None, None),
    ));
    assert_eq!(
        c[3].line(),
        "publisher signature FAILED: the signature does not match the file [bad_signature]"
    );
    let stranger = SigningKey::generate();
    let c = super::checks(&signed_by(&stranger, BYTES, acme_keys(None, None)));
    assert_eq!(
        c[3].line(),
        format!(
            "publisher signature FAILED: made by key {}, which is not one of acme's keys \
                 (http://x/api/v1/publishers/acme/keys) [unknown_signing_key]",
            stranger.id()
        )
    );
    // A key given on the command line.
    let mut given = acme_keys(None, None);
    given.source = PublisherKeySource::Given;
    given.keys[0].name = None;
    let c = super::checks(&signed_by(&stranger, BYTES, given));
    assert!(
        c[3].line()
            .contains(&format!("not by the publisher key given ({id})")),
        "{c:?}"
    );
}

#[test]
fn a_revoked_key_vouches_only_for_what_was_published_before() {
    let id = publisher_key().id();
    // Revoked after the version was published: still good, and said.
    let c = checks(&signed_by(
        &publisher_key(),
        BYTES,
        acme_keys(Some(2_000), Some(1_000)),
    ));
    assert!(c[3].passed(), "{c:?}");
    assert!(
        c[3].line()
            .ends_with("; revoked 1970-01-01T00:00:02Z, after this version was published)"),
        "{c:?}"
    );
    // Revoked before it, or with no record of when it was published: fails.
    let c = checks(&signed_by(
        &publisher_key(),
        BYTES,
        acme_keys(Some(1_000), Some(2_000)),
    ));
    assert_eq!(
        c[3].line(),
        format!(
            "publisher signature FAILED: made by key {id}, which acme revoked at \
                 1970-01-01T00:00:01Z, before this version was published [unknown_signing_key]"
        )
    );
    let c = checks(&signed_by(
        &publisher_key(),
        BYTES,
        acme_keys(Some(1_000), None),
    ));
    assert!(!c[3].passed(), "{c:?}");
    assert!(c[3].line().contains("which acme revoked at"), "{c:?}");
}

#[test]
fn a_missing_publisher_signature_passes_unless_one_was_expected() {
    let c = checks(&with_publisher(PublisherEvidence::unsigned()));
    assert_eq!(c[3].line(), "publisher signature: none");
    assert!(c[3].passed());
    let c = checks(&with_publisher(PublisherEvidence {
        signature: Some(Err("--publisher-key was given, but ...".into())),
        keys: Err("x".into()),
    }));
    assert!(!c[3].passed());
    assert_eq!(
        c[3].line(),
        "publisher signature not checked: --publisher-key was given, but ..."
    );
    let c = checks(&with_publisher(PublisherEvidence {
        signature: Some(Ok(sign(&publisher_key(), BYTES, "c").unwrap())),
        keys: Err("cannot tell whose keys".into()),
    }));
    assert!(!c[3].passed());
}

#[test]
fn signatures_beside_a_file_are_told_apart() {
    let registry = vec![key().public_key()];
    let by_registry = sign(&key(), BYTES, "anything").unwrap();
    assert!(is_registry_signature(&by_registry, &registry));
    let registry_comment = sign(
        &SigningKey::generate(),
        BYTES,
        &comment_for(BYTES, "economy", "1.0.0"),
    )
    .unwrap();
    assert!(is_registry_signature(&registry_comment, &registry));
    assert!(is_registry_signature("garbage", &registry));
    let by_publisher = sign(&publisher_key(), BYTES, "timestamp:1\tfile:x").unwrap();
    assert!(!is_registry_signature(&by_publisher, &registry));
}

#[test]
fn comments_are_read_strictly() {
    let c = RegistryComment::parse("souk module=a version=1.0.0 sha256=ab signed=t").unwrap();
    assert_eq!(c.module.as_deref(), Some("a"));
    assert_eq!(c.signed.as_deref(), Some("t"));
    assert_eq!(RegistryComment::parse("timestamp:1"), None);
    assert_eq!(RegistryComment::parse("souk module=a module=b"), None);
}

#[test]
fn targets_are_files_or_versions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("economy");
    std::fs::write(&file, b"x").unwrap();
    let raw = file.to_str().unwrap();
    assert_eq!(parse_target(raw), Ok(Target::File(file.clone())));
    assert_eq!(
        parse_target("economy@1.0.0"),
        Ok(Target::Published {
            name: "economy".into(),
            version: semver::Version::new(1, 0, 0)
        })
    );
    assert_eq!(
        parse_target("missing-1.0.0.tar.gz"),
        Ok(Target::File("missing-1.0.0.tar.gz".into()))
    );
    let e = parse_target("economy").unwrap_err();
    assert!(e.contains("write economy@VERSION"), "{e}");
    let e = parse_target("economy@1.0").unwrap_err();
    assert!(e.contains("not a semantic version"), "{e}");
}

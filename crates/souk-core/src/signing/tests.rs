use super::*;

const DATA: &[u8] = b"souk package bytes\n";

fn key() -> SigningKey {
    SigningKey::from_seed(
        KeyId::from_bytes(*b"\x01\x02\x03\x04\x05\x06\x07\x08"),
        [7; 32],
    )
}

/// Replaces line `n` (0-based) of a signature file.
fn with_line(sig: &str, n: usize, line: &str) -> String {
    let mut lines: Vec<&str> = sig.lines().collect();
    lines[n] = line;
    lines.join("\n") + "\n"
}

fn flip_base64_byte(line: &str, index: usize) -> String {
    let mut bytes = BASE64.decode(line).unwrap();
    bytes[index] ^= 0x01;
    BASE64.encode(bytes)
}

#[test]
fn signs_and_verifies() {
    let key = key();
    let sig = sign(&key, DATA, "timestamp:1 file:pkg.zip").unwrap();
    let lines: Vec<&str> = sig.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        "untrusted comment: signature from souk key 0807060504030201"
    );
    assert!(BASE64.decode(lines[1]).unwrap().starts_with(b"ED\x01\x02"));
    assert_eq!(lines[2], "trusted comment: timestamp:1 file:pkg.zip");

    let verified = verify(&key.public_key(), &sig, DATA).unwrap();
    assert_eq!(
        verified,
        VerifiedSignature {
            key_id: key.id(),
            trusted_comment: "timestamp:1 file:pkg.zip".into(),
            prehashed: true,
        }
    );
}

#[test]
fn streaming_matches_one_shot() {
    let key = key();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut hasher = Prehasher::new();
    for chunk in data.chunks(4096) {
        hasher.update(chunk);
    }
    let mut copied = Prehasher::new();
    io::copy(&mut &data[..], &mut copied).unwrap();
    assert_eq!(copied.finish(), Prehash::of(&data));

    let streamed = hasher.clone().finish_sign(&key, "c").unwrap();
    // Ed25519 is deterministic: the same key, hash and comment give the same file.
    assert_eq!(streamed, sign(&key, &data, "c").unwrap());
    assert!(verify(&key.public_key(), &streamed, &data).is_ok());
    assert!(verify_prehashed(&key.public_key(), &streamed, &hasher.finish()).is_ok());
}

#[test]
fn verifies_legacy_non_prehashed_signatures() {
    let key = key();
    let signature = key.key.sign(DATA).to_bytes();
    let global = key.key.sign(&global_message(&signature, "old")).to_bytes();
    let mut line = b"Ed".to_vec();
    line.extend_from_slice(key.id().as_bytes());
    line.extend_from_slice(&signature);
    let sig = format!(
        "untrusted comment: legacy\n{}\ntrusted comment: old\n{}\n",
        BASE64.encode(line),
        BASE64.encode(global)
    );
    let verified = verify(&key.public_key(), &sig, DATA).unwrap();
    assert!(!verified.prehashed);
    assert_eq!(verified.trusted_comment, "old");
    assert_eq!(
        verify(&key.public_key(), &sig, b"other").unwrap_err(),
        SignatureError::BadSignature
    );
    assert_eq!(
        verify_prehashed(&key.public_key(), &sig, &Prehash::of(DATA)).unwrap_err(),
        SignatureError::LegacyNeedsWholeFile
    );
}

#[test]
fn tampered_data_fails() {
    let key = key();
    let sig = sign(&key, DATA, "c").unwrap();
    let err = verify(&key.public_key(), &sig, b"souk package bytes!\n").unwrap_err();
    assert_eq!(err, SignatureError::BadSignature);
    assert_eq!(err.code(), "bad_signature");
    assert_eq!(
        verify(&key.public_key(), &sig, b"").unwrap_err(),
        SignatureError::BadSignature
    );
}

#[test]
fn tampered_signature_fails() {
    let key = key();
    let sig = sign(&key, DATA, "c").unwrap();
    let lines: Vec<&str> = sig.lines().collect();
    // A byte of the Ed25519 signature itself (after the algorithm and key id).
    let forged = with_line(&sig, 1, &flip_base64_byte(lines[1], 40));
    assert_eq!(
        verify(&key.public_key(), &forged, DATA).unwrap_err(),
        SignatureError::BadSignature
    );
    let forged_global = with_line(&sig, 3, &flip_base64_byte(lines[3], 5));
    assert_eq!(
        verify(&key.public_key(), &forged_global, DATA).unwrap_err(),
        SignatureError::BadGlobalSignature
    );
    // Another key's signature under this key's id.
    let other = SigningKey::from_seed(key.id(), [9; 32]);
    let by_other = sign(&other, DATA, "c").unwrap();
    assert_eq!(
        verify(&key.public_key(), &by_other, DATA).unwrap_err(),
        SignatureError::BadSignature
    );
}

#[test]
fn tampered_trusted_comment_fails() {
    let key = key();
    let sig = sign(&key, DATA, "file:pkg.zip version:1.0.0").unwrap();
    let forged = with_line(&sig, 2, "trusted comment: file:pkg.zip version:2.0.0");
    let err = verify(&key.public_key(), &forged, DATA).unwrap_err();
    assert_eq!(err, SignatureError::BadGlobalSignature);
    assert_eq!(err.code(), "bad_trusted_comment_signature");
    // The untrusted comment is just that: changing it changes nothing.
    let relabelled = with_line(&sig, 0, "untrusted comment: anything");
    assert!(verify(&key.public_key(), &relabelled, DATA).is_ok());
}

#[test]
fn unknown_key_id_fails_and_the_right_key_of_several_is_found() {
    let key = key();
    let stranger = SigningKey::generate();
    let sig = sign(&stranger, DATA, "c").unwrap();
    let err = verify(&key.public_key(), &sig, DATA).unwrap_err();
    assert_eq!(err, SignatureError::UnknownKey(stranger.id()));
    assert_eq!(err.code(), "unknown_signing_key");
    assert!(err.to_string().contains(&stranger.id().to_hex()));

    let keys = vec![key.public_key(), stranger.public_key()];
    let verified = verify(&keys[..], &sig, DATA).unwrap();
    assert_eq!(verified.key_id, stranger.id());
    assert!(verify(&keys, &sig, DATA).is_ok());
    let none: &[PublicKey] = &[];
    assert!(matches!(
        verify(none, &sig, DATA),
        Err(SignatureError::UnknownKey(_))
    ));
    // Two registered keys sharing an id: the one that made the signature is found.
    let impostor = SigningKey::from_seed(stranger.id(), [3; 32]).public_key();
    assert!(verify(&[impostor, stranger.public_key()][..], &sig, DATA).is_ok());
}

#[test]
fn malformed_signature_files_are_refused() {
    let key = key();
    let sig = sign(&key, DATA, "c").unwrap();
    let lines: Vec<&str> = sig.lines().collect();
    let cases = [
        String::new(),
        "garbage".to_string(),
        with_line(&sig, 0, "comment: x"),
        with_line(&sig, 1, "not base64!"),
        with_line(&sig, 1, &BASE64.encode([0u8; 10])),
        with_line(&sig, 2, "comment: c"),
        with_line(&sig, 3, &BASE64.encode([0u8; 63])),
        format!("{sig}extra line\n"),
        lines[..3].join("\n"),
    ];
    for case in cases {
        let err = verify(&key.public_key(), &case, DATA).unwrap_err();
        assert_eq!(err.code(), "malformed_signature", "{case:?}: {err}");
    }
    let mut other_alg = BASE64.decode(lines[1]).unwrap();
    other_alg[..2].copy_from_slice(b"Xx");
    let err = verify(
        &key.public_key(),
        &with_line(&sig, 1, &BASE64.encode(other_alg)),
        DATA,
    )
    .unwrap_err();
    assert_eq!(err, SignatureError::UnsupportedAlgorithm);
}

#[test]
fn accepts_crlf_line_ends() {
    let key = key();
    let sig = sign(&key, DATA, "c").unwrap().replace('\n', "\r\n");
    assert_eq!(
        verify(&key.public_key(), &sig, DATA)
            .unwrap()
            .trusted_comment,
        "c"
    );
}

#[test]
fn refuses_comments_that_would_break_the_format() {
    let key = key();
    assert_eq!(
        sign(&key, DATA, "a\ntrusted comment: b").unwrap_err(),
        SignError::CommentHasLineBreak
    );
    assert_eq!(
        sign(&key, DATA, "a\rb").unwrap_err(),
        SignError::CommentHasLineBreak
    );
    let long = "x".repeat(MAX_TRUSTED_COMMENT_BYTES + 1);
    assert_eq!(
        sign(&key, DATA, &long).unwrap_err(),
        SignError::CommentTooLong
    );
    assert!(sign(&key, DATA, &long[1..]).is_ok());
    assert!(sign(&key, DATA, "").is_ok());
}

#[test]
fn public_keys_round_trip_through_minisign_forms() {
    let public = key().public_key();
    let line = public.to_minisign_line();
    assert!(line.starts_with("RWQBAgMEBQYH"), "{line}");
    assert_eq!(PublicKey::from_minisign_line(&line).unwrap(), public);
    assert_eq!(
        PublicKey::from_minisign_line(&format!("  {line}\n")).unwrap(),
        public
    );
    let file = public.to_minisign_file();
    assert_eq!(
        file,
        format!("untrusted comment: minisign public key 0807060504030201\n{line}\n")
    );
    assert_eq!(PublicKey::from_minisign_file(&file).unwrap(), public);
    assert_eq!(PublicKey::parse(&file).unwrap(), public);
    assert_eq!(PublicKey::parse(&line).unwrap(), public);
}

#[test]
fn parses_a_public_key_made_by_minisign() {
    // `minisign -G -W`'s output, key id C75FB1733034EA2F.
    let file = "untrusted comment: minisign public key C75FB1733034EA2F\n\
                    RWQv6jQwc7FfxzpbLdHXUW+eLTv5JozUtwl+WzLQ5/oyeISUDs31HQ7A\n";
    let public = PublicKey::from_minisign_file(file).unwrap();
    assert_eq!(public.id().to_hex(), "C75FB1733034EA2F");
    assert_eq!(
        public.to_minisign_line(),
        "RWQv6jQwc7FfxzpbLdHXUW+eLTv5JozUtwl+WzLQ5/oyeISUDs31HQ7A"
    );
    // And its signature of "hello\n".
    let sig = "untrusted comment: signature from minisign secret key\n\
            RUQv6jQwc7Ffx38Y6tFuWncnSElxfSoO45V/FBV3LO3l7wKDSAwY1jqUGIa3nmSd47rorJkNjuZ4n//N1paaMJOOn0BVsEN6UQI=\n\
            trusted comment: a trusted comment\n\
            30rX7uMcM9A0d5w33nKM7GKdy41rgssQAH1lBy/vZkEOcc6chXz5e1ACTMA6dgm7e7ZNvUVn3bc/n51fMVj5AQ==\n";
    let verified = verify(&public, sig, b"hello\n").unwrap();
    assert_eq!(verified.trusted_comment, "a trusted comment");
    assert_eq!(verified.key_id, public.id());
}

#[test]
fn bad_public_keys_are_refused() {
    let public = key().public_key();
    let mut bytes = BASE64.decode(public.to_minisign_line()).unwrap();
    let cases = [
        String::new(),
        "not base64".to_string(),
        BASE64.encode(&bytes[..41]),
        {
            bytes[0] = b'X';
            BASE64.encode(&bytes)
        },
        {
            // The identity point: a weak key.
            let mut weak = b"Ed".to_vec();
            weak.extend_from_slice(&[0; 8]);
            let mut identity = [0u8; 32];
            identity[0] = 1;
            weak.extend_from_slice(&identity);
            BASE64.encode(weak)
        },
    ];
    for case in cases {
        let err = PublicKey::from_minisign_line(&case).unwrap_err();
        assert_eq!((err.field, err.code), ("public_key", "invalid_public_key"));
    }
    let no_comment = format!("{}\n", public.to_minisign_line());
    assert!(PublicKey::from_minisign_file(&no_comment).is_err());
    let three_lines = format!("{}extra\n", public.to_minisign_file());
    assert!(PublicKey::from_minisign_file(&three_lines).is_err());
}

#[test]
fn key_ids_print_and_parse_like_minisign() {
    let id = KeyId::from_bytes([0x2f, 0xea, 0x34, 0x30, 0x73, 0xb1, 0x5f, 0xc7]);
    assert_eq!(id.to_string(), "C75FB1733034EA2F");
    assert_eq!(KeyId::parse_hex("c75fb1733034ea2f").unwrap(), id);
    assert_eq!(serde_json::to_string(&id).unwrap(), "\"C75FB1733034EA2F\"");
    assert_eq!(
        serde_json::from_str::<KeyId>("\"C75FB1733034EA2F\"").unwrap(),
        id
    );
    for bad in [
        "",
        "C75FB1733034EA2",
        "C75FB1733034EA2FF",
        "+75FB1733034EA2F",
        "XYZ",
    ] {
        assert_eq!(KeyId::parse_hex(bad).unwrap_err().code, "invalid_key_id");
    }
    assert_ne!(KeyId::generate(), KeyId::generate());
}

#[test]
fn stored_keys_round_trip_and_keep_the_secret_out_of_debug() {
    let now = Timestamp::parse_rfc3339("2026-01-02T03:04:05Z").unwrap();
    let mut stored = StoredSigningKey::generate(now);
    stored.valid_until = Some(now.plus_secs(86_400));
    let text = stored.to_json();
    let loaded = StoredSigningKey::from_json(&text).unwrap();
    assert_eq!(loaded.key.id(), stored.key.id());
    assert_eq!(loaded.key.public_key(), stored.key.public_key());
    assert_eq!(loaded.created_at, now);
    assert_eq!(loaded.valid_from, now);
    assert_eq!(loaded.valid_until, stored.valid_until);
    let sig = sign(&loaded.key, DATA, "c").unwrap();
    assert!(verify(&stored.key.public_key(), &sig, DATA).is_ok());

    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["format"], "souk-signing-key/1");
    assert_eq!(json["key_id"], stored.key.id().to_hex());
    assert_eq!(json["created_at"], "2026-01-02T03:04:05Z");
    assert_eq!(json["valid_until"], "2026-01-03T03:04:05Z");

    let secret = json["secret_key"].as_str().unwrap().to_string();
    assert!(!format!("{stored:?}").contains(&secret));
    assert!(!format!("{:?}", stored.key).contains(&secret));
}

#[test]
fn stored_key_validity_window() {
    let now = Timestamp::from_millis(1_000_000);
    let mut stored = StoredSigningKey::generate(now);
    assert!(stored.is_valid_at(now));
    assert!(!stored.is_valid_at(Timestamp::from_millis(999_999)));
    assert!(stored.is_valid_at(now.plus_secs(10 * 365 * 86_400)));
    stored.valid_until = Some(now.plus_secs(60));
    assert!(stored.is_valid_at(now.plus_secs(59)));
    assert!(!stored.is_valid_at(now.plus_secs(60)));
}

#[test]
fn broken_key_files_are_refused() {
    let stored = StoredSigningKey::generate(Timestamp::from_millis(0));
    let text = stored.to_json();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();

    assert!(matches!(
        StoredSigningKey::from_json("{"),
        Err(KeyFileError::Malformed(_))
    ));
    let mut edited = json.clone();
    edited["format"] = "other/2".into();
    assert_eq!(
        StoredSigningKey::from_json(&edited.to_string()).unwrap_err(),
        KeyFileError::UnknownFormat("other/2".into())
    );
    let mut edited = json.clone();
    edited["secret_key"] = BASE64.encode([1u8; 31]).into();
    assert_eq!(
        StoredSigningKey::from_json(&edited.to_string()).unwrap_err(),
        KeyFileError::BadSecretKey
    );
    let mut edited = json.clone();
    edited["public_key"] = SigningKey::generate()
        .public_key()
        .to_minisign_line()
        .into();
    assert_eq!(
        StoredSigningKey::from_json(&edited.to_string()).unwrap_err(),
        KeyFileError::PublicKeyMismatch
    );
    json["surprise"] = 1.into();
    assert!(matches!(
        StoredSigningKey::from_json(&json.to_string()),
        Err(KeyFileError::Malformed(_))
    ));
}

#[test]
fn secret_key_files_round_trip_in_minisign_format() {
    let key = SigningKey::generate();
    let text = key.to_minisign_secret_file();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("untrusted comment: souk secret key "));
    let bytes = BASE64.decode(lines[1]).unwrap();
    assert_eq!(bytes.len(), SECRET_KEY_FILE_BYTES);
    assert_eq!(&bytes[..6], b"Ed\0\0B2");
    let loaded = SigningKey::from_minisign_secret_file(&text).unwrap();
    assert_eq!(loaded.public_key(), key.public_key());
    let sig = sign(&loaded, DATA, "c").unwrap();
    assert!(verify(&key.public_key(), &sig, DATA).is_ok());
    // The secret never shows in Debug.
    assert!(!format!("{loaded:?}").contains(lines[1]));
}

#[test]
fn reads_an_unencrypted_key_made_by_minisign() {
    // `minisign -G -W` (0.11), key id AA74B5A600B80716: its checksum is left zero.
    let secret = "untrusted comment: minisign encrypted secret key\n\
            RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAFge4AKa1dKq1tFeIfRZ7\
            VgNB3lTPMqTP3WFECX3Wo99sSHC68YN3DnCFwdrfm9zkg+aLxbvlRZvu7wGiZHvOvAXWvuCH+sPQAAAAAAAAAAAAAAAA\
            AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let public = "RWQWB7gAprV0qnCFwdrfm9zkg+aLxbvlRZvu7wGiZHvOvAXWvuCH+sPQ";
    let key = SigningKey::from_minisign_secret_file(secret).unwrap();
    assert_eq!(key.id().to_hex(), "AA74B5A600B80716");
    assert_eq!(key.public_key().to_minisign_line(), public);
    // And minisign's own signature with it, of "hello\n", verifies with its public key.
    let sig = "untrusted comment: signature from minisign secret key\n\
            RUQWB7gAprV0qrvEz3p9Dx10Btp7016SbYaBf2enX3A6sSCsKJd+Fnv7NPZkRcKcDjuYZmftcrf6qMvyK4ZPAf3xA6ZxHGEF/Ac=\n\
            trusted comment: tc\n\
            JmZdwNrzvfx1JXxuj0wkSi70sg9PiKy1SvLxTtdDgFV/GsihrOF3NxPLKI6wXN8kWiwydLSpbK1cE9YO2LKHBA==\n";
    assert!(verify(&key.public_key(), sig, b"hello\n").is_ok());
}

#[test]
fn bad_secret_key_files_are_refused() {
    let key = SigningKey::generate();
    let text = key.to_minisign_secret_file();
    let line = text.lines().nth(1).unwrap();
    let bytes = BASE64.decode(line).unwrap();
    let with = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bytes.clone();
        edit(&mut b);
        format!("untrusted comment: k\n{}\n", BASE64.encode(b))
    };
    let read = |t: &str| SigningKey::from_minisign_secret_file(t).unwrap_err();
    assert!(matches!(read(""), SecretKeyFileError::Malformed(_)));
    assert!(matches!(read(line), SecretKeyFileError::Malformed(_)));
    assert!(matches!(
        read("untrusted comment: k\nnot base64\n"),
        SecretKeyFileError::Malformed(_)
    ));
    assert!(matches!(
        read(&with(&|b| b.truncate(100))),
        SecretKeyFileError::Malformed(_)
    ));
    assert!(matches!(
        read(&format!("{text}extra\n")),
        SecretKeyFileError::Malformed(_)
    ));
    assert_eq!(
        read(&with(&|b| b[2..4].copy_from_slice(b"Sc"))),
        SecretKeyFileError::Encrypted
    );
    assert_eq!(
        read(&with(&|b| b[0] = b'X')),
        SecretKeyFileError::UnsupportedAlgorithm
    );
    // A flipped bit in the secret: the checksum no longer matches.
    assert_eq!(read(&with(&|b| b[70] ^= 1)), SecretKeyFileError::Corrupt);
    // A public half that does not belong to the seed, checksum zeroed as minisign leaves it.
    assert_eq!(
        read(&with(&|b| {
            b[100] ^= 1;
            b[126..].fill(0);
        })),
        SecretKeyFileError::Corrupt
    );
    // No message carries the key.
    assert!(!read(&with(&|b| b[70] ^= 1)).to_string().contains(line));
}

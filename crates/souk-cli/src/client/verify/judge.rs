//! Judging the evidence `souk verify` gathered: one check line per fact (the bytes' SHA-256, the
//! registry's signature and its trusted comment, the publisher's signature), each passed,
//! failed or skipped, with the reason a person can act on.

use super::*;

/// The fields of a registry signature's trusted comment:
/// `souk module=NAME version=V sha256=HEX signed=RFC3339`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct RegistryComment {
    pub(super) module: Option<String>,
    pub(super) version: Option<String>,
    pub(super) sha256: Option<String>,
    pub(super) signed: Option<String>,
}

impl RegistryComment {
    /// `None` when the comment is not a Souk registry comment (a publisher's own, say).
    pub(super) fn parse(comment: &str) -> Option<Self> {
        let mut words = comment.split_whitespace();
        if words.next() != Some("souk") {
            return None;
        }
        let mut c = RegistryComment::default();
        for word in words {
            let Some((key, value)) = word.split_once('=') else {
                continue;
            };
            let slot = match key {
                "module" => &mut c.module,
                "version" => &mut c.version,
                "sha256" => &mut c.sha256,
                "signed" => &mut c.signed,
                _ => continue,
            };
            // A field written twice is ambiguous; keep neither reading silently.
            if slot.is_some() {
                return None;
            }
            *slot = Some(value.to_owned());
        }
        Some(c)
    }
}

/// Runs every check on `e`, in the order they are printed.
pub fn checks(e: &Evidence) -> Vec<Check> {
    let sha256 = hex::encode(Sha256::digest(&e.bytes));
    let size = e.bytes.len() as u64;

    // `None` when there is no signature to verify.
    let verified: Option<Result<VerifiedSignature, SignatureError>> = e
        .signature
        .as_ref()
        .ok()
        .map(|text| signing::verify(&e.keys.keys[..], text, &e.bytes));
    let good = verified.as_ref().and_then(|v| v.as_ref().ok());
    // `Some(None)`: verified, but not a Souk registry comment.
    let comment = good.map(|v| RegistryComment::parse(&v.trusted_comment));

    let sha_check = match (&e.record, &comment) {
        (Some((recorded, recorded_size)), _) => {
            if *recorded == sha256 && *recorded_size == size {
                Outcome::Ok(format!("{sha256}, {size} bytes"))
            } else {
                Outcome::Failed(format!(
                    "the registry recorded {recorded} ({recorded_size} bytes), the package is \
                     {sha256} ({size} bytes)"
                ))
            }
        }
        (
            None,
            Some(Some(RegistryComment {
                sha256: Some(signed),
                ..
            })),
        ) => {
            if signed.eq_ignore_ascii_case(&sha256) {
                Outcome::Ok(format!("{sha256}, {size} bytes, as signed"))
            } else {
                Outcome::Failed(format!(
                    "the signature vouches for {signed}, the package is {sha256} ({size} bytes)"
                ))
            }
        }
        (None, _) => Outcome::NotChecked(format!(
            "the package is {sha256} ({size} bytes), but there is no registry record or \
             trusted signed SHA-256 to compare it with"
        )),
    };

    let signature_check = match &verified {
        // No signature: the reason is in `e.signature`.
        None => Outcome::Failed(e.signature.clone().err().unwrap_or_default()),
        Some(Ok(v)) => {
            let signed = comment
                .as_ref()
                .and_then(|c| c.as_ref())
                .and_then(|c| c.signed.clone())
                .map(|t| format!(", signed {t}"))
                .unwrap_or_default();
            Outcome::Ok(format!("key {}{signed}", v.key_id))
        }
        Some(Err(err)) => Outcome::Failed(signature_failure(err, &e.keys)),
    };

    let comment_check = match (&comment, &e.identity) {
        (None, _) if e.signature.is_err() => {
            Outcome::NotChecked("there is no signature, so no trusted comment".to_owned())
        }
        (None, _) => Outcome::NotChecked(
            "the signature did not verify, so its comment cannot be trusted".to_owned(),
        ),
        (Some(None), _) => Outcome::Failed(format!(
            "`{}` is not a Souk registry comment (souk module=NAME version=V sha256=HEX ...)",
            good.map(|v| v.trusted_comment.as_str()).unwrap_or_default()
        )),
        (Some(Some(_)), Err(why)) => Outcome::NotChecked(why.clone()),
        (Some(Some(c)), Ok((name, version))) => comment_outcome(c, name, version, &sha256),
    };

    vec![
        Check {
            name: "sha256",
            outcome: sha_check,
        },
        Check {
            name: "registry signature",
            outcome: signature_check,
        },
        Check {
            name: "trusted comment",
            outcome: comment_check,
        },
        Check {
            name: "publisher signature",
            outcome: publisher_signature(e),
        },
    ]
}

/// Whether a verified registry comment names `name` `version` and the bytes of `sha256`.
pub(super) fn comment_outcome(
    c: &RegistryComment,
    name: &str,
    version: &semver::Version,
    sha256: &str,
) -> Outcome {
    let mut wrong = Vec::new();
    match c.module.as_deref() {
        Some(m) if m == name => {}
        Some(m) => wrong.push(format!("module={m} (not {name})")),
        None => wrong.push("no module".to_owned()),
    }
    match c.version.as_deref() {
        Some(v) if semver::Version::parse(v).is_ok_and(|v| v == *version) => {}
        Some(v) => wrong.push(format!("version={v} (not {version})")),
        None => wrong.push("no version".to_owned()),
    }
    match c.sha256.as_deref() {
        Some(h) if h.eq_ignore_ascii_case(sha256) => {}
        Some(h) => wrong.push(format!("sha256={h} (not {sha256})")),
        None => wrong.push("no sha256".to_owned()),
    }
    if wrong.is_empty() {
        Outcome::Ok(format!("module={name} version={version} sha256 matches"))
    } else {
        Outcome::Failed(format!("it names {}", wrong.join(", ")))
    }
}

/// What went wrong with a signature, with where the keys came from when the key is unknown.
pub(super) fn signature_failure(err: &SignatureError, keys: &Keys) -> String {
    match (err, &keys.source) {
        (SignatureError::UnknownKey(id), KeySource::Registry(url)) => format!(
            "made by key {id}, which is not one of the registry's keys ({url}) [{}]",
            err.code()
        ),
        (SignatureError::UnknownKey(id), KeySource::Given) => {
            let given: Vec<String> = keys.keys.iter().map(|k| k.id().to_string()).collect();
            format!(
                "made by key {id}, not by the key given ({}) [{}]",
                given.join(", "),
                err.code()
            )
        }
        _ => format!("{err} [{}]", err.code()),
    }
}

/// The publisher's own signature of the package, when it has one: it must verify with one of
/// the publisher's keys that vouch for this version (not revoked, or revoked after the version
/// was published). No signature is [`Outcome::None`], which passes.
pub(super) fn publisher_signature(e: &Evidence) -> Outcome {
    let text = match &e.publisher.signature {
        None => return Outcome::None,
        Some(Err(why)) => return Outcome::NotChecked(why.clone()),
        Some(Ok(text)) => text,
    };
    let keys = match &e.publisher.keys {
        Ok(keys) => keys,
        Err(why) => return Outcome::NotChecked(why.clone()),
    };
    let vouches = |k: &PublisherKey| match k.revoked_at {
        None => true,
        Some(revoked) => keys.published_at.is_some_and(|p| p < revoked),
    };
    let usable: Vec<PublicKey> = keys
        .keys
        .iter()
        .filter(|k| vouches(k))
        .map(|k| k.key.clone())
        .collect();
    let whose = match &keys.source {
        PublisherKeySource::Registry { publisher, .. } => format!(" of {publisher}"),
        PublisherKeySource::Given => ", given".to_owned(),
    };
    match signing::verify(&usable[..], text, &e.bytes) {
        Ok(v) => {
            let known = keys.keys.iter().find(|k| k.key.id() == v.key_id);
            let name = known
                .and_then(|k| k.name.as_ref())
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default();
            let revoked = known
                .and_then(|k| k.revoked_at)
                .map(|t| {
                    format!(
                        "; revoked {}, after this version was published",
                        t.to_rfc3339()
                    )
                })
                .unwrap_or_default();
            Outcome::Ok(format!("key {}{name}{whose}{revoked}", v.key_id))
        }
        Err(err @ SignatureError::UnknownKey(id)) => {
            let revoked = keys
                .keys
                .iter()
                .find(|k| k.key.id() == id)
                .and_then(|k| k.revoked_at);
            let why = match (revoked, &keys.source) {
                (Some(at), PublisherKeySource::Registry { publisher, .. }) => format!(
                    "made by key {id}, which {publisher} revoked at {}{}",
                    at.to_rfc3339(),
                    if keys.published_at.is_some() {
                        ", before this version was published"
                    } else {
                        ""
                    }
                ),
                (_, PublisherKeySource::Registry { publisher, url }) => {
                    format!("made by key {id}, which is not one of {publisher}'s keys ({url})")
                }
                (_, PublisherKeySource::Given) => {
                    let given: Vec<String> =
                        keys.keys.iter().map(|k| k.key.id().to_string()).collect();
                    format!(
                        "made by key {id}, not by the publisher key given ({})",
                        given.join(", ")
                    )
                }
            };
            Outcome::Failed(format!("{why} [{}]", err.code()))
        }
        Err(err) => Outcome::Failed(format!("{err} [{}]", err.code())),
    }
}

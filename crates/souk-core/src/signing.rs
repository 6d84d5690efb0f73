//! Ed25519 signatures in minisign's format.
//!
//! Souk signs packages (the registry with its own keys, publishers with theirs) so that anyone can
//! check them offline with our CLI or with the standard `minisign` tool. The formats are
//! minisign's, byte for byte:
//!
//! - a **public key** is the base64 of `Ed` ‖ key id (8 bytes) ‖ Ed25519 public key (32 bytes), the
//!   line `minisign -P` takes; a `.pub` file puts an `untrusted comment:` line above it;
//! - a **signature file** has four lines: `untrusted comment: …`, the base64 of algorithm (2 bytes)
//!   ‖ key id ‖ Ed25519 signature (64 bytes), `trusted comment: …`, and the base64 of the *global
//!   signature*, Ed25519 over the signature bytes ‖ the trusted comment bytes. The global signature
//!   is what makes the trusted comment trustworthy: change it and verification fails.
//!
//! We always sign with the prehashed algorithm `ED`: Ed25519 over the BLAKE2b-512 hash of the file
//! (not Ed25519ph: plain Ed25519 of the 64-byte hash). That lets a 50 MiB package be streamed
//! through a [`Prehasher`] instead of held in memory. Verification also accepts the legacy `Ed`
//! algorithm (Ed25519 over the file itself), which older minisign versions still produce with
//! `-l`; it needs the whole file, so only [`verify`] can check it, not [`verify_prehashed`].
//!
//! A key id is 8 random bytes, as in minisign. It is shown the way minisign shows it: the bytes
//! read as a little-endian integer, in 16 upper-case hex digits.
//!
//! Keys at rest ([`StoredSigningKey`]) are a small JSON document holding the 32-byte Ed25519 seed
//! in base64 with the key's validity window. It is not encrypted: the server keeps it in a file of
//! mode 0600, and an encrypted minisign key would need the password on every start.

use crate::ValidationError;
use crate::secret::random_bytes;
use crate::timestamp::Timestamp;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use blake2::{Blake2b512, Digest};
use ed25519_dalek::{Signature, Signer};
use std::fmt;
use std::io;

/// minisign's algorithm tag in public keys and in legacy (not prehashed) signatures.
const ALG_ED25519: [u8; 2] = *b"Ed";
/// minisign's algorithm tag of signatures over the BLAKE2b-512 hash of the file.
const ALG_ED25519_PREHASHED: [u8; 2] = *b"ED";
const UNTRUSTED_PREFIX: &str = "untrusted comment: ";
const TRUSTED_PREFIX: &str = "trusted comment: ";
const PUBLIC_KEY_BYTES: usize = 2 + 8 + 32;
const SIGNATURE_BYTES: usize = 2 + 8 + 64;
/// minisign reads the trusted comment line into 8192 bytes (prefix, newline and NUL included)
/// and refuses a longer one; we stay well below so that every signature we make verifies there.
pub const MAX_TRUSTED_COMMENT_BYTES: usize = 4096;
/// minisign reads the untrusted comment line into 1024 bytes.
const MAX_UNTRUSTED_COMMENT_BYTES: usize = 1000;
/// A signature file is four short lines; anything much longer is not one.
const MAX_SIGNATURE_FILE_BYTES: usize = 16 * 1024;
/// The `format` field of a key file, so that a later format can be told apart.
const KEY_FILE_FORMAT: &str = "souk-signing-key/1";

/// A minisign key id: 8 random bytes that name a key in signatures and public keys.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 8]);

impl KeyId {
    pub fn generate() -> Self {
        Self(random_bytes::<8>())
    }

    pub fn from_bytes(bytes: [u8; 8]) -> Self {
        Self(bytes)
    }

    /// The bytes as they stand in minisign's public keys and signatures.
    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }

    /// minisign's display form: the bytes as a little-endian integer in 16 upper-case hex digits
    /// (`minisign -V` prints the key id this way).
    pub fn to_hex(&self) -> String {
        format!("{:016X}", u64::from_le_bytes(self.0))
    }

    /// Parses [`KeyId::to_hex`]'s form (either case).
    pub fn parse_hex(raw: &str) -> Result<Self, ValidationError> {
        let invalid = || {
            ValidationError::new(
                "key_id",
                "invalid_key_id",
                "a key id is 16 hexadecimal digits",
            )
        };
        if raw.len() != 16 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let n = u64::from_str_radix(raw, 16).map_err(|_| invalid())?;
        Ok(Self(n.to_le_bytes()))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse_hex(&raw).map_err(serde::de::Error::custom)
    }
}

/// A public key: what verifies signatures made with the [`SigningKey`] of the same id.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    id: KeyId,
    key: ed25519_dalek::VerifyingKey,
}

impl PublicKey {
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The 32 bytes of the Ed25519 public key.
    pub fn ed25519_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The base64 line that `minisign -P` takes.
    pub fn to_minisign_line(&self) -> String {
        let mut bytes = Vec::with_capacity(PUBLIC_KEY_BYTES);
        bytes.extend_from_slice(&ALG_ED25519);
        bytes.extend_from_slice(self.id.as_bytes());
        bytes.extend_from_slice(self.key.as_bytes());
        BASE64.encode(bytes)
    }

    /// A minisign `.pub` file: `minisign -p FILE` takes it.
    pub fn to_minisign_file(&self) -> String {
        format!(
            "{UNTRUSTED_PREFIX}minisign public key {}\n{}\n",
            self.id,
            self.to_minisign_line()
        )
    }

    /// Parses the base64 line of a minisign public key. Surrounding whitespace is ignored.
    pub fn from_minisign_line(raw: &str) -> Result<Self, ValidationError> {
        let invalid = |message: &str| {
            ValidationError::new("public_key", "invalid_public_key", message.to_string())
        };
        let bytes = BASE64
            .decode(raw.trim())
            .map_err(|_| invalid("a minisign public key is one line of base64"))?;
        if bytes.len() != PUBLIC_KEY_BYTES {
            return Err(invalid("a minisign public key is 42 bytes in base64"));
        }
        if bytes[..2] != ALG_ED25519 {
            return Err(invalid("only Ed25519 minisign public keys are supported"));
        }
        let id = KeyId::from_bytes(bytes[2..10].try_into().expect("8 bytes"));
        let key_bytes: [u8; 32] = bytes[10..].try_into().expect("32 bytes");
        let key = ed25519_dalek::VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| invalid("the key is not a point on Ed25519's curve"))?;
        // A small-order key "verifies" signatures nobody made; no honest key is one.
        if key.is_weak() {
            return Err(invalid("the key is a weak (small-order) Ed25519 key"));
        }
        Ok(Self { id, key })
    }

    /// Parses a minisign `.pub` file: an `untrusted comment:` line, then the key line.
    pub fn from_minisign_file(raw: &str) -> Result<Self, ValidationError> {
        let mut lines = raw.lines().map(str::trim).filter(|l| !l.is_empty());
        let comment = lines.next().unwrap_or_default();
        if !comment.starts_with(UNTRUSTED_PREFIX.trim_end()) {
            return Err(ValidationError::new(
                "public_key",
                "invalid_public_key",
                "a minisign public key file starts with an \"untrusted comment:\" line",
            ));
        }
        let line = lines.next().unwrap_or_default();
        if lines.next().is_some() {
            return Err(ValidationError::new(
                "public_key",
                "invalid_public_key",
                "a minisign public key file has two lines",
            ));
        }
        Self::from_minisign_line(line)
    }

    /// Parses what a person pastes: a whole `.pub` file or just its key line.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.trim_start().starts_with(UNTRUSTED_PREFIX.trim_end()) {
            Self::from_minisign_file(raw)
        } else {
            Self::from_minisign_line(raw)
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("id", &self.id)
            .field("minisign", &self.to_minisign_line())
            .finish()
    }
}

/// One key passes where a list of keys is expected, so `verify(&key, …)` and
/// `verify(&keys[..], …)` both read well.
impl AsRef<[PublicKey]> for PublicKey {
    fn as_ref(&self) -> &[PublicKey] {
        std::slice::from_ref(self)
    }
}

/// A secret signing key: a key id and an Ed25519 secret. Its `Debug` shows only the id, and the
/// secret is wiped from memory when it is dropped.
#[derive(Clone)]
pub struct SigningKey {
    id: KeyId,
    key: ed25519_dalek::SigningKey,
}

impl SigningKey {
    /// A new key from the operating system's random generator.
    pub fn generate() -> Self {
        Self::from_seed(KeyId::generate(), random_bytes::<32>())
    }

    /// The key with this id whose Ed25519 secret is derived from `seed` (RFC 8032's secret key).
    pub fn from_seed(id: KeyId, seed: [u8; 32]) -> Self {
        Self {
            id,
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        }
    }

    pub fn id(&self) -> KeyId {
        self.id
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            id: self.id,
            key: self.key.verifying_key(),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// minisign's secret key files: the key-derivation tag of an unencrypted key (`minisign -G -W`)
/// and of a password-encrypted one (scrypt), and the checksum algorithm (BLAKE2b-256).
const KDF_NONE: [u8; 2] = [0, 0];
const KDF_SCRYPT: [u8; 2] = *b"Sc";
const CHK_BLAKE2B: [u8; 2] = *b"B2";
/// algorithm, KDF, checksum algorithm (2 each), salt (32), opslimit and memlimit (8 each), then the
/// part the KDF would encrypt: key id (8), Ed25519 secret key (64: seed ‖ public key), checksum (32).
const SECRET_KEY_FILE_BYTES: usize = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32;

impl SigningKey {
    /// An unencrypted minisign secret key file, the format `minisign -G -W` writes, so that
    /// `minisign -S -s FILE` signs with it as well as `souk sign`. Nothing protects the key but
    /// the file's permissions: write it with mode 0600.
    pub fn to_minisign_secret_file(&self) -> String {
        let mut bytes = Vec::with_capacity(SECRET_KEY_FILE_BYTES);
        bytes.extend_from_slice(&ALG_ED25519);
        bytes.extend_from_slice(&KDF_NONE);
        bytes.extend_from_slice(&CHK_BLAKE2B);
        // Salt and scrypt limits: unused without a password, zero as minisign leaves them.
        bytes.extend_from_slice(&[0u8; 32 + 8 + 8]);
        let keypair = self.key.to_keypair_bytes();
        bytes.extend_from_slice(self.id.as_bytes());
        bytes.extend_from_slice(&keypair);
        bytes.extend_from_slice(&secret_key_checksum(self.id, &keypair));
        let line = BASE64.encode(&bytes);
        // The buffer held the secret; wipe it rather than leave it to the allocator.
        bytes.iter_mut().for_each(|b| *b = 0);
        format!(
            "{UNTRUSTED_PREFIX}souk secret key {} (not encrypted: keep this file private)\n{line}\n",
            self.id
        )
    }

    /// Reads an unencrypted minisign secret key file (`minisign -G -W`, or
    /// [`SigningKey::to_minisign_secret_file`]). A password-encrypted one is refused with
    /// [`SecretKeyFileError::Encrypted`]: decrypting needs scrypt, which Souk does not carry.
    pub fn from_minisign_secret_file(text: &str) -> Result<Self, SecretKeyFileError> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let comment = lines.next().unwrap_or_default();
        if !comment.starts_with(UNTRUSTED_PREFIX.trim_end()) {
            return Err(SecretKeyFileError::Malformed(
                "the first line does not start with \"untrusted comment:\"",
            ));
        }
        let mut bytes = BASE64
            .decode(lines.next().unwrap_or_default())
            .map_err(|_| SecretKeyFileError::Malformed("the second line is not base64"))?;
        let parsed = Self::from_secret_key_bytes(&bytes);
        bytes.iter_mut().for_each(|b| *b = 0);
        if parsed.is_ok() && lines.next().is_some() {
            return Err(SecretKeyFileError::Malformed(
                "there is more after the key line",
            ));
        }
        parsed
    }

    fn from_secret_key_bytes(bytes: &[u8]) -> Result<Self, SecretKeyFileError> {
        if bytes.len() != SECRET_KEY_FILE_BYTES {
            return Err(SecretKeyFileError::Malformed(
                "the key line is not a minisign secret key (158 bytes)",
            ));
        }
        if bytes[..2] != ALG_ED25519 {
            return Err(SecretKeyFileError::UnsupportedAlgorithm);
        }
        if bytes[4..6] != CHK_BLAKE2B {
            return Err(SecretKeyFileError::UnsupportedAlgorithm);
        }
        match [bytes[2], bytes[3]] {
            KDF_NONE => {}
            KDF_SCRYPT => return Err(SecretKeyFileError::Encrypted),
            _ => return Err(SecretKeyFileError::UnsupportedAlgorithm),
        }
        let rest = &bytes[54..];
        let id = KeyId::from_bytes(rest[..8].try_into().expect("8 bytes"));
        let keypair: [u8; 64] = rest[8..72].try_into().expect("64 bytes");
        let checksum = &rest[72..];
        // minisign checks the checksum only after decrypting; `minisign -G -W` leaves it zero.
        if checksum.iter().any(|&b| b != 0) && checksum != secret_key_checksum(id, &keypair) {
            return Err(SecretKeyFileError::Corrupt);
        }
        let key = ed25519_dalek::SigningKey::from_keypair_bytes(&keypair)
            .map_err(|_| SecretKeyFileError::Corrupt)?;
        Ok(Self { id, key })
    }
}

/// minisign's checksum of a secret key: BLAKE2b-256 of the algorithm, key id and secret key.
fn secret_key_checksum(id: KeyId, keypair: &[u8; 64]) -> [u8; 32] {
    let mut hasher = blake2::Blake2b::<blake2::digest::consts::U32>::new();
    hasher.update(ALG_ED25519);
    hasher.update(id.as_bytes());
    hasher.update(keypair);
    hasher.finalize().into()
}

/// Why a secret key file could not be read. The messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretKeyFileError {
    #[error("not a minisign secret key file: {0}")]
    Malformed(&'static str),
    #[error(
        "the key is encrypted with a password, which souk cannot read; use a key made by `souk key generate` or `minisign -G -W`, or sign with `minisign -S`"
    )]
    Encrypted,
    #[error("the key uses an algorithm other than Ed25519 with a BLAKE2b checksum")]
    UnsupportedAlgorithm,
    #[error(
        "the secret key file is damaged: its checksum or public half does not match its secret"
    )]
    Corrupt,
}

/// A signing key as the server keeps it: the key and when it may be used. Keys are rotated by
/// adding a new one and giving the old one a `valid_until`; old signatures stay verifiable because
/// the public keys of retired keys stay published.
#[derive(Debug, Clone)]
pub struct StoredSigningKey {
    pub key: SigningKey,
    pub created_at: Timestamp,
    pub valid_from: Timestamp,
    /// `None`: until further notice.
    pub valid_until: Option<Timestamp>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: String,
    key_id: KeyId,
    /// Not needed to load the key; there so that a person reading the file sees which public key
    /// it belongs to, and checked on load so that a hand-edited file cannot mismatch silently.
    public_key: String,
    /// The 32-byte Ed25519 seed in base64.
    secret_key: String,
    created_at: Timestamp,
    valid_from: Timestamp,
    valid_until: Option<Timestamp>,
}

impl StoredSigningKey {
    /// A new key, valid from `now` with no end.
    pub fn generate(now: Timestamp) -> Self {
        Self {
            key: SigningKey::generate(),
            created_at: now,
            valid_from: now,
            valid_until: None,
        }
    }

    /// Whether the key may sign at `at`: from `valid_from` (included) to `valid_until` (excluded).
    pub fn is_valid_at(&self, at: Timestamp) -> bool {
        at >= self.valid_from && self.valid_until.is_none_or(|until| at < until)
    }

    /// The key file's text: pretty JSON, one field a line.
    pub fn to_json(&self) -> String {
        let file = KeyFile {
            format: KEY_FILE_FORMAT.to_string(),
            key_id: self.key.id,
            public_key: self.key.public_key().to_minisign_line(),
            secret_key: BASE64.encode(self.key.key.as_bytes()),
            created_at: self.created_at,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
        };
        let mut text = serde_json::to_string_pretty(&file).expect("a key file serializes");
        text.push('\n');
        text
    }

    pub fn from_json(text: &str) -> Result<Self, KeyFileError> {
        let file: KeyFile =
            serde_json::from_str(text).map_err(|e| KeyFileError::Malformed(e.to_string()))?;
        if file.format != KEY_FILE_FORMAT {
            return Err(KeyFileError::UnknownFormat(file.format));
        }
        let seed: [u8; 32] = BASE64
            .decode(file.secret_key.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(KeyFileError::BadSecretKey)?;
        let key = SigningKey::from_seed(file.key_id, seed);
        if key.public_key().to_minisign_line() != file.public_key.trim() {
            return Err(KeyFileError::PublicKeyMismatch);
        }
        Ok(Self {
            key,
            created_at: file.created_at,
            valid_from: file.valid_from,
            valid_until: file.valid_until,
        })
    }
}

/// Why a key file could not be loaded. The messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    #[error("the signing key file is not valid: {0}")]
    Malformed(String),
    #[error("the signing key file has format {0:?}, expected {KEY_FILE_FORMAT:?}")]
    UnknownFormat(String),
    #[error("the signing key file's secret_key is not 32 bytes in base64")]
    BadSecretKey,
    #[error("the signing key file's public_key does not belong to its secret_key")]
    PublicKeyMismatch,
}

/// The BLAKE2b-512 hash of a file, what `ED` signatures sign.
#[derive(Clone, PartialEq, Eq)]
pub struct Prehash([u8; 64]);

impl Prehash {
    /// The hash of bytes already in memory.
    pub fn of(data: &[u8]) -> Self {
        let mut hasher = Prehasher::new();
        hasher.update(data);
        hasher.finish()
    }

    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Debug for Prehash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prehash({})", hex::encode(self.0))
    }
}

/// Hashes a file fed in chunks, for signing or verifying it without holding it in memory. It is an
/// [`io::Write`], so `io::copy(&mut reader, &mut prehasher)` feeds it a whole reader.
#[derive(Clone, Default)]
pub struct Prehasher(Blake2b512);

impl Prehasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.0.update(chunk);
    }

    pub fn finish(self) -> Prehash {
        Prehash(self.0.finalize().into())
    }

    /// Finishes the hash and signs it: the same as [`sign`] over everything fed in.
    pub fn finish_sign(self, key: &SigningKey, trusted_comment: &str) -> Result<String, SignError> {
        sign_prehashed(key, &self.finish(), trusted_comment)
    }
}

impl io::Write for Prehasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why a signature could not be made: only the trusted comment can be wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("a trusted comment is one line")]
    CommentHasLineBreak,
    #[error("a trusted comment is at most {MAX_TRUSTED_COMMENT_BYTES} bytes")]
    CommentTooLong,
}

/// Signs `data` with the prehashed algorithm and answers the minisign signature file.
pub fn sign(key: &SigningKey, data: &[u8], trusted_comment: &str) -> Result<String, SignError> {
    sign_prehashed(key, &Prehash::of(data), trusted_comment)
}

/// Signs a file of which only the hash is at hand (see [`Prehasher`]).
pub fn sign_prehashed(
    key: &SigningKey,
    prehash: &Prehash,
    trusted_comment: &str,
) -> Result<String, SignError> {
    // A line break would let the comment forge the lines after it; minisign refuses it too.
    if trusted_comment.contains(['\n', '\r']) {
        return Err(SignError::CommentHasLineBreak);
    }
    if trusted_comment.len() > MAX_TRUSTED_COMMENT_BYTES {
        return Err(SignError::CommentTooLong);
    }
    let signature = key.key.sign(prehash.as_bytes()).to_bytes();
    let global = key
        .key
        .sign(&global_message(&signature, trusted_comment))
        .to_bytes();

    let mut sig_line = Vec::with_capacity(SIGNATURE_BYTES);
    sig_line.extend_from_slice(&ALG_ED25519_PREHASHED);
    sig_line.extend_from_slice(key.id.as_bytes());
    sig_line.extend_from_slice(&signature);
    Ok(format!(
        "{UNTRUSTED_PREFIX}signature from souk key {}\n{}\n{TRUSTED_PREFIX}{trusted_comment}\n{}\n",
        key.id,
        BASE64.encode(sig_line),
        BASE64.encode(global),
    ))
}

/// What the global signature covers: the 64 signature bytes, then the trusted comment.
fn global_message(signature: &[u8; 64], trusted_comment: &str) -> Vec<u8> {
    let mut message = Vec::with_capacity(64 + trusted_comment.len());
    message.extend_from_slice(signature);
    message.extend_from_slice(trusted_comment.as_bytes());
    message
}

/// A parsed minisign signature file, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFile {
    prehashed: bool,
    key_id: KeyId,
    signature: [u8; 64],
    trusted_comment: String,
    global_signature: [u8; 64],
}

impl SignatureFile {
    /// Parses the four lines of a signature file. Line ends may be `\n` or `\r\n`; empty lines at
    /// the end are ignored.
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let malformed = |why: &str| SignatureError::Malformed(why.to_string());
        if text.len() > MAX_SIGNATURE_FILE_BYTES {
            return Err(malformed("too long for a signature file"));
        }
        let mut lines = text.lines();
        let mut next = || lines.next().map(|l| l.trim_end_matches('\r'));

        let untrusted = next().unwrap_or_default();
        if !untrusted.starts_with(UNTRUSTED_PREFIX) {
            return Err(malformed(
                "the first line does not start with \"untrusted comment: \"",
            ));
        }
        if untrusted.len() > MAX_UNTRUSTED_COMMENT_BYTES {
            return Err(malformed("the untrusted comment is too long"));
        }

        let sig = BASE64
            .decode(next().unwrap_or_default().trim())
            .map_err(|_| malformed("the second line is not base64"))?;
        if sig.len() != SIGNATURE_BYTES {
            return Err(malformed("the signature line is not 74 bytes"));
        }
        let prehashed = match [sig[0], sig[1]] {
            ALG_ED25519_PREHASHED => true,
            ALG_ED25519 => false,
            _ => return Err(SignatureError::UnsupportedAlgorithm),
        };
        let key_id = KeyId::from_bytes(sig[2..10].try_into().expect("8 bytes"));
        let signature: [u8; 64] = sig[10..].try_into().expect("64 bytes");

        let trusted_comment = next()
            .and_then(|l| l.strip_prefix(TRUSTED_PREFIX))
            .ok_or_else(|| malformed("the third line does not start with \"trusted comment: \""))?;
        if trusted_comment.len() > MAX_TRUSTED_COMMENT_BYTES {
            return Err(malformed("the trusted comment is too long"));
        }

        let global_signature: [u8; 64] = BASE64
            .decode(next().unwrap_or_default().trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| malformed("the fourth line is not a 64-byte signature in base64"))?;
        if lines.any(|l| !l.trim().is_empty()) {
            return Err(malformed("there is more after the fourth line"));
        }

        Ok(Self {
            prehashed,
            key_id,
            signature,
            trusted_comment: trusted_comment.to_string(),
            global_signature,
        })
    }

    /// The id of the key that claims to have made the signature.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// `true` for `ED` (BLAKE2b-512 of the file), `false` for legacy `Ed` (the file itself).
    pub fn is_prehashed(&self) -> bool {
        self.prehashed
    }

    /// The trusted comment as written; trust it only after verification.
    pub fn trusted_comment(&self) -> &str {
        &self.trusted_comment
    }
}

/// A signature that checked out: which key made it and the comment it vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub key_id: KeyId,
    pub trusted_comment: String,
    /// Whether it used the prehashed algorithm `ED` (rather than legacy `Ed`).
    pub prehashed: bool,
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("not a minisign signature: {0}")]
    Malformed(String),
    #[error("the signature uses an algorithm other than Ed25519")]
    UnsupportedAlgorithm,
    #[error("the signature was made by key {0}, which is not among the keys it was checked with")]
    UnknownKey(KeyId),
    #[error("the signature does not match the file")]
    BadSignature,
    #[error("the trusted comment does not match its signature (it was changed)")]
    BadGlobalSignature,
    #[error("a legacy (not prehashed) signature can only be checked against the whole file")]
    LegacyNeedsWholeFile,
}

impl SignatureError {
    /// A stable machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::Malformed(_) => "malformed_signature",
            SignatureError::UnsupportedAlgorithm => "unsupported_signature_algorithm",
            SignatureError::UnknownKey(_) => "unknown_signing_key",
            SignatureError::BadSignature => "bad_signature",
            SignatureError::BadGlobalSignature => "bad_trusted_comment_signature",
            SignatureError::LegacyNeedsWholeFile => "legacy_signature_needs_file",
        }
    }
}

/// Checks a signature file over `data` with any of `keys` (one [`PublicKey`] or a slice of them):
/// the key id must be one of theirs, the signature must match the file, and the global signature
/// must match the trusted comment.
pub fn verify<K>(
    keys: &K,
    signature_file: &str,
    data: &[u8],
) -> Result<VerifiedSignature, SignatureError>
where
    K: AsRef<[PublicKey]> + ?Sized,
{
    let file = SignatureFile::parse(signature_file)?;
    if file.prehashed {
        check(keys.as_ref(), &file, Prehash::of(data).as_bytes())
    } else {
        check(keys.as_ref(), &file, data)
    }
}

/// [`verify`] for a file of which only the hash is at hand (see [`Prehasher`]). A legacy `Ed`
/// signature is refused with [`SignatureError::LegacyNeedsWholeFile`]; call
/// [`SignatureFile::parse`] first to find out before streaming.
pub fn verify_prehashed<K>(
    keys: &K,
    signature_file: &str,
    prehash: &Prehash,
) -> Result<VerifiedSignature, SignatureError>
where
    K: AsRef<[PublicKey]> + ?Sized,
{
    let file = SignatureFile::parse(signature_file)?;
    if !file.prehashed {
        return Err(SignatureError::LegacyNeedsWholeFile);
    }
    check(keys.as_ref(), &file, prehash.as_bytes())
}

fn check(
    keys: &[PublicKey],
    file: &SignatureFile,
    message: &[u8],
) -> Result<VerifiedSignature, SignatureError> {
    // Key ids are random, but a list of keys someone registered may still hold two with one id;
    // the signature is good if any of them made it.
    let mut outcome = Err(SignatureError::UnknownKey(file.key_id));
    for key in keys.iter().filter(|k| k.id == file.key_id) {
        outcome = check_with(key, file, message);
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

fn check_with(
    key: &PublicKey,
    file: &SignatureFile,
    message: &[u8],
) -> Result<VerifiedSignature, SignatureError> {
    // Strict verification refuses small-order points and non-canonical encodings, as libsodium
    // (under minisign) does, so that what passes here passes `minisign -V` too.
    key.key
        .verify_strict(message, &Signature::from_bytes(&file.signature))
        .map_err(|_| SignatureError::BadSignature)?;
    key.key
        .verify_strict(
            &global_message(&file.signature, &file.trusted_comment),
            &Signature::from_bytes(&file.global_signature),
        )
        .map_err(|_| SignatureError::BadGlobalSignature)?;
    Ok(VerifiedSignature {
        key_id: file.key_id,
        trusted_comment: file.trusted_comment.clone(),
        prehashed: file.prehashed,
    })
}

#[cfg(test)]
mod tests;

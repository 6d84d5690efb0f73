//! Random secrets and the one-way hash under which Souk stores them.

use sha2::{Digest, Sha256};

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS generator failing is not something a server can carry on from.
    getrandom::fill(&mut buf).expect("the operating system's random generator failed");
    buf
}

/// Lowercase hex of 32 random bytes: 256 bits, enough for any bearer secret.
pub fn random_hex32() -> String {
    hex::encode(random_bytes::<32>())
}

/// SHA-256 as lowercase hex. Bearer secrets have 256 bits of entropy, so a fast hash is the right
/// tool for storing them (a slow one protects low-entropy passwords, not random keys).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

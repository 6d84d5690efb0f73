//! Signatures per second: registry signatures made and checked, in minisign's prehashed format,
//! as `souk-core::signing` makes them at publish and `souk verify` checks them.
//!
//! `cargo bench -p souk-core --bench signing`. Prints the machine, then signatures made and
//! verified per second over a package's prehash (the BLAKE2b-512 taken while the upload streams),
//! and the cost of that prehash for a 10 MiB package.

use souk_core::signing::{Prehash, SigningKey, sign_prehashed, verify_prehashed};
use std::time::Instant;

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cores} cores, {cpu}")
}

fn main() {
    println!("machine: {}", machine());
    let key = SigningKey::generate();
    let public = key.public_key();
    let package = vec![0x5au8; 10 * 1024 * 1024];

    let started = Instant::now();
    let prehash = Prehash::of(&package);
    let hash_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!("prehash (BLAKE2b-512) of a 10 MiB package: {hash_ms:.1} ms");

    let n = 20_000;
    let comment = "souk module=bench version=1.0.0 sha256=00 signed=2026-11-22T00:00:00.000Z";
    let started = Instant::now();
    let mut sigs = Vec::with_capacity(n);
    for _ in 0..n {
        sigs.push(sign_prehashed(&key, &prehash, comment).expect("signs"));
    }
    let made = n as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    for sig in &sigs {
        verify_prehashed(&public, sig, &prehash).expect("verifies");
    }
    let checked = n as f64 / started.elapsed().as_secs_f64();
    println!(
        "signatures made:     {made:>8.0} per second (one core; each also signs its trusted comment)"
    );
    println!(
        "signatures verified: {checked:>8.0} per second (one core; parsing the .minisig included)"
    );
}

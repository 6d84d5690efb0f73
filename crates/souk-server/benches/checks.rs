//! Check-pipeline time: `cargo bench -p souk-server --bench checks`.
//!
//! Runs the automated checks the moderation worker runs on an upload (one pass through the
//! archive for limits, leaked secrets and file types, then the external scanners) on a 10 MiB
//! package, and prints the time of each run, with and without ClamAV:
//! - no external scanner;
//! - `clamscan` with a one-signature database (the EICAR file by SHA-256), which measures the
//!   cost of starting the scanner and of it unpacking and reading the archive;
//! - `clamscan` with the databases in `/var/lib/clamav`, when `freshclam` has filled it (the
//!   official signatures; loading them dominates a `clamscan` run);
//! - `clamdscan --fdpass`, when a `clamd` answers (`SOUK_BENCH_CLAMD=1`): the databases stay
//!   loaded in the daemon, as a production marketplace should run it.
//!
//! The package is 2 MiB of Lua-like source in 64 files (what the secret scan reads closely) and
//! 10 MiB of incompressible assets in 10 files (a 10 MiB archive). Environment: `SOUK_BENCH_RUNS` (default 10).

use souk_server::checks::Checker;
use souk_server::config::{Config, Layers};
use std::time::{Duration, Instant};

mod common;
use common::{env_num, machine, percentile};
mod payload;
use payload::noise;

const MIB: usize = 1024 * 1024;

fn package() -> Vec<u8> {
    use souk_core::package::{PackageFile, write_tar_gz};
    let manifest = "[module]\nname = \"bench\"\nversion = \"1.0.0\"\npublisher = \"bench\"\n\
         description = \"Benchmark payload\"\nlicense = \"MIT\"\nplatform = \"*\"\n";
    let mut files = vec![PackageFile {
        path: "souk.toml".into(),
        contents: manifest.as_bytes().to_vec(),
        executable: false,
    }];
    let line = "local balance = accounts[player_id] or 0 -- keep the ledger in step\n";
    for i in 0..64 {
        files.push(PackageFile {
            path: format!("src/part{i:02}.lua"),
            contents: line.repeat(32 * 1024 / line.len()).into_bytes(),
            executable: false,
        });
    }
    for i in 0..10 {
        files.push(PackageFile {
            path: format!("assets/texture{i}.bin"),
            contents: noise(MIB, i as u64 + 1),
            executable: false,
        });
    }
    write_tar_gz(&files, Vec::new()).unwrap()
}

fn checker(scanners: &str) -> Checker {
    let mut env = vec![("SOUK_DATA_DIR".to_owned(), "/tmp".to_owned())];
    if !scanners.is_empty() {
        env.push(("SOUK_MODERATION_SCANNERS".into(), scanners.into()));
    }
    let config = Config::load(&Layers {
        env,
        ..Layers::default()
    })
    .unwrap();
    Checker::from_config(&config)
}

async fn measure(label: &str, checker: &Checker, package: &std::path::Path, runs: usize) {
    // One run first, so that the file and the scanner's binary are in the page cache.
    let first = checker.check(package).await;
    if first.incomplete || !first.findings.is_empty() {
        println!(
            "{label:<44} skipped: {}",
            first
                .findings
                .first()
                .map_or("incomplete", |f| f.message.as_str())
        );
        return;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let report = checker.check(package).await;
        times.push(started.elapsed());
        assert!(!report.incomplete && report.findings.is_empty());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<44} p50 {:>8.1} ms   p95 {:>8.1} ms   max {:>8.1} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(*times.last().unwrap())
    );
}

#[tokio::main]
async fn main() {
    let runs = env_num("SOUK_BENCH_RUNS", 10);
    let dir = tempfile::tempdir().unwrap();
    let bytes = package();
    let path = dir.path().join("bench.tar.gz");
    std::fs::write(&path, &bytes).unwrap();
    println!("machine: {}", machine());
    println!(
        "package: {:.1} MiB .tar.gz, 75 files; {runs} runs each, one at a time\n",
        bytes.len() as f64 / MIB as f64
    );

    measure("archive + secrets + file types", &checker(""), &path, runs).await;

    let eicar = [
        "X5O!P%@AP[4\\PZX54(P^)7CC)7}$",
        "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
    ]
    .concat();
    let db = dir.path().join("eicar.hsb");
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(eicar.as_bytes()))
    };
    std::fs::write(&db, format!("{sha}:{}:Souk.Test.EICAR\n", eicar.len())).unwrap();
    let one_signature = format!(
        "clamav=clamscan --no-summary --stdout -d {} {{}}",
        db.display()
    );
    measure(
        "+ clamscan, one-signature database",
        &checker(&one_signature),
        &path,
        runs,
    )
    .await;

    let official = std::fs::read_dir("/var/lib/clamav").is_ok_and(|d| {
        d.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".cvd") || name.ends_with(".cld")
        })
    });
    if official {
        measure(
            "+ clamscan, databases in /var/lib/clamav",
            &checker("clamav"),
            &path,
            runs.min(3),
        )
        .await;
    } else {
        println!(
            "{:<44} skipped: no databases in /var/lib/clamav (run freshclam)",
            "+ clamscan, databases in /var/lib/clamav"
        );
    }
    if std::env::var_os("SOUK_BENCH_CLAMD").is_some() {
        measure("+ clamdscan --fdpass", &checker("clamd"), &path, runs).await;
    }
}

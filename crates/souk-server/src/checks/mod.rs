//! The automated checks of an uploaded package, run by the moderation worker.
//!
//! One pass through the archive (the same inspection as at upload, with the configured limits)
//! shows every file to the content checks: leaked secrets ([`souk_core::secrets`]) and the file
//! types the policy flags or forbids ([`souk_core::filetypes`]). Then each configured external
//! scanner ([`scanners`]) runs on the archive itself. Everything found is one list of findings;
//! `incomplete` says a check could not give an answer, which keeps the version pending.

pub mod scanners;

use crate::config::Config;
use scanners::{ScanOutcome, Scanner};
use souk_core::findings::{Finding, Severity};
use souk_core::{archive, filetypes, secrets};
use std::path::Path;
use std::time::Duration;

/// What the checks found. `incomplete` means a check could not run to its end (a scanner that
/// crashed or timed out): the version must stay pending and the checks be tried again.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub findings: Vec<Finding>,
    pub incomplete: bool,
}

pub struct Checker {
    limits: archive::Limits,
    file_types: filetypes::Policy,
    scanners: Vec<Scanner>,
    scanner_timeout: Duration,
}

impl Checker {
    pub fn from_config(config: &Config) -> Self {
        let m = &config.moderation;
        Self {
            limits: archive::Limits {
                max_entries: config.packages.max_entries,
                max_unpacked_bytes: config.packages.max_unpacked_bytes,
                max_ratio: config.packages.max_ratio,
                ..archive::Limits::default()
            },
            file_types: m.file_types.clone(),
            scanners: m.scanners.clone(),
            scanner_timeout: Duration::from_secs(m.scanner_timeout_secs),
        }
    }

    pub async fn check(&self, package: &Path) -> CheckReport {
        let mut report = self.inspect(package).await;
        for scanner in &self.scanners {
            match scanner.scan(package, self.scanner_timeout).await {
                ScanOutcome::Clean => {}
                ScanOutcome::Found(found) => report.findings.extend(found),
                ScanOutcome::Failed(error) => {
                    tracing::warn!(scanner = %scanner.name, message = %error.message,
                        "scanner gave no answer");
                    report.incomplete = true;
                    report.findings.push(error);
                }
            }
        }
        report
    }

    /// The archive, secrets and file-type checks, in one pass on a blocking thread.
    async fn inspect(&self, package: &Path) -> CheckReport {
        let path = package.to_path_buf();
        let limits = self.limits.clone();
        let policy = self.file_types.clone();
        let inspected = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&path)?;
            let mut found = Vec::new();
            // One more byte than the secret scan reads, so that it can say a file was cut.
            let keep = secrets::MAX_SCAN_BYTES + 1;
            let result = archive::inspect_contents(
                std::io::BufReader::new(file),
                &limits,
                keep,
                &mut |file| {
                    found.extend(secrets::scan(file.path, file.head));
                    found.extend(filetypes::check(&policy, file.path, file.head, file.size));
                },
            );
            Ok::<_, std::io::Error>((result, found))
        })
        .await;
        let mut report = CheckReport::default();
        match inspected {
            Ok(Ok((Ok(_), found))) => report.findings = found,
            Ok(Ok((Err(e), _))) => report.findings.push(Finding::whole_file(
                "archive.invalid",
                Severity::Error,
                "",
                e.to_string(),
            )),
            Ok(Err(e)) => {
                report.incomplete = true;
                report.findings.push(Finding::whole_file(
                    scanners::RULE_ERROR,
                    Severity::Error,
                    "",
                    format!("the package could not be read: {e}"),
                ));
            }
            Err(e) => {
                report.incomplete = true;
                report.findings.push(Finding::whole_file(
                    scanners::RULE_ERROR,
                    Severity::Error,
                    "",
                    format!("the archive check stopped: {e}"),
                ));
            }
        }
        report
    }
}

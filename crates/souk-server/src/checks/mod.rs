//! The automated checks of an uploaded package. This first stage re-inspects the stored archive
//! with the configured limits; the content checks (secrets, file types, external scanners) join
//! it in the same report.

use crate::config::Config;
use souk_core::archive;
use souk_core::findings::{Finding, Severity};
use std::path::Path;

/// What the checks found. `incomplete` means a check could not run to its end (a scanner that
/// crashed or timed out): the version must stay pending and the checks be tried again.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub findings: Vec<Finding>,
    pub incomplete: bool,
}

pub struct Checker {
    limits: archive::Limits,
}

impl Checker {
    pub fn from_config(config: &Config) -> Self {
        Self {
            limits: archive::Limits {
                max_entries: config.packages.max_entries,
                max_unpacked_bytes: config.packages.max_unpacked_bytes,
                max_ratio: config.packages.max_ratio,
                ..archive::Limits::default()
            },
        }
    }

    pub async fn check(&self, package: &Path) -> CheckReport {
        let path = package.to_path_buf();
        let limits = self.limits.clone();
        let inspected = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&path)?;
            Ok::<_, std::io::Error>(archive::inspect(std::io::BufReader::new(file), &limits))
        })
        .await;
        let mut report = CheckReport::default();
        match inspected {
            Ok(Ok(Ok(_))) => {}
            Ok(Ok(Err(e))) => report.findings.push(Finding::whole_file(
                "archive.invalid",
                Severity::Error,
                "",
                e.to_string(),
            )),
            Ok(Err(e)) => {
                report.incomplete = true;
                report.findings.push(Finding::whole_file(
                    "scanner.error",
                    Severity::Error,
                    "",
                    format!("the package could not be read: {e}"),
                ));
            }
            Err(e) => {
                report.incomplete = true;
                report.findings.push(Finding::whole_file(
                    "scanner.error",
                    Severity::Error,
                    "",
                    format!("the archive check stopped: {e}"),
                ));
            }
        }
        report
    }
}

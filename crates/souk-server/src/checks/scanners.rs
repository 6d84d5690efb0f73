//! External scanners: commands the marketplace runs on every uploaded package, ClamAV's
//! `clamscan` (or `clamdscan` against a running `clamd`) first among them.
//!
//! A scanner is configured as a command line (`moderation.scanners`), run without a shell, with
//! `{}` replaced by the path of the package archive (appended when the line has no `{}`). It
//! follows ClamAV's exit codes, which most scanners share: 0 clean, 1 something found (each
//! output line that ends in `FOUND` becomes a finding, or, without such lines, the whole output
//! does), anything else an error. A scanner that cannot start, fails, is killed by a signal or
//! runs past `moderation.scanner_timeout_secs` (then it and every process it started are killed)
//! makes the report incomplete: the version stays
//! pending with a `scanner.error` finding and the checks are retried. A scanner never lets a
//! version through by failing.

use souk_core::findings::{Finding, Severity};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;

pub const RULE_FOUND: &str = "scanner.found";
pub const RULE_ERROR: &str = "scanner.error";

/// How much of a scanner's output is read; the rest is drained and dropped.
const MAX_OUTPUT_BYTES: usize = 64 * 1024;
/// How many findings one scanner can report for one package.
const MAX_FINDINGS: usize = 20;

/// One configured scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanner {
    /// Shown in findings: `clamav`.
    pub name: String,
    pub program: String,
    /// With `{}` where the package path goes.
    pub args: Vec<String>,
}

/// The presets a bare name in `moderation.scanners` stands for.
const PRESETS: &[(&str, &str)] = &[
    // Files past ClamAV's size and count limits, and encrypted ones, are reported rather than
    // skipped in silence (clamscan otherwise calls them clean).
    (
        "clamav",
        "clamscan --no-summary --stdout --alert-exceeds-max=yes --alert-encrypted=yes {}",
    ),
    ("clamd", "clamdscan --no-summary --stdout --fdpass {}"),
];

impl Scanner {
    /// Parses `moderation.scanners`: scanners separated by `;`, each `NAME=COMMAND ARGS...` or a
    /// preset name (`clamav`, `clamd`). Arguments split at white space; single or double quotes
    /// keep one together.
    pub fn parse_list(raw: &str) -> Result<Vec<Scanner>, String> {
        let mut out: Vec<Scanner> = Vec::new();
        for part in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, line) = match part.split_once('=') {
                Some((name, line)) => (name.trim(), line.trim().to_owned()),
                None => match PRESETS.iter().find(|(n, _)| *n == part) {
                    Some((n, line)) => (*n, (*line).to_owned()),
                    None => {
                        return Err(format!(
                            "`{part}` is neither NAME=COMMAND nor a preset ({})",
                            PRESETS
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                },
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!(
                    "scanner name `{name}` must be letters, digits, `-` or `_`"
                ));
            }
            if out.iter().any(|s| s.name == name) {
                return Err(format!("scanner `{name}` is listed twice"));
            }
            let mut words = split_words(&line)?;
            if words.is_empty() {
                return Err(format!("scanner `{name}` has no command"));
            }
            let program = words.remove(0);
            if !words.iter().any(|w| w.contains("{}")) {
                words.push("{}".into());
            }
            out.push(Scanner {
                name: name.to_owned(),
                program,
                args: words,
            });
        }
        Ok(out)
    }

    /// The command line as configured, for `souk config`.
    pub fn display(&self) -> String {
        let mut line = self.program.clone();
        for a in &self.args {
            line.push(' ');
            if a.chars().any(char::is_whitespace) || a.is_empty() {
                line.push_str(&format!("'{a}'"));
            } else {
                line.push_str(a);
            }
        }
        format!("{}={line}", self.name)
    }

    /// Runs the scanner on `package`; `shown` is what findings call the package.
    pub async fn scan(&self, package: &Path, timeout: Duration) -> ScanOutcome {
        let path = package.to_string_lossy();
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(self.args.iter().map(|a| a.replace("{}", &path)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A group of its own, so that a timeout stops whatever the scanner started too.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                return self.error(format!("could not start `{}`: {e}", self.program));
            }
        };
        let mut stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        let run = async {
            let (out, err, status) = tokio::join!(
                read_capped(stdout.as_mut()),
                read_capped(stderr.as_mut()),
                child.wait()
            );
            (out, err, status)
        };
        let (out, err, status) = match tokio::time::timeout(timeout, run).await {
            Ok(done) => done,
            Err(_) => {
                if let Some(pid) = child.id() {
                    stop_group(pid).await;
                }
                return self.error(format!(
                    "did not finish within {} s and was stopped",
                    timeout.as_secs()
                ));
            }
        };
        let status = match status {
            Ok(s) => s,
            Err(e) => return self.error(format!("could not be waited for: {e}")),
        };
        let clean = |text: &str| text.replace(path.as_ref(), "package");
        match status.code() {
            Some(0) => ScanOutcome::Clean,
            Some(1) => {
                let out = clean(&out);
                let mut findings: Vec<Finding> = out
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.ends_with("FOUND"))
                    .take(MAX_FINDINGS)
                    .map(|l| self.found(l))
                    .collect();
                if findings.is_empty() {
                    let text = out.trim();
                    findings.push(self.found(if text.is_empty() {
                        "reported a problem without saying which"
                    } else {
                        text
                    }));
                }
                ScanOutcome::Found(findings)
            }
            code => {
                let said = clean(err.trim())
                    .lines()
                    .chain(clean(out.trim()).lines())
                    .find(|l| !l.trim().is_empty())
                    .map(|l| format!(": {}", l.trim()))
                    .unwrap_or_default();
                match code {
                    Some(code) => self.error(format!("failed with exit code {code}{said}")),
                    None => self.error(format!("was killed by a signal{said}")),
                }
            }
        }
    }

    fn found(&self, what: &str) -> Finding {
        Finding::whole_file(
            RULE_FOUND,
            Severity::Error,
            "",
            format!("{} found: {what}", self.name),
        )
    }

    fn error(&self, what: String) -> ScanOutcome {
        ScanOutcome::Failed(Finding::whole_file(
            RULE_ERROR,
            Severity::Error,
            "",
            format!("scanner {} {what}", self.name),
        ))
    }
}

/// What one scanner made of one package.
#[derive(Debug)]
pub enum ScanOutcome {
    Clean,
    Found(Vec<Finding>),
    /// The scanner could not give an answer; the checks must be tried again.
    Failed(Finding),
}

/// Kills every process of the group `pid` leads (the scanner and anything it started); the
/// scanner itself is also killed and reaped when its handle is dropped.
async fn stop_group(pid: u32) {
    let killed = tokio::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    if !killed.is_ok_and(|s| s.success()) {
        tracing::warn!(
            pid,
            "could not kill the process group of a scanner that timed out"
        );
    }
}

/// Reads at most [`MAX_OUTPUT_BYTES`] as text, then drains the rest so the child never blocks
/// on a full pipe.
async fn read_capped<R: tokio::io::AsyncRead + Unpin>(reader: Option<&mut R>) -> String {
    let Some(reader) = reader else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = MAX_OUTPUT_BYTES.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&buf[..room]);
            }
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Splits a command line at white space; quotes keep words together. No escapes, no variables:
/// nothing here is a shell.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unclosed quote in `{line}`"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_presets_and_command_lines() {
        let list =
            Scanner::parse_list("clamav; mine = /opt/scan --db 'a b' {} --quiet;x=echo").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].program, "clamscan");
        assert_eq!(list[0].program, "clamscan");
        assert_eq!(list[0].args.last().map(String::as_str), Some("{}"));
        assert!(list[0].args.contains(&"--alert-exceeds-max=yes".to_owned()));
        assert_eq!(list[1].name, "mine");
        assert_eq!(list[1].args, ["--db", "a b", "{}", "--quiet"]);
        assert_eq!(list[2].args, ["{}"], "the path is appended when missing");
        assert_eq!(list[1].display(), "mine=/opt/scan --db 'a b' {} --quiet");
        assert!(Scanner::parse_list("").unwrap().is_empty());
    }

    #[test]
    fn refuses_bad_lists() {
        for bad in [
            "nosuchpreset",
            "a=",
            "a b=scan",
            "a=scan;a=other",
            "a=scan 'open",
        ] {
            assert!(Scanner::parse_list(bad).is_err(), "{bad}");
        }
    }
}

//! Running `souk` commands in the end-to-end tests: what they printed, and the two outcomes a
//! test expects (success, or a refusal with one `error:` line).

use std::process::{Command, Output};

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn run(mut cmd: Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("souk runs")
}

/// Runs `souk args`, expecting success; its standard output.
pub fn ok(cmd: Command, args: &[&str]) -> String {
    let out = run(cmd, args);
    assert!(
        out.status.success(),
        "souk {args:?} failed: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// Runs `souk args`, expecting exit code `code` and a first line `error: ...` on stderr (for
/// exit 1, a refusal, that one line only); that line and the standard output.
pub fn refused(cmd: Command, args: &[&str], code: i32) -> (String, String) {
    let out = run(cmd, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "souk {args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let err = stderr(&out);
    let first = err.lines().next().unwrap_or_default().to_owned();
    assert!(first.starts_with("error: "), "souk {args:?}: {err}");
    if code == 1 {
        assert_eq!(err.lines().count(), 1, "one line from souk {args:?}: {err}");
    }
    (first, stdout(&out))
}

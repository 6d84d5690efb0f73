//! End to end: a module author's first minutes with the `souk` binary, offline. `souk init`
//! scaffolds a module, `souk pack` builds it into a package the marketplace accepts, the same
//! folder packs to the same bytes, and mistakes end with one `error:` line and exit code 1.

use sha2::{Digest, Sha256};
use souk_core::archive::{self, Limits};
use std::io::Cursor;
use std::path::Path;
use std::process::{Command, Output};

/// `souk` in `dir` with a clean environment: no `SOUK_*` variable leaks in from the test runner.
fn souk(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_souk"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(args)
        .output()
        .expect("souk runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Exit code 1 and exactly one line on stderr, starting with `error: `; that line.
fn one_error_line(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "stderr: {}", stderr(output));
    let err = stderr(output);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    lines[0].to_owned()
}

#[test]
fn init_then_pack() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();

    let init = souk(w, &["init", "Economy_Plus", "--publisher", "acme-games"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let out = stdout(&init);
    assert!(
        out.starts_with("created module economy-plus in Economy_Plus"),
        "{out}"
    );
    assert!(out.contains("souk pack Economy_Plus"), "{out}");
    assert!(out.contains("souk publish Economy_Plus"), "{out}");
    let manifest = std::fs::read_to_string(w.join("Economy_Plus/souk.toml")).unwrap();
    assert!(
        manifest.contains("publisher = \"acme-games\""),
        "{manifest}"
    );

    // Packed from outside the folder: the package lands in the current folder.
    let pack = souk(w, &["pack", "Economy_Plus"]);
    assert!(pack.status.success(), "{}", stderr(&pack));
    let file = w.join("economy-plus-0.1.0.tar.gz");
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(
        stdout(&pack),
        format!(
            "packed economy-plus 0.1.0: 5 files, {} bytes, sha256 {} -> economy-plus-0.1.0.tar.gz\n",
            bytes.len(),
            hex::encode(Sha256::digest(&bytes))
        )
    );
    let inspection = archive::inspect(Cursor::new(&bytes), &Limits::default()).unwrap();
    assert_eq!(inspection.manifest.name.as_str(), "economy-plus");
    assert_eq!(inspection.files.len(), 5);

    // Packed from inside, twice: the package written inside the folder by the first run is not
    // packed into the second, and both are the same bytes as before.
    let module = w.join("Economy_Plus");
    for _ in 0..2 {
        let again = souk(&module, &["pack"]);
        assert!(again.status.success(), "{}", stderr(&again));
        assert_eq!(
            std::fs::read(module.join("economy-plus-0.1.0.tar.gz")).unwrap(),
            bytes
        );
    }

    let custom = souk(w, &["pack", "Economy_Plus", "-o", "dist.tgz"]);
    assert!(custom.status.success(), "{}", stderr(&custom));
    assert_eq!(std::fs::read(w.join("dist.tgz")).unwrap(), bytes);
}

#[test]
fn init_refuses_to_overwrite_a_module() {
    let work = tempfile::tempdir().unwrap();
    assert!(souk(work.path(), &["init", "shop"]).status.success());
    let line = one_error_line(&souk(work.path(), &["init", "shop"]));
    assert_eq!(
        line,
        "error: shop/souk.toml already exists: shop is a module already"
    );

    let line = one_error_line(&souk(work.path(), &["init", "x", "--name", "Not A Name"]));
    assert!(line.contains("cannot be a module name"), "{line}");
    assert!(!work.path().join("x").exists(), "nothing created");
}

#[test]
fn a_bad_manifest_is_one_error_line_and_no_package() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    assert!(souk(w, &["init", "shop"]).status.success());
    let path = w.join("shop/souk.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"0.1.0\"", "\"1.0\"")).unwrap();

    let line = one_error_line(&souk(w, &["pack", "shop"]));
    assert!(
        line.starts_with(
            "error: souk.toml: module.version: `1.0` is not a semantic version \
             (expected MAJOR.MINOR.PATCH"
        ),
        "{line}"
    );
    let left: Vec<_> = std::fs::read_dir(w)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["shop"], "no package, no temporary file");

    std::fs::write(&path, "[module]\nname = \"shop\"\nversion = \n").unwrap();
    let line = one_error_line(&souk(w, &["pack", "shop"]));
    assert!(
        line.starts_with("error: souk.toml: invalid TOML at line 3"),
        "{line}"
    );

    let line = one_error_line(&souk(w, &["pack", "nowhere"]));
    assert_eq!(
        line,
        "error: no souk.toml in nowhere (create a module with `souk init`)"
    );
}

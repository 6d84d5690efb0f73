//! `souk pack [DIR] [-o FILE]`: a module folder into a package archive.
//!
//! What goes in: every regular file under the folder, hidden ones included, except
//!
//! - what `.gitignore` files exclude (also outside a git repository) and what `.soukignore`
//!   files exclude (same syntax; they take precedence, so a `!pattern` there takes back what a
//!   `.gitignore` left out). Only ignore files inside the folder count, not those of the folders
//!   above it nor the user's global git configuration: the package depends on the folder alone;
//! - `.git`, folder or file, at any depth;
//! - the output file, and earlier outputs of `souk pack` at the root (`NAME-VERSION.tar.gz`),
//!   which would otherwise end up inside the next package.
//!
//! The ignore files themselves are packed: they are harmless, and so a package unpacked and
//! packed again gives the same bytes. `souk.toml` is always packed, whatever the ignore files
//! say. Symbolic links and other special files are refused rather than followed or skipped: what
//! a link points to differs from machine to machine, and silently leaving it out would ship a
//! module that misses a file.
//!
//! The archive is written by [`souk_core::package`] (the same folder gives the same bytes,
//! whatever the files' times) and checked with [`souk_core::archive::inspect`], as the
//! marketplace will check it, before it is kept. It is written to a temporary file next to the
//! destination and renamed into place, so an interrupted run leaves no half-written package.

use anyhow::{Context, anyhow, bail};
use clap::Args;
use sha2::{Digest, Sha256};
use souk_core::Manifest;
use souk_core::archive::{self, Limits};
use souk_core::manifest::FILE_NAME as MANIFEST;
use souk_core::package::{self, PackageFile};
use std::io::{Cursor, Write};
use std::path::{Component, Path, PathBuf};

/// The ignore file of our own, next to `.gitignore`.
pub const IGNORE_FILE: &str = ".soukignore";

#[derive(Args)]
pub struct PackArgs {
    /// The module folder, holding souk.toml.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Where to write the package [default: NAME-VERSION.tar.gz in the current folder].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A package built in memory.
pub struct Packed {
    pub manifest: Manifest,
    pub bytes: Vec<u8>,
    pub files: usize,
}

pub fn run(args: &PackArgs) -> anyhow::Result<()> {
    let manifest = read_manifest(&args.dir)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(default_file_name(&manifest)));
    let packed = pack(&args.dir, absolute_output(&output).as_deref())?;
    write_atomically(&output, &packed.bytes)?;
    println!(
        "packed {} {}: {} files, {} bytes, sha256 {} -> {}",
        packed.manifest.name,
        packed.manifest.version,
        packed.files,
        packed.bytes.len(),
        hex::encode(Sha256::digest(&packed.bytes)),
        output.display()
    );
    Ok(())
}

/// Packs `dir` in memory, checked as the marketplace will check it: its manifest and the bytes
/// of the .tar.gz. For `souk publish DIR`.
pub fn pack_dir(dir: &Path) -> anyhow::Result<(Manifest, Vec<u8>)> {
    let packed = pack(dir, None)?;
    Ok((packed.manifest, packed.bytes))
}

/// `NAME-VERSION.tar.gz`.
pub fn default_file_name(manifest: &Manifest) -> String {
    format!("{}-{}.tar.gz", manifest.name, manifest.version)
}

/// Reads and checks `DIR/souk.toml`; a bad manifest is one line naming the field.
fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "no {MANIFEST} in {} (create a module with `souk init`)",
            dir.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Manifest::parse(&text).map_err(|e| anyhow!(e.with_file_name()))
}

/// Where the output will be, as an absolute path comparable with the walked ones; `None` when
/// its folder does not exist (then it cannot be inside the module either).
fn absolute_output(output: &Path) -> Option<PathBuf> {
    let name = output.file_name()?;
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(parent.canonicalize().ok()?.join(name))
}

fn pack(dir: &Path, exclude: Option<&Path>) -> anyhow::Result<Packed> {
    let manifest = read_manifest(dir)?;
    let root = dir
        .canonicalize()
        .with_context(|| format!("cannot open {}", dir.display()))?;
    let mut files = collect_files(&root, &manifest, exclude)?;
    if !files.iter().any(|f| f.path == MANIFEST) {
        // Ignored by a pattern, but a package without its manifest is no package.
        files.push(PackageFile {
            path: MANIFEST.to_owned(),
            contents: std::fs::read(root.join(MANIFEST))
                .with_context(|| format!("cannot read {}", root.join(MANIFEST).display()))?,
            executable: false,
        });
    }
    let bytes = package::write_tar_gz(&files, Vec::new()).context("cannot write the package")?;
    let inspection = archive::inspect(Cursor::new(&bytes), &Limits::default())
        .map_err(|e| anyhow!("the marketplace would refuse this package: {e}"))?;
    Ok(Packed {
        manifest: inspection.manifest,
        bytes,
        files: files.len(),
    })
}

fn collect_files(
    root: &Path,
    manifest: &Manifest,
    exclude: Option<&Path>,
) -> anyhow::Result<Vec<PackageFile>> {
    let mut walker = ignore::WalkBuilder::new(root);
    walker
        // Off: hidden-file skipping, `.ignore` files, parent folders' ignore files, the global
        // gitignore and `.git/info/exclude`. On: `.gitignore` and `.soukignore` in the folder.
        .standard_filters(false)
        .git_ignore(true)
        .require_git(false)
        .add_custom_ignore_filename(IGNORE_FILE)
        .follow_links(false)
        .filter_entry(|entry| entry.file_name() != ".git");

    let mut files = Vec::new();
    for entry in walker.build() {
        let entry = entry.with_context(|| format!("cannot read the folder {}", root.display()))?;
        if entry.depth() == 0 {
            continue;
        }
        let path = entry.path();
        let relative = relative_path(root, path)?;
        let file_type = entry
            .file_type()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if file_type.is_symlink() {
            bail!(
                "{relative} is a symbolic link; packages hold regular files only \
                 (copy the file in its place, or list it in {IGNORE_FILE})"
            );
        }
        if file_type.is_dir() {
            continue;
        }
        if !file_type.is_file() {
            bail!(
                "{relative} is not a regular file (a device, fifo or socket); list it in {IGNORE_FILE}"
            );
        }
        if exclude == Some(path) || (entry.depth() == 1 && is_earlier_output(&relative, manifest)) {
            continue;
        }
        let metadata = entry
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?;
        files.push(PackageFile {
            contents: std::fs::read(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
            executable: is_executable(&metadata),
            path: relative,
        });
    }
    Ok(files)
}

/// `economy-plus-1.3.0.tar.gz` at the root of `economy-plus`: what `souk pack` run in the folder
/// wrote last time.
fn is_earlier_output(name: &str, manifest: &Manifest) -> bool {
    name.strip_prefix(&format!("{}-", manifest.name))
        .and_then(|rest| rest.strip_suffix(".tar.gz"))
        .is_some_and(|version| semver::Version::parse(version).is_ok())
}

/// The path inside the package: relative, `/`-separated, UTF-8.
fn relative_path(root: &Path, path: &Path) -> anyhow::Result<String> {
    let relative = path
        .strip_prefix(root)
        .with_context(|| format!("{} is outside {}", path.display(), root.display()))?;
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().ok_or_else(|| {
                anyhow!(
                    "{} has a name that is not UTF-8; rename it or list it in {IGNORE_FILE}",
                    path.display()
                )
            })?),
            _ => bail!("unexpected path {}", path.display()),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(unix)]
fn is_executable(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_metadata: &std::fs::Metadata) -> bool {
    false
}

fn write_atomically(output: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".souk-pack-")
        .suffix(".tmp")
        .tempfile_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", temp.path().display()))?;
    // A temporary file is private (0600); a package is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot write {}", temp.path().display()))?;
    }
    temp.persist(output)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::init::scaffold;
    use std::fs;
    use std::time::{Duration, SystemTime};

    fn module() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        scaffold(
            dir.path(),
            &souk_core::ModuleName::parse("economy-plus").unwrap(),
            &souk_core::PublisherSlug::parse("acme-games").unwrap(),
        )
        .unwrap();
        dir
    }

    fn write(dir: &Path, path: &str, contents: &str) {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    fn packed_paths(dir: &Path) -> Vec<String> {
        let (_, bytes) = pack_dir(dir).unwrap();
        archive::inspect(Cursor::new(bytes), &Limits::default())
            .unwrap()
            .files
            .into_iter()
            .map(|f| f.path)
            .collect()
    }

    fn touch_all(dir: &Path, when: SystemTime) {
        for entry in ignore::WalkBuilder::new(dir)
            .standard_filters(false)
            .build()
        {
            let entry = entry.unwrap();
            if entry.file_type().is_some_and(|t| t.is_file()) {
                fs::File::options()
                    .write(true)
                    .open(entry.path())
                    .unwrap()
                    .set_modified(when)
                    .unwrap();
            }
        }
    }

    #[test]
    fn the_scaffold_packs_and_passes_inspection() {
        let dir = module();
        let (manifest, bytes) = pack_dir(dir.path()).unwrap();
        assert_eq!(manifest.name.as_str(), "economy-plus");
        assert_eq!(default_file_name(&manifest), "economy-plus-0.1.0.tar.gz");
        let inspection = archive::inspect(Cursor::new(bytes), &Limits::default()).unwrap();
        let paths: Vec<&str> = inspection.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                ".soukignore",
                "CHANGELOG.md",
                "README.md",
                "souk.toml",
                "src/main.lua"
            ]
        );
        assert!(inspection.readme.unwrap().starts_with("# economy-plus"));
        assert!(inspection.changelog.is_some());
    }

    #[test]
    fn packing_is_deterministic_whatever_the_file_times() {
        let dir = module();
        let first = pack_dir(dir.path()).unwrap().1;
        assert_eq!(pack_dir(dir.path()).unwrap().1, first);
        touch_all(
            dir.path(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_234_567_890),
        );
        assert_eq!(pack_dir(dir.path()).unwrap().1, first);
        touch_all(dir.path(), SystemTime::now());
        assert_eq!(pack_dir(dir.path()).unwrap().1, first);
        // A copy elsewhere, written in another order, is the same package.
        let copy = tempfile::tempdir().unwrap();
        for path in [
            "src/main.lua",
            "souk.toml",
            "README.md",
            "CHANGELOG.md",
            ".soukignore",
        ] {
            write(
                copy.path(),
                path,
                &fs::read_to_string(dir.path().join(path)).unwrap(),
            );
        }
        assert_eq!(pack_dir(copy.path()).unwrap().1, first);
    }

    #[test]
    fn ignore_files_are_honoured_without_git() {
        let dir = module();
        let d = dir.path();
        write(d, ".gitignore", "secret.txt\nbuild/\n*.bak\n");
        write(d, ".soukignore", "*.log\n!keep.bak\n");
        write(d, "secret.txt", "password");
        write(d, "build/out.bin", "binary");
        write(d, "debug.log", "log");
        write(d, "old.bak", "old");
        write(
            d,
            "keep.bak",
            "kept: .soukignore takes it back from .gitignore",
        );
        write(d, "sub/.gitignore", "local.txt\n");
        write(d, "sub/local.txt", "ignored by the nested .gitignore");
        write(d, "sub/shared.txt", "packed");
        write(d, ".hidden/config", "hidden files are packed");
        write(d, ".git/HEAD", "ref: refs/heads/main");
        write(d, "sub/.git", "gitdir: elsewhere");
        assert_eq!(
            packed_paths(d),
            [
                ".gitignore",
                ".hidden/config",
                ".soukignore",
                "CHANGELOG.md",
                "README.md",
                "keep.bak",
                "souk.toml",
                "src/main.lua",
                "sub/.gitignore",
                "sub/shared.txt",
            ]
        );
    }

    #[test]
    fn parent_ignore_files_do_not_count() {
        let parent = tempfile::tempdir().unwrap();
        write(parent.path(), ".gitignore", "README.md\n");
        let d = parent.path().join("economy-plus");
        scaffold(
            &d,
            &souk_core::ModuleName::parse("economy-plus").unwrap(),
            &souk_core::PublisherSlug::parse("acme-games").unwrap(),
        )
        .unwrap();
        assert!(packed_paths(&d).contains(&"README.md".to_owned()));
    }

    #[test]
    fn the_manifest_is_packed_even_if_ignored() {
        let dir = module();
        write(dir.path(), ".soukignore", "*.toml\n");
        assert!(packed_paths(dir.path()).contains(&"souk.toml".to_owned()));
    }

    #[test]
    fn earlier_outputs_and_the_output_are_left_out() {
        let dir = module();
        let d = dir.path();
        write(d, "economy-plus-0.0.9.tar.gz", "an earlier package");
        write(
            d,
            "economy-plus-extras.tar.gz",
            "not a package of ours: packed",
        );
        write(
            d,
            "out/economy-plus-0.1.0.tar.gz",
            "not at the root: packed",
        );
        let paths = packed_paths(d);
        assert!(!paths.contains(&"economy-plus-0.0.9.tar.gz".to_owned()));
        assert!(paths.contains(&"economy-plus-extras.tar.gz".to_owned()));
        assert!(paths.contains(&"out/economy-plus-0.1.0.tar.gz".to_owned()));

        write(d, "custom.tgz", "the previous output");
        let exclude = absolute_output(&d.join("custom.tgz"));
        let packed = pack(d, exclude.as_deref()).unwrap();
        let inspection = archive::inspect(Cursor::new(packed.bytes), &Limits::default()).unwrap();
        assert!(!inspection.files.iter().any(|f| f.path == "custom.tgz"));
        assert_eq!(packed.files, inspection.files.len());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_refused_and_modes_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = module();
        let d = dir.path();
        write(d, "bin/run.sh", "#!/bin/sh\n");
        fs::set_permissions(d.join("bin/run.sh"), fs::Permissions::from_mode(0o700)).unwrap();
        let root = d.canonicalize().unwrap();
        let manifest = read_manifest(d).unwrap();
        let files = collect_files(&root, &manifest, None).unwrap();
        let executable = |path: &str| files.iter().find(|f| f.path == path).unwrap().executable;
        assert!(executable("bin/run.sh"));
        assert!(!executable("souk.toml"));

        std::os::unix::fs::symlink("/etc/passwd", d.join("src/passwd")).unwrap();
        let e = pack_dir(d).unwrap_err().to_string();
        assert!(e.starts_with("src/passwd is a symbolic link"), "{e}");
        // An ignored link is no concern.
        write(d, ".soukignore", "src/passwd\n");
        assert!(pack_dir(d).is_ok());
    }

    #[test]
    fn manifest_errors_are_one_line_naming_the_field() {
        let dir = module();
        let text = fs::read_to_string(dir.path().join("souk.toml")).unwrap();
        fs::write(
            dir.path().join("souk.toml"),
            text.replace("version = \"0.1.0\"", "version = \"1.0\""),
        )
        .unwrap();
        let e = format!("{:#}", pack_dir(dir.path()).unwrap_err());
        assert!(
            e.starts_with("souk.toml: module.version: `1.0` is not a semantic version"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        fs::write(dir.path().join("souk.toml"), "[module\n").unwrap();
        let e = format!("{:#}", pack_dir(dir.path()).unwrap_err());
        assert!(e.starts_with("souk.toml: invalid TOML at line 1"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        let e = format!("{:#}", pack_dir(empty.path()).unwrap_err());
        assert!(e.starts_with("no souk.toml in "), "{e}");
    }
}

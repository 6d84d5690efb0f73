//! `souk init [DIR] [--name NAME] [--publisher SLUG]`: a starter module in a folder.
//!
//! The files come from `crates/souk-cli/template/`, built into the binary, with `{{name}}` and
//! `{{publisher}}` filled in: `souk.toml`, `README.md`, `CHANGELOG.md`, `.soukignore` and one
//! source file. The name defaults to the folder's name, normalized (`Economy_Plus` gives
//! `economy-plus`). An existing `souk.toml` is never overwritten (that folder already is a
//! module); other files that already exist are kept as they are and reported.

use anyhow::{Context, anyhow, bail};
use clap::Args;
use souk_core::manifest::FILE_NAME as MANIFEST;
use souk_core::{ModuleName, PublisherSlug, normalize_name};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The template: path in the module, contents with placeholders.
const TEMPLATE: &[(&str, &str)] = &[
    (MANIFEST, include_str!("../../template/souk.toml")),
    ("README.md", include_str!("../../template/README.md")),
    ("CHANGELOG.md", include_str!("../../template/CHANGELOG.md")),
    (".soukignore", include_str!("../../template/.soukignore")),
    ("src/main.lua", include_str!("../../template/src/main.lua")),
];

#[derive(Args)]
pub struct InitArgs {
    /// The folder of the new module, created if missing.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The module's name [default: the folder's name, normalized].
    #[arg(long)]
    pub name: Option<String>,
    /// Your publisher slug on the marketplace.
    #[arg(long, value_name = "SLUG", default_value = "my-publisher")]
    pub publisher: String,
}

pub fn run(args: &InitArgs) -> anyhow::Result<()> {
    let manifest = args.dir.join(MANIFEST);
    if manifest.symlink_metadata().is_ok() {
        bail!(
            "{} already exists: {} is a module already",
            manifest.display(),
            args.dir.display()
        );
    }
    let name = match &args.name {
        Some(name) => ModuleName::parse(name)
            .map_err(|e| anyhow!("`{name}` cannot be a module name: it {}", e.message))?,
        None => name_from_folder(&args.dir)?,
    };
    let publisher = PublisherSlug::parse(&args.publisher).map_err(|e| {
        anyhow!(
            "`{}` cannot be a publisher slug: it {}",
            args.publisher,
            e.message
        )
    })?;

    let outcome = scaffold(&args.dir, &name, &publisher)?;
    println!("created module {name} in {}", args.dir.display());
    for path in &outcome.created {
        println!("  {path}");
    }
    for path in &outcome.kept {
        println!("  {path} (already there, kept)");
    }
    let dir = args.dir.display();
    println!();
    println!("next steps:");
    println!("  1. edit {dir}/{MANIFEST}: description, publisher, license, platform");
    println!("  2. souk pack {dir}      # builds {name}-0.1.0.tar.gz");
    println!("  3. souk publish {dir}   # uploads it to a marketplace");
    Ok(())
}

/// What [`scaffold`] wrote, and what it found already there.
pub struct Scaffolded {
    pub created: Vec<&'static str>,
    pub kept: Vec<&'static str>,
}

/// Writes the template into `dir` (created if missing), never over an existing file.
pub fn scaffold(
    dir: &Path,
    name: &ModuleName,
    publisher: &PublisherSlug,
) -> anyhow::Result<Scaffolded> {
    let mut outcome = Scaffolded {
        created: Vec::new(),
        kept: Vec::new(),
    };
    for (relative, template) in TEMPLATE {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        // `create_new`: not even a file that appeared since we looked gets overwritten.
        let mut file = match std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && *relative != MANIFEST => {
                outcome.kept.push(relative);
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        };
        file.write_all(render(template, name, publisher).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        outcome.created.push(relative);
    }
    Ok(outcome)
}

/// Fills the placeholders. Both values are validated names (letters, digits, `-`, `_`), so they
/// need no escaping inside the TOML strings and Markdown of the template.
fn render(template: &str, name: &ModuleName, publisher: &PublisherSlug) -> String {
    template
        .replace("{{name}}", name.as_str())
        .replace("{{publisher}}", publisher.as_str())
}

fn name_from_folder(dir: &Path) -> anyhow::Result<ModuleName> {
    let absolute = std::path::absolute(dir)
        .with_context(|| format!("cannot resolve the folder {}", dir.display()))?;
    // `.` and `..` stay in an absolute path; the real folder name needs them resolved.
    let resolved = absolute.canonicalize().unwrap_or(absolute);
    let folder = resolved
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            anyhow!(
                "cannot take a module name from the folder {}; choose one with --name",
                dir.display()
            )
        })?;
    let normalized = normalize_name(folder);
    ModuleName::parse(&normalized).map_err(|e| {
        anyhow!(
            "the folder name `{folder}` does not make a module name (`{normalized}`: it {}); \
             choose one with --name",
            e.message
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use souk_core::Manifest;

    fn names() -> (ModuleName, PublisherSlug) {
        (
            ModuleName::parse("economy-plus").unwrap(),
            PublisherSlug::parse("acme-games").unwrap(),
        )
    }

    #[test]
    fn the_template_manifest_is_valid() {
        let (name, publisher) = names();
        let manifest = Manifest::parse(&render(TEMPLATE[0].1, &name, &publisher)).unwrap();
        assert_eq!(manifest.name, name);
        assert_eq!(manifest.publisher, publisher);
        assert_eq!(manifest.version, semver::Version::new(0, 1, 0));
        assert_eq!(manifest.license, "MIT");
        assert_eq!(manifest.platform.to_string(), ">=1.0.0");
        assert!(manifest.dependencies.is_empty());
        assert!(manifest.warnings.is_empty(), "{:?}", manifest.warnings);
        for (path, template) in TEMPLATE {
            let rendered = render(template, &name, &publisher);
            assert!(!rendered.contains("{{"), "a placeholder is left in {path}");
        }
    }

    #[test]
    fn the_commented_dependency_example_is_valid() {
        let (name, publisher) = names();
        let text = render(TEMPLATE[0].1, &name, &publisher).replace("# permissions", "permissions");
        let manifest = Manifest::parse(&text).unwrap();
        assert_eq!(manifest.dependencies.len(), 1);
    }

    #[test]
    fn scaffold_keeps_existing_files_but_never_writes_over_a_manifest() {
        let (name, publisher) = names();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("README.md"), "mine").unwrap();
        let outcome = scaffold(dir.path(), &name, &publisher).unwrap();
        assert_eq!(outcome.kept, ["README.md"]);
        assert_eq!(outcome.created.len(), TEMPLATE.len() - 1);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("README.md")).unwrap(),
            "mine"
        );
        assert!(scaffold(dir.path(), &name, &publisher).is_err());
    }

    #[test]
    fn names_from_folders() {
        let parent = tempfile::tempdir().unwrap();
        let name = |folder: &str| name_from_folder(&parent.path().join(folder));
        assert_eq!(name("Economy_Plus").unwrap().as_str(), "economy-plus");
        assert_eq!(name("shop").unwrap().as_str(), "shop");
        let e = name("My Module").unwrap_err().to_string();
        assert!(e.contains("choose one with --name"), "{e}");
        assert!(name("souk").is_err(), "reserved");
        std::fs::create_dir(parent.path().join("real")).unwrap();
        assert_eq!(name("real/.").unwrap().as_str(), "real");
    }
}

//! `souk yank NAME@VERSION --reason TEXT` and `souk unyank NAME@VERSION`.
//!
//! A yanked version stays downloadable by its exact version (whoever depends on it keeps
//! working) but is never the latest; the reason is shown to everyone who looks at it.

use super::api::{Registry, read_json};
use super::config::RegistryArgs;
use super::spec::ModuleSpec;
use anyhow::bail;
use clap::Args;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

#[derive(Args, Debug)]
pub struct YankArgs {
    /// The version to yank.
    #[arg(value_name = "NAME@VERSION")]
    pub spec: ModuleSpec,
    /// Why, shown with the version (for example "data loss on upgrade, use 1.2.4").
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Args, Debug)]
pub struct UnyankArgs {
    /// The version to restore.
    #[arg(value_name = "NAME@VERSION")]
    pub spec: ModuleSpec,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// The version as answered.
#[derive(Deserialize)]
struct Version {
    name: String,
    version: String,
    yanked: bool,
}

pub async fn yank(args: &YankArgs) -> anyhow::Result<()> {
    let reason = args.reason.trim();
    if reason.is_empty() {
        bail!("--reason is empty: say why the version is yanked");
    }
    let v = set(&args.spec, &args.registry, Some(reason)).await?;
    println!("yanked {} {}: {reason}", v.name, v.version);
    Ok(())
}

pub async fn unyank(args: &UnyankArgs) -> anyhow::Result<()> {
    let v = set(&args.spec, &args.registry, None).await?;
    println!("unyanked {} {}", v.name, v.version);
    Ok(())
}

/// Yanks with `reason`, or unyanks without.
async fn set(
    spec: &ModuleSpec,
    registry: &RegistryArgs,
    reason: Option<&str>,
) -> anyhow::Result<Version> {
    let version = spec.require_version()?.to_string();
    let api = Registry::from_args(registry)?;
    api.require_token()?;
    let action = if reason.is_some() { "yank" } else { "unyank" };
    let mut request = api.request(
        Method::POST,
        &["modules", &spec.name, "versions", &version, action],
    );
    if let Some(reason) = reason {
        request = request.json(&json!({ "reason": reason }));
    }
    let v: Version = read_json(api.send(request, &spec.to_string()).await?).await?;
    if v.yanked != reason.is_some() {
        bail!(
            "{} answered, but {} {} is still {}",
            api.display(),
            v.name,
            v.version,
            if v.yanked { "yanked" } else { "not yanked" }
        );
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Parser, Subcommand};

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        Yank(YankArgs),
        Unyank(UnyankArgs),
    }

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("souk").chain(args.iter().copied())).map(|c| c.command)
    }

    #[test]
    fn yank_needs_a_version_and_a_reason() {
        let Ok(Command::Yank(a)) = parse(&["yank", "economy@1.0.0", "--reason", "broken"]) else {
            panic!("parses");
        };
        assert_eq!(a.spec.name, "economy");
        assert_eq!(a.spec.version, Some(semver::Version::new(1, 0, 0)));
        assert_eq!(a.reason, "broken");
        assert!(parse(&["yank", "economy@1.0.0"]).is_err(), "no reason");
        assert!(parse(&["yank", "economy@1.0", "--reason", "x"]).is_err());
        let Ok(Command::Unyank(a)) = parse(&["unyank", "economy@1.0.0"]) else {
            panic!("parses");
        };
        assert_eq!(a.spec.to_string(), "economy 1.0.0");
    }
}

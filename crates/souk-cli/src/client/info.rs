//! `souk info NAME [--json]`: a module and its versions, as the marketplace describes it.

use super::api::Registry;
use super::config::RegistryArgs;
use super::spec::ModuleSpec;
use anyhow::{Context, anyhow, bail};
use clap::Args;
use reqwest::Method;
use serde::Deserialize;
use std::fmt::Write;

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// The module's name.
    #[arg(value_name = "NAME")]
    pub spec: ModuleSpec,
    /// Print the marketplace's JSON answer as it is.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Deserialize, Debug)]
pub struct ModuleInfo {
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub summary: String,
    pub publisher: PublisherRef,
    pub latest_version: Option<String>,
    #[serde(default)]
    pub downloads: i64,
    #[serde(default)]
    pub visibility: String,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub versions: Vec<VersionInfo>,
}

#[derive(Deserialize, Debug)]
pub struct PublisherRef {
    pub slug: String,
    #[serde(default)]
    pub display_name: String,
}

#[derive(Deserialize, Debug)]
pub struct VersionInfo {
    pub version: String,
    #[serde(default)]
    pub published_at: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub yanked: bool,
    pub yank_reason: Option<String>,
    #[serde(default)]
    pub prerelease: bool,
}

pub async fn run(args: &InfoArgs) -> anyhow::Result<()> {
    let name = &args.spec.name;
    if let Some(v) = &args.spec.version {
        bail!("souk info shows every version of a module: give {name}, without @{v}");
    }
    let api = Registry::from_args(&args.registry)?;
    let response = api
        .send(
            api.request(Method::GET, &["modules", name]),
            &format!("module {name}"),
        )
        .await?;
    let url = response.url().clone();
    let body = response
        .text()
        .await
        .map_err(|e| anyhow!("the answer from {url} broke off: {}", super::api::cause(&e)))?;
    let module: ModuleInfo = serde_json::from_str(&body)
        .with_context(|| format!("unexpected answer from {url} (is this a Souk marketplace?)"))?;
    if args.json {
        println!("{}", body.trim_end());
    } else {
        print!("{}", render(&module));
    }
    Ok(())
}

/// The module as text: one fact a line, then one line a version, newest first.
pub fn render(m: &ModuleInfo) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "name:         {}", m.name);
    if !m.display_name.is_empty() {
        let _ = writeln!(out, "display name: {}", m.display_name);
    }
    if !m.summary.is_empty() {
        let _ = writeln!(out, "summary:      {}", m.summary);
    }
    let publisher = if m.publisher.display_name.is_empty() {
        m.publisher.slug.clone()
    } else {
        format!("{} ({})", m.publisher.slug, m.publisher.display_name)
    };
    let _ = writeln!(out, "publisher:    {publisher}");
    let _ = writeln!(
        out,
        "latest:       {}",
        m.latest_version.as_deref().unwrap_or("none")
    );
    let _ = writeln!(out, "downloads:    {}", m.downloads);
    if !m.visibility.is_empty() && m.visibility != "public" {
        let _ = writeln!(out, "visibility:   {}", m.visibility);
    }
    if m.archived {
        let _ = writeln!(out, "archived:     yes (no new versions)");
    }
    if m.versions.is_empty() {
        let _ = writeln!(out, "versions:     none");
        return out;
    }
    let _ = writeln!(out, "versions:");
    let width = m
        .versions
        .iter()
        .map(|v| v.version.len())
        .max()
        .unwrap_or(0);
    for v in &m.versions {
        let date = v.published_at.get(..10).unwrap_or(&v.published_at);
        let mut marks = Vec::new();
        if v.prerelease {
            marks.push("prerelease".to_owned());
        }
        if v.yanked {
            marks.push(match v.yank_reason.as_deref().filter(|r| !r.is_empty()) {
                Some(reason) => format!("yanked: {reason}"),
                None => "yanked".to_owned(),
            });
        }
        let line = format!(
            "  {:<width$}  {date:<10}  {:>9}  {}",
            v.version,
            human_size(v.size),
            marks.join(", ")
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// `512 B`, `3.9 KiB`, `12.0 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Display only: the precision of f64 is plenty for one decimal.
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1.0 KiB");
        assert_eq!(human_size(4000), "3.9 KiB");
        assert_eq!(human_size(12 * 1024 * 1024), "12.0 MiB");
    }

    #[test]
    fn a_module_with_its_versions() {
        let m: ModuleInfo = serde_json::from_value(serde_json::json!({
            "name": "economy",
            "display_name": "Economy",
            "summary": "",
            "publisher": {"slug": "acme", "display_name": "Acme Games"},
            "latest_version": "1.1.0",
            "downloads": 42,
            "visibility": "private",
            "archived": false,
            "versions": [
                {"version": "2.0.0-beta.1", "published_at": "2025-03-01T10:00:00Z", "size": 5000,
                 "yanked": false, "yank_reason": null, "prerelease": true},
                {"version": "1.1.0", "published_at": "2025-02-01T10:00:00Z", "size": 4000,
                 "yanked": false, "yank_reason": null, "prerelease": false},
                {"version": "1.0.0", "published_at": "2025-01-01T10:00:00Z", "size": 900,
                 "yanked": true, "yank_reason": "loses saves", "prerelease": false},
            ],
            "unknown": "fields are ignored"
        }))
        .unwrap();
        assert_eq!(
            render(&m),
            "name:         economy\n\
             display name: Economy\n\
             publisher:    acme (Acme Games)\n\
             latest:       1.1.0\n\
             downloads:    42\n\
             visibility:   private\n\
             versions:\n\
             \x20 2.0.0-beta.1  2025-03-01    4.9 KiB  prerelease\n\
             \x20 1.1.0         2025-02-01    3.9 KiB\n\
             \x20 1.0.0         2025-01-01      900 B  yanked: loses saves\n"
        );
    }
}

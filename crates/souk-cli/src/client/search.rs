//! `souk search [QUERY] [--category C] [--tag T] [--sort S] [--limit N] [--json]`: the
//! marketplace's search (`GET /api/v1/search`) from a terminal.
//!
//! The filters and the sort are passed through as typed: the marketplace knows its categories and
//! sorts, and refuses an unknown one with a 422 whose message this prints. An empty query browses.

use super::api::{Registry, cause};
use super::config::RegistryArgs;
use anyhow::{Context, anyhow};
use clap::Args;
use reqwest::Method;
use serde::Deserialize;
use std::fmt::Write;

/// The width the table fits when `COLUMNS` does not say otherwise.
const DEFAULT_WIDTH: usize = 80;
/// The summary column never shrinks below this, however long the names are.
const MIN_SUMMARY: usize = 16;

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Words to look for (typos and a partly typed last word are fine); none browses every module.
    #[arg(value_name = "QUERY")]
    pub query: Vec<String>,
    /// Only modules in this category (a slug such as `economy`) or its subcategories.
    #[arg(long, value_name = "SLUG")]
    pub category: Option<String>,
    /// Only modules with this tag; repeat it (or separate with commas) to require several.
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// `relevance` (the default with a query), `downloads` (the default without), `newest`,
    /// `updated` or `trending`.
    #[arg(long, value_name = "SORT")]
    pub sort: Option<String>,
    /// How many modules to show, 1 to 100.
    #[arg(long, value_name = "N", default_value_t = 20,
        value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: u32,
    /// Print the marketplace's JSON answer as it is.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// The parts of the answer the table shows; the rest is in `--json`.
#[derive(Deserialize, Debug)]
pub struct SearchPage {
    pub items: Vec<Card>,
    pub total: u64,
}

#[derive(Deserialize, Debug)]
pub struct Card {
    pub name: String,
    #[serde(default)]
    pub latest_version: String,
    #[serde(default)]
    pub downloads: i64,
    #[serde(default)]
    pub summary: String,
}

impl SearchArgs {
    /// The query string's pairs, leaving out what was not given.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("q", self.query.join(" ").trim().to_owned())];
        if let Some(c) = &self.category {
            pairs.push(("category", c.clone()));
        }
        let tags: Vec<&str> = self
            .tag
            .iter()
            .flat_map(|t| t.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        if !tags.is_empty() {
            pairs.push(("tag", tags.join(",")));
        }
        if let Some(s) = &self.sort {
            pairs.push(("sort", s.clone()));
        }
        pairs.push(("limit", self.limit.to_string()));
        pairs
    }
}

pub async fn run(args: &SearchArgs) -> anyhow::Result<()> {
    // The token is optional: search is public, and sending it does no harm.
    let api = Registry::from_args(&args.registry)?;
    let mut url = api.url(&["search"]);
    url.query_pairs_mut().extend_pairs(args.pairs());
    let response = api.send(api.request_to(Method::GET, url), "").await?;
    let url = response.url().clone();
    let body = response
        .text()
        .await
        .map_err(|e| anyhow!("the answer from {url} broke off: {}", cause(&e)))?;
    let page: SearchPage = serde_json::from_str(&body)
        .with_context(|| format!("unexpected answer from {url} (is this a Souk marketplace?)"))?;
    if args.json {
        println!("{}", body.trim_end());
    } else {
        print!("{}", render(&page, terminal_width()));
    }
    Ok(())
}

/// `COLUMNS` when the shell exports it, else 80.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(DEFAULT_WIDTH)
}

/// One line a module (name, latest version, downloads, summary cut to fit `width`), then how many
/// match in all.
pub fn render(page: &SearchPage, width: usize) -> String {
    let mut out = String::new();
    let shown = page.items.len() as u64;
    if !page.items.is_empty() {
        let version = |c: &Card| {
            if c.latest_version.is_empty() {
                "-".to_owned()
            } else {
                c.latest_version.clone()
            }
        };
        let name_w = page
            .items
            .iter()
            .map(|c| c.name.chars().count())
            .chain([4])
            .max()
            .unwrap_or(4);
        let version_w = page
            .items
            .iter()
            .map(|c| version(c).chars().count())
            .chain([7])
            .max()
            .unwrap_or(7);
        let downloads_w = page
            .items
            .iter()
            .map(|c| c.downloads.to_string().len())
            .chain([9])
            .max()
            .unwrap_or(9);
        let summary_w = width
            .saturating_sub(name_w + version_w + downloads_w + 6)
            .max(MIN_SUMMARY);
        let mut line = |name: &str, version: &str, downloads: &str, summary: &str| {
            let row = format!(
                "{name:<name_w$}  {version:<version_w$}  {downloads:>downloads_w$}  {}",
                truncate(summary, summary_w)
            );
            // Writing to a String cannot fail.
            let _ = writeln!(out, "{}", row.trim_end());
        };
        line("NAME", "VERSION", "DOWNLOADS", "SUMMARY");
        for c in &page.items {
            // A summary is one line on the page; keep it one line here too.
            let summary = c.summary.split_whitespace().collect::<Vec<_>>().join(" ");
            line(&c.name, &version(c), &c.downloads.to_string(), &summary);
        }
    }
    let modules = |n: u64| if n == 1 { "module" } else { "modules" };
    let _ = match page.total {
        0 => writeln!(out, "no modules found"),
        total if total <= shown => writeln!(out, "{total} {}", modules(total)),
        total => writeln!(
            out,
            "showing {shown} of {total} {} (--limit shows up to 100)",
            modules(total)
        ),
    };
    out
}

/// `text` cut to `max` characters, the last of them `…` when something was cut; at a word's end
/// when one ends in the second half.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(1);
    let mut cut: String = text.chars().take(keep).collect();
    let mid_word = text.chars().nth(keep).is_some_and(|c| !c.is_whitespace());
    if mid_word
        && let Some(i) = cut
            .rfind(char::is_whitespace)
            .filter(|i| cut[..*i].chars().count() > keep / 2)
    {
        cut.truncate(i);
    }
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SearchArgs,
    }

    fn parse(args: &[&str]) -> Result<SearchArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("search").chain(args.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn flags_become_query_pairs() {
        let a = parse(&[
            "chat",
            "bridge",
            "--tag",
            "discord, web",
            "--tag",
            "bot",
            "--category",
            "chat",
            "--sort",
            "newest",
            "--limit",
            "5",
        ])
        .unwrap();
        assert_eq!(
            a.pairs(),
            [
                ("q", "chat bridge".to_owned()),
                ("category", "chat".to_owned()),
                ("tag", "discord,web,bot".to_owned()),
                ("sort", "newest".to_owned()),
                ("limit", "5".to_owned()),
            ]
        );
        // No query at all browses.
        let a = parse(&[]).unwrap();
        assert_eq!(
            a.pairs(),
            [("q", String::new()), ("limit", "20".to_owned())]
        );
        assert!(parse(&["--limit", "0"]).is_err());
        assert!(parse(&["--limit", "101"]).is_err());
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("exactly ten", 11), "exactly ten");
        assert_eq!(truncate("a summary that goes on", 10), "a summary…");
        assert_eq!(truncate("ééééééé", 4), "ééé…");
        // At a word's end when that keeps at least half; else mid-word.
        assert_eq!(
            truncate("Coins, shops and a bank for all", 27),
            "Coins, shops and a bank…"
        );
        assert_eq!(truncate("a verylongwordindeed", 10), "a verylon…");
    }

    #[test]
    fn a_table_then_the_total() {
        let page: SearchPage = serde_json::from_value(serde_json::json!({
            "items": [
                {"name": "economy", "latest_version": "1.2.0", "downloads": 1234,
                 "summary": "Coins, shops and a bank for every server, with an\nadmin panel",
                 "publisher": {"slug": "acme"}},
                {"name": "chat-bridge", "latest_version": "0.1.0", "downloads": 0,
                 "summary": ""},
            ],
            "total": 7,
            "sort": "relevance",
            "next_cursor": "abc",
            "facets": {}
        }))
        .unwrap();
        assert_eq!(
            render(&page, 60),
            "NAME         VERSION  DOWNLOADS  SUMMARY\n\
             economy      1.2.0         1234  Coins, shops and a bank…\n\
             chat-bridge  0.1.0            0\n\
             showing 2 of 7 modules (--limit shows up to 100)\n"
        );
        let one = SearchPage {
            items: vec![Card {
                name: "economy".into(),
                latest_version: "1.2.0".into(),
                downloads: 3,
                summary: "Coins".into(),
            }],
            total: 1,
        };
        assert!(render(&one, 80).ends_with("  Coins\n1 module\n"));
        let none = SearchPage {
            items: Vec::new(),
            total: 0,
        };
        assert_eq!(render(&none, 80), "no modules found\n");
    }
}

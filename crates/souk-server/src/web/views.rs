//! What the catalog pages show, shaped for templates: module cards, version rows, file lists,
//! category paths, the automated checks' findings (one shape for the moderator console and the
//! publisher portal, so both read the same thing), and the small formatting helpers (sizes,
//! dates) they share.

use crate::search::schema::Card;
use crate::views::catalog::image_url;
use crate::views::moderation::CheckJobView;
use souk_core::Timestamp;
use souk_store::{Category, Job, Module, StoredFinding, Version, VersionStatus, Visibility};

/// `1.4 MiB`, `312 B`: binary units, one decimal past bytes.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The day part of a timestamp: `2026-11-22`.
pub fn date(t: Timestamp) -> String {
    t.human().chars().take(10).collect()
}

/// The letter shown in place of a missing icon or logo.
pub fn initial(name: &str) -> String {
    name.chars().next().unwrap_or('?').to_uppercase().collect()
}

/// A module in a list.
pub struct ModuleCard {
    pub name: String,
    pub display_name: String,
    pub summary: String,
    pub publisher_slug: String,
    pub publisher_name: String,
    pub latest_version: Option<String>,
    pub downloads: i64,
    pub icon_url: Option<String>,
    /// Shown in place of a missing icon.
    pub initial: String,
    /// `public`, `unlisted` or `private`; lists only show it when it is not public.
    pub visibility: &'static str,
    pub archived: bool,
    /// The publisher is verified: a badge shows beside its name.
    pub verified: bool,
}

impl From<&Module> for ModuleCard {
    fn from(m: &Module) -> Self {
        Self {
            name: m.name.clone(),
            display_name: m.display_name.clone(),
            summary: m.summary.clone(),
            publisher_slug: m.publisher_slug.clone(),
            publisher_name: m.publisher_name.clone(),
            latest_version: m.latest_version.clone(),
            downloads: m.downloads,
            icon_url: m.icon.as_ref().map(|i| image_url(&i.sha256)),
            initial: initial(&m.display_name),
            visibility: m.visibility.as_str(),
            archived: m.archived_at.is_some(),
            verified: m.publisher_verified,
        }
    }
}

/// A search result: a listed module, so public and not archived.
impl From<&Card> for ModuleCard {
    fn from(c: &Card) -> Self {
        Self {
            name: c.name.clone(),
            display_name: c.display_name.clone(),
            summary: c.summary.clone(),
            publisher_slug: c.publisher.slug.clone(),
            publisher_name: c.publisher.display_name.clone(),
            latest_version: Some(c.latest_version.clone()).filter(|v| !v.is_empty()),
            downloads: c.downloads,
            icon_url: c.icon_url.clone(),
            initial: initial(&c.display_name),
            visibility: Visibility::Public.as_str(),
            archived: false,
            verified: c.publisher.verified,
        }
    }
}

impl ModuleCard {
    pub fn is_public(&self) -> bool {
        self.visibility == Visibility::Public.as_str()
    }
}

/// One line of a versions table.
pub struct VersionRow {
    pub version: String,
    pub published: String,
    pub size: String,
    pub prerelease: bool,
    pub yanked: bool,
    pub yank_reason: String,
    pub platform: String,
    pub license: String,
    pub downloads: i64,
    pub latest: bool,
    pub page_url: String,
    pub download_url: String,
    /// The moderation state (`pending_checks`, `pending_review`, `published`, `rejected`,
    /// `quarantined`) and why it is in it; only members and staff see versions not published.
    pub status: &'static str,
    pub status_reason: String,
}

impl VersionRow {
    pub fn new(module: &Module, v: &Version) -> Self {
        let page_url = format!("/modules/{}/versions/{}", module.name, v.version);
        Self {
            version: v.version.clone(),
            published: date(v.created_at),
            size: human_size(v.size.max(0) as u64),
            prerelease: v.prerelease,
            yanked: v.yanked_at.is_some(),
            yank_reason: v.yank_reason.clone().unwrap_or_default(),
            platform: v.platform.clone(),
            license: v.license.clone(),
            downloads: v.downloads,
            latest: module.latest_version.as_deref() == Some(v.version.as_str()),
            download_url: format!("{page_url}/download"),
            page_url,
            status: v.status.as_str(),
            status_reason: v.status_reason.clone().unwrap_or_default(),
        }
    }

    pub fn list(module: &Module, versions: &[Version]) -> Vec<Self> {
        versions.iter().map(|v| Self::new(module, v)).collect()
    }
}

/// One finding of the automated checks.
pub struct FindingRow {
    /// `info`, `warning` or `error`.
    pub severity: &'static str,
    pub rule: String,
    /// `path:line:column`, the path alone for a whole file, or `whole package`.
    pub location: String,
    pub message: String,
}

impl From<&StoredFinding> for FindingRow {
    fn from(f: &StoredFinding) -> Self {
        let location = match (f.path.as_str(), f.line) {
            ("", _) => "whole package".to_owned(),
            (path, 0) => path.to_owned(),
            (path, line) => format!("{path}:{line}:{}", f.column),
        };
        Self {
            severity: f.severity.as_str(),
            rule: f.rule.clone(),
            location,
            message: f.message.clone(),
        }
    }
}

/// Where a version stands in moderation and what the checks found: the panel the review page
/// and the portal's version page share (`_checks.html`).
pub struct ChecksPanel {
    pub status: &'static str,
    pub status_reason: Option<String>,
    pub status_changed: Option<String>,
    /// When the checks last finished.
    pub checked: Option<String>,
    pub findings: Vec<FindingRow>,
    /// The check job while there is one: attempts and the last error.
    pub job: Option<CheckJobView>,
    /// The publisher's appeal, while it waits for a moderator.
    pub appeal: Option<String>,
    pub appealed: Option<String>,
}

impl ChecksPanel {
    pub fn new(v: &Version, findings: &[StoredFinding], job: Option<&Job>) -> Self {
        Self {
            status: v.status.as_str(),
            status_reason: v.status_reason.clone(),
            status_changed: v.status_changed_at.map(Timestamp::human),
            checked: v.checked_at.map(Timestamp::human),
            findings: findings.iter().map(FindingRow::from).collect(),
            job: job.map(CheckJobView::from),
            appeal: v.appeal.clone(),
            appealed: v.appealed_at.map(Timestamp::human),
        }
    }
}

/// A state as people read it: `pending review`.
pub fn status_label(s: VersionStatus) -> String {
    s.as_str().replace('_', " ")
}

/// A file inside a package.
pub struct FileRow {
    pub path: String,
    pub size: String,
}

/// A dependency of a version, linked to its module.
pub struct DependencyRow {
    pub name: String,
    pub req: String,
}

/// What a version page and the module page show of one version's contents.
pub struct VersionContents {
    pub files: Vec<FileRow>,
    pub dependencies: Vec<DependencyRow>,
    pub changelog: Option<String>,
}

impl From<&Version> for VersionContents {
    fn from(v: &Version) -> Self {
        Self {
            files: v
                .files
                .iter()
                .map(|f| FileRow {
                    path: f.path.clone(),
                    size: human_size(f.size),
                })
                .collect(),
            dependencies: v
                .dependencies
                .iter()
                .map(|(name, req)| DependencyRow {
                    name: name.clone(),
                    req: req.clone(),
                })
                .collect(),
            changelog: v.changelog.clone(),
        }
    }
}

/// A category to link to: `/categories/{slug}`.
pub struct CategoryLink {
    pub slug: String,
    pub name: String,
}

/// The category `id` and its ancestors, from the root down.
pub fn category_trail(all: &[Category], id: i64) -> Vec<CategoryLink> {
    souk_store::category_ancestry(all, id)
        .into_iter()
        .map(|c| CategoryLink {
            slug: c.slug.clone(),
            name: c.name.clone(),
        })
        .collect()
}

/// A link to the category `id`, labelled with its ancestors: `Economy › Shops & Trading`.
pub fn category_link(all: &[Category], id: i64) -> Option<CategoryLink> {
    let trail = category_trail(all, id);
    let slug = trail.last()?.slug.clone();
    let names: Vec<&str> = trail.iter().map(|c| c.name.as_str()).collect();
    Some(CategoryLink {
        slug,
        name: names.join(" › "),
    })
}

/// A choice in a category select.
pub struct CategoryOption {
    pub slug: String,
    /// The name, indented by its depth in the tree.
    pub label: String,
    pub selected: bool,
}

/// The category tree in reading order (each parent followed by its children), for a select.
pub fn category_options(all: &[Category], selected: Option<i64>) -> Vec<CategoryOption> {
    fn children(
        all: &[Category],
        parent: Option<i64>,
        depth: usize,
        selected: Option<i64>,
        out: &mut Vec<CategoryOption>,
    ) {
        let mut level: Vec<&Category> = all.iter().filter(|c| c.parent_id == parent).collect();
        level.sort_by(|a, b| a.position.cmp(&b.position).then(a.name.cmp(&b.name)));
        for c in level {
            out.push(CategoryOption {
                slug: c.slug.clone(),
                label: format!("{}{}", "\u{2003}".repeat(depth), c.name),
                selected: Some(c.id) == selected,
            });
            // The store refuses cycles; the depth bound is only a guard.
            if depth < 8 {
                children(all, Some(c.id), depth + 1, selected, out);
            }
        }
    }
    let mut out = Vec::with_capacity(all.len());
    children(all, None, 0, selected, &mut out);
    out
}

/// A publisher's page in the portal.
pub(super) fn publisher_url(slug: &str) -> String {
    format!("/portal/publishers/{slug}")
}

/// A module's page in the portal.
pub(super) fn module_url(name: &str) -> String {
    format!("/portal/modules/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_say_where() {
        let f = |path: &str, line, column| {
            FindingRow::from(&StoredFinding {
                rule: "secret.github-token".into(),
                severity: souk_core::findings::Severity::Error,
                path: path.into(),
                line,
                column,
                message: "m".into(),
            })
            .location
        };
        assert_eq!(f("src/a.lua", 3, 14), "src/a.lua:3:14");
        assert_eq!(f("bin/tool", 0, 0), "bin/tool");
        assert_eq!(f("", 0, 0), "whole package");
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(50 * 1024 * 1024), "50.0 MiB");
    }

    #[test]
    fn categories_nest_in_reading_order() {
        let cat = |id, slug: &str, parent, position| Category {
            id,
            slug: slug.into(),
            name: slug.to_uppercase(),
            parent_id: parent,
            position,
        };
        let all = [
            cat(3, "shops", Some(2), 1),
            cat(1, "admin", None, 1),
            cat(2, "economy", None, 2),
        ];
        let opts = category_options(&all, Some(3));
        let labels: Vec<&str> = opts.iter().map(|o| o.label.as_str()).collect();
        assert_eq!(labels, ["ADMIN", "ECONOMY", "\u{2003}SHOPS"]);
        assert!(opts[2].selected && !opts[0].selected);
        let trail: Vec<String> = category_trail(&all, 3)
            .into_iter()
            .map(|c| c.slug)
            .collect();
        assert_eq!(trail, ["economy", "shops"]);
        assert!(category_trail(&all, 99).is_empty());
        let link = category_link(&all, 3).unwrap();
        assert_eq!(
            (link.slug.as_str(), link.name.as_str()),
            ("shops", "ECONOMY › SHOPS")
        );
    }
}

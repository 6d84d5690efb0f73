//! The catalog's JSON shapes: publishers, modules, versions, categories.

use serde::Serialize;
use souk_store::{Category, Member, Module, Publisher, Screenshot, Version};
use utoipa::ToSchema;

/// URL of a stored image.
pub fn image_url(sha256: &str) -> String {
    format!("/api/v1/images/{sha256}")
}

/// The module's description, or without one the README of its latest version (else of its
/// newest), rendered to sanitized HTML; empty when there is neither. `versions` is newest first.
pub fn description_html(m: &Module, versions: &[Version]) -> String {
    let readme = m
        .latest_version
        .as_deref()
        .and_then(|l| versions.iter().find(|v| v.version == l))
        .or(versions.first())
        .and_then(|v| v.readme.as_deref());
    match (m.description.as_deref(), readme) {
        (Some(d), _) => souk_core::markdown::render_markdown(d),
        (None, Some(r)) => souk_core::markdown::render_markdown(r),
        (None, None) => String::new(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct PublisherView {
    pub slug: String,
    pub display_name: String,
    pub bio: String,
    pub website: Option<String>,
    pub support_email: Option<String>,
    pub logo_url: Option<String>,
    /// Verified by the marketplace's admins (shown as a badge), and since when.
    pub verified: bool,
    pub verified_at: Option<String>,
    /// Suspended publishers' modules are hidden and publishing is refused.
    pub suspended: bool,
    pub created_at: String,
}

impl From<&Publisher> for PublisherView {
    fn from(p: &Publisher) -> Self {
        Self {
            slug: p.slug.clone(),
            display_name: p.display_name.clone(),
            bio: p.bio.clone(),
            website: p.website.clone(),
            support_email: p.support_email.clone(),
            logo_url: p.logo.as_ref().map(|l| image_url(&l.sha256)),
            verified: p.verified_at.is_some(),
            verified_at: p.verified_at.map(|t| t.to_rfc3339()),
            suspended: p.suspended_at.is_some(),
            created_at: p.created_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MyPublisherView {
    #[serde(flatten)]
    pub publisher: PublisherView,
    /// `owner` or `maintainer`.
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    /// `owner` or `maintainer`.
    pub role: String,
    pub added_at: String,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email.clone(),
            display_name: m.display_name.clone(),
            role: m.role.as_str().to_owned(),
            added_at: m.created_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PublisherRef {
    pub slug: String,
    pub display_name: String,
    /// Verified by the marketplace's admins (shown as a badge).
    pub verified: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ScreenshotView {
    pub id: i64,
    pub url: String,
    pub width: i64,
    pub height: i64,
    pub caption: String,
}

impl From<&Screenshot> for ScreenshotView {
    fn from(s: &Screenshot) -> Self {
        Self {
            id: s.id,
            url: image_url(&s.image.sha256),
            width: s.width,
            height: s.height,
            caption: s.caption.clone(),
        }
    }
}

/// A module in a list.
#[derive(Serialize, ToSchema)]
pub struct ModuleSummaryView {
    pub name: String,
    pub display_name: String,
    pub summary: String,
    pub publisher: PublisherRef,
    pub latest_version: Option<String>,
    pub downloads: i64,
    /// `public`, `unlisted` or `private`.
    pub visibility: String,
    pub archived: bool,
    pub icon_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl ModuleSummaryView {
    /// A search result as a list entry: search only holds listed modules, so public and live.
    pub fn from_card(c: &crate::search::schema::Card) -> Self {
        Self {
            name: c.name.clone(),
            display_name: c.display_name.clone(),
            summary: c.summary.clone(),
            publisher: PublisherRef {
                slug: c.publisher.slug.clone(),
                display_name: c.publisher.display_name.clone(),
                verified: c.publisher.verified,
            },
            latest_version: Some(c.latest_version.clone()).filter(|v| !v.is_empty()),
            downloads: c.downloads,
            visibility: "public".into(),
            archived: false,
            icon_url: c.icon_url.clone(),
            created_at: c.created_at.clone(),
            updated_at: c.updated_at.clone(),
        }
    }
}

impl From<&Module> for ModuleSummaryView {
    fn from(m: &Module) -> Self {
        Self {
            name: m.name.clone(),
            display_name: m.display_name.clone(),
            summary: m.summary.clone(),
            publisher: PublisherRef {
                slug: m.publisher_slug.clone(),
                display_name: m.publisher_name.clone(),
                verified: m.publisher_verified,
            },
            latest_version: m.latest_version.clone(),
            downloads: m.downloads,
            visibility: m.visibility.as_str().to_owned(),
            archived: m.archived_at.is_some(),
            icon_url: m.icon.as_ref().map(|i| image_url(&i.sha256)),
            created_at: m.created_at.to_rfc3339(),
            updated_at: m.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ModulePage {
    pub items: Vec<ModuleSummaryView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DependencyView {
    pub name: String,
    /// A semver range such as `^1.2`.
    pub req: String,
}

#[derive(Serialize, ToSchema)]
pub struct FileView {
    pub path: String,
    pub size: u64,
}

#[derive(Serialize, ToSchema)]
pub struct VersionView {
    pub name: String,
    pub version: String,
    /// `pending_checks`, `pending_review`, `published`, `rejected` or `quarantined`. Only
    /// members of the publisher and moderators see versions that are not published or
    /// quarantined.
    pub status: String,
    /// Why the version is in its state: what sent it to review, the rejection or quarantine
    /// reason.
    pub status_reason: Option<String>,
    /// Hex SHA-256 of the package bytes; also the download's `ETag`.
    pub sha256: String,
    /// Package size in bytes.
    pub size: i64,
    /// `zip` or `tar.gz`.
    pub format: String,
    pub unpacked_size: i64,
    pub prerelease: bool,
    pub yanked: bool,
    pub yank_reason: Option<String>,
    pub yanked_at: Option<String>,
    pub license: String,
    pub description: String,
    /// The semver range of the host platform this version runs on.
    pub platform: String,
    pub dependencies: Vec<DependencyView>,
    pub downloads: i64,
    /// When it was first published; the upload time while it has not been.
    pub published_at: String,
    /// When the package was uploaded.
    pub uploaded_at: String,
    pub download_url: String,
    /// The registry's minisign signature of the package; absent for versions published before
    /// the registry signed.
    pub signature_url: Option<String>,
    /// The id (hex) of the registry key that signed, one of `GET /api/v1/keys`.
    pub registry_key_id: Option<String>,
    /// The publisher's own minisign signature of the package, checked at upload; absent when
    /// the version was published unsigned.
    pub publisher_signature_url: Option<String>,
    /// The id (hex) of the publisher key that signed, one of
    /// `GET /api/v1/publishers/{slug}/keys`.
    pub publisher_key_id: Option<String>,
}

impl VersionView {
    pub fn new(module: &str, v: &Version) -> Self {
        Self {
            name: module.to_owned(),
            version: v.version.clone(),
            status: v.status.as_str().to_owned(),
            status_reason: v.status_reason.clone(),
            sha256: v.sha256.clone(),
            size: v.size,
            format: v.format.clone(),
            unpacked_size: v.unpacked_size,
            prerelease: v.prerelease,
            yanked: v.yanked_at.is_some(),
            yank_reason: v.yank_reason.clone(),
            yanked_at: v.yanked_at.map(|t| t.to_rfc3339()),
            license: v.license.clone(),
            description: v.description.clone(),
            platform: v.platform.clone(),
            dependencies: v
                .dependencies
                .iter()
                .map(|(name, req)| DependencyView {
                    name: name.clone(),
                    req: req.clone(),
                })
                .collect(),
            downloads: v.downloads,
            published_at: v.published_at.unwrap_or(v.created_at).to_rfc3339(),
            uploaded_at: v.created_at.to_rfc3339(),
            download_url: format!("/api/v1/modules/{module}/versions/{}/download", v.version),
            signature_url: v
                .registry_signature
                .as_ref()
                .map(|_| format!("/api/v1/modules/{module}/versions/{}/signature", v.version)),
            registry_key_id: v.registry_key_id.clone(),
            publisher_signature_url: v.publisher_signature.as_ref().map(|_| {
                format!(
                    "/api/v1/modules/{module}/versions/{}/publisher-signature",
                    v.version
                )
            }),
            publisher_key_id: v.publisher_key_id.clone(),
        }
    }
}

/// One version with its manifest, README, changelog and file list.
#[derive(Serialize, ToSchema)]
pub struct VersionDetailView {
    #[serde(flatten)]
    pub version: VersionView,
    pub manifest: String,
    pub readme: Option<String>,
    pub changelog: Option<String>,
    pub files: Vec<FileView>,
}

impl VersionDetailView {
    pub fn new(module: &str, v: &Version) -> Self {
        Self {
            version: VersionView::new(module, v),
            manifest: v.manifest.clone(),
            readme: v.readme.clone(),
            changelog: v.changelog.clone(),
            files: v
                .files
                .iter()
                .map(|f| FileView {
                    path: f.path.clone(),
                    size: f.size,
                })
                .collect(),
        }
    }
}

/// A module with its versions, newest first.
#[derive(Serialize, ToSchema)]
pub struct ModuleView {
    #[serde(flatten)]
    pub summary: ModuleSummaryView,
    /// Markdown as the maintainers wrote it.
    pub description: Option<String>,
    /// The description (or, without one, the latest version's README) rendered to sanitized HTML.
    pub description_html: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub keywords: Vec<String>,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    pub screenshots: Vec<ScreenshotView>,
    pub versions: Vec<VersionView>,
    pub versions_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryView {
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
    pub position: i64,
    /// Listed modules in it and its subcategories.
    pub count: u64,
}

impl CategoryView {
    pub fn list(all: &[Category]) -> Vec<CategoryView> {
        all.iter()
            .map(|c| CategoryView {
                slug: c.slug.clone(),
                name: c.name.clone(),
                parent: c
                    .parent_id
                    .and_then(|p| all.iter().find(|x| x.id == p))
                    .map(|p| p.slug.clone()),
                position: c.position,
                count: 0,
            })
            .collect()
    }
}

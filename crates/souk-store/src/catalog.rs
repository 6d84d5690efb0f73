//! The catalog: publishers and their members, the category tree, modules, versions and download
//! counts.
//!
//! Module names are looked up by their normalized form (`souk_core::normalize_name`), which the
//! `name_normalized` column holds uniquely. A version row is written once and never changed except
//! for its yank marks and download counter; `modules.latest_version` is recomputed in the same
//! transaction as every publish, yank and unyank, so lists never need to load every version.

use crate::StoreResult;
use souk_core::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    Owner,
    Maintainer,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Maintainer => "maintainer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Self::Owner),
            "maintainer" => Some(Self::Maintainer),
            _ => None,
        }
    }
}

/// A stored image: the blob's SHA-256 and its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub sha256: String,
    pub content_type: String,
}

#[derive(Debug, Clone)]
pub struct Publisher {
    pub id: i64,
    pub slug: String,
    pub display_name: String,
    pub bio: String,
    pub website: Option<String>,
    pub support_email: Option<String>,
    pub logo: Option<ImageRef>,
    /// Set when an admin verified the publisher; a badge shows beside its name.
    pub verified_at: Option<Timestamp>,
    /// Set while the publisher is suspended: its modules are hidden and publishing is refused.
    pub suspended_at: Option<Timestamp>,
    pub suspension_reason: Option<String>,
    /// A pending request for verification, and what the publisher said with it.
    pub verification_requested_at: Option<Timestamp>,
    pub verification_note: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The editable part of a publisher's profile.
#[derive(Debug, Clone, Default)]
pub struct PublisherProfile {
    pub display_name: String,
    pub bio: String,
    pub website: Option<String>,
    pub support_email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: MemberRole,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Category {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub parent_id: Option<i64>,
    pub position: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Unlisted,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unlisted => "unlisted",
            Self::Private => "private",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "public" => Some(Self::Public),
            "unlisted" => Some(Self::Unlisted),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Module {
    pub id: i64,
    pub name: String,
    pub publisher_id: i64,
    pub publisher_slug: String,
    pub publisher_name: String,
    /// The publisher is verified (a badge shows beside its name).
    pub publisher_verified: bool,
    /// The publisher is suspended: the module is hidden from everyone but its members and staff.
    pub publisher_suspended: bool,
    pub display_name: String,
    pub summary: String,
    /// Markdown written by the maintainers; the latest version's README stands in when absent.
    pub description: Option<String>,
    pub category_id: Option<i64>,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    pub visibility: Visibility,
    pub icon: Option<ImageRef>,
    pub latest_version: Option<String>,
    pub downloads: i64,
    pub archived_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewModule {
    pub name: String,
    pub name_normalized: String,
    pub publisher_id: i64,
    pub display_name: String,
    pub summary: String,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    pub keywords: Vec<String>,
    pub visibility: Visibility,
}

/// What maintainers edit on a module's settings page.
#[derive(Debug, Clone)]
pub struct ModuleUpdate {
    pub display_name: String,
    pub summary: String,
    pub description: Option<String>,
    pub category_id: Option<i64>,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    pub tags: Vec<String>,
    pub visibility: Visibility,
}

#[derive(Debug, Clone)]
pub struct Screenshot {
    pub id: i64,
    pub module_id: i64,
    pub image: ImageRef,
    pub width: i64,
    pub height: i64,
    pub caption: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleSort {
    Newest,
    Downloads,
}

/// A page of modules. `after` is the `(sort key, id)` of the last row of the previous page.
#[derive(Debug, Clone)]
pub struct ModuleQuery {
    pub publisher_id: Option<i64>,
    /// Only public, unarchived modules (browsing). When false (a member looking at their own
    /// publisher), every visibility and archived modules are listed too.
    pub listed_only: bool,
    pub sort: ModuleSort,
    pub after: Option<(i64, i64)>,
    pub limit: u32,
}

/// Where a version is in moderation. An upload starts in `PendingChecks`; the automated checks
/// move it to `PendingReview` or `Published`; a moderator approves (`Published`) or rejects
/// (`Rejected`) a version under review, and can pull a published one (`Quarantined`) and release
/// it again. Only `Published` versions are listed, searchable and downloadable by everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionStatus {
    PendingChecks,
    PendingReview,
    Published,
    Rejected,
    Quarantined,
}

impl VersionStatus {
    pub const ALL: [VersionStatus; 5] = [
        Self::PendingChecks,
        Self::PendingReview,
        Self::Published,
        Self::Rejected,
        Self::Quarantined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingChecks => "pending_checks",
            Self::PendingReview => "pending_review",
            Self::Published => "published",
            Self::Rejected => "rejected",
            Self::Quarantined => "quarantined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the version is waiting for the checks or a moderator.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::PendingChecks | Self::PendingReview)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFileRow {
    pub path: String,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct Version {
    pub id: i64,
    pub module_id: i64,
    pub version: String,
    pub prerelease: bool,
    pub status: VersionStatus,
    pub sha256: String,
    pub size: i64,
    /// `zip` or `tar.gz`.
    pub format: String,
    pub unpacked_size: i64,
    pub license: String,
    pub description: String,
    pub platform: String,
    pub manifest: String,
    pub readme: Option<String>,
    pub changelog: Option<String>,
    pub files: Vec<PackageFileRow>,
    pub dependencies: Vec<(String, String)>,
    pub downloads: i64,
    pub yanked_at: Option<Timestamp>,
    pub yank_reason: Option<String>,
    pub published_by: Option<i64>,
    /// The registry's minisign signature over the package bytes, and the key that made it.
    pub registry_signature: Option<String>,
    pub registry_key_id: Option<String>,
    /// Why the version is in its state: what sent it to review, the rejection or quarantine
    /// reason.
    pub status_reason: Option<String>,
    pub status_changed_at: Option<Timestamp>,
    /// The moderator who last changed the state (`None` for the checks).
    pub status_changed_by: Option<i64>,
    /// When the automated checks last finished.
    pub checked_at: Option<Timestamp>,
    /// When the version first became published.
    pub published_at: Option<Timestamp>,
    /// The publisher's appeal against a rejection, and when it was made.
    pub appeal: Option<String>,
    pub appealed_at: Option<Timestamp>,
    /// The publisher's own minisign signature over the package bytes, and its key's id.
    pub publisher_signature: Option<String>,
    pub publisher_key_id: Option<String>,
    /// When the upload arrived.
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewVersion {
    pub version: String,
    pub prerelease: bool,
    pub sha256: String,
    pub size: i64,
    pub format: String,
    pub unpacked_size: i64,
    pub license: String,
    pub description: String,
    pub platform: String,
    pub manifest: String,
    pub readme: Option<String>,
    pub changelog: Option<String>,
    pub files: Vec<PackageFileRow>,
    /// Dependency module names (as the manifest spells them) and their semver ranges.
    pub dependencies: Vec<(String, String)>,
    pub published_by: i64,
    /// The registry's minisign signature over the package bytes, and the key id (hex).
    pub registry_signature: Option<String>,
    pub registry_key_id: Option<String>,
    /// The state it starts in: `PendingChecks` for an upload; `Published` (signed) for versions
    /// that need no checks (demo data, tests, benchmarks).
    pub status: VersionStatus,
    /// The publisher's own minisign signature, checked against its keys, and the key id (hex).
    pub publisher_signature: Option<String>,
    pub publisher_key_id: Option<String>,
}

/// Where a publish goes: a module that exists, or one to create in the same transaction.
#[derive(Debug, Clone)]
pub enum PublishTarget {
    Existing(i64),
    New(NewModule),
}

#[async_trait::async_trait]
pub trait PublisherStore {
    /// Creates the publisher with `owner_id` as its first owner, in one transaction.
    async fn create_publisher(
        &self,
        slug: &str,
        profile: &PublisherProfile,
        owner_id: i64,
        now: Timestamp,
    ) -> StoreResult<Publisher>;
    async fn publisher_by_slug(&self, slug: &str) -> StoreResult<Publisher>;
    async fn publisher_by_id(&self, id: i64) -> StoreResult<Publisher>;
    async fn update_publisher(
        &self,
        id: i64,
        profile: &PublisherProfile,
        now: Timestamp,
    ) -> StoreResult<()>;
    async fn set_publisher_logo(&self, id: i64, logo: Option<&ImageRef>) -> StoreResult<()>;
    /// The publishers `user_id` belongs to, with the role held, by slug.
    async fn publishers_of_user(&self, user_id: i64) -> StoreResult<Vec<(Publisher, MemberRole)>>;
    async fn members(&self, publisher_id: i64) -> StoreResult<Vec<Member>>;
    /// `NotFound` when the user is not a member.
    async fn member_role(&self, publisher_id: i64, user_id: i64) -> StoreResult<MemberRole>;
    /// `Conflict { field: "user_id" }` when already a member.
    async fn add_member(
        &self,
        publisher_id: i64,
        user_id: i64,
        role: MemberRole,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Changes a role (`None` removes the member). Refuses, with `Conflict { field: "owner" }`,
    /// to leave the publisher without an owner; checked in the same transaction as the write.
    async fn set_member_role(
        &self,
        publisher_id: i64,
        user_id: i64,
        role: Option<MemberRole>,
    ) -> StoreResult<()>;
}

#[async_trait::async_trait]
pub trait CategoryStore {
    /// The whole tree, parents before children, by position then name.
    async fn categories(&self) -> StoreResult<Vec<Category>>;
    async fn create_category(
        &self,
        slug: &str,
        name: &str,
        parent_id: Option<i64>,
        position: i64,
    ) -> StoreResult<Category>;
    async fn update_category(
        &self,
        id: i64,
        name: &str,
        parent_id: Option<i64>,
        position: i64,
    ) -> StoreResult<()>;
    /// `Conflict { field: "parent_id" }` while the category has children; modules in it lose
    /// their category.
    async fn delete_category(&self, id: i64) -> StoreResult<()>;
}

#[async_trait::async_trait]
pub trait ModuleStore {
    /// A module with no versions yet (created from the portal before its first upload).
    /// `Conflict { field: "name_normalized" }` when the name is taken in any spelling.
    async fn create_module(&self, new: &NewModule, now: Timestamp) -> StoreResult<Module>;
    async fn module_by_name(&self, name_normalized: &str) -> StoreResult<Module>;
    async fn module_by_id(&self, id: i64) -> StoreResult<Module>;
    async fn list_modules(&self, query: &ModuleQuery) -> StoreResult<Vec<Module>>;
    async fn update_module(
        &self,
        id: i64,
        update: &ModuleUpdate,
        now: Timestamp,
    ) -> StoreResult<()>;
    async fn set_module_archived(&self, id: i64, archived_at: Option<Timestamp>)
    -> StoreResult<()>;
    async fn set_module_icon(&self, id: i64, icon: Option<&ImageRef>) -> StoreResult<()>;
    async fn add_screenshot(
        &self,
        module_id: i64,
        image: &ImageRef,
        width: i64,
        height: i64,
        caption: &str,
        now: Timestamp,
    ) -> StoreResult<Screenshot>;
    async fn screenshots(&self, module_id: i64) -> StoreResult<Vec<Screenshot>>;
    /// Removes a screenshot of this module; answers the removed row so its blob can be released.
    async fn delete_screenshot(&self, module_id: i64, id: i64) -> StoreResult<Screenshot>;
    /// Whether any module, publisher or screenshot still points at this image blob.
    async fn image_in_use(&self, sha256: &str) -> StoreResult<bool>;
}

#[async_trait::async_trait]
pub trait VersionStore {
    /// Writes a version (and, for `PublishTarget::New`, its module) in one transaction and
    /// recomputes the module's latest version. `Conflict { field: "version" }` when the version
    /// exists, yanked or not; `Conflict { field: "name_normalized" }` when a new module's name is
    /// taken.
    async fn publish_version(
        &self,
        target: &PublishTarget,
        new: &NewVersion,
        now: Timestamp,
    ) -> StoreResult<(Module, Version)>;
    /// Every version of the module, newest semver first.
    async fn versions(&self, module_id: i64) -> StoreResult<Vec<Version>>;
    async fn version(&self, module_id: i64, version: &str) -> StoreResult<Version>;
    /// Yanks (with a reason) or unyanks a version, and recomputes the module's latest version.
    async fn set_yanked(&self, version_id: i64, yank: Option<(&str, Timestamp)>)
    -> StoreResult<()>;
    /// Whether any version still points at this package blob.
    async fn package_in_use(&self, sha256: &str) -> StoreResult<bool>;
    /// Adds counted downloads: `(version_id, day number since the epoch, count)`.
    async fn record_downloads(&self, counts: &[(i64, i64, i64)]) -> StoreResult<()>;
    /// Daily downloads of a module's versions from `since_day` on: `(day, count)`, by day.
    async fn module_downloads_by_day(
        &self,
        module_id: i64,
        since_day: i64,
    ) -> StoreResult<Vec<(i64, i64)>>;
}

/// The category `id` and its ancestors, root first; empty when `id` is not in `all`. Bounded by
/// the size of the tree, so a corrupt cycle cannot loop forever (the store refuses cycles).
pub fn category_ancestry(all: &[Category], id: i64) -> Vec<&Category> {
    let mut chain = Vec::new();
    let mut cursor = Some(id);
    while let Some(c) = cursor.and_then(|id| all.iter().find(|c| c.id == id)) {
        chain.push(c);
        cursor = c.parent_id;
        if chain.len() > all.len() {
            break;
        }
    }
    chain.reverse();
    chain
}

/// Picks the latest version: the highest semver that is neither yanked nor a prerelease. Callers
/// pass published versions only.
pub fn latest_of<'a>(versions: impl IntoIterator<Item = (&'a str, bool)>) -> Option<String> {
    versions
        .into_iter()
        .filter(|(_, yanked)| !yanked)
        .filter_map(|(v, _)| semver::Version::parse(v).ok())
        .filter(|v| v.pre.is_empty())
        .max()
        .map(|v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(id: i64, slug: &str, parent_id: Option<i64>) -> Category {
        Category {
            id,
            slug: slug.into(),
            name: slug.into(),
            parent_id,
            position: 0,
        }
    }

    #[test]
    fn ancestry_runs_root_first_and_survives_a_cycle() {
        let tree = [
            cat(1, "economy", None),
            cat(2, "shops", Some(1)),
            cat(3, "x", Some(4)),
            cat(4, "y", Some(3)),
        ];
        let slugs = |id| {
            category_ancestry(&tree, id)
                .iter()
                .map(|c| c.slug.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(slugs(2), ["economy", "shops"]);
        assert_eq!(slugs(1), ["economy"]);
        assert!(slugs(99).is_empty());
        assert!(slugs(3).len() <= tree.len() + 1, "a corrupt cycle ends");
    }
}

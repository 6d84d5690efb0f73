//! The catalog's rules: who may change a publisher or a module, what a valid profile is, and what
//! a visitor may see. Publishing a version is in [`super::publish`].
//!
//! Access convention: a private module answers 404 to anyone outside its publisher, exactly as a
//! module that does not exist (SPEC: another tenant's object answers 404). A visible module that
//! the caller may not change answers 403. Admins act as owners of every publisher.

use super::audit::{Actor, version_label};
use crate::blob::{BlobKind, BlobStore};
use crate::error::{AppError, AppResult};
use bytes::Bytes;
use serde_json::json;
use souk_core::cursor::page_limit;
use souk_core::{Cursor, Email, ModuleName, PublisherSlug, Role, Timestamp, ValidationError};
use souk_store::{
    Category, DynStore, ImageRef, Member, MemberRole, Module, ModuleQuery, ModuleSort,
    ModuleUpdate, NewAuditEntry, NewModule, Publisher, PublisherProfile, Screenshot, StoreError,
    User, Version, VersionStatus, Visibility,
};

/// Catalog operations over the store and the blob store.
#[derive(Clone)]
pub struct Catalog {
    pub(crate) store: DynStore,
    pub(crate) blobs: BlobStore,
    pub(crate) keys: std::sync::Arc<crate::signing::RegistryKeys>,
}

/// What a visitor or member asked to see, and what they may do with it.
pub struct ModuleAccess {
    pub module: Module,
    /// The caller's role in the module's publisher, if any.
    pub role: Option<MemberRole>,
    /// The caller is a moderator or an admin.
    pub staff: bool,
}

impl ModuleAccess {
    /// Members of the publisher and staff see versions in every state; everyone else sees
    /// published and quarantined ones (the latter so that a tenant learns why it is gone).
    pub fn sees(&self, v: &Version) -> bool {
        self.role.is_some()
            || self.staff
            || matches!(
                v.status,
                VersionStatus::Published | VersionStatus::Quarantined
            )
    }
}

/// Who may act on a version they can see (see [`Catalog::version_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRight {
    /// Members of its publisher.
    Member,
    /// Members of its publisher, moderators and admins.
    MemberOrStaff,
}

/// Edits to a module, as a form or JSON sends them: absent fields keep their value.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ModuleEdit {
    pub display_name: Option<String>,
    pub summary: Option<String>,
    /// Markdown; an empty string removes it (the README shows instead).
    pub description: Option<String>,
    /// A category slug; an empty string removes it.
    pub category: Option<String>,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    pub tags: Option<Vec<String>>,
    /// `public`, `unlisted` or `private`.
    pub visibility: Option<String>,
}

/// The largest icon, screenshot or logo accepted.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// A page of a module listing, as the API and the web pages ask for it.
#[derive(Debug, Default, Clone)]
pub struct Browse {
    /// `newest` (default) or `downloads`.
    pub sort: Option<String>,
    /// Only this publisher's modules; its members also see private and archived ones.
    pub publisher: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 100, default 20.
    pub limit: Option<u32>,
}

/// One page of modules and the cursor of the next, absent on the last page.
pub struct Listing {
    pub modules: Vec<Module>,
    pub next_cursor: Option<String>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> AppError {
    AppError::Validation(ValidationError::new(field, "invalid_field", message))
}

/// A display name: one visible line of 1 to 100 characters (see [`souk_core::text`]).
pub fn display_name(field: &'static str, v: &str) -> AppResult<String> {
    const MAX: usize = 100;
    souk_core::text::display_text(v, MAX).map_err(|e| invalid(field, e.message(MAX)))
}

fn text(field: &'static str, v: &str, min: usize, max: usize) -> AppResult<String> {
    let v = v.trim();
    let n = v.chars().count();
    if n < min || n > max {
        return Err(invalid(
            field,
            if min > 0 {
                format!("must be {min} to {max} characters long")
            } else {
                format!("must be at most {max} characters long")
            },
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(invalid(field, "must not hold control characters"));
    }
    Ok(v.to_owned())
}

/// An optional http(s) URL; empty means none.
pub fn optional_url(field: &'static str, v: Option<&str>) -> AppResult<Option<String>> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match url::Url::parse(v) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some() => {
            Ok(Some(u.to_string()))
        }
        _ => Err(invalid(field, "must be an http:// or https:// URL")),
    }
}

/// The id of the category `slug` names in `all`; `None` for an absent or empty slug, 422 on
/// `field` for one that names no category.
fn category_in(
    all: &[Category],
    field: &'static str,
    slug: Option<&str>,
) -> AppResult<Option<i64>> {
    let Some(slug) = slug.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    all.iter()
        .find(|c| c.slug == slug)
        .map(|c| Some(c.id))
        .ok_or_else(|| invalid(field, format!("there is no category `{slug}`")))
}

fn tags(raw: &[String]) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in raw {
        let t = t.trim().to_ascii_lowercase();
        if t.is_empty() {
            continue;
        }
        if t.len() > 32
            || !t
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(
                "tags",
                format!("`{t}` is not a tag: up to 32 lowercase letters, digits and `-`"),
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > 10 {
        return Err(invalid("tags", "at most 10 tags"));
    }
    Ok(out)
}

pub fn parse_visibility(v: &str) -> AppResult<Visibility> {
    Visibility::parse(v.trim())
        .ok_or_else(|| invalid("visibility", "must be public, unlisted or private"))
}

/// Checks and normalizes a publisher profile.
pub fn publisher_profile(
    display_name: &str,
    bio: Option<&str>,
    website: Option<&str>,
    support_email: Option<&str>,
) -> AppResult<PublisherProfile> {
    let support_email = match support_email.map(str::trim).filter(|s| !s.is_empty()) {
        Some(e) => Some(
            Email::parse(e)
                .map_err(|e| invalid("support_email", e.message))?
                .to_string(),
        ),
        None => None,
    };
    Ok(PublisherProfile {
        display_name: self::display_name("display_name", display_name)?,
        bio: text("bio", bio.unwrap_or(""), 0, 2000)?,
        website: optional_url("website", website)?,
        support_email,
    })
}

impl Catalog {
    pub fn new(
        store: DynStore,
        blobs: BlobStore,
        keys: std::sync::Arc<crate::signing::RegistryKeys>,
    ) -> Self {
        Self { store, blobs, keys }
    }

    /// The registry's signing keys.
    pub fn keys(&self) -> &crate::signing::RegistryKeys {
        &self.keys
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// Whether the user belongs to the publisher `slug` (admins belong everywhere); false when
    /// there is no such publisher.
    pub async fn is_member_of(&self, user: &User, slug: &str) -> AppResult<bool> {
        match self.store.publisher_by_slug(slug).await {
            Ok(p) => Ok(self.role_in(user, p.id).await?.is_some()),
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The caller's role in a publisher; admins count as owners.
    pub async fn role_in(&self, user: &User, publisher_id: i64) -> AppResult<Option<MemberRole>> {
        if user.role == Role::Admin {
            return Ok(Some(MemberRole::Owner));
        }
        match self.store.member_role(publisher_id, user.id).await {
            Ok(r) => Ok(Some(r)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn require_role(
        &self,
        user: &User,
        publisher: &Publisher,
        owner: bool,
    ) -> AppResult<MemberRole> {
        match self.role_in(user, publisher.id).await? {
            Some(MemberRole::Maintainer) if owner => Err(AppError::Forbidden(format!(
                "only owners of {} may do this",
                publisher.slug
            ))),
            Some(role) => Ok(role),
            None => Err(AppError::Forbidden(format!(
                "you are not a member of publisher {}",
                publisher.slug
            ))),
        }
    }

    // ----- publishers -----

    pub async fn create_publisher(
        &self,
        user: &User,
        slug: &str,
        profile: PublisherProfile,
    ) -> AppResult<Publisher> {
        let slug = PublisherSlug::parse(slug)?;
        let p = self
            .store
            .create_publisher(slug.as_str(), &profile, user.id, Timestamp::now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => AppError::conflict_with(
                    "slug",
                    format!("a publisher named {slug} already exists"),
                ),
                other => other.into(),
            })?;
        tracing::info!(publisher = %p.slug, user_id = user.id, "publisher created");
        Ok(p)
    }

    pub async fn publisher(&self, slug: &str) -> AppResult<Publisher> {
        Ok(self.store.publisher_by_slug(slug).await?)
    }

    pub async fn update_publisher(
        &self,
        user: &User,
        slug: &str,
        profile: PublisherProfile,
    ) -> AppResult<Publisher> {
        let p = self.publisher(slug).await?;
        self.require_role(user, &p, true).await?;
        self.store
            .update_publisher(p.id, &profile, Timestamp::now())
            .await?;
        self.publisher(slug).await
    }

    pub async fn set_publisher_logo(
        &self,
        user: &User,
        slug: &str,
        image: Bytes,
    ) -> AppResult<Publisher> {
        let p = self.publisher(slug).await?;
        self.require_role(user, &p, true).await?;
        let (img, _) = self.store_image(image).await?;
        // The old logo's blob, if nothing else uses it, goes with the orphan sweep.
        self.store.set_publisher_logo(p.id, Some(&img)).await?;
        self.publisher(slug).await
    }

    /// The publisher and the caller's role in it: 404 for an unknown publisher, 403 for a
    /// non-member.
    pub async fn membership(&self, user: &User, slug: &str) -> AppResult<(Publisher, MemberRole)> {
        let p = self.publisher(slug).await?;
        let role = self.require_role(user, &p, false).await?;
        Ok((p, role))
    }

    /// The publisher `slug` when the user is one of its owners (403 otherwise).
    pub async fn owned_publisher(&self, user: &User, slug: &str) -> AppResult<Publisher> {
        let p = self.publisher(slug).await?;
        self.require_role(user, &p, true).await?;
        Ok(p)
    }

    pub async fn publishers_of(&self, user: &User) -> AppResult<Vec<(Publisher, MemberRole)>> {
        Ok(self.store.publishers_of_user(user.id).await?)
    }

    pub async fn members(&self, user: &User, slug: &str) -> AppResult<(Publisher, Vec<Member>)> {
        let p = self.publisher(slug).await?;
        self.require_role(user, &p, false).await?;
        let members = self.store.members(p.id).await?;
        Ok((p, members))
    }

    pub async fn add_member(
        &self,
        actor: &Actor<'_>,
        slug: &str,
        email: &str,
        role: &str,
    ) -> AppResult<Member> {
        let p = self.publisher(slug).await?;
        self.require_role(actor.user, &p, true).await?;
        let role = MemberRole::parse(role.trim())
            .ok_or_else(|| invalid("role", "must be owner or maintainer"))?;
        let email = Email::parse(email)?;
        let member = match self.store.user_by_email(&email).await {
            Ok(u) => u,
            Err(StoreError::NotFound) => {
                return Err(AppError::Validation(ValidationError::new(
                    "email",
                    "unknown_user",
                    format!("no account uses {email}; they must sign up first"),
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let tx = self.store.begin().await?;
        tx.add_member(p.id, member.id, role, Timestamp::now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => AppError::conflict_with(
                    "email",
                    format!("{email} is already a member of {}", p.slug),
                ),
                other => other.into(),
            })?;
        tx.append_audit(&NewAuditEntry {
            after: Some(json!({ "member": email.as_str(), "role": role.as_str() })),
            ..actor.entry("publisher.member_add", "publisher", p.slug.as_str())
        })
        .await?;
        tx.commit().await?;
        let members = self.store.members(p.id).await?;
        members
            .into_iter()
            .find(|m| m.user_id == member.id)
            .ok_or(AppError::NotFound)
    }

    /// Changes a member's role, or removes them (`role` `None`). Owners may change anyone;
    /// anyone may leave. The last owner can do neither.
    pub async fn set_member_role(
        &self,
        actor: &Actor<'_>,
        slug: &str,
        member_id: i64,
        role: Option<&str>,
    ) -> AppResult<()> {
        let user = actor.user;
        let p = self.publisher(slug).await?;
        let leaving_self = role.is_none() && member_id == user.id;
        if !leaving_self {
            self.require_role(user, &p, true).await?;
        } else {
            self.require_role(user, &p, false).await?;
        }
        let role = match role {
            Some(r) => Some(
                MemberRole::parse(r.trim())
                    .ok_or_else(|| invalid("role", "must be owner or maintainer"))?,
            ),
            None => None,
        };
        let before = self
            .store
            .members(p.id)
            .await?
            .into_iter()
            .find(|m| m.user_id == member_id);
        let tx = self.store.begin().await?;
        tx.set_member_role(p.id, member_id, role)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => AppError::conflict_with(
                    "owner",
                    format!("{} must keep at least one owner", p.slug),
                ),
                other => other.into(),
            })?;
        let member = before
            .as_ref()
            .map_or_else(|| member_id.to_string(), |m| m.email.clone());
        let action = if role.is_some() {
            "publisher.member_role_change"
        } else {
            "publisher.member_remove"
        };
        tx.append_audit(&NewAuditEntry {
            before: Some(json!({
                "member": member,
                "role": before.as_ref().map(|m| m.role.as_str()),
            })),
            after: Some(json!({ "member": member, "role": role.map(MemberRole::as_str) })),
            ..actor.entry(action, "publisher", p.slug.as_str())
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- modules -----

    /// A module as `viewer` may see it: private modules are 404 to non-members.
    pub async fn module(&self, viewer: Option<&User>, name: &str) -> AppResult<ModuleAccess> {
        let module = match self
            .store
            .module_by_name(&souk_core::normalize_name(name))
            .await
        {
            Ok(m) => m,
            Err(StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let role = match viewer {
            Some(u) => self.role_in(u, module.publisher_id).await?,
            None => None,
        };
        if module.visibility == Visibility::Private && role.is_none() {
            return Err(AppError::NotFound);
        }
        let staff = viewer.is_some_and(crate::policy::is_staff);
        // A suspended publisher's modules are hidden from everyone but its members and staff.
        if module.publisher_suspended && role.is_none() && !staff {
            return Err(AppError::NotFound);
        }
        Ok(ModuleAccess {
            module,
            role,
            staff,
        })
    }

    /// A module the caller may change: 404 when they cannot see it, 403 when they only can see it.
    pub async fn managed_module(&self, user: &User, name: &str) -> AppResult<Module> {
        let access = self.module(Some(user), name).await?;
        if access.role.is_none() {
            return Err(AppError::Forbidden(format!(
                "you are not a member of publisher {}",
                access.module.publisher_slug
            )));
        }
        Ok(access.module)
    }

    /// A version as `user` may act on it with `right`: 404 when they cannot see the module or
    /// the version (outside its publisher, another's private module or unpublished version is
    /// not there, for writes too), 403 when they see it but the right is not theirs.
    pub async fn version_for(
        &self,
        user: &User,
        name: &str,
        version: &str,
        right: VersionRight,
    ) -> AppResult<(ModuleAccess, Version)> {
        let access = self.module(Some(user), name).await?;
        let v = self.version(&access, version).await?;
        let allowed = match right {
            VersionRight::Member => access.role.is_some(),
            VersionRight::MemberOrStaff => access.role.is_some() || access.staff,
        };
        if !allowed {
            return Err(AppError::Forbidden(format!(
                "you are not a member of publisher {}",
                access.module.publisher_slug
            )));
        }
        Ok((access, v))
    }

    /// Refuses a new module name that is reserved, malformed, or taken in another spelling.
    pub async fn check_new_name(&self, raw: &str) -> AppResult<ModuleName> {
        // The clash is looked up before the shape is judged, so `My_Mod` next to `my-mod` is
        // answered as the conflict it is rather than as a typo.
        let normalized = souk_core::normalize_name(raw);
        if normalized.len() <= 64 {
            match self.store.module_by_name(&normalized).await {
                Ok(existing) => {
                    return Err(AppError::conflict_with(
                        "name",
                        format!(
                            "`{raw}` is too close to the existing module `{}`",
                            existing.name
                        ),
                    ));
                }
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(ModuleName::parse(raw)?)
    }

    pub async fn create_module(
        &self,
        user: &User,
        name: &str,
        publisher: &str,
        display_name: Option<&str>,
        summary: Option<&str>,
        visibility: Option<&str>,
    ) -> AppResult<Module> {
        let p = self.publisher(publisher).await.map_err(|e| match e {
            AppError::NotFound => AppError::Validation(ValidationError::new(
                "publisher",
                "unknown_publisher",
                format!("there is no publisher {publisher}"),
            )),
            other => other,
        })?;
        self.require_role(user, &p, false).await?;
        let name = self.check_new_name(name).await?;
        let new = NewModule {
            name: name.to_string(),
            name_normalized: name.normalized(),
            publisher_id: p.id,
            display_name: self::display_name(
                "display_name",
                display_name
                    .filter(|d| !d.trim().is_empty())
                    .unwrap_or(name.as_str()),
            )?,
            summary: text("summary", summary.unwrap_or(""), 0, 200)?,
            homepage: None,
            repository: None,
            keywords: Vec::new(),
            visibility: parse_visibility(visibility.unwrap_or("public"))?,
        };
        self.store
            .create_module(&new, Timestamp::now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => AppError::conflict_with(
                    "name",
                    format!("a module named {} already exists", new.name),
                ),
                other => other.into(),
            })
    }

    pub async fn update_module(
        &self,
        user: &User,
        name: &str,
        edit: ModuleEdit,
    ) -> AppResult<Module> {
        let m = self.managed_module(user, name).await?;
        let category_id = match edit.category.as_deref() {
            None => m.category_id,
            Some(slug) => category_in(&self.store.categories().await?, "category", Some(slug))?,
        };
        let description = match edit.description.as_deref() {
            None => m.description.clone(),
            Some(d) if d.trim().is_empty() => None,
            Some(d) => Some(text("description", d, 1, 50_000)?),
        };
        let update = ModuleUpdate {
            display_name: match edit.display_name.as_deref() {
                Some(d) => self::display_name("display_name", d)?,
                None => m.display_name.clone(),
            },
            summary: match edit.summary.as_deref() {
                Some(s) => text("summary", s, 0, 200)?,
                None => m.summary.clone(),
            },
            description,
            category_id,
            homepage: match edit.homepage.as_deref() {
                Some(h) => optional_url("homepage", Some(h))?,
                None => m.homepage.clone(),
            },
            repository: match edit.repository.as_deref() {
                Some(r) => optional_url("repository", Some(r))?,
                None => m.repository.clone(),
            },
            tags: match &edit.tags {
                Some(t) => tags(t)?,
                None => m.tags.clone(),
            },
            visibility: match edit.visibility.as_deref() {
                Some(v) => parse_visibility(v)?,
                None => m.visibility,
            },
        };
        self.store
            .update_module(m.id, &update, Timestamp::now())
            .await?;
        Ok(self.store.module_by_id(m.id).await?)
    }

    pub async fn set_archived(&self, user: &User, name: &str, archived: bool) -> AppResult<Module> {
        let m = self.managed_module(user, name).await?;
        let at = archived.then(|| m.archived_at.unwrap_or_else(Timestamp::now));
        self.store.set_module_archived(m.id, at).await?;
        Ok(self.store.module_by_id(m.id).await?)
    }

    pub async fn list(&self, query: &ModuleQuery) -> AppResult<Vec<Module>> {
        Ok(self.store.list_modules(query).await?)
    }

    /// A page of modules for `viewer`: public, unarchived ones, newest or most downloaded first;
    /// with `publisher`, that publisher's, every visibility included when `viewer` is a member.
    pub async fn browse(&self, viewer: Option<&User>, ask: &Browse) -> AppResult<Listing> {
        let sort = match ask.sort.as_deref().unwrap_or("newest") {
            "newest" => ModuleSort::Newest,
            "downloads" => ModuleSort::Downloads,
            other => {
                return Err(AppError::bad_request(
                    "invalid_sort",
                    format!("sort must be newest or downloads, not `{other}`"),
                ));
            }
        };
        let after = match ask.cursor.as_deref() {
            Some(c) => Some(
                Cursor::decode::<(i64, i64)>(c)
                    .map_err(|e| AppError::bad_request("invalid_cursor", e.to_string()))?,
            ),
            None => None,
        };
        let (publisher_id, listed_only) = match ask.publisher.as_deref() {
            Some(slug) => {
                let p = self.publisher(slug).await?;
                let member = match viewer {
                    Some(v) => self.role_in(v, p.id).await?.is_some(),
                    None => false,
                };
                (Some(p.id), !member)
            }
            None => (None, true),
        };
        let limit = page_limit(ask.limit);
        let modules = self
            .list(&ModuleQuery {
                publisher_id,
                listed_only,
                sort,
                after,
                limit,
            })
            .await?;
        let next_cursor = (modules.len() == limit as usize)
            .then(|| {
                modules.last().map(|m| {
                    let key = match sort {
                        ModuleSort::Newest => m.created_at.millis(),
                        ModuleSort::Downloads => m.downloads,
                    };
                    Cursor::encode(&(key, m.id)).into_string()
                })
            })
            .flatten();
        Ok(Listing {
            modules,
            next_cursor,
        })
    }

    pub async fn categories(&self) -> AppResult<Vec<Category>> {
        Ok(self.store.categories().await?)
    }

    /// The versions `access` may see, newest first.
    pub async fn versions(&self, access: &ModuleAccess) -> AppResult<Vec<Version>> {
        let mut all = self.store.versions(access.module.id).await?;
        all.retain(|v| access.sees(v));
        Ok(all)
    }

    /// One version, 404 when `access` may not see it.
    pub async fn version(&self, access: &ModuleAccess, version: &str) -> AppResult<Version> {
        let v = self.store.version(access.module.id, version.trim()).await?;
        if !access.sees(&v) {
            return Err(AppError::NotFound);
        }
        Ok(v)
    }

    pub async fn screenshots(&self, module: &Module) -> AppResult<Vec<Screenshot>> {
        Ok(self.store.screenshots(module.id).await?)
    }

    /// Yanks (`Some(reason)`) or unyanks a version.
    pub async fn set_yanked(
        &self,
        actor: &Actor<'_>,
        name: &str,
        version: &str,
        reason: Option<&str>,
    ) -> AppResult<Version> {
        let (access, v) = self
            .version_for(actor.user, name, version, VersionRight::Member)
            .await?;
        let m = access.module;
        let reason = match reason {
            Some(r) => Some(text("reason", r, 1, 500)?),
            None => None,
        };
        let yank = reason.as_deref().map(|r| (r, Timestamp::now()));
        let tx = self.store.begin().await?;
        tx.set_yanked(v.id, yank).await?;
        let action = if yank.is_some() {
            "version.yank"
        } else {
            "version.unyank"
        };
        tx.append_audit(&NewAuditEntry {
            before: Some(json!({ "yanked": v.yanked_at.is_some(), "reason": v.yank_reason })),
            after: Some(json!({ "yanked": yank.is_some(), "reason": reason })),
            ..actor.entry(action, "version", version_label(&m.name, &v.version))
        })
        .await?;
        tx.commit().await?;
        tracing::info!(module = %m.name, version = %v.version, yanked = yank.is_some(), "yank changed");
        Ok(self.store.version(m.id, &v.version).await?)
    }
}

mod categories;
mod media;

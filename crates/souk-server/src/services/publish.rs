//! Publishing a version: the upload is staged to a file while hashed, inspected as an archive
//! (never unpacked), checked against the catalog, stored under its content address, and recorded
//! in one transaction. Every refusal happens before the blob is stored where possible; a blob
//! that a failure after it leaves unreferenced is removed by the orphan sweep
//! ([`crate::blob::BlobStore::sweep`]), never inline, so that a concurrent upload of the same
//! bytes cannot lose the blob it recorded.

use super::catalog::Catalog;
use crate::blob::{BlobKind, Staged};
use crate::config::PackageLimits;
use crate::error::{AppError, AppResult};
use souk_core::archive::{self, ArchiveFormat, Inspection};
use souk_core::{ModuleName, Timestamp, ValidationError};
use souk_store::{
    MemberRole, Module, NewModule, NewVersion, PackageFileRow, PublishTarget, StoreError, User,
    Version, VersionStatus, Visibility,
};

impl Catalog {
    /// Publishes the staged upload as a version of `target_name`. The first publish of a name
    /// creates the module under the manifest's publisher. `publisher_signature`, a minisign
    /// signature file, must verify with one of the publisher's keys (see `publisher_signing`).
    pub async fn publish(
        &self,
        user: &User,
        target_name: &str,
        staged: Staged,
        limits: &PackageLimits,
        publisher_signature: Option<String>,
    ) -> AppResult<(Module, Version)> {
        let inspection = inspect(&staged, limits).await?;
        let manifest = &inspection.manifest;
        let name = manifest.name.as_str();
        if souk_core::normalize_name(target_name) != manifest.name.normalized() {
            return Err(AppError::unprocessable(
                "name_mismatch",
                "module.name",
                format!("the manifest names `{name}` but the upload is for `{target_name}`"),
            ));
        }

        let target = match self.store.module_by_name(&manifest.name.normalized()).await {
            Ok(module) => {
                self.check_existing(user, &module, &inspection).await?;
                PublishTarget::Existing(module.id)
            }
            Err(StoreError::NotFound) => {
                PublishTarget::New(self.new_module_for(user, &inspection).await?)
            }
            Err(e) => return Err(e.into()),
        };
        if let PublishTarget::Existing(id) = &target {
            match self.store.version(*id, &manifest.version.to_string()).await {
                Ok(_) => return Err(version_taken(name, &manifest.version)),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        for dep in manifest.dependencies.keys() {
            // Someone else's private module must look absent here too, or publishing would
            // reveal that the name exists.
            let visible = match self.store.module_by_name(&dep.normalized()).await {
                Ok(m) if m.visibility == Visibility::Private => {
                    self.role_in(user, m.publisher_id).await?.is_some()
                }
                Ok(_) => true,
                Err(StoreError::NotFound) => false,
                Err(e) => return Err(e.into()),
            };
            match visible {
                true => {}
                false => {
                    return Err(AppError::unprocessable(
                        "unknown_dependency",
                        format!("dependencies.{dep}"),
                        format!("there is no module named `{dep}` to depend on"),
                    ));
                }
            }
        }

        let signed = self
            .check_publisher_signature(&target, &staged, publisher_signature)
            .await?;
        self.blobs
            .store(BlobKind::Package, &staged)
            .await
            .map_err(AppError::internal)?;
        // The version starts in `pending_checks`; the store queues its checks in the same
        // transaction, and the registry signs it only once it is published.
        let mut new = new_version(user, &staged, &inspection);
        signed.apply(&mut new);
        match self
            .store
            .publish_version(&target, &new, Timestamp::now())
            .await
        {
            Ok((module, version)) => {
                tracing::info!(module = %module.name, version = %version.version,
                    sha256 = %version.sha256, size = version.size, "version published");
                Ok((module, version))
            }
            Err(e) => {
                // The blob stays: another upload of the same bytes may be recording it right
                // now. If nothing does, the orphan sweep removes it (`BlobStore::sweep`).
                Err(match e {
                    StoreError::Conflict { field } if field == "version" => {
                        version_taken(name, &manifest.version)
                    }
                    StoreError::Conflict { .. } => AppError::conflict_with(
                        "name",
                        format!("a module named like `{name}` already exists"),
                    ),
                    other => other.into(),
                })
            }
        }
    }

    /// What can be refused from the route alone, before the upload's body is read: a module
    /// the caller may not publish to (another publisher's, suspended, archived), or, for a name
    /// not taken yet, a caller who belongs to no publisher at all.
    pub async fn precheck_publish(&self, user: &User, target_name: &str) -> AppResult<()> {
        match self
            .store
            .module_by_name(&souk_core::normalize_name(target_name))
            .await
        {
            Ok(module) => self.check_may_publish_to(user, &module).await,
            Err(StoreError::NotFound) => {
                if self.store.publishers_of_user(user.id).await?.is_empty() {
                    return Err(AppError::Forbidden(
                        "you are not a member of any publisher; create one or join one first"
                            .into(),
                    ));
                }
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The caller belongs to the module's publisher, which is not suspended, and the module is
    /// not archived. Another publisher's private module answers 404, as if it were absent.
    async fn check_may_publish_to(&self, user: &User, module: &Module) -> AppResult<()> {
        let role = self.role_in(user, module.publisher_id).await?;
        if role.is_none() {
            if module.visibility == Visibility::Private {
                // Outside its publisher a private module is not there, for writes too.
                return Err(AppError::NotFound);
            }
            return Err(AppError::Forbidden(format!(
                "you are not a member of publisher {}, which owns {}",
                module.publisher_slug, module.name
            )));
        }
        if module.publisher_suspended {
            return Err(suspended(&module.publisher_slug));
        }
        if module.archived_at.is_some() {
            return Err(AppError::conflict_with(
                "name",
                format!("{} is archived; unarchive it to publish", module.name),
            ));
        }
        Ok(())
    }

    async fn check_existing(
        &self,
        user: &User,
        module: &Module,
        inspection: &Inspection,
    ) -> AppResult<()> {
        let manifest = &inspection.manifest;
        self.check_may_publish_to(user, module).await?;
        if module.name != manifest.name.as_str() {
            return Err(AppError::conflict_with(
                "name",
                format!(
                    "`{}` is too close to the existing module `{}`; use its exact name",
                    manifest.name, module.name
                ),
            ));
        }
        if module.publisher_slug != manifest.publisher.as_str() {
            return Err(AppError::unprocessable(
                "publisher_mismatch",
                "module.publisher",
                format!(
                    "{} belongs to publisher {}, not {}",
                    module.name, module.publisher_slug, manifest.publisher
                ),
            ));
        }
        Ok(())
    }

    async fn new_module_for(&self, user: &User, inspection: &Inspection) -> AppResult<NewModule> {
        let manifest = &inspection.manifest;
        let name: ModuleName = self
            .check_new_name(manifest.name.as_str())
            .await
            .map_err(|e| match e {
                AppError::Validation(v) => {
                    AppError::unprocessable(v.code, "module.name", v.message)
                }
                other => other,
            })?;
        let publisher = match self
            .store
            .publisher_by_slug(manifest.publisher.as_str())
            .await
        {
            Ok(p) => p,
            Err(StoreError::NotFound) => {
                return Err(AppError::unprocessable(
                    "unknown_publisher",
                    "module.publisher",
                    format!(
                        "there is no publisher `{}`; create it first",
                        manifest.publisher
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if publisher.suspended_at.is_some() {
            return Err(suspended(&publisher.slug));
        }
        match self.role_in(user, publisher.id).await? {
            Some(MemberRole::Owner | MemberRole::Maintainer) => {}
            None => {
                return Err(AppError::Forbidden(format!(
                    "you are not a member of publisher {}",
                    publisher.slug
                )));
            }
        }
        Ok(NewModule {
            name: name.to_string(),
            name_normalized: name.normalized(),
            publisher_id: publisher.id,
            display_name: manifest
                .display_name
                .clone()
                .unwrap_or_else(|| name.to_string()),
            summary: manifest.description.chars().take(200).collect(),
            homepage: manifest.homepage.clone(),
            repository: manifest.repository.clone(),
            keywords: manifest.keywords.clone(),
            visibility: Visibility::Public,
        })
    }
}

fn suspended(slug: &str) -> AppError {
    AppError::Denied {
        code: "publisher_suspended",
        message: format!(
            "publisher {slug} is suspended and cannot publish; see the notice in your portal"
        ),
    }
}

fn version_taken(name: &str, version: &semver::Version) -> AppError {
    AppError::conflict_with(
        "version",
        format!("{name} {version} is already published; versions are immutable, publish a new one"),
    )
}

/// Inspects the staged archive on a blocking thread: reading it is CPU and file work.
async fn inspect(staged: &Staged, limits: &PackageLimits) -> AppResult<Inspection> {
    let path = staged.file.to_path_buf();
    let limits = archive::Limits {
        max_entries: limits.max_entries,
        max_unpacked_bytes: limits.max_unpacked_bytes,
        max_ratio: limits.max_ratio,
        ..archive::Limits::default()
    };
    let result = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        Ok::<_, std::io::Error>(archive::inspect(std::io::BufReader::new(file), &limits))
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    result.map_err(|e| {
        let field = e.field().unwrap_or("package").to_owned();
        // A manifest problem answers the manifest's own code (`invalid_version`, ...).
        let code = e.manifest_error().map_or(e.code(), |m| m.code);
        AppError::unprocessable(code, field, e.to_string())
    })
}

fn new_version(user: &User, staged: &Staged, inspection: &Inspection) -> NewVersion {
    let m = &inspection.manifest;
    NewVersion {
        version: m.version.to_string(),
        prerelease: !m.version.pre.is_empty(),
        sha256: staged.sha256.clone(),
        size: staged.size as i64,
        format: match inspection.format {
            ArchiveFormat::Zip => "zip",
            ArchiveFormat::TarGz => "tar.gz",
        }
        .to_owned(),
        unpacked_size: inspection.unpacked_bytes as i64,
        license: m.license.clone(),
        description: m.description.clone(),
        platform: m.platform.to_string(),
        manifest: inspection.manifest_text.clone(),
        readme: inspection.readme.clone(),
        changelog: inspection.changelog.clone(),
        files: inspection
            .files
            .iter()
            .map(|f| PackageFileRow {
                path: f.path.clone(),
                size: f.size,
            })
            .collect(),
        dependencies: m
            .dependencies
            .iter()
            .map(|(n, r)| (n.to_string(), r.to_string()))
            .collect(),
        published_by: user.id,
        registry_signature: None,
        registry_key_id: None,
        status: VersionStatus::PendingChecks,
        publisher_signature: None,
        publisher_key_id: None,
    }
}

/// A validation error about the upload as a whole, for handlers that check the body first.
pub fn not_an_archive(message: impl Into<String>) -> AppError {
    AppError::Validation(ValidationError::new("package", "not_an_archive", message))
}

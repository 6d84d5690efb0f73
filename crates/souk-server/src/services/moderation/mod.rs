//! Moderation: the review policy that decides what a moderator sees, the checks' verdict on a
//! version, and the moderators' actions (approve, reject, quarantine, release) with the queue and
//! the review page (this file); the checks as jobs of the job runner (`check_jobs.rs`); the
//! publishers' side (rescan, appeal, verification, suspension, notices; `publishers.rs`).
//!
//! The store queues a check job in the same transaction that puts a version in `pending_checks`,
//! so an upload is never forgotten, and a node that dies mid-check only delays it until its lease
//! runs out. Checks that cannot finish are retried, and after `moderation.check_attempts` tries
//! the job is parked as dead until a rescan or an administrator runs it again. They never let a
//! version through.

use super::audit::{Actor, system_entry, version_label};
use crate::blob::{BlobKind, BlobStore};
use crate::checks::{CheckReport, Checker};
use crate::config::{ModerationConfig, ReviewPolicy};
use crate::error::{AppError, AppResult};
use crate::jobs::JobWaker;
use crate::signing::RegistryKeys;
use serde_json::json;
use souk_core::Timestamp;
use souk_core::findings::{Finding, Severity};
use souk_store::{
    DynStore, Job, Module, NewAuditEntry, NewPublisherMessage, Publisher, QueueEntry, StatusChange,
    StoreError, StoredFinding, User, Version, VersionStatus,
};
use std::sync::Arc;

mod check_jobs;
mod publishers;
pub use check_jobs::CheckJobs;

/// How many of the most downloaded names a new name is compared with.
const POPULAR_NAMES: u32 = 1000;

#[derive(Clone)]
pub struct Moderation(Arc<Inner>);

struct Inner {
    store: DynStore,
    blobs: BlobStore,
    keys: Arc<RegistryKeys>,
    checker: Checker,
    config: ModerationConfig,
    waker: JobWaker,
}

/// What the checks decided for a version.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Publish,
    Review(String),
}

impl Moderation {
    pub fn new(
        store: DynStore,
        blobs: BlobStore,
        keys: Arc<RegistryKeys>,
        checker: Checker,
        config: ModerationConfig,
        waker: JobWaker,
    ) -> Self {
        Self(Arc::new(Inner {
            store,
            blobs,
            keys,
            checker,
            config,
            waker,
        }))
    }

    pub fn policy(&self) -> ReviewPolicy {
        self.0.config.review_policy
    }

    /// Tells this node's job runner that a check job is waiting (an upload or a rescan it just
    /// took).
    pub fn wake(&self) {
        self.0.waker.wake();
    }

    /// Fetches the stored package (checking its SHA-256 on the way) and runs every check on it;
    /// also answers the BLAKE2b prehash the registry signs.
    async fn check_version(
        &self,
        module: &Module,
        version: &Version,
    ) -> (CheckReport, Option<souk_core::signing::Prehash>) {
        let staged = match self.fetch(&version.sha256).await {
            Ok(staged) => staged,
            Err(e) => {
                let report = CheckReport {
                    findings: vec![Finding::whole_file(
                        crate::checks::scanners::RULE_ERROR,
                        Severity::Error,
                        "",
                        format!("the stored package could not be read: {e:#}"),
                    )],
                    incomplete: true,
                };
                return (report, None);
            }
        };
        let mut report = self.0.checker.check(&staged.file).await;
        if !report.incomplete {
            match self.name_findings(module).await {
                Ok(found) => report.findings.extend(found),
                Err(e) => {
                    report.incomplete = true;
                    report.findings.push(Finding::whole_file(
                        crate::checks::scanners::RULE_ERROR,
                        Severity::Error,
                        "",
                        format!("the name check could not run: {e}"),
                    ));
                }
            }
        }
        (report, Some(staged.prehash))
    }

    async fn fetch(&self, sha256: &str) -> anyhow::Result<crate::blob::Staged> {
        self.0.blobs.stage_stored(BlobKind::Package, sha256).await
    }

    /// For a module that has never had a published version: a name that looks like a popular
    /// one goes to review.
    async fn name_findings(&self, module: &Module) -> AppResult<Vec<Finding>> {
        let versions = self.0.store.versions(module.id).await?;
        if versions.iter().any(|v| v.published_at.is_some()) {
            return Ok(Vec::new());
        }
        let popular = self.0.store.popular_module_names(POPULAR_NAMES).await?;
        // A publisher's own names may resemble each other (`shop-1`, `shop-2`): only other
        // publishers' modules can be posed as.
        let others = popular
            .iter()
            .filter(|(_, publisher)| *publisher != module.publisher_id)
            .map(|(n, _)| n.as_str());
        let mut out = Vec::new();
        if let Some(found) = souk_core::confusables::find_lookalike(&module.name, others) {
            out.push(Finding::whole_file(
                "name.lookalike",
                Severity::Error,
                "",
                format!(
                    "the name `{}` looks like the existing module `{}`; a moderator will check \
                     that it is not posing as it. Pick a clearly different name to avoid the wait.",
                    module.name, found.existing_name
                ),
            ));
        }
        if souk_core::confusables::is_mixed_script(&module.display_name) {
            out.push(Finding::whole_file(
                "name.mixed-script",
                Severity::Warning,
                "",
                format!(
                    "the display name `{}` mixes letters of different scripts, which can pose as \
                     another name",
                    module.display_name
                ),
            ));
        }
        Ok(out)
    }

    /// What the findings and the review policy make of a version.
    async fn verdict(
        &self,
        module: &Module,
        version: &Version,
        report: &CheckReport,
    ) -> AppResult<Verdict> {
        let worst = report.findings.iter().map(|f| f.severity).max();
        if worst == Some(Severity::Error) {
            return Ok(Verdict::Review(
                "the automated checks found problems that need a moderator".into(),
            ));
        }
        // An appeal waits for a moderator whatever the checks say now: passing them again must
        // not publish what a moderator rejected.
        if version.appeal.is_some() {
            return Ok(Verdict::Review(
                "the publisher appealed a moderator's decision".into(),
            ));
        }
        match self.0.config.review_policy {
            ReviewPolicy::None => Ok(Verdict::Publish),
            ReviewPolicy::All => Ok(Verdict::Review(
                "every version is reviewed on this marketplace".into(),
            )),
            ReviewPolicy::NewPublishers => {
                if worst == Some(Severity::Warning) {
                    return Ok(Verdict::Review(
                        "the automated checks found warnings".into(),
                    ));
                }
                let publisher = self.0.store.publisher_by_id(module.publisher_id).await?;
                let first = !self
                    .0
                    .store
                    .versions(module.id)
                    .await?
                    .iter()
                    .any(|v| v.id != version.id && v.published_at.is_some());
                if publisher.verified_at.is_none() && first {
                    return Ok(Verdict::Review(
                        "the first version of a module from a publisher that is not verified yet"
                            .into(),
                    ));
                }
                Ok(Verdict::Publish)
            }
        }
    }

    /// Leaves a notice in the publisher's portal. A notice that cannot be stored is logged; the
    /// action it reports stands.
    async fn tell(
        db: &dyn souk_store::Repositories,
        module: &Module,
        version: &Version,
        kind: &str,
        subject: String,
        body: String,
    ) -> AppResult<()> {
        let message = NewPublisherMessage {
            publisher_id: module.publisher_id,
            kind: kind.into(),
            subject,
            body,
            module_name: Some(module.name.clone()),
            version: Some(version.version.clone()),
        };
        db.add_publisher_message(&message, Timestamp::now()).await?;
        Ok(())
    }

    /// Leaves a notice for the publisher's members, in `db`: the unit of work of the change
    /// it tells about.
    async fn tell_publisher(
        db: &dyn souk_store::Repositories,
        publisher: &Publisher,
        kind: &str,
        subject: String,
        body: String,
    ) -> AppResult<()> {
        let message = NewPublisherMessage {
            publisher_id: publisher.id,
            kind: kind.into(),
            subject,
            body,
            module_name: None,
            version: None,
        };
        db.add_publisher_message(&message, Timestamp::now()).await?;
        Ok(())
    }

    // ----- moderators -----

    /// Staff only, and never on their own publisher's versions.
    /// The audit entry of a state change of `version` by `actor`: the status and reason before
    /// and after.
    fn status_entry(
        actor: &Actor<'_>,
        action: &str,
        module: &Module,
        version: &Version,
        change: &StatusChange<'_>,
    ) -> NewAuditEntry {
        NewAuditEntry {
            before: Some(json!({
                "status": version.status.as_str(),
                "reason": version.status_reason,
            })),
            after: Some(json!({ "status": change.to.as_str(), "reason": change.reason })),
            ..actor.entry(
                action,
                "version",
                version_label(&module.name, &version.version),
            )
        }
    }

    /// The audit entry of what the checks decided, as `system`.
    fn checked_entry(
        module: &Module,
        version: &Version,
        change: &StatusChange<'_>,
        findings: usize,
    ) -> NewAuditEntry {
        let target = version_label(&module.name, &version.version);
        NewAuditEntry {
            before: Some(json!({ "status": version.status.as_str() })),
            after: Some(json!({
                "status": change.to.as_str(),
                "reason": change.reason,
                "findings": findings,
            })),
            ..system_entry("version.checked", "version", target)
        }
    }

    async fn require_moderator_for(&self, user: &User, module: &Module) -> AppResult<()> {
        crate::policy::require_staff(user)?;
        match self.0.store.member_role(module.publisher_id, user.id).await {
            Ok(_) => Err(AppError::Denied {
                code: "own_publisher",
                message: format!(
                    "you are a member of publisher {}; another moderator must decide on its versions",
                    module.publisher_slug
                ),
            }),
            Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn target(&self, name: &str, version: &str) -> AppResult<(Module, Version)> {
        let module = match self
            .0
            .store
            .module_by_name(&souk_core::normalize_name(name))
            .await
        {
            Ok(m) => m,
            Err(StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let version = self.0.store.version(module.id, version.trim()).await?;
        Ok((module, version))
    }

    /// Applies a moderator's (or publisher's) state change, with its audit entry in the same
    /// transaction.
    async fn change(
        &self,
        db: &dyn souk_store::Repositories,
        version: &Version,
        change: StatusChange<'_>,
        what: &str,
        audit: &NewAuditEntry,
    ) -> AppResult<Version> {
        db.change_version_status(version.id, &change, Some(audit))
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => AppError::Conflict {
                    field: "status".into(),
                    message: format!(
                        "{what} needs a version that is {}; this one is {}",
                        change
                            .from
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(" or "),
                        version.status.as_str()
                    ),
                },
                other => other.into(),
            })
    }

    /// Approves a version waiting for review: the registry signs it and it is published.
    pub async fn approve(
        &self,
        actor: &Actor<'_>,
        name: &str,
        version: &str,
    ) -> AppResult<(Module, Version)> {
        let (module, v) = self.target(name, version).await?;
        self.require_moderator_for(actor.user, &module).await?;
        if v.status != VersionStatus::PendingReview {
            return Err(not_in(&v, "approving", &[VersionStatus::PendingReview]));
        }
        let staged = self.fetch(&v.sha256).await.map_err(AppError::internal)?;
        let (sig, key) = self
            .0
            .keys
            .sign_package(&staged.prehash, &module.name, &v.version, &v.sha256)
            .map_err(AppError::internal)?;
        let change = StatusChange {
            from: &[VersionStatus::PendingReview],
            to: VersionStatus::Published,
            reason: None,
            by: Some(actor.user.id),
            at: Timestamp::now(),
            signature: Some((&sig, &key)),
            clear_appeal: true,
        };
        let entry = Self::status_entry(actor, "version.approve", &module, &v, &change);
        let tx = self.0.store.begin().await?;
        let done = self.change(&*tx, &v, change, "approving", &entry).await?;
        Self::tell(
            &*tx,
            &module,
            &done,
            "approved",
            format!("{} {} is approved and published", module.name, v.version),
            "A moderator approved it; it is now listed and downloadable.".into(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(module = %module.name, version = %v.version, moderator = actor.user.id, "version approved");
        Ok((module, done))
    }

    /// Rejects a version waiting for the checks or a moderator, with a reason the publisher sees.
    pub async fn reject(
        &self,
        actor: &Actor<'_>,
        name: &str,
        version: &str,
        reason: &str,
    ) -> AppResult<(Module, Version)> {
        let (module, v) = self.target(name, version).await?;
        self.require_moderator_for(actor.user, &module).await?;
        let reason = reason_text(reason)?;
        let from = [VersionStatus::PendingChecks, VersionStatus::PendingReview];
        if !from.contains(&v.status) {
            return Err(not_in(&v, "rejecting", &from));
        }
        let change = StatusChange {
            from: &from,
            to: VersionStatus::Rejected,
            reason: Some(&reason),
            by: Some(actor.user.id),
            at: Timestamp::now(),
            signature: None,
            clear_appeal: true,
        };
        let entry = Self::status_entry(actor, "version.reject", &module, &v, &change);
        let tx = self.0.store.begin().await?;
        let done = self.change(&*tx, &v, change, "rejecting", &entry).await?;
        Self::tell(
            &*tx,
            &module,
            &done,
            "rejected",
            format!("{} {} was rejected", module.name, v.version),
            format!(
                "A moderator rejected it: {reason}\n\nFix the problem and publish a new version, \
                 or appeal from the portal if you think this is a mistake."
            ),
        )
        .await?;
        tx.commit().await?;
        Ok((module, done))
    }

    /// Pulls a published version: hidden from search, downloads refused, its publisher told.
    pub async fn quarantine(
        &self,
        actor: &Actor<'_>,
        name: &str,
        version: &str,
        reason: &str,
    ) -> AppResult<(Module, Version)> {
        let (module, v) = self.target(name, version).await?;
        self.require_moderator_for(actor.user, &module).await?;
        let reason = reason_text(reason)?;
        let from = [VersionStatus::Published];
        if v.status != VersionStatus::Published {
            return Err(not_in(&v, "quarantining", &from));
        }
        let change = StatusChange {
            from: &from,
            to: VersionStatus::Quarantined,
            reason: Some(&reason),
            by: Some(actor.user.id),
            at: Timestamp::now(),
            signature: None,
            clear_appeal: true,
        };
        let entry = Self::status_entry(actor, "version.quarantine", &module, &v, &change);
        let tx = self.0.store.begin().await?;
        let done = self
            .change(&*tx, &v, change, "quarantining", &entry)
            .await?;
        Self::tell(
            &*tx,
            &module,
            &done,
            "quarantined",
            format!(
                "{} {} was pulled from the marketplace",
                module.name, v.version
            ),
            format!(
                "A moderator quarantined it: {reason}\n\nIt is hidden from search and cannot be \
                 downloaded. Appeal from the portal if you think this is a mistake."
            ),
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(module = %module.name, version = %v.version, moderator = actor.user.id, "version quarantined");
        Ok((module, done))
    }

    /// Releases a quarantined version: published again, with its signature.
    pub async fn release(
        &self,
        actor: &Actor<'_>,
        name: &str,
        version: &str,
    ) -> AppResult<(Module, Version)> {
        let (module, v) = self.target(name, version).await?;
        self.require_moderator_for(actor.user, &module).await?;
        let from = [VersionStatus::Quarantined];
        if v.status != VersionStatus::Quarantined {
            return Err(not_in(&v, "releasing", &from));
        }
        let change = StatusChange {
            from: &from,
            to: VersionStatus::Published,
            reason: None,
            by: Some(actor.user.id),
            at: Timestamp::now(),
            signature: None,
            clear_appeal: true,
        };
        let entry = Self::status_entry(actor, "version.release", &module, &v, &change);
        let tx = self.0.store.begin().await?;
        let done = self.change(&*tx, &v, change, "releasing", &entry).await?;
        Self::tell(
            &*tx,
            &module,
            &done,
            "released",
            format!("{} {} is back on the marketplace", module.name, v.version),
            "A moderator released it from quarantine; it is listed and downloadable again.".into(),
        )
        .await?;
        tx.commit().await?;
        Ok((module, done))
    }

    /// The queue: versions in `statuses`, oldest first, with their finding counts.
    pub async fn queue(
        &self,
        user: &User,
        statuses: &[VersionStatus],
        after_id: Option<i64>,
        limit: u32,
    ) -> AppResult<Vec<QueueEntry>> {
        crate::policy::require_staff(user)?;
        Ok(self
            .0
            .store
            .moderation_queue(statuses, after_id, limit)
            .await?)
    }

    pub async fn findings(&self, version: &Version) -> AppResult<Vec<StoredFinding>> {
        Ok(self.0.store.findings(version.id).await?)
    }

    /// Everything a moderator looks at for one version: its findings and how its files differ
    /// from the version before it (the highest lower semver that was ever published).
    pub async fn review(&self, user: &User, name: &str, version: &str) -> AppResult<Review> {
        crate::policy::require_staff(user)?;
        let (module, version) = self.target(name, version).await?;
        let findings = self.0.store.findings(version.id).await?;
        let current = semver::Version::parse(&version.version).ok();
        let previous = self
            .0
            .store
            .versions(module.id)
            .await?
            .into_iter()
            .filter(|v| v.published_at.is_some() && v.id != version.id)
            .filter(
                |v| match (semver::Version::parse(&v.version).ok(), current.as_ref()) {
                    (Some(a), Some(b)) => &a < b,
                    _ => false,
                },
            )
            .max_by(|a, b| {
                semver::Version::parse(&a.version)
                    .ok()
                    .cmp(&semver::Version::parse(&b.version).ok())
            });
        let diff = FileDiff::between(previous.as_ref(), &version);
        let job = self
            .0
            .store
            .job_by_key(&souk_store::moderation::check_job_key(version.id))
            .await?;
        Ok(Review {
            module,
            version,
            findings,
            previous,
            diff,
            job,
        })
    }

    /// The checks' state of a version for its publisher's members (and staff).
    pub async fn checks_of(
        &self,
        version: &Version,
    ) -> AppResult<(Vec<StoredFinding>, Option<Job>)> {
        let findings = self.0.store.findings(version.id).await?;
        let job = self
            .0
            .store
            .job_by_key(&souk_store::moderation::check_job_key(version.id))
            .await?;
        Ok((findings, job))
    }
}

/// What a moderator reviews.
pub struct Review {
    pub module: Module,
    pub version: Version,
    pub findings: Vec<StoredFinding>,
    /// The version the file list is compared with.
    pub previous: Option<Version>,
    pub diff: FileDiff,
    /// The check job, while there is one (waiting, running or waiting for a retry).
    pub job: Option<Job>,
}

/// How a version's file list differs from another's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileDiff {
    /// `(path, size)`.
    pub added: Vec<(String, u64)>,
    pub removed: Vec<(String, u64)>,
    /// `(path, old size, new size)`.
    pub changed: Vec<(String, u64, u64)>,
    pub unchanged: usize,
}

impl FileDiff {
    /// Against nothing, every file is added. Files of the same size count as unchanged: the
    /// list keeps sizes, not hashes.
    pub fn between(previous: Option<&Version>, current: &Version) -> Self {
        let old: std::collections::BTreeMap<&str, u64> = previous
            .map(|p| p.files.iter().map(|f| (f.path.as_str(), f.size)).collect())
            .unwrap_or_default();
        let mut diff = FileDiff::default();
        for f in &current.files {
            match old.get(f.path.as_str()) {
                None => diff.added.push((f.path.clone(), f.size)),
                Some(&size) if size != f.size => diff.changed.push((f.path.clone(), size, f.size)),
                Some(_) => diff.unchanged += 1,
            }
        }
        let new: std::collections::BTreeSet<&str> =
            current.files.iter().map(|f| f.path.as_str()).collect();
        diff.removed = old
            .iter()
            .filter(|(p, _)| !new.contains(*p))
            .map(|(p, s)| ((*p).to_owned(), *s))
            .collect();
        diff
    }
}

/// A reason or message: 1 to 2000 characters after trimming.
fn reason_text(raw: &str) -> AppResult<String> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > 2000 {
        return Err(AppError::unprocessable(
            "invalid_reason",
            "reason",
            "give a reason of 1 to 2000 characters; the publisher reads it",
        ));
    }
    Ok(t.to_owned())
}

fn not_in(v: &Version, what: &str, states: &[VersionStatus]) -> AppError {
    AppError::Conflict {
        field: "status".into(),
        message: format!(
            "{what} needs a version that is {}; {} is {}",
            states
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            v.version,
            v.status.as_str()
        ),
    }
}

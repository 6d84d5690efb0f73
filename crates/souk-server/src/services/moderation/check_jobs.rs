//! The checks of an upload as a kind of job for the [`crate::jobs::JobRunner`]: the store queues
//! one in the same transaction that puts a version in `pending_checks`. A run that cannot finish
//! (a scanner crashed or timed out) leaves the version pending with an error finding and is
//! retried with a doubling wait (`moderation.check_retry_secs`); after
//! `moderation.check_attempts` tries the job is parked as dead, the publisher is told and the
//! audit log records it. A rescan, or an administrator's retry, runs it again. The checks never
//! let a version through because they could not finish.

use super::{Moderation, Verdict};
use crate::error::AppError;
use crate::jobs::{JobHandler, Outcome};
use crate::services::audit::{system_entry, version_label};
use serde_json::json;
use souk_core::Timestamp;
use souk_store::moderation::CHECK_JOB;
use souk_store::{Job, NewAuditEntry, StatusChange, StoreError, StoredFinding, VersionStatus};
use std::time::Duration;

/// How long a node holds a check job beyond the longest the external scanners may take (each
/// runs to its timeout at most).
const LEASE_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The check jobs' handler.
pub struct CheckJobs(pub Moderation);

#[async_trait::async_trait]
impl JobHandler for CheckJobs {
    fn kind(&self) -> &'static str {
        CHECK_JOB
    }

    /// Longer than every scanner running to its timeout, so that no other node takes over a job
    /// whose checks are still running.
    fn lease(&self) -> Duration {
        let c = &self.0.0.config;
        Duration::from_secs(
            c.scanner_timeout_secs
                .saturating_mul(c.scanners.len() as u64),
        ) + LEASE_MARGIN
    }

    fn max_attempts(&self) -> u32 {
        self.0.0.config.check_attempts
    }

    fn retry_after(&self) -> Duration {
        Duration::from_secs(self.0.0.config.check_retry_secs)
    }

    async fn run(&self, job: &Job) -> anyhow::Result<Outcome> {
        self.0.run_checks(job).await
    }

    async fn buried(&self, job: &Job, error: &str) {
        self.0.checks_gave_up(job, error).await;
    }
}

fn version_id_of(job: &Job) -> Option<i64> {
    serde_json::from_str::<serde_json::Value>(&job.payload)
        .ok()
        .and_then(|v| v.get("version_id").and_then(serde_json::Value::as_i64))
}

impl Moderation {
    /// Runs the checks of the version a check job names.
    #[tracing::instrument(skip_all, fields(job = job.id, attempt = job.attempts))]
    async fn run_checks(&self, job: &Job) -> anyhow::Result<Outcome> {
        let Some(version_id) = version_id_of(job) else {
            tracing::error!(payload = %job.payload, "check job without a version id; dropped");
            return Ok(Outcome::Done);
        };
        let version = match self.0.store.version_by_id(version_id).await {
            Ok(v) => v,
            Err(StoreError::NotFound) => {
                return Ok(Outcome::Done);
            }
            Err(e) => return Err(e.into()),
        };
        if version.status != VersionStatus::PendingChecks {
            // A moderator decided while the job waited.
            return Ok(Outcome::Done);
        }
        let module = self.0.store.module_by_id(version.module_id).await?;
        let started = std::time::Instant::now();
        let (report, prehash) = self.check_version(&module, &version).await;
        let findings: Vec<StoredFinding> = report.findings.iter().map(Into::into).collect();
        let now = Timestamp::now();
        if report.incomplete {
            match self
                .0
                .store
                .record_checks(version.id, &findings, None, now)
                .await
            {
                Ok(_) => {}
                // A moderator decided while the checks ran: theirs stands, nothing to retry.
                Err(StoreError::Conflict { .. }) => {
                    return Ok(Outcome::Done);
                }
                Err(e) => return Err(e.into()),
            }
            let error = report
                .findings
                .iter()
                .find(|f| f.rule == crate::checks::scanners::RULE_ERROR)
                .map_or_else(
                    || "a check could not finish".to_owned(),
                    |f| f.message.clone(),
                );
            tracing::warn!(module = %module.name, version = %version.version, %error,
                "checks could not finish");
            return Ok(Outcome::Retry(error));
        }

        let verdict = self.verdict(&module, &version, &report).await?;
        let signature = match (&verdict, &prehash) {
            (Verdict::Publish, Some(prehash)) => Some(
                self.0
                    .keys
                    .sign_package(prehash, &module.name, &version.version, &version.sha256)
                    .map_err(AppError::internal)?,
            ),
            _ => None,
        };
        let (to, reason) = match &verdict {
            Verdict::Publish => (VersionStatus::Published, None),
            Verdict::Review(why) => (VersionStatus::PendingReview, Some(why.as_str())),
        };
        let change = StatusChange {
            from: &[VersionStatus::PendingChecks],
            to,
            reason,
            by: None,
            at: now,
            signature: signature.as_ref().map(|(s, k)| (s.as_str(), k.as_str())),
            clear_appeal: false,
        };
        let tx = self.0.store.begin().await?;
        match tx
            .record_checks(version.id, &findings, Some(&change), now)
            .await
        {
            Ok(_) => {}
            // A moderator decided while the checks ran: theirs stands.
            Err(StoreError::Conflict { .. }) => {
                return Ok(Outcome::Done);
            }
            Err(e) => return Err(e.into()),
        }
        tx.append_audit(&Self::checked_entry(
            &module,
            &version,
            &change,
            findings.len(),
        ))
        .await?;
        match verdict {
            Verdict::Publish => {
                Self::tell(
                    &*tx,
                    &module,
                    &version,
                    "published",
                    format!("{} {} is published", module.name, version.version),
                    "It passed the automated checks and is now listed and downloadable.".into(),
                )
                .await?
            }
            Verdict::Review(why) => {
                Self::tell(
                    &*tx,
                    &module,
                    &version,
                    "in_review",
                    format!("{} {} is waiting for review", module.name, version.version),
                    format!(
                        "A moderator will look at it before it is published: {why}. The \
                         findings of the automated checks are on the version's page in the portal."
                    ),
                )
                .await?
            }
        }
        tx.commit().await?;
        tracing::info!(module = %module.name, version = %version.version, status = to.as_str(),
            findings = findings.len(), elapsed_ms = started.elapsed().as_millis() as u64,
            "checks finished");
        Ok(Outcome::Done)
    }

    /// The checks of a version gave up: the audit log records it and the publisher is told.
    async fn checks_gave_up(&self, job: &Job, error: &str) {
        let Some(version_id) = version_id_of(job) else {
            return;
        };
        let found = match self.0.store.version_by_id(version_id).await {
            Ok(version) => self
                .0
                .store
                .module_by_id(version.module_id)
                .await
                .map(|module| (module, version)),
            Err(e) => Err(e),
        };
        let (module, version) = match found {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, version_id, "cannot tell about checks that gave up");
                return;
            }
        };
        tracing::error!(module = %module.name, version = %version.version, %error,
            attempts = job.attempts, "checks gave up; the version waits for a rescan");
        // Nothing changes with it (the job runner parks the job): the entry stands alone.
        let entry = NewAuditEntry {
            after: Some(json!({
                "status": version.status.as_str(),
                "attempts": job.attempts,
                "error": error,
            })),
            ..system_entry(
                "version.checks_failed",
                "version",
                version_label(&module.name, &version.version),
            )
        };
        if let Err(e) = self.0.store.append_audit(&entry).await {
            tracing::error!(error = %e, ?entry, "could not append to the audit log");
        }
        let told = Self::tell(
            &*self.0.store,
            &module,
            &version,
            "checks_failed",
            format!(
                "The checks of {} {} could not finish",
                module.name, version.version
            ),
            format!(
                "The automated checks could not finish after {} attempts ({error}). \
                 The version stays unpublished. Ask for a rescan from the portal once \
                 the problem is fixed, or contact the marketplace's moderators.",
                job.attempts
            ),
        )
        .await;
        if let Err(e) = told {
            tracing::error!(error = %e, "could not store a publisher notice");
        }
    }
}

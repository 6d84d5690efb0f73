//! Moderation: the state changes of a version, what the automated checks found, the moderators'
//! queue, publisher verification and suspension, and the notices publishers read in the portal;
//! plus the job queue that background work (the checks, first) is taken from.
//!
//! State changes are compare-and-set: a change names the states it may start from, and answers
//! `Conflict { field: "status" }` when the version is in another one, so two moderators (or a
//! moderator and the checks) acting at once cannot both win.

use crate::{Module, StoreResult, Version, VersionStatus};
use souk_core::Timestamp;
use souk_core::findings::{Finding, Severity};

/// The job kind that runs a version's automated checks. The store queues it itself whenever a
/// version enters `pending_checks` (an upload, a rescan), in the same transaction, with the
/// payload `{"version_id": N}` and the key [`check_job_key`].
pub const CHECK_JOB: &str = "check_version";

/// The job key of a version's checks: one live job per version.
pub fn check_job_key(version_id: i64) -> String {
    format!("check:{version_id}")
}

/// A finding as stored: the checks' [`souk_core::Finding`] with an owned rule id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    pub rule: String,
    pub severity: Severity,
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl From<&Finding> for StoredFinding {
    fn from(f: &Finding) -> Self {
        Self {
            rule: f.rule.to_owned(),
            severity: f.severity,
            path: f.path.clone(),
            line: f.line,
            column: f.column,
            message: f.message.clone(),
        }
    }
}

/// A state change of one version.
#[derive(Debug, Clone)]
pub struct StatusChange<'a> {
    /// The states the version may be in for the change to apply.
    pub from: &'a [VersionStatus],
    pub to: VersionStatus,
    /// Shown to the publisher: what sent it to review, why it was rejected or pulled.
    pub reason: Option<&'a str>,
    /// The moderator; `None` for the checks.
    pub by: Option<i64>,
    pub at: Timestamp,
    /// The registry's signature and key id, written when the version becomes published.
    pub signature: Option<(&'a str, &'a str)>,
    /// Clears a pending appeal (a moderator answered it).
    pub clear_appeal: bool,
}

/// One entry of the moderators' queue.
#[derive(Debug, Clone)]
pub struct QueueEntry {
    pub module: Module,
    pub version: Version,
    pub errors: i64,
    pub warnings: i64,
}

/// A notice to a publisher's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPublisherMessage {
    pub publisher_id: i64,
    /// `approved`, `rejected`, `quarantined`, `released`, `in_review`, `checks_failed`,
    /// `verified`, `suspended`, `reinstated`, ...
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub module_name: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherMessage {
    pub id: i64,
    pub publisher_id: i64,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub module_name: Option<String>,
    pub version: Option<String>,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
}

/// Which publishers an admin lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublisherFilter {
    All,
    VerificationRequested,
    Verified,
    Suspended,
}

#[async_trait::async_trait]
pub trait ModerationStore {
    async fn version_by_id(&self, version_id: i64) -> StoreResult<Version>;
    /// Moves a version from one of `change.from` to `change.to` and recomputes its module's
    /// latest version, in one transaction; with `audit`, appends that entry to the audit log in
    /// the same transaction, so the change and its record stand or fall together. `NotFound`
    /// for an unknown id; `Conflict { field: "status" }` when the version is in another state.
    async fn change_version_status(
        &self,
        version_id: i64,
        change: &StatusChange<'_>,
        audit: Option<&crate::NewAuditEntry>,
    ) -> StoreResult<Version>;
    /// Replaces the version's findings with `findings` and stamps `checked_at`; with a change,
    /// also applies it, all in one transaction (so findings and state never disagree).
    /// `Conflict { field: "status" }`, with nothing written, once the version has left
    /// `pending_checks` (a moderator decided while the checks ran).
    async fn record_checks(
        &self,
        version_id: i64,
        findings: &[StoredFinding],
        change: Option<&StatusChange<'_>>,
        at: Timestamp,
    ) -> StoreResult<Option<Version>>;
    /// The version's findings, worst first, then by path and position.
    async fn findings(&self, version_id: i64) -> StoreResult<Vec<StoredFinding>>;
    /// Versions in `statuses`, oldest upload first, after version id `after_id` (for paging).
    async fn moderation_queue(
        &self,
        statuses: &[VersionStatus],
        after_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<QueueEntry>>;
    /// Records (or with `None` clears) the publisher's appeal on a version.
    async fn set_appeal(
        &self,
        version_id: i64,
        appeal: Option<(&str, Timestamp)>,
    ) -> StoreResult<()>;
    /// The names (and publisher ids) of the listed modules with the most downloads, most first:
    /// what new names are compared with for look-alikes.
    async fn popular_module_names(&self, limit: u32) -> StoreResult<Vec<(String, i64)>>;

    /// A publisher's request for verification (`None` withdraws or, once granted, clears it).
    async fn set_verification_request(
        &self,
        publisher_id: i64,
        request: Option<(&str, Timestamp)>,
    ) -> StoreResult<()>;
    /// Grants (`Some`) or revokes verification; granting clears the request.
    async fn set_verified(&self, publisher_id: i64, at: Option<Timestamp>) -> StoreResult<()>;
    /// Suspends with a reason, or (`None`) lifts the suspension.
    async fn set_suspended(
        &self,
        publisher_id: i64,
        suspension: Option<(&str, Timestamp)>,
    ) -> StoreResult<()>;
    /// Publishers for the console, by slug, after slug `after`.
    async fn list_publishers(
        &self,
        filter: PublisherFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<crate::Publisher>>;

    async fn add_publisher_message(
        &self,
        message: &NewPublisherMessage,
        now: Timestamp,
    ) -> StoreResult<PublisherMessage>;
    /// Newest first, before message id `before_id`.
    async fn publisher_messages(
        &self,
        publisher_id: i64,
        before_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<PublisherMessage>>;
    async fn unread_publisher_messages(&self, publisher_id: i64) -> StoreResult<i64>;
    /// Marks every message up to and including `up_to_id` read.
    async fn mark_publisher_messages_read(
        &self,
        publisher_id: i64,
        up_to_id: i64,
        at: Timestamp,
    ) -> StoreResult<()>;
}

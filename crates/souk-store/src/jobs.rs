//! The job queue every kind of background work is taken from (the checks of an upload today;
//! deliveries, e-mails, webhooks, renewals and roll-ups later). A job is leased to one worker at
//! a time with a row lock (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite),
//! retried after a failure, and parked as dead after its last allowed attempt, where
//! administrators see it and can run it again.

use crate::StoreResult;
use souk_core::Timestamp;

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: String,
    pub payload: String,
    /// Including this one.
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Parked as dead after its last allowed attempt (never for a job just claimed).
    pub dead: bool,
    /// Bumped by each enqueue under the key: what a worker finishes is the generation it claimed.
    pub generation: i64,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting to run (now or at `run_at`), held by nobody.
    Queued,
    /// Leased to a worker whose lease has not run out.
    Running,
    /// Failed its last allowed attempt; runs again only when an administrator says so.
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(JobStatus::Queued),
            "running" => Some(JobStatus::Running),
            "dead" => Some(JobStatus::Dead),
            _ => None,
        }
    }
}

/// A job as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInfo {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: String,
    pub payload: String,
    pub status: JobStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub run_at: Timestamp,
    pub created_at: Timestamp,
    pub locked_by: Option<String>,
    pub locked_until: Option<Timestamp>,
    pub dead_at: Option<Timestamp>,
}

#[async_trait::async_trait]
pub trait JobStore {
    /// Adds a job, due at `run_at`. When a job with the same `dedupe_key` exists it is kept (not
    /// doubled), made due no later than `run_at`, with its attempts reset and out of the dead.
    async fn enqueue_job(
        &self,
        kind: &str,
        dedupe_key: &str,
        payload: &str,
        run_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Takes the next due job of `kind` nobody holds (or whose holder's lease ran out), leasing
    /// it to `worker` until `lease_until` and counting the attempt. Any number of nodes may call
    /// this at once; each job goes to one. Dead jobs are never taken.
    async fn claim_job(
        &self,
        kind: &str,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<Job>>;
    /// Removes a finished job; `false` when `worker` no longer holds it, or when it was enqueued
    /// again while it ran (a rescan): then it is only released, to run again for the new ask.
    async fn complete_job(&self, job: &Job, worker: &str) -> StoreResult<bool>;
    /// Releases a job to run again at `run_at`, keeping `error`; `false` when `worker` no longer
    /// holds it, or when it was enqueued again while it ran (then it keeps the new ask's time).
    async fn retry_job(
        &self,
        job: &Job,
        worker: &str,
        error: &str,
        run_at: Timestamp,
    ) -> StoreResult<bool>;
    /// Parks a job as dead with `error`; `false` when `worker` no longer holds it, or when it was
    /// enqueued again while it ran (then it is released to run for the new ask instead).
    async fn bury_job(
        &self,
        job: &Job,
        worker: &str,
        error: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// The job with this key, if any (for status pages and tests).
    async fn job_by_key(&self, dedupe_key: &str) -> StoreResult<Option<Job>>;
    /// Jobs in `status` (at `now`), oldest first: at most `limit` with an id above `after_id`.
    async fn list_jobs(
        &self,
        status: JobStatus,
        now: Timestamp,
        after_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<JobInfo>>;
    /// Makes a dead job due at `now` with its attempts reset; `NotFound` for an unknown id,
    /// `Conflict { field: "status" }` for a job that is not dead.
    async fn revive_job(&self, id: i64, now: Timestamp) -> StoreResult<JobInfo>;
}

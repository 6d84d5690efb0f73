//! One job runner for every kind of background work: the checks of an upload today; deliveries,
//! e-mails, webhooks, renewals and roll-ups as they come. A kind is a [`JobHandler`]; the
//! [`JobRunner`] claims due jobs of every registered kind from the store (leased with row locks,
//! so any number of nodes run it side by side), runs them, and completes, retries with a doubling
//! wait, or parks them as dead after the kind's last allowed attempt. Dead jobs wait for an
//! administrator (`GET /api/v1/admin/jobs?status=dead`, `POST /api/v1/admin/jobs/{id}/retry`, the
//! `/admin/jobs` page).

use souk_core::Timestamp;
use souk_store::{DynStore, Job};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The shortest lease any job gets, whatever its kind or `jobs.lease_secs` say.
pub const MIN_LEASE: Duration = Duration::from_secs(30);

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished (or nothing left to do): the job is removed.
    Done,
    /// Could not finish this time: run again after the kind's wait, or parked as dead if this
    /// was its last allowed attempt.
    Retry(String),
}

/// One kind of job.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// The kind, as stored with the job.
    fn kind(&self) -> &'static str;
    /// How long one run may take before another node may take the job over.
    fn lease(&self) -> Duration;
    /// How many attempts before the job is parked as dead.
    fn max_attempts(&self) -> u32;
    /// The wait before the second attempt; it doubles with each one after.
    fn retry_after(&self) -> Duration;
    /// Runs the job. An `Err` is a failure the kind did not foresee (the database went away):
    /// it counts as an attempt like [`Outcome::Retry`].
    async fn run(&self, job: &Job) -> anyhow::Result<Outcome>;
    /// Called once when the job is parked as dead, to tell whoever should know.
    async fn buried(&self, job: &Job, error: &str);
}

/// Wakes a node's runner at once when something queued a job on it (an upload, a rescan).
#[derive(Clone, Default)]
pub struct JobWaker(Arc<Notify>);

impl JobWaker {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

#[derive(Clone)]
pub struct JobRunner(Arc<Inner>);

struct Inner {
    store: DynStore,
    handlers: Vec<Arc<dyn JobHandler>>,
    worker: String,
    waker: JobWaker,
    lease_override: Option<Duration>,
    poll: Duration,
}

/// This process's name in job leases: host, process id and a random suffix.
fn worker_name() -> String {
    format!(
        "{}-{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into()),
        std::process::id(),
        hex::encode(souk_core::secret::random_bytes::<4>())
    )
}

impl JobRunner {
    /// `lease_secs` of zero means each kind's own lease; `poll` is how often an idle runner
    /// looks for due jobs that no wake-up announced (retries, other nodes' work).
    pub fn new(
        store: DynStore,
        handlers: Vec<Arc<dyn JobHandler>>,
        waker: JobWaker,
        lease_secs: u64,
        poll: Duration,
    ) -> Self {
        Self(Arc::new(Inner {
            store,
            handlers,
            worker: worker_name(),
            waker,
            lease_override: (lease_secs > 0).then(|| Duration::from_secs(lease_secs)),
            poll,
        }))
    }

    /// The name this runner leases jobs under.
    pub fn worker(&self) -> &str {
        &self.0.worker
    }

    fn lease(&self, handler: &dyn JobHandler) -> Duration {
        self.0
            .lease_override
            .unwrap_or_else(|| handler.lease())
            .max(MIN_LEASE)
    }

    /// Runs jobs until the process ends: at once when woken, otherwise every poll interval.
    pub async fn run(self) {
        loop {
            match self.run_due().await {
                Ok(0) => {
                    let _ = tokio::time::timeout(self.0.poll, self.0.waker.0.notified()).await;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "job runner could not take a job");
                    tokio::time::sleep(self.0.poll).await;
                }
            }
        }
    }

    /// Runs every job of every kind that is due now; answers how many ran.
    pub async fn run_due(&self) -> anyhow::Result<usize> {
        let mut ran = 0;
        loop {
            let mut this_round = 0;
            for handler in &self.0.handlers {
                let now = Timestamp::now();
                let lease = self.lease(handler.as_ref());
                let until = Timestamp::from_millis(now.millis() + lease.as_millis() as i64);
                if let Some(job) = self
                    .0
                    .store
                    .claim_job(handler.kind(), &self.0.worker, now, until)
                    .await?
                {
                    self.run_one(handler.as_ref(), job).await?;
                    this_round += 1;
                }
            }
            if this_round == 0 {
                return Ok(ran);
            }
            ran += this_round;
        }
    }

    #[tracing::instrument(skip_all, fields(kind = handler.kind(), job = job.id, attempt = job.attempts))]
    async fn run_one(&self, handler: &dyn JobHandler, job: Job) -> anyhow::Result<()> {
        let store = &self.0.store;
        let worker = &self.0.worker;
        let error = match handler.run(&job).await {
            Ok(Outcome::Done) => {
                if !store.complete_job(&job, worker).await? {
                    tracing::warn!(
                        "the job's lease ran out before it finished; another node may run it again"
                    );
                }
                return Ok(());
            }
            Ok(Outcome::Retry(error)) => error,
            Err(e) => format!("{e:#}"),
        };
        if job.attempts >= i64::from(handler.max_attempts()) {
            tracing::error!(%error, attempts = job.attempts, "job failed its last attempt; parked as dead");
            if store
                .bury_job(&job, worker, &error, Timestamp::now())
                .await?
            {
                handler.buried(&job, &error).await;
            }
        } else {
            let doublings = u32::try_from(job.attempts.clamp(1, 16) - 1).unwrap_or(0);
            let wait = handler.retry_after().saturating_mul(1 << doublings);
            tracing::warn!(%error, retry_in_secs = wait.as_secs(), "job failed; will retry");
            let at = Timestamp::from_millis(Timestamp::now().millis() + wait.as_millis() as i64);
            store.retry_job(&job, worker, &error, at).await?;
        }
        Ok(())
    }
}

/// One page of jobs for administrators, and the cursor of the next.
pub struct JobPage {
    pub items: Vec<souk_store::JobInfo>,
    pub next_cursor: Option<String>,
}

impl JobRunner {
    /// Jobs in `status`, oldest first, by cursor (administrators).
    pub async fn list(
        &self,
        user: &souk_store::User,
        status: souk_store::JobStatus,
        cursor: Option<&str>,
        limit: u32,
    ) -> crate::error::AppResult<JobPage> {
        crate::policy::require_admin(user, "may see background jobs")?;
        let after = match cursor.filter(|c| !c.is_empty()) {
            Some(c) => Some(souk_core::Cursor::decode::<i64>(c).map_err(|e| {
                crate::error::AppError::bad_request("invalid_cursor", e.to_string())
            })?),
            None => None,
        };
        let items = self
            .0
            .store
            .list_jobs(status, Timestamp::now(), after, limit)
            .await?;
        let next_cursor = (items.len() == limit as usize)
            .then(|| {
                items
                    .last()
                    .map(|j| souk_core::Cursor::encode(&j.id).into_string())
            })
            .flatten();
        Ok(JobPage { items, next_cursor })
    }

    /// Runs a dead job again (administrators): due now, attempts reset, on the audit log. 404
    /// for an unknown job, 409 for one that is not dead.
    pub async fn retry(
        &self,
        actor: &crate::services::audit::Actor<'_>,
        id: i64,
    ) -> crate::error::AppResult<souk_store::JobInfo> {
        crate::policy::require_admin(actor.user, "may retry background jobs")?;
        let tx = self.0.store.begin().await?;
        let job = match tx.revive_job(id, Timestamp::now()).await {
            Ok(job) => job,
            Err(souk_store::StoreError::Conflict { .. }) => {
                return Err(crate::error::AppError::conflict_with(
                    "status",
                    "only a dead job can be retried; this one is queued or running",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        tx.append_audit(&souk_store::NewAuditEntry {
            before: Some(serde_json::json!({ "status": "dead", "last_error": job.last_error })),
            after: Some(serde_json::json!({ "status": job.status.as_str() })),
            ..actor.entry(
                "job.retry",
                "job",
                format!("{} {}", job.kind, job.dedupe_key),
            )
        })
        .await?;
        tx.commit().await?;
        self.0.waker.wake();
        Ok(job)
    }
}

//! Background jobs as administrators see them, and the list's query.

use crate::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};
use souk_core::Timestamp;
use souk_store::{JobInfo, JobStatus};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// `dead` (the default), `queued` or `running`.
    pub status: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[serde(default, deserialize_with = "crate::extract::whole_number_limit")]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub id: i64,
    /// What the job does, e.g. `check_version`.
    pub kind: String,
    /// One live job per key, e.g. `check:42` for the checks of version 42.
    pub key: String,
    /// The job's input, as JSON.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `queued`, `running` or `dead`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: String,
    /// When it is due (queued), or was last due.
    pub run_at: String,
    /// The node holding it, while running.
    pub locked_by: Option<String>,
    pub locked_until: Option<String>,
    /// When it was parked as dead.
    pub dead_at: Option<String>,
}

impl From<&JobInfo> for JobView {
    fn from(j: &JobInfo) -> Self {
        Self {
            id: j.id,
            kind: j.kind.clone(),
            key: j.dedupe_key.clone(),
            payload: serde_json::from_str(&j.payload)
                .unwrap_or_else(|_| serde_json::Value::String(j.payload.clone())),
            status: j.status.as_str().to_owned(),
            attempts: j.attempts,
            last_error: j.last_error.clone(),
            created_at: j.created_at.to_rfc3339(),
            run_at: j.run_at.to_rfc3339(),
            locked_by: j.locked_by.clone(),
            locked_until: j.locked_until.map(Timestamp::to_rfc3339),
            dead_at: j.dead_at.map(Timestamp::to_rfc3339),
        }
    }
}

/// Parses `status`, `dead` when absent.
pub fn parse_status(raw: Option<&str>) -> AppResult<JobStatus> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(JobStatus::Dead),
        Some(s) => JobStatus::parse(s).ok_or_else(|| {
            AppError::unprocessable(
                "invalid_status",
                "status",
                format!("`{s}` is not a job status: use dead, queued or running"),
            )
        }),
    }
}

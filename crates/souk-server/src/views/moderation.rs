//! Moderation as clients see it: a version's check job, and the publishers console's filter.

use crate::error::{AppError, AppResult};
use serde::Serialize;
use souk_store::{Job, PublisherFilter};
use utoipa::ToSchema;

/// The check job of a version, while there is one.
#[derive(Serialize, ToSchema)]
pub struct CheckJobView {
    /// Attempts made so far.
    pub attempts: i64,
    /// Why the last attempt could not finish.
    pub last_error: Option<String>,
    /// `queued`, or `dead` once the checks gave up after their last attempt: the version then
    /// waits for a rescan (or an administrator's retry of the job).
    pub status: &'static str,
}

impl From<&Job> for CheckJobView {
    fn from(j: &Job) -> Self {
        Self {
            attempts: j.attempts,
            last_error: j.last_error.clone(),
            status: if j.dead { "dead" } else { "queued" },
        }
    }
}

pub fn publisher_filter(raw: Option<&str>) -> AppResult<PublisherFilter> {
    match raw.unwrap_or("all") {
        "all" | "" => Ok(PublisherFilter::All),
        "verification_requested" => Ok(PublisherFilter::VerificationRequested),
        "verified" => Ok(PublisherFilter::Verified),
        "suspended" => Ok(PublisherFilter::Suspended),
        other => Err(AppError::unprocessable(
            "invalid_filter",
            "filter",
            format!(
                "unknown filter `{other}`; use all, verification_requested, verified or suspended"
            ),
        )),
    }
}

//! Background jobs for administrators: the ones parked as dead after their last attempt (and
//! those queued or running), and running a dead one again.

use crate::AppState;
use crate::error::{AppResult, ErrorEnvelope};
use crate::extract::{ApiPath, ApiQuery, ApiUser};
use crate::views::jobs::{JobView, JobsQuery, parse_status};
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use souk_core::cursor::page_limit;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct JobPageView {
    pub items: Vec<JobView>,
    pub next_cursor: Option<String>,
}

/// Background jobs in one status, oldest first (admins).
#[utoipa::path(operation_id = "list_jobs", get, path = "/api/v1/admin/jobs", tag = "jobs", security(("bearer" = [])),
    params(JobsQuery),
    responses((status = 200, body = JobPageView),
        (status = 400, description = "Tampered cursor", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or a token without the admin scope", body = ErrorEnvelope),
        (status = 422, description = "Unknown status", body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> AppResult<Json<JobPageView>> {
    let status = parse_status(q.status.as_deref())?;
    let page = state
        .jobs
        .list(&p.user, status, q.cursor.as_deref(), page_limit(q.limit))
        .await?;
    Ok(Json(JobPageView {
        items: page.items.iter().map(JobView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Runs a dead job again now, with its attempts reset (admins). Recorded on the audit log.
#[utoipa::path(operation_id = "retry_job", post, path = "/api/v1/admin/jobs/{id}/retry", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = JobView),
        (status = 403, description = "Not an admin, or a token without the admin scope", body = ErrorEnvelope),
        (status = 404, description = "No such job", body = ErrorEnvelope),
        (status = 409, description = "The job is not dead", body = ErrorEnvelope)))]
pub async fn retry(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<JobView>> {
    let job = state.jobs.retry(&p.actor(), id).await?;
    Ok(Json(JobView::from(&job)))
}

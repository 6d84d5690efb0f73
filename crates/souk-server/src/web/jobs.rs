//! The administrators' jobs page (`/admin/jobs`): background jobs by status (dead first, where
//! the ones that failed their last attempt wait), with their last error and a button that runs a
//! dead one again. Someone signed in who is not an administrator gets the 403 page.

use super::console::Tab;
use super::csrf::{CheckedForm, NoFields};
use super::{Layout, PageError, WebContext, back, render};
use crate::AppState;
use crate::views::jobs::{JobView, JobsQuery, parse_status};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use souk_core::cursor::page_limit;
use souk_store::JobStatus;

#[derive(Template)]
#[template(path = "admin_jobs.html")]
struct JobsPage {
    layout: Layout,
    tabs_label: &'static str,
    tabs: Vec<Tab>,
    status: &'static str,
    jobs: Vec<JobView>,
    next_href: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    ctx: WebContext,
    Query(q): Query<JobsQuery>,
) -> Result<Response, PageError> {
    let user = ctx.require_user()?;
    let status = parse_status(q.status.as_deref())?;
    let page = state
        .jobs
        .list(&user.user, status, q.cursor.as_deref(), page_limit(q.limit))
        .await?;
    let tabs = [JobStatus::Dead, JobStatus::Queued, JobStatus::Running]
        .into_iter()
        .map(|s| Tab {
            label: match s {
                JobStatus::Dead => "Dead",
                JobStatus::Queued => "Queued",
                JobStatus::Running => "Running",
            },
            href: format!("/admin/jobs?status={}", s.as_str()),
            current: s == status,
        })
        .collect();
    render(&JobsPage {
        layout: Layout::new("Background jobs", "jobs", &ctx),
        tabs_label: "Job status",
        tabs,
        status: status.as_str(),
        jobs: page.items.iter().map(JobView::from).collect(),
        next_href: page
            .next_cursor
            .map(|c| format!("/admin/jobs?status={}&cursor={c}", status.as_str())),
    })
}

pub async fn retry(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(id): Path<i64>,
    CheckedForm(NoFields {}): CheckedForm<NoFields>,
) -> Result<Response, PageError> {
    let user = ctx.require_user()?;
    let result = state.jobs.retry(&user.actor(), id).await;
    back(&ctx, "/admin/jobs?status=dead", result, |job| {
        format!("Job {} ({}) is queued to run again.", job.id, job.kind)
    })
}

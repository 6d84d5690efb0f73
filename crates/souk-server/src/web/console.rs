//! The moderator console: its home (`/admin`) with what waits, the queue (`/admin/queue`, one
//! tab per state, oldest upload first), and the review page of one version
//! (`/admin/modules/{name}/versions/{version}`) with its findings, check job, appeal, file list
//! against the previous version, and the decision forms.
//!
//! Moderators and admins only: anyone else signed in gets the 403 page, a signed-out visitor is
//! sent to sign in. The moderation service holds every rule (who may decide, from which state);
//! the page only offers the forms that fit the version's state, and shows the service's refusal
//! (a version that moved on: 409; a moderator deciding on their own publisher: 403) as an error
//! flash on the review page, where nothing changed. The publishers' page is in
//! [`super::console_publishers`].

use super::csrf::CheckedForm;
use super::views::{ChecksPanel, date, human_size, status_label};
use super::{Layout, PageError, WebContext, back, render};
use crate::AppState;
use crate::error::AppError;
use crate::services::moderation::Review;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use souk_store::{PublisherFilter, QueueEntry, User, VersionStatus};

/// Rows per queue page.
const QUEUE_PAGE: u32 = 50;
/// How far the home page counts; past it, it says `200+`.
const COUNT_CAP: u32 = 200;

/// The queue's tabs, in order; the first is the default.
const TABS: [(VersionStatus, &str); 3] = [
    (VersionStatus::PendingReview, "Waiting for review"),
    (VersionStatus::PendingChecks, "Pending checks"),
    (VersionStatus::Quarantined, "Quarantined"),
];

pub fn review_url(name: &str, version: &str) -> String {
    format!("/admin/modules/{name}/versions/{version}")
}

/// `n`, or `200+` once it reaches the cap.
fn capped(n: usize) -> String {
    if n > COUNT_CAP as usize {
        format!("{COUNT_CAP}+")
    } else {
        n.to_string()
    }
}

/// What the console's home shows in one of its boxes.
pub struct Waiting {
    pub label: &'static str,
    pub count: String,
    pub href: String,
    pub id: &'static str,
}

#[derive(Template)]
#[template(path = "admin_console.html")]
struct HomePage {
    layout: Layout,
    waiting: Vec<Waiting>,
}

async fn queued(
    state: &AppState,
    user: &User,
    s: VersionStatus,
) -> Result<Vec<QueueEntry>, PageError> {
    Ok(state
        .moderation
        .queue(user, &[s], None, COUNT_CAP + 1)
        .await?)
}

pub async fn home(State(state): State<AppState>, ctx: WebContext) -> Result<Response, PageError> {
    let user = &ctx.require_staff()?.user;
    let review = queued(&state, user, VersionStatus::PendingReview).await?;
    let checks = queued(&state, user, VersionStatus::PendingChecks).await?;
    let quarantined = queued(&state, user, VersionStatus::Quarantined).await?;
    let requests = state
        .moderation
        .publishers(
            user,
            PublisherFilter::VerificationRequested,
            None,
            COUNT_CAP + 1,
        )
        .await?;
    let appealed = |list: &[QueueEntry]| list.iter().filter(|e| e.version.appeal.is_some()).count();
    let tab = |s: VersionStatus| format!("/admin/queue?status={}", s.as_str());
    let waiting = vec![
        Waiting {
            label: "Versions waiting for review",
            count: capped(review.len()),
            href: tab(VersionStatus::PendingReview),
            id: "waiting-review",
        },
        Waiting {
            label: "Appeals",
            count: capped(appealed(&review) + appealed(&quarantined)),
            // Appeals of rejections wait in the review tab, those of quarantines in theirs:
            // link to where the first ones are.
            href: tab(if appealed(&review) > 0 || appealed(&quarantined) == 0 {
                VersionStatus::PendingReview
            } else {
                VersionStatus::Quarantined
            }),
            id: "waiting-appeals",
        },
        Waiting {
            label: "Versions in the checks",
            count: capped(checks.len()),
            href: tab(VersionStatus::PendingChecks),
            id: "waiting-checks",
        },
        Waiting {
            label: "Quarantined versions",
            count: capped(quarantined.len()),
            href: tab(VersionStatus::Quarantined),
            id: "waiting-quarantined",
        },
        Waiting {
            label: "Verification requests",
            count: capped(requests.len()),
            href: "/admin/publishers?filter=verification_requested".into(),
            id: "waiting-verification",
        },
    ];
    render(&HomePage {
        layout: Layout::new("Moderator console", "admin", &ctx),
        waiting,
    })
}

// ----- the queue -----

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    status: Option<String>,
    after: Option<String>,
}

/// A tab of a console list (`_tabs.html`).
pub struct Tab {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// One version in the queue.
pub struct QueueRow {
    pub name: String,
    pub display_name: String,
    pub version: String,
    pub publisher_slug: String,
    pub publisher_name: String,
    pub verified: bool,
    pub uploaded: String,
    pub errors: i64,
    pub warnings: i64,
    pub status_reason: String,
    pub appeal: bool,
    pub review_url: String,
}

impl From<&QueueEntry> for QueueRow {
    fn from(e: &QueueEntry) -> Self {
        Self {
            name: e.module.name.clone(),
            display_name: e.module.display_name.clone(),
            version: e.version.version.clone(),
            publisher_slug: e.module.publisher_slug.clone(),
            publisher_name: e.module.publisher_name.clone(),
            verified: e.module.publisher_verified,
            uploaded: e.version.created_at.human(),
            errors: e.errors,
            warnings: e.warnings,
            status_reason: e.version.status_reason.clone().unwrap_or_default(),
            appeal: e.version.appeal.is_some(),
            review_url: review_url(&e.module.name, &e.version.version),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_queue.html")]
struct QueuePage {
    layout: Layout,
    tabs: Vec<Tab>,
    status: &'static str,
    rows: Vec<QueueRow>,
    next_url: Option<String>,
}

pub async fn queue(
    State(state): State<AppState>,
    ctx: WebContext,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let user = &ctx.require_staff()?.user;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => TABS[0].0,
        Some(s) => TABS
            .iter()
            .map(|t| t.0)
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                AppError::unprocessable(
                    "invalid_status",
                    "status",
                    "the queue has tabs pending_review, pending_checks and quarantined",
                )
            })?,
    };
    let after = match q.after.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(a) => Some(a.parse::<i64>().map_err(|_| {
            AppError::unprocessable("invalid_cursor", "after", "this page link is broken")
        })?),
    };
    let entries = state
        .moderation
        .queue(user, &[status], after, QUEUE_PAGE)
        .await?;
    let next_url = (entries.len() == QUEUE_PAGE as usize)
        .then(|| entries.last())
        .flatten()
        .map(|e| {
            format!(
                "/admin/queue?status={}&after={}",
                status.as_str(),
                e.version.id
            )
        });
    render(&QueuePage {
        layout: Layout::new("Moderation queue", "admin", &ctx),
        tabs: TABS
            .iter()
            .map(|(s, label)| Tab {
                label,
                href: format!("/admin/queue?status={}", s.as_str()),
                current: *s == status,
            })
            .collect(),
        status: status.as_str(),
        rows: entries.iter().map(QueueRow::from).collect(),
        next_url,
    })
}

// ----- one version -----

/// A file that was added, removed or changed since the previous version.
pub struct FileChange {
    pub path: String,
    /// `12.0 KiB`, or `1.0 KiB → 2.0 KiB` for a changed file.
    pub size: String,
}

#[derive(Template)]
#[template(path = "admin_review.html")]
struct ReviewPage {
    layout: Layout,
    name: String,
    display_name: String,
    version: String,
    publisher_slug: String,
    publisher_name: String,
    verified: bool,
    uploaded: String,
    status_text: String,
    checks: ChecksPanel,
    previous: Option<String>,
    added: Vec<FileChange>,
    removed: Vec<FileChange>,
    changed: Vec<FileChange>,
    unchanged: usize,
    /// The moderator belongs to the version's publisher: no decision forms.
    own_publisher: bool,
    can_approve: bool,
    can_reject: bool,
    can_quarantine: bool,
    can_release: bool,
    action_url: String,
}

impl ReviewPage {
    fn new(layout: Layout, r: Review, own_publisher: bool) -> Self {
        let s = r.version.status;
        let sized = |list: &[(String, u64)]| {
            list.iter()
                .map(|(path, size)| FileChange {
                    path: path.clone(),
                    size: human_size(*size),
                })
                .collect()
        };
        Self {
            layout,
            action_url: review_url(&r.module.name, &r.version.version),
            name: r.module.name.clone(),
            display_name: r.module.display_name.clone(),
            version: r.version.version.clone(),
            publisher_slug: r.module.publisher_slug.clone(),
            publisher_name: r.module.publisher_name.clone(),
            verified: r.module.publisher_verified,
            uploaded: r.version.created_at.human(),
            status_text: status_label(s),
            checks: ChecksPanel::new(&r.version, &r.findings, r.job.as_ref()),
            previous: r
                .previous
                .as_ref()
                .map(|p| format!("{} ({})", p.version, date(p.created_at))),
            added: sized(&r.diff.added),
            removed: sized(&r.diff.removed),
            changed: r
                .diff
                .changed
                .iter()
                .map(|(path, old, new)| FileChange {
                    path: path.clone(),
                    size: format!("{} → {}", human_size(*old), human_size(*new)),
                })
                .collect(),
            unchanged: r.diff.unchanged,
            own_publisher,
            can_approve: s == VersionStatus::PendingReview,
            can_reject: matches!(
                s,
                VersionStatus::PendingReview | VersionStatus::PendingChecks
            ),
            can_quarantine: s == VersionStatus::Published,
            can_release: s == VersionStatus::Quarantined,
        }
    }
}

pub async fn review(
    State(state): State<AppState>,
    ctx: WebContext,
    Path((name, version)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let user = &ctx.require_staff()?.user;
    let r = state.moderation.review(user, &name, &version).await?;
    // The real memberships, not `Catalog::role_in`, which counts admins as owners everywhere.
    let own_publisher = state
        .catalog
        .publishers_of(user)
        .await?
        .iter()
        .any(|(p, _)| p.id == r.module.publisher_id);
    let title = format!("Review {} {}", r.module.name, r.version.version);
    render(&ReviewPage::new(
        Layout::new(title, "admin", &ctx),
        r,
        own_publisher,
    ))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    /// For reject and quarantine; the publisher reads it.
    #[serde(default)]
    reason: String,
}

#[derive(Clone, Copy)]
enum Decision {
    Approve,
    Reject,
    Quarantine,
    Release,
}

async fn decide(
    state: AppState,
    ctx: WebContext,
    (name, version): (String, String),
    form: DecisionForm,
    decision: Decision,
) -> Result<Response, PageError> {
    let actor = ctx.require_staff()?.actor();
    let user = &actor;
    let m = &state.moderation;
    let result = match decision {
        Decision::Approve => m.approve(user, &name, &version).await,
        Decision::Reject => m.reject(user, &name, &version, &form.reason).await,
        Decision::Quarantine => m.quarantine(user, &name, &version, &form.reason).await,
        Decision::Release => m.release(user, &name, &version).await,
    };
    let to = match &result {
        Ok((module, v)) => review_url(&module.name, &v.version),
        Err(_) => review_url(&name, &version),
    };
    back(&ctx, &to, result, |(module, v)| {
        let what = format!("{} {}", module.name, v.version);
        match decision {
            Decision::Approve => format!("{what} is approved and published."),
            Decision::Reject => format!("{what} is rejected; the publisher sees your reason."),
            Decision::Quarantine => {
                format!("{what} is quarantined: hidden from search, downloads refused.")
            }
            Decision::Release => format!("{what} is released and published again."),
        }
    })
}

pub async fn approve(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(target): Path<(String, String)>,
    CheckedForm(form): CheckedForm<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, ctx, target, form, Decision::Approve).await
}

pub async fn reject(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(target): Path<(String, String)>,
    CheckedForm(form): CheckedForm<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, ctx, target, form, Decision::Reject).await
}

pub async fn quarantine(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(target): Path<(String, String)>,
    CheckedForm(form): CheckedForm<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, ctx, target, form, Decision::Quarantine).await
}

pub async fn release(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(target): Path<(String, String)>,
    CheckedForm(form): CheckedForm<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, ctx, target, form, Decision::Release).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_stop_at_the_cap() {
        assert_eq!(capped(0), "0");
        assert_eq!(capped(200), "200");
        assert_eq!(capped(201), "200+");
    }
}

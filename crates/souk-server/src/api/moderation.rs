//! Moderation over the API: the moderators' queue and decisions, publisher verification and
//! suspension (admins), and the publishers' side: the checks' findings, rescan, appeal, asking
//! for verification, and the notices in their portal.

use super::catalog_views::{PublisherView, VersionDetailView, VersionView};
use crate::AppState;
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ApiUser};
use crate::services::catalog::VersionRight;
use crate::services::moderation::{FileDiff, Review};
use crate::views::moderation::{CheckJobView, publisher_filter};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use souk_core::Cursor;
use souk_store::{Job, PublisherMessage, QueueEntry, StoredFinding, VersionStatus};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct FindingView {
    /// Stable rule id, such as `secret.aws-access-key-id`; see the module authors' guide.
    pub rule: String,
    /// `info`, `warning` or `error`.
    pub severity: String,
    /// The file inside the package; empty for the version as a whole.
    pub path: String,
    /// 1-based; 0 for the whole file.
    pub line: u32,
    /// 1-based, in characters; 0 for the whole file.
    pub column: u32,
    pub message: String,
}

impl From<&StoredFinding> for FindingView {
    fn from(f: &StoredFinding) -> Self {
        Self {
            rule: f.rule.clone(),
            severity: f.severity.as_str().to_owned(),
            path: f.path.clone(),
            line: f.line,
            column: f.column,
            message: f.message.clone(),
        }
    }
}

/// What the automated checks found on a version, for its publisher's members and moderators.
#[derive(Serialize, ToSchema)]
pub struct ChecksView {
    pub status: String,
    pub status_reason: Option<String>,
    /// When the checks last finished; absent while they have not.
    pub checked_at: Option<String>,
    pub findings: Vec<FindingView>,
    pub job: Option<CheckJobView>,
    /// The publisher's appeal, while it waits for a moderator.
    pub appeal: Option<String>,
    pub appealed_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct QueueItemView {
    #[serde(flatten)]
    pub version: VersionView,
    pub publisher: super::catalog_views::PublisherRef,
    pub display_name: String,
    /// Error and warning findings.
    pub errors: i64,
    pub warnings: i64,
    pub appeal: Option<String>,
}

impl From<&QueueEntry> for QueueItemView {
    fn from(e: &QueueEntry) -> Self {
        Self {
            version: VersionView::new(&e.module.name, &e.version),
            publisher: super::catalog_views::PublisherRef {
                slug: e.module.publisher_slug.clone(),
                display_name: e.module.publisher_name.clone(),
                verified: e.module.publisher_verified,
            },
            display_name: e.module.display_name.clone(),
            errors: e.errors,
            warnings: e.warnings,
            appeal: e.version.appeal.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct QueuePage {
    pub items: Vec<QueueItemView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Comma-separated states; default `pending_review`.
    pub status: Option<String>,
    /// The `next_cursor` of the previous page (opaque).
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    #[serde(default, deserialize_with = "crate::extract::whole_number_limit")]
    pub limit: Option<u32>,
}

/// Parses a comma-separated list of states (422 naming `status` for an unknown one).
fn statuses(raw: Option<&str>) -> AppResult<Vec<VersionStatus>> {
    let raw = raw.unwrap_or("pending_review");
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            VersionStatus::parse(s).ok_or_else(|| {
                AppError::unprocessable(
                    "invalid_status",
                    "status",
                    format!(
                        "unknown state `{s}`; use pending_checks, pending_review, published, \
                         rejected or quarantined"
                    ),
                )
            })
        })
        .collect()
}

/// An opaque cursor of ours back to its key; 400 `invalid_cursor` for anything else.
fn decode_cursor<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> AppResult<Option<T>> {
    // An empty `cursor=` is the first page, as on the other lists.
    raw.filter(|c| !c.is_empty())
        .map(|c| {
            Cursor::decode::<T>(c)
                .map_err(|e| AppError::bad_request("invalid_cursor", e.to_string()))
        })
        .transpose()
}

fn limit(raw: Option<u32>) -> AppResult<u32> {
    match raw.unwrap_or(50) {
        n @ 1..=200 => Ok(n),
        _ => Err(AppError::unprocessable(
            "invalid_limit",
            "limit",
            "limit must be between 1 and 200",
        )),
    }
}

/// The moderation queue: versions in the asked states, oldest upload first, with how many
/// error and warning findings each has (moderators and admins).
#[utoipa::path(get, path = "/api/v1/admin/queue", tag = "moderation", security(("bearer" = [])),
    params(QueueQuery),
    responses((status = 200, body = QueuePage), (status = 403, body = ErrorEnvelope),
        (status = 400, description = "A cursor this server did not issue", body = ErrorEnvelope),
        (status = 422, description = "Unknown state or bad limit", body = ErrorEnvelope)))]
pub async fn queue(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> AppResult<Json<QueuePage>> {
    let states = statuses(q.status.as_deref())?;
    let limit = limit(q.limit)?;
    let after = decode_cursor::<i64>(q.cursor.as_deref())?;
    let entries = state
        .moderation
        .queue(&p.user, &states, after, limit)
        .await?;
    let next_cursor = (entries.len() == limit as usize)
        .then(|| {
            entries
                .last()
                .map(|e| Cursor::encode(&e.version.id).into_string())
        })
        .flatten();
    Ok(Json(QueuePage {
        items: entries.iter().map(QueueItemView::from).collect(),
        next_cursor,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct FileChangeView {
    pub path: String,
    pub old_size: Option<u64>,
    pub new_size: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct FileDiffView {
    /// The version compared with; absent for a module's first version.
    pub previous_version: Option<String>,
    pub added: Vec<FileChangeView>,
    pub removed: Vec<FileChangeView>,
    /// Files whose size changed.
    pub changed: Vec<FileChangeView>,
    pub unchanged: usize,
}

impl FileDiffView {
    fn new(previous: Option<&souk_store::Version>, d: &FileDiff) -> Self {
        Self {
            previous_version: previous.map(|p| p.version.clone()),
            added: d
                .added
                .iter()
                .map(|(p, s)| FileChangeView {
                    path: p.clone(),
                    old_size: None,
                    new_size: Some(*s),
                })
                .collect(),
            removed: d
                .removed
                .iter()
                .map(|(p, s)| FileChangeView {
                    path: p.clone(),
                    old_size: Some(*s),
                    new_size: None,
                })
                .collect(),
            changed: d
                .changed
                .iter()
                .map(|(p, a, b)| FileChangeView {
                    path: p.clone(),
                    old_size: Some(*a),
                    new_size: Some(*b),
                })
                .collect(),
            unchanged: d.unchanged,
        }
    }
}

/// A version as a moderator reviews it.
#[derive(Serialize, ToSchema)]
pub struct ReviewView {
    #[serde(flatten)]
    pub version: VersionDetailView,
    pub publisher: super::catalog_views::PublisherRef,
    pub checks: ChecksView,
    pub files_diff: FileDiffView,
}

pub fn checks_view(
    v: &souk_store::Version,
    findings: &[StoredFinding],
    job: Option<&Job>,
) -> ChecksView {
    ChecksView {
        status: v.status.as_str().to_owned(),
        status_reason: v.status_reason.clone(),
        checked_at: v.checked_at.map(|t| t.to_rfc3339()),
        findings: findings.iter().map(FindingView::from).collect(),
        job: job.map(CheckJobView::from),
        appeal: v.appeal.clone(),
        appealed_at: v.appealed_at.map(|t| t.to_rfc3339()),
    }
}

impl From<&Review> for ReviewView {
    fn from(r: &Review) -> Self {
        Self {
            version: VersionDetailView::new(&r.module.name, &r.version),
            publisher: super::catalog_views::PublisherRef {
                slug: r.module.publisher_slug.clone(),
                display_name: r.module.publisher_name.clone(),
                verified: r.module.publisher_verified,
            },
            checks: checks_view(&r.version, &r.findings, r.job.as_ref()),
            files_diff: FileDiffView::new(r.previous.as_ref(), &r.diff),
        }
    }
}

/// One version as a moderator reviews it: its details, findings, and its file list compared
/// with the version before it.
#[utoipa::path(get, path = "/api/v1/admin/modules/{name}/versions/{version}", tag = "moderation",
    security(("bearer" = [])), params(("name" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = ReviewView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn review(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> AppResult<Json<ReviewView>> {
    let r = state.moderation.review(&p.user, &name, &version).await?;
    Ok(Json(ReviewView::from(&r)))
}

#[derive(Deserialize, ToSchema)]
pub struct ReasonRequest {
    /// Shown to the publisher.
    pub reason: String,
}

/// Approves a version waiting for review: the registry signs it and it is published
/// (moderators; never on a publisher they belong to).
#[utoipa::path(post, path = "/api/v1/admin/modules/{name}/versions/{version}/approve", tag = "moderation",
    security(("bearer" = [])), params(("name" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = VersionView),
        (status = 403, description = "Not a moderator, or a member of the version's publisher", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "The version is not pending review", body = ErrorEnvelope)))]
pub async fn approve(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> AppResult<Json<VersionView>> {
    let (m, v) = state
        .moderation
        .approve(&p.actor(), &name, &version)
        .await?;
    Ok(Json(VersionView::new(&m.name, &v)))
}

/// Rejects a version waiting for the checks or review, with a reason the publisher sees.
#[utoipa::path(post, path = "/api/v1/admin/modules/{name}/versions/{version}/reject", tag = "moderation",
    security(("bearer" = [])), params(("name" = String, Path), ("version" = String, Path)),
    request_body = ReasonRequest,
    responses((status = 200, body = VersionView),
        (status = 403, description = "Not a moderator, or a member of the version's publisher", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "The version is not pending", body = ErrorEnvelope),
        (status = 422, description = "Missing reason", body = ErrorEnvelope)))]
pub async fn reject(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> AppResult<Json<VersionView>> {
    let (m, v) = state
        .moderation
        .reject(&p.actor(), &name, &version, &req.reason)
        .await?;
    Ok(Json(VersionView::new(&m.name, &v)))
}

/// Pulls a published version: hidden from search, downloads refused, its publisher told.
#[utoipa::path(post, path = "/api/v1/admin/modules/{name}/versions/{version}/quarantine", tag = "moderation",
    security(("bearer" = [])), params(("name" = String, Path), ("version" = String, Path)),
    request_body = ReasonRequest,
    responses((status = 200, body = VersionView), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "The version is not published", body = ErrorEnvelope),
        (status = 422, description = "Missing reason", body = ErrorEnvelope)))]
pub async fn quarantine(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> AppResult<Json<VersionView>> {
    let (m, v) = state
        .moderation
        .quarantine(&p.actor(), &name, &version, &req.reason)
        .await?;
    Ok(Json(VersionView::new(&m.name, &v)))
}

/// Releases a quarantined version: published again.
#[utoipa::path(post, path = "/api/v1/admin/modules/{name}/versions/{version}/release", tag = "moderation",
    security(("bearer" = [])), params(("name" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = VersionView), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "The version is not quarantined", body = ErrorEnvelope)))]
pub async fn release(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> AppResult<Json<VersionView>> {
    let (m, v) = state
        .moderation
        .release(&p.actor(), &name, &version)
        .await?;
    Ok(Json(VersionView::new(&m.name, &v)))
}

/// What the automated checks found on a version (members of its publisher and moderators; a
/// token needs `read`).
#[utoipa::path(get, path = "/api/v1/modules/{name}/versions/{version}/checks", tag = "moderation",
    security(("bearer" = [])), params(("name" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = ChecksView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn checks(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> AppResult<Json<ChecksView>> {
    let (_, v) = state
        .catalog
        .version_for(&p.user, &name, &version, VersionRight::MemberOrStaff)
        .await?;
    let (findings, job) = state.moderation.checks_of(&v).await?;
    Ok(Json(checks_view(&v, &findings, job.as_ref())))
}

/// Runs the automated checks again on a version that is pending (members of its publisher and
/// moderators), or rejected (moderators only: a publisher appeals instead). A version under
/// appeal stays for a moderator whatever the checks find. Answers at once with status
/// `pending_checks`.
#[utoipa::path(post, path = "/api/v1/modules/{name}/versions/{version}/rescan", tag = "moderation",
    security(("bearer" = [])), params(("name" = String, Path), ("version" = String, Path)),
    responses((status = 202, body = VersionView), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Published and quarantined versions are not rescanned, nor rejected ones by their publisher", body = ErrorEnvelope)))]
pub async fn rescan(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> AppResult<(axum::http::StatusCode, Json<VersionView>)> {
    let (access, v) = state
        .catalog
        .version_for(&p.user, &name, &version, VersionRight::MemberOrStaff)
        .await?;
    let v = state
        .moderation
        .rescan(&p.actor(), &access.module, &v.version)
        .await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(VersionView::new(&access.module.name, &v)),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct AppealRequest {
    /// Why the decision should change; moderators read it.
    pub message: String,
}

/// Appeals a rejection (the version goes back to the review queue) or a quarantine (the appeal
/// waits for a moderator), with a message (members of the publisher).
#[utoipa::path(post, path = "/api/v1/modules/{name}/versions/{version}/appeal", tag = "moderation",
    security(("bearer" = [])), params(("name" = String, Path), ("version" = String, Path)),
    request_body = AppealRequest,
    responses((status = 200, body = VersionView), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Neither rejected nor quarantined", body = ErrorEnvelope),
        (status = 422, description = "Missing message", body = ErrorEnvelope)))]
pub async fn appeal(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<AppealRequest>,
) -> AppResult<Json<VersionView>> {
    let (access, v) = state
        .catalog
        .version_for(&p.user, &name, &version, VersionRight::Member)
        .await?;
    let m = access.module;
    let v = state
        .moderation
        .appeal(&p.actor(), &m, &v.version, &req.message)
        .await?;
    Ok(Json(VersionView::new(&m.name, &v)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublishersQuery {
    /// `all` (default), `verification_requested`, `verified` or `suspended`.
    pub filter: Option<String>,
    /// The `next_cursor` of the previous page (opaque).
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    #[serde(default, deserialize_with = "crate::extract::whole_number_limit")]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AdminPublisherView {
    #[serde(flatten)]
    pub publisher: PublisherView,
    pub suspension_reason: Option<String>,
    pub suspended_at: Option<String>,
    pub verification_requested_at: Option<String>,
    pub verification_note: Option<String>,
}

impl From<&souk_store::Publisher> for AdminPublisherView {
    fn from(p: &souk_store::Publisher) -> Self {
        Self {
            publisher: PublisherView::from(p),
            suspension_reason: p.suspension_reason.clone(),
            suspended_at: p.suspended_at.map(|t| t.to_rfc3339()),
            verification_requested_at: p.verification_requested_at.map(|t| t.to_rfc3339()),
            verification_note: p.verification_note.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AdminPublishersPage {
    pub items: Vec<AdminPublisherView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Publishers for the console: all, those asking for verification, verified or suspended ones
/// (moderators and admins).
#[utoipa::path(get, path = "/api/v1/admin/publishers", tag = "moderation", security(("bearer" = [])),
    params(PublishersQuery),
    responses((status = 200, body = AdminPublishersPage), (status = 403, body = ErrorEnvelope),
        (status = 400, description = "A cursor this server did not issue", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn publishers(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<PublishersQuery>,
) -> AppResult<Json<AdminPublishersPage>> {
    let filter = publisher_filter(q.filter.as_deref())?;
    let limit = limit(q.limit)?;
    let after = decode_cursor::<String>(q.cursor.as_deref())?;
    let items = state
        .moderation
        .publishers(&p.user, filter, after.as_deref(), limit)
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|p| Cursor::encode(&p.slug).into_string()))
        .flatten();
    Ok(Json(AdminPublishersPage {
        items: items.iter().map(AdminPublisherView::from).collect(),
        next_cursor,
    }))
}

/// Verifies a publisher: the badge shows beside its name everywhere (admins).
#[utoipa::path(post, path = "/api/v1/admin/publishers/{slug}/verify", tag = "moderation",
    security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = AdminPublisherView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn verify(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
) -> AppResult<Json<AdminPublisherView>> {
    let publisher = state
        .moderation
        .set_verified(&p.actor(), &slug, true)
        .await?;
    Ok(Json(AdminPublisherView::from(&publisher)))
}

/// Withdraws a publisher's verification (admins).
#[utoipa::path(post, path = "/api/v1/admin/publishers/{slug}/unverify", tag = "moderation",
    security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = AdminPublisherView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn unverify(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
) -> AppResult<Json<AdminPublisherView>> {
    let publisher = state
        .moderation
        .set_verified(&p.actor(), &slug, false)
        .await?;
    Ok(Json(AdminPublisherView::from(&publisher)))
}

/// Suspends a publisher: its modules are hidden and publishing is refused (admins).
#[utoipa::path(post, path = "/api/v1/admin/publishers/{slug}/suspend", tag = "moderation",
    security(("bearer" = [])), params(("slug" = String, Path)), request_body = ReasonRequest,
    responses((status = 200, body = AdminPublisherView), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, description = "Missing reason", body = ErrorEnvelope)))]
pub async fn suspend(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> AppResult<Json<AdminPublisherView>> {
    let publisher = state
        .moderation
        .set_suspended(&p.actor(), &slug, Some(&req.reason))
        .await?;
    Ok(Json(AdminPublisherView::from(&publisher)))
}

/// Lifts a publisher's suspension (admins).
#[utoipa::path(post, path = "/api/v1/admin/publishers/{slug}/unsuspend", tag = "moderation",
    security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, body = AdminPublisherView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn unsuspend(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
) -> AppResult<Json<AdminPublisherView>> {
    let publisher = state
        .moderation
        .set_suspended(&p.actor(), &slug, None)
        .await?;
    Ok(Json(AdminPublisherView::from(&publisher)))
}

#[derive(Deserialize, ToSchema)]
pub struct VerificationRequest {
    /// Who the publisher is and how the moderators can check it.
    pub note: String,
}

/// Asks the marketplace to verify the publisher (owners).
#[utoipa::path(post, path = "/api/v1/publishers/{slug}/verification", tag = "moderation",
    security(("bearer" = [])), params(("slug" = String, Path)), request_body = VerificationRequest,
    responses((status = 202, body = PublisherView), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, description = "Already verified", body = ErrorEnvelope),
        (status = 422, description = "Missing note", body = ErrorEnvelope)))]
pub async fn request_verification(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<VerificationRequest>,
) -> AppResult<(axum::http::StatusCode, Json<PublisherView>)> {
    let publisher = state.catalog.owned_publisher(&p.user, &slug).await?;
    state
        .moderation
        .request_verification(&p.actor(), &publisher, &req.note)
        .await?;
    let publisher = state.catalog.publisher(&slug).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(PublisherView::from(&publisher)),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    /// `published`, `in_review`, `approved`, `rejected`, `quarantined`, `released`,
    /// `checks_failed`, `verified`, `unverified`, `suspended`, `reinstated`.
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub module: Option<String>,
    pub version: Option<String>,
    pub created_at: String,
    pub read: bool,
}

impl From<&PublisherMessage> for MessageView {
    fn from(m: &PublisherMessage) -> Self {
        Self {
            id: m.id,
            kind: m.kind.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            module: m.module_name.clone(),
            version: m.version.clone(),
            created_at: m.created_at.to_rfc3339(),
            read: m.read_at.is_some(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MessagesPage {
    pub items: Vec<MessageView>,
    pub unread: i64,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    pub before: Option<i64>,
    /// 1 to 200, default 50.
    #[serde(default, deserialize_with = "crate::extract::whole_number_limit")]
    pub limit: Option<u32>,
}

/// The publisher's notices (approvals, rejections, quarantines, ...), newest first (members; a
/// token needs `read`).
#[utoipa::path(get, path = "/api/v1/publishers/{slug}/messages", tag = "moderation",
    security(("bearer" = [])), params(("slug" = String, Path), MessagesQuery),
    responses((status = 200, body = MessagesPage), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 422, description = "`limit` outside 1 to 200", body = ErrorEnvelope)))]
pub async fn messages(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> AppResult<Json<MessagesPage>> {
    let (publisher, _) = state.catalog.membership(&p.user, &slug).await?;
    let limit = limit(q.limit)?;
    let (items, unread) = state
        .moderation
        .messages(&publisher, q.before, limit)
        .await?;
    let next_before = (items.len() == limit as usize)
        .then(|| items.last().map(|m| m.id))
        .flatten();
    Ok(Json(MessagesPage {
        items: items.iter().map(MessageView::from).collect(),
        unread,
        next_before,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct MarkReadRequest {
    /// Every message up to and including this id is marked read.
    pub up_to: i64,
}

/// Marks the publisher's notices read (members; a token needs `publish`).
#[utoipa::path(post, path = "/api/v1/publishers/{slug}/messages/read", tag = "moderation",
    security(("bearer" = [])), params(("slug" = String, Path)), request_body = MarkReadRequest,
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn mark_read(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<MarkReadRequest>,
) -> AppResult<axum::http::StatusCode> {
    let (publisher, _) = state.catalog.membership(&p.user, &slug).await?;
    state.moderation.mark_read(&publisher, req.up_to).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

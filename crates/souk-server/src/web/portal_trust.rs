//! The publisher's side of moderation in the portal: a version's page
//! (`/portal/modules/{name}/versions/{version}`) with its state, the reason, and the automated
//! checks' findings exactly as moderators see them, with the rescan and appeal forms; the
//! publisher's notices (approvals, rejections, quarantines, verification) with "mark all read";
//! and the verification request.
//!
//! Same shape as [`super::portal`]: CSRF, a signed-in member (asking for verification takes an
//! owner, as over the API), the moderation service, then back to the page with a flash.

use super::csrf::{CheckedForm, NoFields};
use super::portal_access::{ManagedModule, MemberOf};
use super::views::publisher_url;
use super::views::{ChecksPanel, date, status_label};
use super::{Layout, PageError, WebContext, back, render};
use crate::AppState;
use crate::error::AppResult;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use souk_core::Timestamp;
use souk_store::{Publisher, PublisherMessage, VersionStatus};

/// Notices per page on the publisher page.
const NOTICES: u32 = 20;

pub fn version_url(name: &str, version: &str) -> String {
    format!("/portal/modules/{name}/versions/{version}")
}

// ----- a version -----

#[derive(Template)]
#[template(path = "portal_version.html")]
struct VersionPage {
    layout: Layout,
    name: String,
    display_name: String,
    publisher_slug: String,
    publisher_name: String,
    version: String,
    uploaded: String,
    status_text: String,
    checks: ChecksPanel,
    can_rescan: bool,
    can_appeal: bool,
    /// A published or quarantined version has a public page.
    public_url: Option<String>,
}

pub async fn version(
    State(state): State<AppState>,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
    Path((_, version)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let access = state.catalog.module(Some(&user.user), &m.name).await?;
    let v = state.catalog.version(&access, &version).await?;
    let (findings, job) = state.moderation.checks_of(&v).await?;
    let s = v.status;
    render(&VersionPage {
        layout: Layout::new(format!("{} {} · portal", m.name, v.version), "portal", &ctx),
        public_url: matches!(s, VersionStatus::Published | VersionStatus::Quarantined)
            .then(|| format!("/modules/{}/versions/{}", m.name, v.version)),
        // A rejected version is appealed, not rescanned: a rescan would undo the decision.
        can_rescan: matches!(
            s,
            VersionStatus::PendingChecks | VersionStatus::PendingReview
        ),
        can_appeal: matches!(s, VersionStatus::Rejected | VersionStatus::Quarantined),
        status_text: status_label(s),
        checks: ChecksPanel::new(&v, &findings, job.as_ref()),
        uploaded: v.created_at.human(),
        version: v.version,
        name: m.name,
        display_name: m.display_name,
        publisher_slug: m.publisher_slug,
        publisher_name: m.publisher_name,
    })
}

pub async fn rescan(
    State(state): State<AppState>,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
    Path((_, version)): Path<(String, String)>,
    CheckedForm(NoFields {}): CheckedForm<NoFields>,
) -> Result<Response, PageError> {
    let result = state.moderation.rescan(&user.actor(), &m, &version).await;
    back(&ctx, &version_url(&m.name, &version), result, |v| {
        format!(
            "The checks run again on {} {}; this page shows what they find.",
            m.name, v.version
        )
    })
}

#[derive(Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    message: String,
}

pub async fn appeal(
    State(state): State<AppState>,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
    Path((_, version)): Path<(String, String)>,
    CheckedForm(form): CheckedForm<AppealForm>,
) -> Result<Response, PageError> {
    let result = state
        .moderation
        .appeal(&user.actor(), &m, &version, &form.message)
        .await;
    back(&ctx, &version_url(&m.name, &version), result, |v| {
        format!(
            "Your appeal on {} {} is with the moderators.",
            m.name, v.version
        )
    })
}

// ----- the publisher page's notices and verification -----

/// One notice to the publisher.
pub struct NoticeRow {
    pub subject: String,
    pub body: String,
    pub when: String,
    pub unread: bool,
    /// The version it is about, in the portal.
    pub link: Option<String>,
}

impl From<&PublisherMessage> for NoticeRow {
    fn from(m: &PublisherMessage) -> Self {
        Self {
            subject: m.subject.clone(),
            body: m.body.clone(),
            when: m.created_at.human(),
            unread: m.read_at.is_none(),
            link: match (&m.module_name, &m.version) {
                (Some(name), Some(v)) => Some(version_url(name, v)),
                _ => None,
            },
        }
    }
}

/// What the portal's publisher page shows of moderation.
pub struct PublisherTrust {
    pub notices: Vec<NoticeRow>,
    pub unread: i64,
    /// The newest notice shown: "mark all read" marks up to it, so that one arriving while the
    /// page was open stays unread.
    pub newest: Option<i64>,
    /// The page of older notices.
    pub older_url: Option<String>,
    pub verified_since: Option<String>,
    pub requested_on: Option<String>,
    pub request_note: String,
    pub suspended_since: Option<String>,
    pub suspension_reason: String,
}

impl PublisherTrust {
    pub async fn load(
        state: &AppState,
        p: &Publisher,
        before: Option<i64>,
    ) -> AppResult<PublisherTrust> {
        let (items, unread) = state.moderation.messages(p, before, NOTICES).await?;
        let older_url = (items.len() == NOTICES as usize)
            .then(|| items.last())
            .flatten()
            .map(|m| format!("{}?notices_before={}#notices", publisher_url(&p.slug), m.id));
        Ok(PublisherTrust {
            newest: items.first().map(|m| m.id),
            notices: items.iter().map(NoticeRow::from).collect(),
            unread,
            older_url,
            verified_since: p.verified_at.map(date),
            requested_on: p.verification_requested_at.map(Timestamp::human),
            request_note: p.verification_note.clone().unwrap_or_default(),
            suspended_since: p.suspended_at.map(date),
            suspension_reason: p.suspension_reason.clone().unwrap_or_default(),
        })
    }
}

/// How many notices of `p` are unread, for the portal's index.
pub async fn unread(state: &AppState, p: &Publisher) -> AppResult<i64> {
    Ok(state.moderation.messages(p, None, 1).await?.1)
}

#[derive(Deserialize)]
pub struct MarkReadForm {
    #[serde(default)]
    up_to: i64,
}

pub async fn mark_read(
    State(state): State<AppState>,
    ctx: WebContext,
    MemberOf { publisher: p, .. }: MemberOf,
    CheckedForm(form): CheckedForm<MarkReadForm>,
) -> Result<Response, PageError> {
    let result = state.moderation.mark_read(&p, form.up_to).await;
    back(&ctx, &publisher_url(&p.slug), result, |()| {
        "Notices marked read.".into()
    })
}

#[derive(Deserialize)]
pub struct VerificationForm {
    #[serde(default)]
    note: String,
}

pub async fn request_verification(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(slug): Path<String>,
    CheckedForm(form): CheckedForm<VerificationForm>,
) -> Result<Response, PageError> {
    let user = ctx.require_user()?;
    let p = state.catalog.owned_publisher(&user.user, &slug).await?;
    let result = state
        .moderation
        .request_verification(&user.actor(), &p, &form.note)
        .await;
    back(&ctx, &publisher_url(&p.slug), result, |()| {
        "Verification requested: an admin will look at your note.".into()
    })
}

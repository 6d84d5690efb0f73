//! The console's publishers (`/admin/publishers`): all of them, or those asking for
//! verification, verified or suspended, with each one's request note and suspension reason.
//! Admins verify and unverify, suspend (with a reason the publisher reads) and reinstate from
//! here; moderators see the same list without the forms. Each form goes back to the tab it was
//! sent from.

use super::console::Tab;
use super::csrf::CheckedForm;
use super::views::date;
use super::{Layout, PageError, WebContext, back, render};
use crate::AppState;
use crate::views::moderation::publisher_filter;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use souk_store::Publisher;

const PAGE: u32 = 50;

/// The filters, as the query string names them, with their tab labels.
const FILTERS: [(&str, &str); 4] = [
    ("all", "All"),
    ("verification_requested", "Verification requested"),
    ("verified", "Verified"),
    ("suspended", "Suspended"),
];

/// The list's address for `filter` (a known one; anything else is the whole list).
fn list_url(filter: &str) -> String {
    match FILTERS.iter().find(|(f, _)| *f == filter) {
        Some((f, _)) if *f != "all" => format!("/admin/publishers?filter={f}"),
        _ => "/admin/publishers".into(),
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    filter: Option<String>,
    after: Option<String>,
}

pub struct PublisherRow {
    pub slug: String,
    pub display_name: String,
    pub verified: Option<String>,
    /// When verification was asked for, and the publisher's note.
    pub requested: Option<String>,
    pub note: String,
    /// Since when, and why.
    pub suspended: Option<String>,
    pub suspension_reason: String,
    pub created: String,
}

impl From<&Publisher> for PublisherRow {
    fn from(p: &Publisher) -> Self {
        Self {
            slug: p.slug.clone(),
            display_name: p.display_name.clone(),
            verified: p.verified_at.map(date),
            requested: p.verification_requested_at.map(date),
            note: p.verification_note.clone().unwrap_or_default(),
            suspended: p.suspended_at.map(date),
            suspension_reason: p.suspension_reason.clone().unwrap_or_default(),
            created: date(p.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_publishers.html")]
struct ListPage {
    layout: Layout,
    tabs: Vec<Tab>,
    filter: &'static str,
    rows: Vec<PublisherRow>,
    next_url: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: WebContext,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let user = &ctx.require_staff()?.user;
    let raw = q.filter.as_deref().unwrap_or("all");
    let filter = publisher_filter(Some(raw))?;
    let name = FILTERS
        .iter()
        .find(|(f, _)| *f == raw)
        .map_or("all", |(f, _)| f);
    let after = q.after.as_deref().filter(|a| !a.is_empty());
    let items = state
        .moderation
        .publishers(user, filter, after, PAGE)
        .await?;
    let next_url = (items.len() == PAGE as usize)
        .then(|| items.last())
        .flatten()
        .map(|p| {
            let mut url = url::form_urlencoded::Serializer::new(String::new());
            url.append_pair("filter", name)
                .append_pair("after", &p.slug);
            format!("/admin/publishers?{}", url.finish())
        });
    render(&ListPage {
        layout: Layout::new("Publishers", "admin", &ctx),
        tabs: FILTERS
            .iter()
            .map(|(f, label)| Tab {
                label,
                href: list_url(f),
                current: *f == name,
            })
            .collect(),
        filter: name,
        rows: items.iter().map(PublisherRow::from).collect(),
        next_url,
    })
}

#[derive(Deserialize)]
pub struct PublisherForm {
    /// The tab to go back to.
    #[serde(default)]
    filter: String,
    /// For a suspension; the publisher reads it.
    #[serde(default)]
    reason: String,
}

#[derive(Clone, Copy)]
enum Change {
    Verify,
    Unverify,
    Suspend,
    Unsuspend,
}

async fn change(
    state: AppState,
    ctx: WebContext,
    slug: String,
    form: PublisherForm,
    change: Change,
) -> Result<Response, PageError> {
    // Moderators may look but not change: the service answers them 403, shown as the page.
    let actor = ctx.require_staff()?.actor();
    let user = &actor;
    let m = &state.moderation;
    let result = match change {
        Change::Verify => m.set_verified(user, &slug, true).await,
        Change::Unverify => m.set_verified(user, &slug, false).await,
        Change::Suspend => m.set_suspended(user, &slug, Some(&form.reason)).await,
        Change::Unsuspend => m.set_suspended(user, &slug, None).await,
    };
    if let Err(e @ crate::error::AppError::Forbidden(_)) = result {
        return Err(e.into());
    }
    back(&ctx, &list_url(&form.filter), result, |p| match change {
        Change::Verify => format!("{} is verified: the badge shows beside its name.", p.slug),
        Change::Unverify => format!("{} is no longer verified.", p.slug),
        Change::Suspend => format!(
            "{} is suspended: its modules are hidden and publishing is refused.",
            p.slug
        ),
        Change::Unsuspend => format!("{} is reinstated.", p.slug),
    })
}

pub async fn verify(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(slug): Path<String>,
    CheckedForm(form): CheckedForm<PublisherForm>,
) -> Result<Response, PageError> {
    change(state, ctx, slug, form, Change::Verify).await
}

pub async fn unverify(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(slug): Path<String>,
    CheckedForm(form): CheckedForm<PublisherForm>,
) -> Result<Response, PageError> {
    change(state, ctx, slug, form, Change::Unverify).await
}

pub async fn suspend(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(slug): Path<String>,
    CheckedForm(form): CheckedForm<PublisherForm>,
) -> Result<Response, PageError> {
    change(state, ctx, slug, form, Change::Suspend).await
}

pub async fn unsuspend(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(slug): Path<String>,
    CheckedForm(form): CheckedForm<PublisherForm>,
) -> Result<Response, PageError> {
    change(state, ctx, slug, form, Change::Unsuspend).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_go_back_to_a_known_tab_only() {
        assert_eq!(list_url("suspended"), "/admin/publishers?filter=suspended");
        assert_eq!(list_url("all"), "/admin/publishers");
        assert_eq!(list_url("https://evil.example/"), "/admin/publishers");
    }
}

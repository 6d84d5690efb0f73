//! The administrators' audit log page (`/admin/audit`): a filter form, the matching entries
//! newest first, a link to the next page, and the same filters as a CSV download
//! (`/admin/audit.csv`). Someone signed in who is not an administrator gets the 403 page; a
//! signed-out visitor is sent to sign in. A bad filter shows the form again with what is wrong.

use super::{Layout, PageError, WebContext, render};
use crate::AppState;
use crate::error::AppError;
use crate::views::audit::{AuditParams, csv_response};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use souk_store::AuditEntry;

pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target: String,
    pub client_addr: String,
    pub before: String,
    pub after: String,
}

impl From<&AuditEntry> for AuditRow {
    fn from(e: &AuditEntry) -> Self {
        let r = &e.record;
        let json =
            |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
        Self {
            id: e.id,
            at: r.at.to_rfc3339(),
            actor: r.actor.label().to_owned(),
            action: r.action.clone(),
            target_kind: r.target_kind.clone(),
            target: r.target.clone(),
            client_addr: r.client_addr.clone().unwrap_or_default(),
            before: json(&r.before),
            after: json(&r.after),
        }
    }
}

/// The filter form's values, as sent.
#[derive(Default)]
pub struct FilterValues {
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target: String,
    pub since: String,
    pub until: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    layout: Layout,
    filters: FilterValues,
    rows: Vec<AuditRow>,
    /// What is wrong with the filters, when something is.
    error: Option<String>,
    next_href: Option<String>,
    csv_href: String,
}

/// The filters as a query string (without paging), for the next-page and CSV links.
fn filter_query(q: &AuditParams) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("target_kind", &q.target_kind),
        ("target", &q.target),
        ("since", &q.since),
        ("until", &q.until),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            out.append_pair(k, v);
        }
    }
    out.finish()
}

/// `base` with the filters `query` and the `extra` pairs.
fn href(base: &str, query: &str, extra: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(query.to_owned());
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    let q = q.finish();
    if q.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{q}")
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: WebContext,
    Query(q): Query<AuditParams>,
) -> Result<Response, PageError> {
    let user = ctx.require_user()?;
    let query = filter_query(&q);
    let filters = FilterValues {
        actor: q.actor.clone().unwrap_or_default(),
        action: q.action.clone().unwrap_or_default(),
        target_kind: q.target_kind.clone().unwrap_or_default(),
        target: q.target.clone().unwrap_or_default(),
        since: q.since.clone().unwrap_or_default(),
        until: q.until.clone().unwrap_or_default(),
    };
    let (rows, next, error) = match state
        .audit
        .page(
            &user.user,
            &q.query(),
            q.cursor.as_deref(),
            q.limit.as_deref(),
        )
        .await
    {
        Ok(page) => (page.items, page.next_cursor, None),
        Err(e @ (AppError::Unprocessable { .. } | AppError::BadRequest { .. })) => {
            (Vec::new(), None, Some(e.public_message()))
        }
        Err(e) => return Err(e.into()),
    };
    let page = AuditPage {
        layout: Layout::new("Audit log", "audit", &ctx),
        filters,
        rows: rows.iter().map(AuditRow::from).collect(),
        next_href: next.map(|c| {
            let limit = q.limit.as_deref().map(str::trim).filter(|l| !l.is_empty());
            match limit {
                Some(l) => href("/admin/audit", &query, &[("limit", l), ("cursor", &c)]),
                None => href("/admin/audit", &query, &[("cursor", &c)]),
            }
        }),
        csv_href: href("/admin/audit.csv", &query, &[]),
        error: error.clone(),
    };
    let resp = render(&page)?;
    Ok(match error {
        Some(_) => (StatusCode::UNPROCESSABLE_ENTITY, resp).into_response(),
        None => resp,
    })
}

/// The CSV export for a signed-in administrator (the API's `/api/v1/admin/audit.csv` takes a
/// bearer token instead).
pub async fn csv(
    State(state): State<AppState>,
    ctx: WebContext,
    Query(q): Query<AuditParams>,
) -> Result<Response, PageError> {
    let user = ctx.require_user()?;
    let (body, next) = state
        .audit
        .csv(&user.user, &q.query(), q.cursor.as_deref())
        .await?;
    Ok(csv_response(body, next))
}

//! The audit log over the API (admins): a filtered, cursor-paged list, and the same filters as
//! a CSV download.

use crate::AppState;
use crate::error::{AppResult, ErrorEnvelope};
use crate::extract::{ApiQuery, ApiUser};
use crate::services::audit::AuditQuery;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use souk_store::AuditEntry;
use utoipa::{IntoParams, ToSchema};

/// The filters (all optional; every one given must match), paging, and page size.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Whose actions: a user id, an email (as it was when they acted), `system` (workers and
    /// `souk admin`) or `anonymous` (failed sign-ins).
    pub actor: Option<String>,
    /// An action (`version.approve`) or a prefix ending in `.` or `*` (`version.`, `version.*`).
    pub action: Option<String>,
    /// `version`, `publisher`, `user`, `token`, `publisher_key`, `category`, `featured`,
    /// `search_index`.
    pub target_kind: Option<String>,
    /// The target's label, exactly: `economy@1.2.0`, a publisher's slug, an email, a token id.
    pub target: Option<String>,
    /// RFC 3339; entries at or after it.
    pub since: Option<String>,
    /// RFC 3339; entries at or before it.
    pub until: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50). Not used by the CSV export.
    pub limit: Option<String>,
}

impl AuditParams {
    pub fn query(&self) -> AuditQuery<'_> {
        AuditQuery {
            actor: self.actor.as_deref(),
            action: self.action.as_deref(),
            target_kind: self.target_kind.as_deref(),
            target: self.target.as_deref(),
            since: self.since.as_deref(),
            until: self.until.as_deref(),
        }
    }
}

/// One entry of the audit log.
#[derive(Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// The acting user's id; null for `system` and `anonymous`.
    pub actor_id: Option<i64>,
    /// The acting user's email at the time, `system` or `anonymous`.
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target: String,
    /// The client address the request came from; null for `system`.
    pub client_addr: Option<String>,
    /// The relevant fields before the action.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The relevant fields after it.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<&AuditEntry> for AuditEntryView {
    fn from(e: &AuditEntry) -> Self {
        let r = &e.record;
        Self {
            id: e.id,
            at: r.at.to_rfc3339(),
            actor_id: r.actor.id(),
            actor: r.actor.label().to_owned(),
            action: r.action.clone(),
            target_kind: r.target_kind.clone(),
            target: r.target.clone(),
            client_addr: r.client_addr.clone(),
            before: r.before.clone(),
            after: r.after.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditPageView {
    /// Newest first.
    pub items: Vec<AuditEntryView>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// The audit log, newest first (admins): every moderation, admin and security-relevant action.
#[utoipa::path(operation_id = "list_audit_entries", get, path = "/api/v1/admin/audit", tag = "audit", security(("bearer" = [])),
    params(AuditParams),
    responses((status = 200, body = AuditPageView),
        (status = 400, description = "Tampered cursor", body = ErrorEnvelope),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or a token without the admin scope", body = ErrorEnvelope),
        (status = 422, description = "A bad filter or limit; `details.field` names it", body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> AppResult<Json<AuditPageView>> {
    let page = state
        .audit
        .page(&p.user, &q.query(), q.cursor.as_deref(), q.limit.as_deref())
        .await?;
    Ok(Json(AuditPageView {
        items: page.items.iter().map(AuditEntryView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The header that carries the cursor to continue a CSV export from, when it stopped at
/// [`crate::services::audit::MAX_CSV_ROWS`] rows.
pub const NEXT_CURSOR_HEADER: &str = "souk-next-cursor";

/// The audit log as CSV (admins), with the same filters; newest first, at most 10,000 rows. When
/// more match, the `Souk-Next-Cursor` header holds the `cursor` to export the rest from. Columns:
/// `id,at,actor_id,actor,action,target_kind,target,client_addr,before,after` (before and after as
/// JSON).
#[utoipa::path(get, path = "/api/v1/admin/audit.csv", tag = "audit", security(("bearer" = [])),
    params(AuditParams),
    responses((status = 200, description = "RFC 4180 CSV with a header row", content_type = "text/csv", body = String,
            headers(("Souk-Next-Cursor" = String, description = "Present when the export stopped at 10,000 rows"))),
        (status = 400, description = "Tampered cursor", body = ErrorEnvelope),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or a token without the admin scope", body = ErrorEnvelope),
        (status = 422, description = "A bad filter; `details.field` names it", body = ErrorEnvelope)))]
pub async fn csv(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> AppResult<Response> {
    let (body, next) = state
        .audit
        .csv(&p.user, &q.query(), q.cursor.as_deref())
        .await?;
    Ok(csv_response(body, next))
}

/// A CSV download, with the continuation cursor when there is one.
pub fn csv_response(body: String, next_cursor: Option<String>) -> Response {
    let mut resp = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"souk-audit.csv\"",
            ),
        ],
        body,
    )
        .into_response();
    if let Some(v) = next_cursor.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut()
            .insert(HeaderName::from_static(NEXT_CURSOR_HEADER), v);
    }
    resp
}

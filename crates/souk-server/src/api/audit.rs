//! The audit log over the API (admins): a filtered, cursor-paged list, and the same filters as
//! a CSV download.

use crate::AppState;
use crate::error::{AppResult, ErrorEnvelope};
use crate::extract::{ApiQuery, ApiUser};
use crate::views::audit::{AuditParams, csv_response};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use souk_store::AuditEntry;
use utoipa::ToSchema;

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

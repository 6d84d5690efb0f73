//! The audit log as clients read it: the filters both the API and the admin page take, and the
//! CSV export's answer.

use crate::services::audit::AuditQuery;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

/// The header that carries the cursor to continue a CSV export from, when it stopped at
/// [`crate::services::audit::MAX_CSV_ROWS`] rows.
pub const NEXT_CURSOR_HEADER: &str = "souk-next-cursor";

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

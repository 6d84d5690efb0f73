//! The audit log: who did which moderation, admin or security-relevant action, on what, when,
//! from where, and the relevant fields before and after.
//!
//! Convention: a service that changes something worth auditing takes an [`Actor`] (the user and
//! the client address the request came from) and appends one entry per change in the same unit
//! of work as the change ([`souk_store::Store::begin`]): both are stored, or neither. Entries
//! are never changed or deleted; the database refuses it (see migration 0007).

use crate::error::{AppError, AppResult};
use souk_core::Timestamp;
use souk_store::{
    ActionFilter, ActorFilter, AuditActor, AuditEntry, AuditFilter, DynStore, NewAuditEntry, User,
};

/// The client address of an action that came from no network client: the demo loader or the
/// server acting on a user's behalf.
pub const LOCAL_ADDR: &str = "local";

/// Who acts, and the client address their request came from.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user: &'a User,
    pub client_addr: &'a str,
}

impl<'a> Actor<'a> {
    pub fn new(user: &'a User, client_addr: &'a str) -> Self {
        Self { user, client_addr }
    }

    /// An entry by this actor, without snapshots: set `before` and `after` with struct update
    /// syntax.
    pub fn entry(
        &self,
        action: &str,
        target_kind: &str,
        target: impl Into<String>,
    ) -> NewAuditEntry {
        NewAuditEntry {
            actor: AuditActor::User {
                id: self.user.id,
                email: self.user.email.as_str().to_owned(),
            },
            client_addr: Some(self.client_addr.to_owned()),
            ..system_entry(action, target_kind, target)
        }
    }
}

/// An entry by Souk itself: a background worker, or `souk admin` on the command line.
pub fn system_entry(action: &str, target_kind: &str, target: impl Into<String>) -> NewAuditEntry {
    NewAuditEntry {
        at: Timestamp::now(),
        actor: AuditActor::System,
        action: action.to_owned(),
        target_kind: target_kind.to_owned(),
        target: target.into(),
        client_addr: None,
        before: None,
        after: None,
    }
}

/// How a version is named in the log: `name@version`.
pub fn version_label(module: &str, version: &str) -> String {
    format!("{module}@{version}")
}

#[derive(Clone)]
pub struct AuditLog {
    store: DynStore,
}

impl AuditLog {
    pub fn new(store: DynStore) -> Self {
        Self { store }
    }

    /// A page of entries, newest first (admins only).
    pub async fn list(
        &self,
        user: &User,
        filter: &AuditFilter,
        before_id: Option<i64>,
        limit: u32,
    ) -> AppResult<Vec<AuditEntry>> {
        require_auditor(user)?;
        Ok(self.store.list_audit(filter, before_id, limit).await?)
    }
}

/// Only admins read the log: it holds every account's sign-in failures and client addresses.
pub fn require_auditor(user: &User) -> AppResult<()> {
    crate::policy::require_admin(user, "may read the audit log")
}

/// The most entries one page lists, and the default.
pub const MAX_PAGE: u32 = 200;
pub const DEFAULT_PAGE: u32 = 50;
/// The most rows one CSV export holds; past it the export names the cursor to continue from.
pub const MAX_CSV_ROWS: usize = 10_000;

/// The filters as a client sends them (query string or form); empty means absent.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditQuery<'a> {
    /// A user id, an email, `system` or `anonymous`.
    pub actor: Option<&'a str>,
    /// An action name, or a prefix ending in `.` (`version.`) or `*` (`version.*`).
    pub action: Option<&'a str>,
    pub target_kind: Option<&'a str>,
    pub target: Option<&'a str>,
    /// RFC 3339, inclusive.
    pub since: Option<&'a str>,
    /// RFC 3339, inclusive.
    pub until: Option<&'a str>,
}

fn bad(field: &'static str, code: &'static str, message: impl Into<String>) -> AppError {
    AppError::unprocessable(code, field, message)
}

/// A filter that was given: trimmed, and not empty (a form sends its empty fields).
fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

impl AuditQuery<'_> {
    /// Checks every filter (422 naming the first bad one) and answers the store's filter.
    pub fn filter(&self) -> AppResult<AuditFilter> {
        let actor = match present(self.actor) {
            None => None,
            Some(a) if a == AuditActor::SYSTEM || a == AuditActor::ANONYMOUS => {
                Some(ActorFilter::Label(a.to_owned()))
            }
            Some(a) if a.bytes().all(|b| b.is_ascii_digit()) => {
                Some(ActorFilter::Id(a.parse().map_err(|_| {
                    bad("actor", "invalid_actor", "the user id is too large")
                })?))
            }
            Some(a) => Some(ActorFilter::Label(
                souk_core::Email::parse(a)
                    .map_err(|_| {
                        bad(
                            "actor",
                            "invalid_actor",
                            "give a user id, an email address, `system` or `anonymous`",
                        )
                    })?
                    .as_str()
                    .to_owned(),
            )),
        };
        let action = match present(self.action) {
            None => None,
            Some(a) => {
                let (name, prefix) = match a.strip_suffix('*') {
                    Some(p) => (p, true),
                    None => (a, a.ends_with('.')),
                };
                let words = name.strip_suffix('.').unwrap_or(name);
                if name.len() > 100 || !words.split('.').all(is_name) {
                    return Err(bad(
                        "action",
                        "invalid_action",
                        "give an action such as `version.approve`, or a prefix such as `version.`",
                    ));
                }
                Some(if prefix {
                    ActionFilter::Prefix(name.to_owned())
                } else {
                    ActionFilter::Exact(name.to_owned())
                })
            }
        };
        let target_kind = match present(self.target_kind) {
            Some(k) if k.len() > 40 || !is_name(k) => {
                return Err(bad(
                    "target_kind",
                    "invalid_target_kind",
                    "give a kind such as `version`, `publisher` or `user`",
                ));
            }
            k => k.map(str::to_owned),
        };
        let target = match present(self.target) {
            Some(t) if t.chars().count() > 300 => {
                return Err(bad("target", "invalid_target", "at most 300 characters"));
            }
            t => t.map(str::to_owned),
        };
        let time = |field: &'static str, v: Option<&str>| -> AppResult<Option<Timestamp>> {
            present(v)
                .map(|t| {
                    Timestamp::parse_rfc3339(t).ok_or_else(|| {
                        bad(
                            field,
                            "invalid_time",
                            "give an RFC 3339 time such as 2025-01-31T23:59:59Z",
                        )
                    })
                })
                .transpose()
        };
        let since = time("since", self.since)?;
        let until = time("until", self.until)?;
        if let (Some(s), Some(u)) = (since, until)
            && s > u
        {
            return Err(bad("until", "invalid_time", "`until` is before `since`"));
        }
        Ok(AuditFilter {
            actor,
            action,
            target_kind,
            target,
            since,
            until,
        })
    }
}

/// A page of entries and the cursor of the next one.
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// Reads a cursor this module issued (400 when it was tampered with, as everywhere).
fn before_id(cursor: Option<&str>) -> AppResult<Option<i64>> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| {
            souk_core::Cursor::decode::<i64>(c)
                .map_err(|e| AppError::bad_request("invalid_cursor", e.to_string()))
        })
        .transpose()
}

fn cursor_after(items: &[AuditEntry]) -> Option<String> {
    items
        .last()
        .map(|e| souk_core::Cursor::encode(&e.id).into_string())
}

impl AuditLog {
    /// One page for the API and the admin page: admins only, then the filters, cursor and
    /// limit (1 to [`MAX_PAGE`]) are checked.
    pub async fn page(
        &self,
        user: &User,
        query: &AuditQuery<'_>,
        cursor: Option<&str>,
        limit: Option<&str>,
    ) -> AppResult<AuditPage> {
        require_auditor(user)?;
        let filter = query.filter()?;
        let limit = match limit.map(str::trim).filter(|l| !l.is_empty()) {
            None => DEFAULT_PAGE,
            Some(l) => l
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    bad(
                        "limit",
                        "invalid_limit",
                        format!("limit must be between 1 and {MAX_PAGE}"),
                    )
                })?,
        };
        let before = before_id(cursor)?;
        let items = self.list(user, &filter, before, limit).await?;
        let next_cursor = (items.len() == limit as usize)
            .then(|| cursor_after(&items))
            .flatten();
        Ok(AuditPage { items, next_cursor })
    }

    /// The CSV export (admins): every matching entry, newest first, up to [`MAX_CSV_ROWS`]; when
    /// more match, also answers the cursor to export the rest from.
    pub async fn csv(
        &self,
        user: &User,
        query: &AuditQuery<'_>,
        cursor: Option<&str>,
    ) -> AppResult<(String, Option<String>)> {
        require_auditor(user)?;
        let filter = query.filter()?;
        let mut before = before_id(cursor)?;
        let mut out = String::from(
            "id,at,actor_id,actor,action,target_kind,target,client_addr,before,after\r\n",
        );
        let mut rows = 0;
        loop {
            let want = (MAX_CSV_ROWS - rows).min(MAX_PAGE as usize) as u32;
            let page = self.list(user, &filter, before, want).await?;
            for e in &page {
                write_csv_row(&mut out, e);
            }
            rows += page.len();
            if page.len() < want as usize {
                return Ok((out, None));
            }
            if rows == MAX_CSV_ROWS {
                return Ok((out, cursor_after(&page)));
            }
            before = page.last().map(|e| e.id);
        }
    }
}

fn write_csv_row(out: &mut String, e: &AuditEntry) {
    let r = &e.record;
    let json =
        |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    let fields = [
        e.id.to_string(),
        r.at.to_rfc3339(),
        r.actor.id().map(|id| id.to_string()).unwrap_or_default(),
        r.actor.label().to_owned(),
        r.action.clone(),
        r.target_kind.clone(),
        r.target.clone(),
        r.client_addr.clone().unwrap_or_default(),
        json(&r.before),
        json(&r.after),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(f));
    }
    out.push_str("\r\n");
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
/// A field a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return: a typed sign-in address can) gets a leading `'`, as OWASP advises, so that
/// opening the export cannot execute what an attacker typed.
pub fn csv_field(raw: &str) -> std::borrow::Cow<'_, str> {
    let formula = raw.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if !formula && !raw.contains([',', '"', '\n', '\r']) {
        return raw.into();
    }
    let defused = if formula { "'" } else { "" };
    format!("\"{defused}{}\"", raw.replace('"', "\"\"")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("@sum"), "\"'@sum\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn filters_are_checked_field_by_field() {
        let ok = AuditQuery {
            actor: Some("Ada@Example.com"),
            action: Some("version.*"),
            target_kind: Some("version"),
            target: Some("economy@1.2.0"),
            since: Some("2025-01-01T00:00:00Z"),
            until: Some(""),
        }
        .filter()
        .unwrap();
        assert_eq!(ok.actor, Some(ActorFilter::Label("ada@example.com".into())));
        assert_eq!(ok.action, Some(ActionFilter::Prefix("version.".into())));
        assert_eq!(ok.until, None, "an empty field is no filter");
        let exact = AuditQuery {
            actor: Some("42"),
            action: Some("user.login_failed"),
            ..Default::default()
        }
        .filter()
        .unwrap();
        assert_eq!(exact.actor, Some(ActorFilter::Id(42)));
        assert_eq!(
            exact.action,
            Some(ActionFilter::Exact("user.login_failed".into()))
        );
        let field_of = |q: AuditQuery<'_>| match q.filter() {
            Err(AppError::Unprocessable { field, .. }) => field,
            other => panic!("expected a 422, got {other:?}"),
        };
        let q = AuditQuery::default;
        assert_eq!(
            field_of(AuditQuery {
                actor: Some("not an email"),
                ..q()
            }),
            "actor"
        );
        assert_eq!(
            field_of(AuditQuery {
                action: Some("Version.Approve"),
                ..q()
            }),
            "action"
        );
        assert_eq!(
            field_of(AuditQuery {
                action: Some("version..x"),
                ..q()
            }),
            "action"
        );
        assert_eq!(
            field_of(AuditQuery {
                target_kind: Some("ver sion"),
                ..q()
            }),
            "target_kind"
        );
        assert_eq!(
            field_of(AuditQuery {
                since: Some("yesterday"),
                ..q()
            }),
            "since"
        );
        assert_eq!(
            field_of(AuditQuery {
                since: Some("2025-02-01T00:00:00Z"),
                until: Some("2025-01-01T00:00:00Z"),
                ..q()
            }),
            "until"
        );
    }
}

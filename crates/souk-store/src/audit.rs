//! The audit log: an append-only record of every moderation, admin and security-relevant action
//! (who, what, on which target, when, from which client address, the relevant fields before and
//! after).
//!
//! Append-only is enforced by the database, not by convention: both backends' migrations put
//! triggers on `audit_log` that refuse every UPDATE and DELETE, so this trait has no way to change
//! an entry and a statement issued by hand fails too. Entries are listed newest first and paged
//! by id.

use crate::StoreResult;
use souk_core::Timestamp;

/// Who acted, as recorded. The email is the one the user had at the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditActor {
    User {
        id: i64,
        email: String,
    },
    /// Background workers and the command line (`souk admin ...`).
    System,
    /// A caller that is not signed in (a failed sign-in).
    Anonymous,
}

impl AuditActor {
    pub const SYSTEM: &'static str = "system";
    pub const ANONYMOUS: &'static str = "anonymous";

    pub fn id(&self) -> Option<i64> {
        match self {
            AuditActor::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The email, `system` or `anonymous`.
    pub fn label(&self) -> &str {
        match self {
            AuditActor::User { email, .. } => email,
            AuditActor::System => Self::SYSTEM,
            AuditActor::Anonymous => Self::ANONYMOUS,
        }
    }

    /// Reads back the stored columns.
    pub fn from_stored(id: Option<i64>, label: String) -> Self {
        match id {
            Some(id) => AuditActor::User { id, email: label },
            None if label == Self::SYSTEM => AuditActor::System,
            None => AuditActor::Anonymous,
        }
    }
}

/// An entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    pub at: Timestamp,
    pub actor: AuditActor,
    /// Stable, dotted: `version.approve`, `publisher.suspend`, `user.login_failed`, ...
    pub action: String,
    /// `version`, `publisher`, `user`, `token`, `publisher_key`, `category`, `featured`, ...
    pub target_kind: String,
    /// The target's stable label: `economy@1.2.0`, a publisher's slug, an email, a token id.
    pub target: String,
    pub client_addr: Option<String>,
    /// The relevant fields before and after, as JSON objects.
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A stored entry: its id (the order entries were appended in) and what was appended.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub record: NewAuditEntry,
}

/// Whose entries: a user by id, or by the label recorded (an email, `system`, `anonymous`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorFilter {
    Id(i64),
    Label(String),
}

/// Which actions: one by name, or every name starting with a prefix (`version.`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionFilter {
    Exact(String),
    Prefix(String),
}

/// What to list; every field set narrows the list (all must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<ActorFilter>,
    pub action: Option<ActionFilter>,
    pub target_kind: Option<String>,
    pub target: Option<String>,
    /// Inclusive.
    pub since: Option<Timestamp>,
    /// Inclusive.
    pub until: Option<Timestamp>,
}

#[async_trait::async_trait]
pub trait AuditStore {
    /// Appends an entry and answers it as stored.
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<AuditEntry>;
    /// Entries matching `filter`, newest first, with ids below `before_id` (the last id of the
    /// previous page), at most `limit`.
    async fn list_audit(
        &self,
        filter: &AuditFilter,
        before_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;
}

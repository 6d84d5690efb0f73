//! Where SQLite and PostgreSQL differ, written once. Everything else in the store is one SQL
//! text that both accept; the shared code reads these constants by the sqlx database's name
//! ([`Dialect::of`]) instead of branching on the backend anywhere else.

/// The statements that are not the same on both databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// How a transaction starts. SQLite takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads and then writes cannot wait for another writer (it fails
    /// with `SQLITE_BUSY` at once), where `IMMEDIATE` waits its turn as PostgreSQL's does, so
    /// two conflicting transactions end the same way on both.
    pub begin: &'static str,
    /// Appended to the job claim's inner `SELECT`: on PostgreSQL nodes claiming at once skip a
    /// row another claim has locked instead of queueing on it; SQLite's one writer serializes
    /// claims by itself and has no such clause.
    pub claim_lock: &'static str,
    /// Run in a unit of work just before its commit. PostgreSQL answers `COMMIT` on a
    /// transaction a failed statement aborted by rolling it back, without an error; this
    /// statement fails there instead, so the unit reports the failure. SQLite needs none: a
    /// failed statement leaves its transaction usable.
    pub commit_check: Option<&'static str>,
    /// Taken first in every migration's transaction, so that nodes starting together migrate
    /// once (PostgreSQL's transaction-scoped advisory lock; SQLite's one writer needs none).
    pub migration_lock: Option<&'static str>,
}

pub const SQLITE: Dialect = Dialect {
    begin: "BEGIN IMMEDIATE",
    claim_lock: "",
    commit_check: None,
    migration_lock: None,
};

pub const POSTGRES: Dialect = Dialect {
    begin: "BEGIN",
    claim_lock: " FOR UPDATE SKIP LOCKED",
    commit_check: Some("SELECT 1"),
    // Any fixed number the nodes agree on: it names Souk's migration lock.
    migration_lock: Some("SELECT pg_advisory_xact_lock(50073610)"),
};

impl Dialect {
    /// The dialect of the sqlx database named `name` (`sqlx::Database::NAME`).
    pub const fn of(name: &str) -> Dialect {
        let (a, b) = (name.as_bytes(), b"PostgreSQL");
        if a.len() != b.len() {
            return SQLITE;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return SQLITE;
            }
            i += 1;
        }
        POSTGRES
    }
}

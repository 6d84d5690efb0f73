//! The SQLite store: Souk's embedded default, one file in the data directory.
//!
//! Durability: WAL journal with `synchronous = FULL`, so a transaction that has committed is on
//! disk before the commit returns; it survives a crash of the process and, on storage that honours
//! fsync, a loss of power. Foreign keys are on; writers wait up to five seconds for the lock.

use souk_store::{Migration, PoolStats, Store};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "accounts",
        sql: include_str!("../migrations/0001_accounts.sql"),
    },
    Migration {
        version: 2,
        name: "catalog",
        sql: include_str!("../migrations/0002_catalog.sql"),
    },
    Migration {
        version: 3,
        name: "discovery",
        sql: include_str!("../migrations/0003_discovery.sql"),
    },
    Migration {
        version: 4,
        name: "signatures",
        sql: include_str!("../migrations/0004_signatures.sql"),
    },
    Migration {
        version: 5,
        name: "moderation",
        sql: include_str!("../migrations/0005_moderation.sql"),
    },
    Migration {
        version: 6,
        name: "publisher_keys",
        sql: include_str!("../migrations/0006_publisher_keys.sql"),
    },
    Migration {
        version: 7,
        name: "audit",
        sql: include_str!("../migrations/0007_audit.sql"),
    },
    Migration {
        version: 8,
        name: "token_parents",
        sql: include_str!("../migrations/0008_token_parents.sql"),
    },
    Migration {
        version: 9,
        name: "dead_jobs",
        sql: include_str!("../migrations/0009_dead_jobs.sql"),
    },
    Migration {
        version: 10,
        name: "outbox",
        sql: include_str!("../migrations/0010_outbox.sql"),
    },
];

pub struct SqliteStore {
    pool: SqlitePool,
    /// Set on a store handed out as a unit of work.
    unit: Option<TxSlot>,
}

souk_store::sql_store_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_catalog_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_version_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_discovery_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_trust_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_moderation_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_job_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_outbox_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_publisher_key_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_audit_impls!(SqliteStore, sqlx::Sqlite);

impl SqliteStore {
    /// Opens (creating if missing) the database a `sqlite://PATH` URL names. Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid SQLite URL: {e}").into()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let path = options.get_filename().display().to_string();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Backend(format!("cannot open SQLite database {path}: {e}").into())
            })?;
        Ok(Self::pooled(pool))
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<souk_store::Tx, StoreError> {
        self.begin_unit().await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        run_migrations(self.pool.clone(), MIGRATIONS).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: self.pool.num_idle() as u32,
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn schema(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let mut out = Vec::with_capacity(tables.len());
        for t in tables {
            let mut cols: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                    .bind(&t)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
            cols.sort();
            out.push((t, cols));
        }
        Ok(out)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Migration 5 rebuilds `versions` (SQLite cannot widen a CHECK in place). Rows that point
    /// at versions must survive it: with foreign keys on, dropping the old table would have
    /// cascaded into them.
    #[tokio::test]
    async fn the_versions_rebuild_keeps_rows_that_point_at_versions() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("souk.db").display());
        let store = SqliteStore::connect(&url).await.unwrap();
        run_migrations(store.pool.clone(), &MIGRATIONS[..4])
            .await
            .unwrap();
        for sql in [
            "INSERT INTO users (email, display_name, role, password_hash, created_at, updated_at) \
             VALUES ('a@example.com', 'A', 'user', 'x', 1, 1)",
            "INSERT INTO publishers (slug, display_name, created_at, updated_at) VALUES ('acme', 'Acme', 1, 1)",
            "INSERT INTO modules (name, name_normalized, publisher_id, display_name, visibility, created_at, updated_at) \
             VALUES ('shop', 'shop', 1, 'Shop', 'public', 1, 1)",
            "INSERT INTO versions (module_id, version, prerelease, status, sha256, size, format, unpacked_size, \
             license, description, platform, manifest, files, published_by, created_at) \
             VALUES (1, '1.0.0', 0, 'published', 'ab', 1, 'zip', 1, 'MIT', 'd', '*', 'm', '[]', 1, 7)",
            "INSERT INTO version_dependencies (version_id, name, req) VALUES (1, 'core', '^1')",
            "INSERT INTO download_counts (version_id, day, count) VALUES (1, 20000, 3)",
        ] {
            sqlx::query(sql).execute(&store.pool).await.unwrap();
        }
        store.migrate().await.unwrap();
        let deps: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM version_dependencies")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        let counts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM download_counts")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!((deps, counts), (1, 1));
        let (status, published_at): (String, Option<i64>) =
            sqlx::query_as("SELECT status, published_at FROM versions WHERE id = 1")
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert_eq!((status.as_str(), published_at), ("published", Some(7)));
        // Foreign keys are on again on every pooled connection: a dangling row is refused.
        for _ in 0..3 {
            let dangling = sqlx::query(
                "INSERT INTO version_dependencies (version_id, name, req) VALUES (99, 'x', '*')",
            )
            .execute(&store.pool)
            .await;
            assert!(dangling.is_err());
        }
        // The new states are accepted and unknown ones refused.
        sqlx::query("UPDATE versions SET status = 'quarantined' WHERE id = 1")
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(
            sqlx::query("UPDATE versions SET status = 'gone' WHERE id = 1")
                .execute(&store.pool)
                .await
                .is_err()
        );
        // The search triggers came back with the table.
        let changes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM search_changes")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert!(changes >= 2, "insert and status change logged: {changes}");
    }
}

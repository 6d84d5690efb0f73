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
        version: 6,
        name: "publisher_keys",
        sql: include_str!("../migrations/0006_publisher_keys.sql"),
    },
];

pub struct SqliteStore {
    pool: SqlitePool,
}

souk_store::sql_store_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_catalog_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_discovery_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_trust_impls!(SqliteStore, sqlx::Sqlite);
souk_store::sql_publisher_key_impls!(SqliteStore, sqlx::Sqlite);

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
        Ok(Self { pool })
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        run_migrations(self.pool.clone(), MIGRATIONS, None).await
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

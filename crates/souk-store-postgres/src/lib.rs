//! The PostgreSQL store, for production and for several server nodes sharing one database.
//!
//! Migrations take a transaction-scoped advisory lock so that nodes starting together migrate
//! once. The SQL is shared with SQLite through [`souk_store::sql_store_impls!`].

pub mod testing;

use souk_store::{Migration, PoolStats, Store};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
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

pub struct PostgresStore {
    pool: PgPool,
    /// Set on a store handed out as a unit of work.
    unit: Option<TxSlot>,
}

souk_store::sql_store_impls!(PostgresStore, sqlx::Postgres);
souk_store::sql_catalog_impls!(PostgresStore, sqlx::Postgres);
souk_store::sql_version_impls!(PostgresStore, sqlx::Postgres);
souk_store::sql_discovery_impls!(PostgresStore, sqlx::Postgres);
souk_store::sql_trust_impls!(PostgresStore, sqlx::Postgres);
souk_store::sql_moderation_impls!(PostgresStore, sqlx::Postgres);
souk_store::sql_job_impls!(PostgresStore, sqlx::Postgres);
souk_store::sql_outbox_impls!(PostgresStore, sqlx::Postgres);
souk_store::sql_publisher_key_impls!(PostgresStore, sqlx::Postgres);
souk_store::sql_audit_impls!(PostgresStore, sqlx::Postgres);

impl PostgresStore {
    /// Connects to the database a `postgres://` URL names. Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}").into()))?
            .application_name("souk");
        let target = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("(default)")
        );
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Backend(format!("cannot connect to PostgreSQL at {target}: {e}").into())
            })?;
        Ok(Self::pooled(pool))
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn begin(&self) -> Result<souk_store::Tx, StoreError> {
        self.begin_unit().await
    }

    fn backend(&self) -> &'static str {
        "postgres"
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
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() ORDER BY table_name, column_name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (table, column) in rows {
            match out.last_mut() {
                Some((t, cols)) if *t == table => cols.push(column),
                _ => out.push((table, vec![column])),
            }
        }
        Ok(out)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

//! The store's SQL, written once. Both backends accept the same text for everything here
//! (`$N` placeholders, `RETURNING`, integer times), so each backend crate expands
//! [`sql_store_impls!`] with its own sqlx database type and adds only what differs: connection
//! set-up and schema introspection. Where the SQL itself differs, it reads [`crate::dialect`].
//!
//! The macro expects `sqlx`, `tokio` and `async_trait` in the expanding crate, and on the store
//! type a `pool: sqlx::Pool<DB>` field and a `unit: Option<TxSlot>` field (the open transaction
//! of a unit of work; `None` on the store `connect` makes). Every statement runs on
//! `self.conn()`, so the same code serves a store and a unit of work.

/// Expands the shared trait implementations for `$store` over the sqlx database `$db`.
#[macro_export]
macro_rules! sql_store_impls {
    ($store:ty, $db:ty) => {
        use ::sqlx::Row as _;
        use $crate::{StoreError, StoreResult};
        use ::souk_core::{Email, PasswordHash, Role, Scopes, Timestamp};

        type DbRow = <$db as ::sqlx::Database>::Row;
        type DbConnection = <$db as ::sqlx::Database>::Connection;

        /// Where this backend's SQL differs from the other's (see [`$crate::dialect`]).
        const DIALECT: $crate::dialect::Dialect = $crate::dialect::Dialect::of(<$db as ::sqlx::Database>::NAME);

        /// The open transaction of a unit of work (see [`$crate::Store::begin`]); `None` once
        /// committed.
        pub(crate) type TxSlot = ::tokio::sync::Mutex<Option<::sqlx::Transaction<'static, $db>>>;

        /// The connection one statement (or one method's own transaction) runs on: a pooled
        /// connection for a store, the unit's transaction for a store handed out by `begin`.
        pub(crate) enum Conn<'a> {
            Pooled(::sqlx::pool::PoolConnection<$db>),
            InUnit(::tokio::sync::MutexGuard<'a, Option<::sqlx::Transaction<'static, $db>>>),
        }

        impl ::std::ops::Deref for Conn<'_> {
            type Target = DbConnection;
            fn deref(&self) -> &DbConnection {
                match self {
                    Conn::Pooled(c) => c,
                    Conn::InUnit(tx) => tx.as_ref().expect("Conn::InUnit is only made while the unit is open"),
                }
            }
        }

        impl ::std::ops::DerefMut for Conn<'_> {
            fn deref_mut(&mut self) -> &mut DbConnection {
                match self {
                    Conn::Pooled(c) => c,
                    Conn::InUnit(tx) => tx.as_mut().expect("Conn::InUnit is only made while the unit is open"),
                }
            }
        }

        impl Conn<'_> {
            /// A transaction for one method's statements: a real one on a pooled connection, a
            /// savepoint inside a unit of work (so that the method's failure undoes only its own
            /// statements, and the unit's commit decides).
            pub(crate) async fn begin(&mut self) -> StoreResult<::sqlx::Transaction<'_, $db>> {
                match self {
                    Conn::Pooled(c) => ::sqlx::Connection::begin_with(&mut **c, DIALECT.begin).await.map_err(map_err),
                    Conn::InUnit(_) => ::sqlx::Connection::begin(&mut **self).await.map_err(map_err),
                }
            }
        }

        impl $store {
            fn pooled(pool: ::sqlx::Pool<$db>) -> Self {
                Self { pool, unit: None }
            }

            /// The connection the next statement runs on.
            pub(crate) async fn conn(&self) -> StoreResult<Conn<'_>> {
                match &self.unit {
                    None => Ok(Conn::Pooled(self.pool.acquire().await.map_err(map_err)?)),
                    Some(slot) => {
                        let tx = slot.lock().await;
                        if tx.is_none() {
                            return Err(StoreError::Backend("the unit of work has already ended".into()));
                        }
                        Ok(Conn::InUnit(tx))
                    }
                }
            }

            /// Starts a unit of work: a store whose every statement runs in one transaction.
            async fn begin_unit(&self) -> StoreResult<Box<dyn $crate::StoreTx>> {
                let tx = self.pool.begin_with(DIALECT.begin).await.map_err(map_err)?;
                Ok(Box::new(Self { pool: self.pool.clone(), unit: Some(::tokio::sync::Mutex::new(Some(tx))) }))
            }
        }

        impl $crate::Repositories for $store {}

        #[::async_trait::async_trait]
        impl $crate::StoreTx for $store {
            async fn commit(self: Box<Self>) -> StoreResult<()> {
                let Some(slot) = &self.unit else {
                    return Err(StoreError::Backend("commit outside a unit of work".into()));
                };
                let Some(mut tx) = slot.lock().await.take() else {
                    return Err(StoreError::Backend("the unit of work has already ended".into()));
                };
                // See `Dialect::commit_check`: a unit aborted by a failed statement must not
                // report success.
                if let Some(check) = DIALECT.commit_check {
                    ::sqlx::query(check).execute(&mut *tx).await.map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }
        }

        const USER_COLS: &str = "u.id AS u_id, u.email AS u_email, u.display_name AS u_display_name, \
             u.role AS u_role, u.password_hash AS u_password_hash, u.created_at AS u_created_at, \
             u.updated_at AS u_updated_at";
        const SESSION_COLS: &str = "s.id AS s_id, s.user_id AS s_user_id, s.created_at AS s_created_at, \
             s.expires_at AS s_expires_at, s.last_seen_at AS s_last_seen_at, \
             s.user_agent AS s_user_agent, s.client_ip AS s_client_ip";
        const TOKEN_COLS: &str = "t.id AS t_id, t.user_id AS t_user_id, t.name AS t_name, \
             t.display_prefix AS t_display_prefix, t.scopes AS t_scopes, t.created_at AS t_created_at, \
             t.expires_at AS t_expires_at, t.last_used_at AS t_last_used_at, t.revoked_at AS t_revoked_at, \
             t.parent_id AS t_parent_id";

        /// Turns a sqlx error into the store's, naming the column a unique constraint guards.
        pub(crate) fn map_err(e: ::sqlx::Error) -> StoreError {
            match e {
                ::sqlx::Error::RowNotFound => StoreError::NotFound,
                ::sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Conflict { field: unique_field(db.as_ref()) }
                }
                other => StoreError::Backend(Box::new(other)),
            }
        }

        /// PostgreSQL names the constraint (`users_email_key`); SQLite says
        /// `UNIQUE constraint failed: users.email`. Either way, answer the column.
        fn unique_field(db: &dyn ::sqlx::error::DatabaseError) -> String {
            if let (Some(c), Some(t)) = (db.constraint(), db.table()) {
                if let Some(f) = c.strip_prefix(t).and_then(|r| r.strip_prefix('_')).and_then(|r| r.strip_suffix("_key")) {
                    return f.to_owned();
                }
            }
            let msg = db.message();
            msg.rsplit_once(": ")
                .and_then(|(_, cols)| cols.split(", ").last())
                .and_then(|col| col.rsplit_once('.'))
                .map(|(_, f)| f.to_owned())
                .unwrap_or_else(|| "unknown".to_owned())
        }

        fn get<'r, T>(row: &'r DbRow, col: &str) -> StoreResult<T>
        where
            T: ::sqlx::Decode<'r, $db> + ::sqlx::Type<$db>,
        {
            row.try_get(col).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
        }

        fn ts(row: &DbRow, col: &str) -> StoreResult<Timestamp> {
            get::<i64>(row, col).map(Timestamp::from_millis)
        }

        fn opt_ts(row: &DbRow, col: &str) -> StoreResult<Option<Timestamp>> {
            get::<Option<i64>>(row, col).map(|v| v.map(Timestamp::from_millis))
        }

        fn user_from_row(row: &DbRow) -> StoreResult<$crate::User> {
            let email: String = get(row, "u_email")?;
            let role: String = get(row, "u_role")?;
            Ok($crate::User {
                id: get(row, "u_id")?,
                email: Email::parse(&email).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                display_name: get(row, "u_display_name")?,
                role: Role::parse(&role).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                password_hash: PasswordHash::from_stored(get(row, "u_password_hash")?),
                created_at: ts(row, "u_created_at")?,
                updated_at: ts(row, "u_updated_at")?,
            })
        }

        fn session_from_row(row: &DbRow) -> StoreResult<$crate::Session> {
            Ok($crate::Session {
                id: get(row, "s_id")?,
                user_id: get(row, "s_user_id")?,
                created_at: ts(row, "s_created_at")?,
                expires_at: ts(row, "s_expires_at")?,
                last_seen_at: ts(row, "s_last_seen_at")?,
                user_agent: get(row, "s_user_agent")?,
                client_ip: get(row, "s_client_ip")?,
            })
        }

        fn token_from_row(row: &DbRow) -> StoreResult<$crate::ApiToken> {
            let scopes: String = get(row, "t_scopes")?;
            Ok($crate::ApiToken {
                id: get(row, "t_id")?,
                user_id: get(row, "t_user_id")?,
                name: get(row, "t_name")?,
                display_prefix: get(row, "t_display_prefix")?,
                scopes: Scopes::from_stored(&scopes),
                created_at: ts(row, "t_created_at")?,
                expires_at: opt_ts(row, "t_expires_at")?,
                last_used_at: opt_ts(row, "t_last_used_at")?,
                revoked_at: opt_ts(row, "t_revoked_at")?,
                parent_id: get(row, "t_parent_id")?,
            })
        }

        /// Applies pending migrations. Each runs in its own transaction that first takes
        /// the dialect's migration lock (PostgreSQL's transaction-scoped advisory lock; SQLite's single writer needs
        /// none) and re-checks that the migration is still pending, so several nodes starting at
        /// once migrate exactly once.
        ///
        /// Boxed by hand: as a plain `async fn` awaited inside `#[async_trait]`, rustc cannot
        /// prove the future `Send` for every lifetime (rust-lang/rust#102211).
        /// Applies one migration in a transaction on `conn`, recording it; `false` when another
        /// node applied it first.
        async fn apply_migration(
            conn: &mut ::sqlx::pool::PoolConnection<$db>,
            m: &$crate::Migration,
            check_foreign_keys: bool,
        ) -> StoreResult<bool> {
            let mut tx = ::sqlx::Connection::begin(&mut **conn).await.map_err(map_err)?;
            if let Some(lock) = DIALECT.migration_lock {
                ::sqlx::query(lock).execute(&mut *tx).await.map_err(map_err)?;
            }
            let done: i64 = ::sqlx::query_scalar("SELECT COUNT(*) FROM souk_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
            if done > 0 {
                return Ok(false);
            }
            // A plain `&str` runs unprepared, so one file may hold many statements.
            ::sqlx::Executor::execute(&mut *tx, m.sql).await.map_err(|e| {
                StoreError::Migration(format!("migration {} ({}): {e}", m.version, m.name))
            })?;
            if check_foreign_keys {
                let broken = ::sqlx::Executor::fetch_optional(&mut *tx, "PRAGMA foreign_key_check")
                    .await
                    .map_err(map_err)?;
                if broken.is_some() {
                    return Err(StoreError::Migration(format!(
                        "migration {} ({}) would break a foreign key", m.version, m.name
                    )));
                }
            }
            ::sqlx::query("INSERT INTO souk_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
                .bind(m.version)
                .bind(m.name)
                .bind(m.checksum())
                .bind(Timestamp::now().millis())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            Ok(true)
        }

        pub(crate) fn run_migrations(
            pool: ::sqlx::Pool<$db>,
            migrations: &'static [$crate::Migration],
        ) -> ::std::pin::Pin<Box<dyn ::std::future::Future<Output = StoreResult<()>> + Send>> {
            Box::pin(async move {
            let mut tx = pool.begin().await.map_err(map_err)?;
            if let Some(lock) = DIALECT.migration_lock {
                ::sqlx::query(lock).execute(&mut *tx).await.map_err(map_err)?;
            }
            ::sqlx::query(
                "CREATE TABLE IF NOT EXISTS souk_migrations (version BIGINT PRIMARY KEY, \
                 name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            )
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            let applied: Vec<(i64, String)> =
                ::sqlx::query_as("SELECT version, checksum FROM souk_migrations ORDER BY version")
                    .fetch_all(&pool)
                    .await
                    .map_err(map_err)?;
            for (version, checksum) in &applied {
                match migrations.iter().find(|m| m.version == *version) {
                    None => {
                        return Err(StoreError::Migration(format!(
                            "the database has migration {version}, which this souk does not know: \
                             it was migrated by a newer release"
                        )));
                    }
                    Some(m) if &m.checksum() != checksum => {
                        return Err(StoreError::Migration(format!(
                            "migration {version} ({}) was changed after it was applied",
                            m.name
                        )));
                    }
                    Some(_) => {}
                }
            }
            let pending: Vec<$crate::Migration> =
                migrations.iter().copied().filter(|m| !applied.iter().any(|(v, _)| *v == m.version)).collect();
            for m in pending {
                // A SQLite migration that rebuilds a table runs with foreign keys off on its
                // connection (a pragma that is a no-op inside a transaction), or dropping the old
                // table would cascade into every table that references it. The SQLite way: checks
                // are made with `foreign_key_check` before the commit instead.
                let fk_off = m.sql.starts_with("-- souk:foreign-keys-off");
                let mut conn = pool.acquire().await.map_err(map_err)?;
                if fk_off {
                    ::sqlx::Executor::execute(&mut *conn, "PRAGMA foreign_keys = OFF").await.map_err(map_err)?;
                }
                let applied = apply_migration(&mut conn, &m, fk_off).await;
                if fk_off && ::sqlx::Executor::execute(&mut *conn, "PRAGMA foreign_keys = ON").await.is_err() {
                    // Never hand a connection without foreign keys back to the pool.
                    conn.detach();
                }
                if !applied? {
                    continue;
                }
                ::tracing::info!(version = m.version, name = m.name, "applied migration");
            }
            Ok(())
            })
        }

        #[::async_trait::async_trait]
        impl $crate::AccountStore for $store {
            async fn create_user(&self, new: &$crate::NewUser, now: Timestamp) -> StoreResult<$crate::User> {
                let id: i64 = ::sqlx::query_scalar(
                    "INSERT INTO users (email, display_name, role, password_hash, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(new.email.as_str())
                .bind(&new.display_name)
                .bind(new.role.as_str())
                .bind(new.password_hash.as_str())
                .bind(now.millis())
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                self.user_by_id(id).await
            }

            async fn user_by_id(&self, id: i64) -> StoreResult<$crate::User> {
                let row = ::sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"))
                    .bind(id)
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                user_from_row(&row)
            }

            async fn user_by_email(&self, email: &Email) -> StoreResult<$crate::User> {
                let row = ::sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.email = $1"))
                    .bind(email.as_str())
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                user_from_row(&row)
            }

            async fn update_display_name(&self, user_id: i64, name: &str, now: Timestamp) -> StoreResult<()> {
                let done = ::sqlx::query("UPDATE users SET display_name = $1, updated_at = $2 WHERE id = $3")
                    .bind(name)
                    .bind(now.millis())
                    .bind(user_id)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            async fn update_password(
                &self,
                user_id: i64,
                hash: &PasswordHash,
                keep_session: Option<i64>,
                now: Timestamp,
            ) -> StoreResult<()> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                let done = ::sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                    .bind(hash.as_str())
                    .bind(now.millis())
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                ::sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                    .bind(user_id)
                    .bind(keep_session.unwrap_or(-1))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)
            }

            async fn count_users(&self) -> StoreResult<i64> {
                ::sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *self.conn().await?).await.map_err(map_err)
            }
        }

        #[::async_trait::async_trait]
        impl $crate::SessionStore for $store {
            async fn create_session(&self, new: &$crate::NewSession, now: Timestamp) -> StoreResult<$crate::Session> {
                let id: i64 = ::sqlx::query_scalar(
                    "INSERT INTO sessions (user_id, token_hash, created_at, expires_at, last_seen_at, user_agent, client_ip) \
                     VALUES ($1, $2, $3, $4, $3, $5, $6) RETURNING id",
                )
                .bind(new.user_id)
                .bind(&new.token_hash)
                .bind(now.millis())
                .bind(new.expires_at.millis())
                .bind(&new.user_agent)
                .bind(&new.client_ip)
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                let row = ::sqlx::query(&format!("SELECT {SESSION_COLS} FROM sessions s WHERE s.id = $1"))
                    .bind(id)
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                session_from_row(&row)
            }

            async fn session_by_token_hash(&self, hash: &str, now: Timestamp) -> StoreResult<($crate::Session, $crate::User)> {
                let row = ::sqlx::query(&format!(
                    "SELECT {SESSION_COLS}, {USER_COLS} FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.token_hash = $1 AND s.expires_at > $2"
                ))
                .bind(hash)
                .bind(now.millis())
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                Ok((session_from_row(&row)?, user_from_row(&row)?))
            }

            async fn touch_session(&self, id: i64, now: Timestamp) -> StoreResult<()> {
                ::sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                    .bind(now.millis())
                    .bind(id)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
                    .map(|_| ())
            }

            async fn delete_session(&self, id: i64) -> StoreResult<()> {
                ::sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(id)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
                    .map(|_| ())
            }

            async fn list_sessions(&self, user_id: i64, now: Timestamp) -> StoreResult<Vec<$crate::Session>> {
                let rows = ::sqlx::query(&format!(
                    "SELECT {SESSION_COLS} FROM sessions s WHERE s.user_id = $1 AND s.expires_at > $2 \
                     ORDER BY s.last_seen_at DESC, s.id DESC LIMIT 100"
                ))
                .bind(user_id)
                .bind(now.millis())
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.iter().map(session_from_row).collect()
            }

            async fn prune_sessions(&self, now: Timestamp) -> StoreResult<u64> {
                ::sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(now.millis())
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
                    .map(|r| r.rows_affected())
            }
        }

        #[::async_trait::async_trait]
        impl $crate::TokenStore for $store {
            async fn create_token(&self, new: &$crate::NewApiToken, now: Timestamp) -> StoreResult<$crate::ApiToken> {
                let id: i64 = ::sqlx::query_scalar(
                    "INSERT INTO api_tokens (user_id, name, token_hash, display_prefix, scopes, created_at, expires_at, parent_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(new.user_id)
                .bind(&new.name)
                .bind(&new.token_hash)
                .bind(&new.display_prefix)
                .bind(new.scopes.to_string())
                .bind(now.millis())
                .bind(new.expires_at.map(Timestamp::millis))
                .bind(new.parent_id)
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                let row = ::sqlx::query(&format!("SELECT {TOKEN_COLS} FROM api_tokens t WHERE t.id = $1"))
                    .bind(id)
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                token_from_row(&row)
            }

            async fn token_by_hash(&self, hash: &str) -> StoreResult<($crate::ApiToken, $crate::User)> {
                let row = ::sqlx::query(&format!(
                    "SELECT {TOKEN_COLS}, {USER_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = $1"
                ))
                .bind(hash)
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                let mut token = token_from_row(&row)?;
                if token.parent_id.is_some() {
                    // A token lives no longer than any token above it, whatever raced with its
                    // creation: the earliest revocation and expiry up the chain are its own.
                    let (revoked, expires): (Option<i64>, Option<i64>) = ::sqlx::query_as(
                        "WITH RECURSIVE up (id, parent_id, revoked_at, expires_at) AS ( \
                             SELECT id, parent_id, revoked_at, expires_at FROM api_tokens WHERE id = $1 \
                             UNION ALL SELECT t.id, t.parent_id, t.revoked_at, t.expires_at \
                             FROM api_tokens t JOIN up ON t.id = up.parent_id) \
                         SELECT MIN(revoked_at), MIN(expires_at) FROM up",
                    )
                    .bind(token.id)
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                    token.revoked_at = revoked.map(Timestamp::from_millis);
                    token.expires_at = expires.map(Timestamp::from_millis);
                }
                Ok((token, user_from_row(&row)?))
            }

            async fn list_tokens(&self, user_id: i64, before_id: Option<i64>, limit: u32) -> StoreResult<Vec<$crate::ApiToken>> {
                let rows = ::sqlx::query(&format!(
                    "SELECT {TOKEN_COLS} FROM api_tokens t WHERE t.user_id = $1 AND t.id < $2 ORDER BY t.id DESC LIMIT $3"
                ))
                .bind(user_id)
                .bind(before_id.unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.iter().map(token_from_row).collect()
            }

            async fn token(&self, user_id: i64, token_id: i64) -> StoreResult<$crate::ApiToken> {
                let row = ::sqlx::query(&format!(
                    "SELECT {TOKEN_COLS} FROM api_tokens t WHERE t.id = $1 AND t.user_id = $2"
                ))
                .bind(token_id)
                .bind(user_id)
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                token_from_row(&row)
            }

            async fn revoke_token(&self, user_id: i64, token_id: i64, now: Timestamp) -> StoreResult<()> {
                // One statement: the token and its descendants, found by walking parent_id down.
                let done = ::sqlx::query(
                    "WITH RECURSIVE tree (id) AS ( \
                         SELECT id FROM api_tokens WHERE id = $2 AND user_id = $3 \
                         UNION ALL SELECT t.id FROM api_tokens t JOIN tree ON t.parent_id = tree.id) \
                     UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id IN (SELECT id FROM tree)",
                )
                .bind(now.millis())
                .bind(token_id)
                .bind(user_id)
                .execute(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            async fn touch_token(&self, token_id: i64, now: Timestamp) -> StoreResult<()> {
                ::sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(now.millis())
                    .bind(token_id)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
                    .map(|_| ())
            }
        }

        #[::async_trait::async_trait]
        impl $crate::ThrottleStore for $store {
            async fn record_login_failure(&self, key: &str, now: Timestamp) -> StoreResult<()> {
                ::sqlx::query("INSERT INTO login_failures (throttle_key, failed_at) VALUES ($1, $2)")
                    .bind(key)
                    .bind(now.millis())
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
                    .map(|_| ())
            }

            async fn login_failures_since(&self, key: &str, since: Timestamp) -> StoreResult<(i64, Option<Timestamp>)> {
                let (count, oldest): (i64, Option<i64>) = ::sqlx::query_as(
                    "SELECT COUNT(*), MIN(failed_at) FROM login_failures WHERE throttle_key = $1 AND failed_at > $2",
                )
                .bind(key)
                .bind(since.millis())
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                Ok((count, oldest.map(Timestamp::from_millis)))
            }

            async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
                ::sqlx::query("DELETE FROM login_failures WHERE throttle_key = $1")
                    .bind(key)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
                    .map(|_| ())
            }

            async fn prune_login_failures(&self, before: Timestamp) -> StoreResult<u64> {
                ::sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
                    .bind(before.millis())
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
                    .map(|r| r.rows_affected())
            }
        }

        #[::async_trait::async_trait]
        impl $crate::IdempotencyStore for $store {
            async fn idempotency_claim(&self, scope: &str, key: &str, request_hash: &str, now: Timestamp) -> StoreResult<()> {
                ::sqlx::query(
                    "INSERT INTO idempotency_keys (scope, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(scope)
                .bind(key)
                .bind(request_hash)
                .bind(now.millis())
                .execute(&mut *self.conn().await?)
                .await
                .map_err(|e| match map_err(e) {
                    StoreError::Conflict { .. } => StoreError::Conflict { field: "idempotency_key".into() },
                    other => other,
                })
                .map(|_| ())
            }

            async fn idempotency_get(&self, scope: &str, key: &str) -> StoreResult<$crate::IdempotencyRecord> {
                let row = ::sqlx::query(
                    "SELECT scope, idem_key, request_hash, response_status, response_body, created_at \
                     FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
                )
                .bind(scope)
                .bind(key)
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                let status: Option<i64> = get(&row, "response_status")?;
                Ok($crate::IdempotencyRecord {
                    scope: get(&row, "scope")?,
                    key: get(&row, "idem_key")?,
                    request_hash: get(&row, "request_hash")?,
                    response_status: status.and_then(|s| u16::try_from(s).ok()),
                    response_body: get(&row, "response_body")?,
                    created_at: ts(&row, "created_at")?,
                })
            }

            async fn idempotency_complete(&self, scope: &str, key: &str, status: u16, body: &str) -> StoreResult<()> {
                ::sqlx::query(
                    "UPDATE idempotency_keys SET response_status = $1, response_body = $2 WHERE scope = $3 AND idem_key = $4",
                )
                .bind(i64::from(status))
                .bind(body)
                .bind(scope)
                .bind(key)
                .execute(&mut *self.conn().await?)
                .await
                .map_err(map_err)
                .map(|_| ())
            }

            async fn idempotency_release(&self, scope: &str, key: &str) -> StoreResult<()> {
                ::sqlx::query(
                    "DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND response_status IS NULL",
                )
                .bind(scope)
                .bind(key)
                .execute(&mut *self.conn().await?)
                .await
                .map_err(map_err)
                .map(|_| ())
            }

            async fn prune_idempotency(&self, before: Timestamp) -> StoreResult<u64> {
                ::sqlx::query("DELETE FROM idempotency_keys WHERE created_at <= $1")
                    .bind(before.millis())
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
                    .map(|r| r.rows_affected())
            }
        }
    };
}

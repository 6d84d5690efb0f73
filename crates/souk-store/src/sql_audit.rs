//! The audit log's SQL, written once for both backends; expanded after
//! [`crate::sql_store_impls!`], whose helpers (`get`, `ts`, `map_err`) it uses. Also defines
//! `insert_audit_in`, with which other writes (a version's state change) append their entry in
//! their own transaction.

/// Expands [`crate::AuditStore`] for `$store` over the sqlx database `$db`.
#[macro_export]
macro_rules! sql_audit_impls {
    ($store:ty, $db:ty) => {
        const AUDIT_COLS: &str = "id, created_at, actor_id, actor, action, target_kind, target, \
             client_addr, before_state, after_state";

        fn audit_json(v: &Option<$crate::__serde_json::Value>) -> Option<String> {
            v.as_ref().map(|v| v.to_string())
        }

        fn audit_from_row(row: &DbRow) -> StoreResult<$crate::AuditEntry> {
            let json = |col: &str| -> StoreResult<Option<$crate::__serde_json::Value>> {
                get::<Option<String>>(row, col)?
                    .map(|s| $crate::__serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
                    .transpose()
            };
            Ok($crate::AuditEntry {
                id: get(row, "id")?,
                record: $crate::NewAuditEntry {
                at: ts(row, "created_at")?,
                actor: $crate::AuditActor::from_stored(get(row, "actor_id")?, get(row, "actor")?),
                action: get(row, "action")?,
                target_kind: get(row, "target_kind")?,
                target: get(row, "target")?,
                client_addr: get(row, "client_addr")?,
                before: json("before_state")?,
                after: json("after_state")?,
                },
            })
        }

        /// Appends `entry` on `conn` (a pooled connection or a transaction's); answers its id.
        pub(crate) async fn insert_audit_in(
            conn: &mut <$db as ::sqlx::Database>::Connection,
            entry: &$crate::NewAuditEntry,
        ) -> StoreResult<i64> {
            ::sqlx::query_scalar(
                "INSERT INTO audit_log (created_at, actor_id, actor, action, target_kind, target, \
                 client_addr, before_state, after_state) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(entry.at.millis())
            .bind(entry.actor.id())
            .bind(entry.actor.label())
            .bind(&entry.action)
            .bind(&entry.target_kind)
            .bind(&entry.target)
            .bind(&entry.client_addr)
            .bind(audit_json(&entry.before))
            .bind(audit_json(&entry.after))
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)
        }

        #[::async_trait::async_trait]
        impl $crate::AuditStore for $store {
            async fn append_audit(&self, entry: &$crate::NewAuditEntry) -> StoreResult<$crate::AuditEntry> {
                let mut conn = self.conn().await?;
                let id = insert_audit_in(&mut conn, entry).await?;
                let row = ::sqlx::query(&format!("SELECT {AUDIT_COLS} FROM audit_log WHERE id = $1"))
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(map_err)?;
                audit_from_row(&row)
            }

            async fn list_audit(
                &self,
                filter: &$crate::AuditFilter,
                before_id: Option<i64>,
                limit: u32,
            ) -> StoreResult<Vec<$crate::AuditEntry>> {
                use $crate::{ActionFilter, ActorFilter};
                let (actor_id, actor) = match &filter.actor {
                    Some(ActorFilter::Id(id)) => (Some(*id), None),
                    Some(ActorFilter::Label(l)) => (None, Some(l.as_str())),
                    None => (None, None),
                };
                // A prefix is matched with LIKE, so its own `%`, `_` and `\` are escaped.
                let (exact, prefix) = match &filter.action {
                    Some(ActionFilter::Exact(a)) => (Some(a.clone()), None),
                    Some(ActionFilter::Prefix(p)) => {
                        let escaped = p.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                        (None, Some(format!("{escaped}%")))
                    }
                    None => (None, None),
                };
                let rows = ::sqlx::query(&format!(
                    "SELECT {AUDIT_COLS} FROM audit_log \
                     WHERE ($1 IS NULL OR actor_id = $1) AND ($2 IS NULL OR actor = $2) \
                     AND ($3 IS NULL OR action = $3) AND ($4 IS NULL OR action LIKE $4 ESCAPE '\\') \
                     AND ($5 IS NULL OR target_kind = $5) AND ($6 IS NULL OR target = $6) \
                     AND ($7 IS NULL OR created_at >= $7) AND ($8 IS NULL OR created_at <= $8) \
                     AND id < $9 ORDER BY id DESC LIMIT $10"
                ))
                .bind(actor_id)
                .bind(actor)
                .bind(exact)
                .bind(prefix)
                .bind(filter.target_kind.as_deref())
                .bind(filter.target.as_deref())
                .bind(filter.since.map(Timestamp::millis))
                .bind(filter.until.map(Timestamp::millis))
                .bind(before_id.unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.iter().map(audit_from_row).collect()
            }
        }
    };
}

//! The outbox's SQL, written once for both backends; expanded after [`crate::sql_store_impls!`],
//! whose helpers (`get`, `ts`, `map_err`) it uses.

/// Expands [`crate::OutboxStore`] for `$store` over the sqlx database `$db`.
#[macro_export]
macro_rules! sql_outbox_impls {
    ($store:ty, $db:ty) => {
        #[::async_trait::async_trait]
        impl $crate::OutboxStore for $store {
            async fn append_event(&self, topic: &str, payload: &str, now: Timestamp) -> StoreResult<i64> {
                ::sqlx::query_scalar(
                    "INSERT INTO outbox (topic, payload, created_at) VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(topic)
                .bind(payload)
                .bind(now.millis())
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)
            }

            async fn pending_events(&self, limit: u32) -> StoreResult<Vec<$crate::OutboxEvent>> {
                let rows = ::sqlx::query(
                    "SELECT id, topic, payload, created_at FROM outbox WHERE published_at IS NULL \
                     ORDER BY id LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.iter()
                    .map(|row| {
                        Ok($crate::OutboxEvent {
                            id: get(row, "id")?,
                            topic: get(row, "topic")?,
                            payload: get(row, "payload")?,
                            created_at: ts(row, "created_at")?,
                        })
                    })
                    .collect()
            }

            async fn mark_published(&self, ids: &[i64], now: Timestamp) -> StoreResult<()> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                for id in ids {
                    ::sqlx::query("UPDATE outbox SET published_at = $1 WHERE id = $2 AND published_at IS NULL")
                        .bind(now.millis())
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }

            async fn prune_outbox(&self, before: Timestamp) -> StoreResult<u64> {
                ::sqlx::query("DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1")
                    .bind(before.millis())
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
                    .map(|r| r.rows_affected())
            }
        }
    };
}

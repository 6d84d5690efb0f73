//! The SQL of publishers' signing keys, written once for both backends; expanded after
//! [`crate::sql_store_impls!`], whose helpers (`get`, `ts`, `opt_ts`, `map_err`) it uses.

/// Expands [`crate::PublisherKeyStore`] for `$store` over the sqlx database `$db`.
#[macro_export]
macro_rules! sql_publisher_key_impls {
    ($store:ty, $db:ty) => {
        const PUBLISHER_KEY_COLS: &str =
            "id, publisher_id, public_key, name, created_by, created_at, revoked_at";

        fn publisher_key_from_row(row: &DbRow) -> StoreResult<$crate::PublisherKey> {
            Ok($crate::PublisherKey {
                id: get(row, "id")?,
                publisher_id: get(row, "publisher_id")?,
                public_key: get(row, "public_key")?,
                name: get(row, "name")?,
                created_by: get(row, "created_by")?,
                created_at: ts(row, "created_at")?,
                revoked_at: opt_ts(row, "revoked_at")?,
            })
        }

        #[::async_trait::async_trait]
        impl $crate::PublisherKeyStore for $store {
            async fn add_publisher_key(
                &self,
                key: &$crate::NewPublisherKey,
                now: Timestamp,
            ) -> StoreResult<$crate::PublisherKey> {
                let row = ::sqlx::query(&format!(
                    "INSERT INTO publisher_keys (id, publisher_id, public_key, name, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING {PUBLISHER_KEY_COLS}"
                ))
                .bind(&key.id)
                .bind(key.publisher_id)
                .bind(&key.public_key)
                .bind(&key.name)
                .bind(key.created_by)
                .bind(now.millis())
                .fetch_one(&mut *self.conn().await?)
                .await
                // The only unique column is the primary key, whose constraint PostgreSQL names
                // `publisher_keys_pkey`: say which field clashed here.
                .map_err(|e| match map_err(e) {
                    StoreError::Conflict { .. } => StoreError::Conflict { field: "id".into() },
                    other => other,
                })?;
                publisher_key_from_row(&row)
            }

            async fn publisher_keys(&self, publisher_id: i64) -> StoreResult<Vec<$crate::PublisherKey>> {
                let rows = ::sqlx::query(&format!(
                    "SELECT {PUBLISHER_KEY_COLS} FROM publisher_keys WHERE publisher_id = $1 \
                     ORDER BY created_at, id"
                ))
                .bind(publisher_id)
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.iter().map(publisher_key_from_row).collect()
            }

            async fn publisher_key(&self, publisher_id: i64, id: &str) -> StoreResult<$crate::PublisherKey> {
                let row = ::sqlx::query(&format!(
                    "SELECT {PUBLISHER_KEY_COLS} FROM publisher_keys WHERE publisher_id = $1 AND id = $2"
                ))
                .bind(publisher_id)
                .bind(id)
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                publisher_key_from_row(&row)
            }

            async fn revoke_publisher_key(
                &self,
                publisher_id: i64,
                id: &str,
                now: Timestamp,
            ) -> StoreResult<$crate::PublisherKey> {
                ::sqlx::query(
                    "UPDATE publisher_keys SET revoked_at = $1 \
                     WHERE publisher_id = $2 AND id = $3 AND revoked_at IS NULL",
                )
                .bind(now.millis())
                .bind(publisher_id)
                .bind(id)
                .execute(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                $crate::PublisherKeyStore::publisher_key(self, publisher_id, id).await
            }
        }
    };
}

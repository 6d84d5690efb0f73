//! Package trust's SQL, written once for both backends; expanded after [`crate::sql_store_impls!`].

/// Expands [`crate::TrustStore`] for `$store` over the sqlx database `$db`.
#[macro_export]
macro_rules! sql_trust_impls {
    ($store:ty, $db:ty) => {
        #[::async_trait::async_trait]
        impl $crate::TrustStore for $store {
            async fn publish_signing_key(&self, key: &$crate::PublishedKey) -> StoreResult<()> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                let known: Option<String> = ::sqlx::query_scalar("SELECT public_key FROM signing_keys WHERE id = $1")
                    .bind(&key.id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                match known {
                    Some(pk) if pk != key.public_key => {
                        return Err(StoreError::Conflict { field: "id".into() });
                    }
                    Some(_) => {
                        ::sqlx::query("UPDATE signing_keys SET valid_from = $1, valid_until = $2 WHERE id = $3")
                            .bind(key.valid_from.millis())
                            .bind(key.valid_until.map(Timestamp::millis))
                            .bind(&key.id)
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                    }
                    None => {
                        ::sqlx::query(
                            "INSERT INTO signing_keys (id, public_key, created_at, valid_from, valid_until) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                        )
                        .bind(&key.id)
                        .bind(&key.public_key)
                        .bind(key.created_at.millis())
                        .bind(key.valid_from.millis())
                        .bind(key.valid_until.map(Timestamp::millis))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    }
                }
                tx.commit().await.map_err(map_err)
            }

            async fn signing_keys(&self) -> StoreResult<Vec<$crate::PublishedKey>> {
                let rows = ::sqlx::query(
                    "SELECT id, public_key, created_at, valid_from, valid_until FROM signing_keys ORDER BY valid_from, id",
                )
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.iter()
                    .map(|row| {
                        Ok($crate::PublishedKey {
                            id: get(row, "id")?,
                            public_key: get(row, "public_key")?,
                            created_at: ts(row, "created_at")?,
                            valid_from: ts(row, "valid_from")?,
                            valid_until: opt_ts(row, "valid_until")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

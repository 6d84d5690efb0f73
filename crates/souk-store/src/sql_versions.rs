//! The versions' SQL (publishing, reading, yanking), written once for both backends; expanded
//! after [`crate::sql_catalog_impls!`], whose helpers (`VERSION_COLS`, `version_from_row`,
//! `insert_module`, `enqueue_checks_in`, `refresh_latest`) it uses.

/// Expands [`crate::VersionStore`] for `$store` over the sqlx database `$db`.
#[macro_export]
macro_rules! sql_version_impls {
    ($store:ty, $db:ty) => {
        #[::async_trait::async_trait]
        impl $crate::VersionStore for $store {
            async fn publish_version(&self, target: &$crate::PublishTarget, new: &$crate::NewVersion, now: Timestamp) -> StoreResult<($crate::Module, $crate::Version)> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                let module_id = match target {
                    $crate::PublishTarget::Existing(id) => *id,
                    $crate::PublishTarget::New(m) => insert_module(&mut tx, m, now).await?,
                };
                let files: Vec<(&str, u64)> = new.files.iter().map(|f| (f.path.as_str(), f.size)).collect();
                let files = $crate::__serde_json::to_string(&files).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let version_id: i64 = ::sqlx::query_scalar(
                    "INSERT INTO versions (module_id, version, prerelease, status, sha256, size, format, unpacked_size, \
                     license, description, platform, manifest, readme, changelog, files, published_by, created_at, \
                     registry_signature, registry_key_id, published_at, checked_at) \
                     VALUES ($1, $2, $3, $19, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $20, $20) RETURNING id",
                )
                .bind(module_id)
                .bind(&new.version)
                .bind(i64::from(new.prerelease))
                .bind(&new.sha256)
                .bind(new.size)
                .bind(&new.format)
                .bind(new.unpacked_size)
                .bind(&new.license)
                .bind(&new.description)
                .bind(&new.platform)
                .bind(&new.manifest)
                .bind(&new.readme)
                .bind(&new.changelog)
                .bind(files)
                .bind(new.published_by)
                .bind(now.millis())
                .bind(&new.registry_signature)
                .bind(&new.registry_key_id)
                .bind(new.status.as_str())
                .bind((new.status == $crate::VersionStatus::Published).then_some(now.millis()))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| match map_err(e) {
                    StoreError::Conflict { .. } => StoreError::Conflict { field: "version".into() },
                    other => other,
                })?;
                if new.publisher_signature.is_some() {
                    ::sqlx::query("UPDATE versions SET publisher_signature = $1, publisher_key_id = $2 WHERE id = $3")
                        .bind(&new.publisher_signature)
                        .bind(&new.publisher_key_id)
                        .bind(version_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                for (name, req) in &new.dependencies {
                    ::sqlx::query("INSERT INTO version_dependencies (version_id, name, req) VALUES ($1, $2, $3)")
                        .bind(version_id)
                        .bind(name)
                        .bind(req)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                if new.status == $crate::VersionStatus::PendingChecks {
                    enqueue_checks_in(&mut tx, version_id, now).await?;
                }
                // A new version also refreshes the module's "updated" time, which browse shows.
                ::sqlx::query("UPDATE modules SET updated_at = $1 WHERE id = $2")
                    .bind(now.millis())
                    .bind(module_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                refresh_latest(&mut tx, module_id).await?;
                tx.commit().await.map_err(map_err)?;
                drop(conn);
                let module = $crate::ModuleStore::module_by_id(self, module_id).await?;
                let version = $crate::VersionStore::version(self, module_id, &new.version).await?;
                Ok((module, version))
            }

            async fn versions(&self, module_id: i64) -> StoreResult<Vec<$crate::Version>> {
                let rows = ::sqlx::query(&format!("SELECT {VERSION_COLS} FROM versions v WHERE v.module_id = $1"))
                    .bind(module_id)
                    .fetch_all(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                let mut versions: Vec<$crate::Version> = rows.iter().map(version_from_row).collect::<StoreResult<_>>()?;
                let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
                let mut deps = self.dependencies_of(&ids).await?;
                for v in &mut versions {
                    v.dependencies = deps.remove(&v.id).unwrap_or_default();
                }
                versions.sort_by(|a, b| {
                    let parse = |s: &str| $crate::__semver::Version::parse(s).ok();
                    parse(&b.version).cmp(&parse(&a.version)).then(b.id.cmp(&a.id))
                });
                Ok(versions)
            }

            async fn version(&self, module_id: i64, version: &str) -> StoreResult<$crate::Version> {
                let row = ::sqlx::query(&format!("SELECT {VERSION_COLS} FROM versions v WHERE v.module_id = $1 AND v.version = $2"))
                    .bind(module_id)
                    .bind(version)
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                let mut v = version_from_row(&row)?;
                v.dependencies = self.dependencies_of(&[v.id]).await?.remove(&v.id).unwrap_or_default();
                Ok(v)
            }

            async fn set_yanked(&self, version_id: i64, yank: Option<(&str, Timestamp)>) -> StoreResult<()> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                let module_id: i64 = ::sqlx::query_scalar(
                    "UPDATE versions SET yanked_at = $1, yank_reason = $2 WHERE id = $3 RETURNING module_id",
                )
                .bind(yank.map(|(_, at)| at.millis()))
                .bind(yank.map(|(reason, _)| reason))
                .bind(version_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
                refresh_latest(&mut tx, module_id).await?;
                tx.commit().await.map_err(map_err)
            }

            async fn package_in_use(&self, sha256: &str) -> StoreResult<bool> {
                let n: i64 = ::sqlx::query_scalar("SELECT COUNT(*) FROM versions WHERE sha256 = $1")
                    .bind(sha256)
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                Ok(n > 0)
            }

            async fn record_downloads(&self, counts: &[(i64, i64, i64)]) -> StoreResult<()> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                for (version_id, day, count) in counts {
                    ::sqlx::query(
                        "INSERT INTO download_counts (version_id, day, count) VALUES ($1, $2, $3) \
                         ON CONFLICT (version_id, day) DO UPDATE SET count = download_counts.count + excluded.count",
                    )
                    .bind(version_id)
                    .bind(day)
                    .bind(count)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                    ::sqlx::query("UPDATE versions SET downloads = downloads + $1 WHERE id = $2")
                        .bind(count)
                        .bind(version_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    ::sqlx::query(
                        "UPDATE modules SET downloads = downloads + $1 WHERE id = (SELECT module_id FROM versions WHERE id = $2)",
                    )
                    .bind(count)
                    .bind(version_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }

            async fn module_downloads_by_day(&self, module_id: i64, since_day: i64) -> StoreResult<Vec<(i64, i64)>> {
                // SUM over BIGINT is NUMERIC on PostgreSQL; the cast keeps one Rust type for both.
                ::sqlx::query_as(
                    "SELECT d.day, CAST(SUM(d.count) AS BIGINT) FROM download_counts d \
                     JOIN versions v ON v.id = d.version_id WHERE v.module_id = $1 AND d.day >= $2 \
                     GROUP BY d.day ORDER BY d.day",
                )
                .bind(module_id)
                .bind(since_day)
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)
            }
        }
    };
}

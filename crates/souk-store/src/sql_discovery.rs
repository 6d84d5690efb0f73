//! Discovery's SQL, written once for both backends and expanded after [`crate::sql_catalog_impls!`],
//! whose row mappers it uses.

/// Expands [`crate::DiscoveryStore`] for `$store` over the sqlx database `$db`.
#[macro_export]
macro_rules! sql_discovery_impls {
    ($store:ty, $db:ty) => {
        /// What makes a module show in search and lists.
        const LISTED: &str = "m.visibility = 'public' AND m.archived_at IS NULL \
             AND m.latest_version IS NOT NULL AND p.suspended_at IS NULL";

        fn id_list(ids: &[i64]) -> String {
            ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",")
        }

        impl $store {
            /// Fills in the tags of these modules with one query.
            async fn with_tags(&self, mut modules: Vec<$crate::Module>) -> StoreResult<Vec<$crate::Module>> {
                if modules.is_empty() {
                    return Ok(modules);
                }
                let ids: Vec<i64> = modules.iter().map(|m| m.id).collect();
                let rows: Vec<(i64, String)> = ::sqlx::query_as(&format!(
                    "SELECT module_id, tag FROM module_tags WHERE module_id IN ({}) ORDER BY module_id, tag",
                    id_list(&ids)
                ))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                let mut by_module: ::std::collections::HashMap<i64, Vec<String>> = ::std::collections::HashMap::new();
                for (id, tag) in rows {
                    by_module.entry(id).or_default().push(tag);
                }
                for m in &mut modules {
                    m.tags = by_module.remove(&m.id).unwrap_or_default();
                }
                Ok(modules)
            }

            /// Listed modules matching `clause` (with `binds` for its `$n`), by id, then `tail` (a LIMIT).
            async fn index_docs_where(&self, clause: &str, tail: &str, binds: &[i64]) -> StoreResult<Vec<$crate::IndexDoc>> {
                let sql = format!(
                    "SELECT {MODULE_COLS}, p.verified_at AS p_verified_at, v.platform AS v_platform, \
                     v.license AS v_license, v.created_at AS v_created_at \
                     FROM modules m JOIN publishers p ON p.id = m.publisher_id \
                     JOIN versions v ON v.module_id = m.id AND v.version = m.latest_version \
                     WHERE {LISTED} AND {clause} ORDER BY m.id {tail}"
                );
                let mut q = ::sqlx::query(&sql);
                for b in binds {
                    q = q.bind(*b);
                }
                let rows = q.fetch_all(&mut *self.conn().await?).await.map_err(map_err)?;
                let mut extras = Vec::with_capacity(rows.len());
                let mut modules = Vec::with_capacity(rows.len());
                for row in &rows {
                    modules.push(module_from_row(row)?);
                    let verified: Option<i64> = get(row, "p_verified_at")?;
                    extras.push((verified.is_some(), get::<String>(row, "v_platform")?, get::<String>(row, "v_license")?, ts(row, "v_created_at")?));
                }
                let modules = self.with_tags(modules).await?;
                Ok(modules
                    .into_iter()
                    .zip(extras)
                    .map(|(module, (publisher_verified, platform, license, published_at))| $crate::IndexDoc {
                        module,
                        publisher_verified,
                        platform,
                        license,
                        published_at,
                    })
                    .collect())
            }
        }

        #[::async_trait::async_trait]
        impl $crate::DiscoveryStore for $store {
            async fn search_changes_after(&self, after: i64, limit: u32) -> StoreResult<Vec<$crate::SearchChange>> {
                let rows: Vec<(i64, Option<i64>, Option<i64>)> = ::sqlx::query_as(
                    "SELECT id, module_id, publisher_id FROM search_changes WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, module_id, publisher_id)| $crate::SearchChange { id, module_id, publisher_id })
                    .collect())
            }

            async fn last_search_change(&self) -> StoreResult<i64> {
                let max: Option<i64> = ::sqlx::query_scalar("SELECT MAX(id) FROM search_changes")
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                Ok(max.unwrap_or(0))
            }

            async fn first_search_change(&self) -> StoreResult<Option<i64>> {
                ::sqlx::query_scalar("SELECT MIN(id) FROM search_changes")
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
            }

            async fn request_search_rebuild(&self, now: Timestamp) -> StoreResult<i64> {
                ::sqlx::query_scalar("INSERT INTO search_changes (created_at) VALUES ($1) RETURNING id")
                    .bind(now.millis())
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
            }

            async fn prune_search_changes(&self, before: Timestamp) -> StoreResult<u64> {
                let done = ::sqlx::query(
                    "DELETE FROM search_changes WHERE created_at < $1 \
                     AND id < (SELECT MAX(id) FROM search_changes)",
                )
                .bind(before.millis())
                .execute(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn index_docs(&self, after_id: i64, limit: u32) -> StoreResult<Vec<$crate::IndexDoc>> {
                self.index_docs_where("m.id > $1", "LIMIT $2", &[after_id, i64::from(limit)]).await
            }

            async fn index_docs_of(&self, module_ids: &[i64]) -> StoreResult<Vec<$crate::IndexDoc>> {
                if module_ids.is_empty() {
                    return Ok(Vec::new());
                }
                self.index_docs_where(&format!("m.id IN ({})", id_list(module_ids)), "", &[]).await
            }

            async fn module_ids_of_publisher(&self, publisher_id: i64) -> StoreResult<Vec<i64>> {
                ::sqlx::query_scalar("SELECT id FROM modules WHERE publisher_id = $1 ORDER BY id")
                    .bind(publisher_id)
                    .fetch_all(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
            }

            async fn activity_since(&self, since_day: i64, module_ids: Option<&[i64]>) -> StoreResult<Vec<$crate::DayActivity>> {
                let (only_d, only_v) = match module_ids {
                    Some([]) => return Ok(Vec::new()),
                    Some(ids) => {
                        let list = id_list(ids);
                        (format!("AND v.module_id IN ({list})"), format!("AND module_id IN ({list})"))
                    }
                    None => (String::new(), String::new()),
                };
                // SUM over BIGINT is NUMERIC on PostgreSQL; the cast keeps one Rust type for both.
                let downloads: Vec<(i64, i64, i64)> = ::sqlx::query_as(&format!(
                    "SELECT v.module_id, d.day, CAST(SUM(d.count) AS BIGINT) FROM download_counts d \
                     JOIN versions v ON v.id = d.version_id WHERE d.day >= $1 {only_d} GROUP BY v.module_id, d.day"
                ))
                .bind(since_day)
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                let views: Vec<(i64, i64, i64)> = ::sqlx::query_as(&format!(
                    "SELECT module_id, day, count FROM module_views WHERE day >= $1 {only_v}"
                ))
                .bind(since_day)
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                let mut all: ::std::collections::BTreeMap<(i64, i64), $crate::DayActivity> = ::std::collections::BTreeMap::new();
                for (module_id, day, n) in downloads {
                    all.entry((module_id, day))
                        .or_insert($crate::DayActivity { module_id, day, downloads: 0, views: 0 })
                        .downloads += n;
                }
                for (module_id, day, n) in views {
                    all.entry((module_id, day))
                        .or_insert($crate::DayActivity { module_id, day, downloads: 0, views: 0 })
                        .views += n;
                }
                Ok(all.into_values().collect())
            }

            async fn record_views(&self, counts: &[(i64, i64, i64)]) -> StoreResult<()> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                for (module_id, day, count) in counts {
                    ::sqlx::query(
                        "INSERT INTO module_views (module_id, day, count) VALUES ($1, $2, $3) \
                         ON CONFLICT (module_id, day) DO UPDATE SET count = module_views.count + excluded.count",
                    )
                    .bind(module_id)
                    .bind(day)
                    .bind(count)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }

            async fn module_views_by_day(&self, module_id: i64, since_day: i64) -> StoreResult<Vec<(i64, i64)>> {
                ::sqlx::query_as("SELECT day, count FROM module_views WHERE module_id = $1 AND day >= $2 ORDER BY day")
                    .bind(module_id)
                    .bind(since_day)
                    .fetch_all(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
            }

            async fn featured(&self) -> StoreResult<Vec<$crate::Module>> {
                let rows = ::sqlx::query(&format!(
                    "SELECT {MODULE_COLS} FROM featured_modules f JOIN modules m ON m.id = f.module_id \
                     JOIN publishers p ON p.id = m.publisher_id WHERE {LISTED} ORDER BY f.position, m.id"
                ))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                let modules = rows.iter().map(module_from_row).collect::<StoreResult<Vec<_>>>()?;
                self.with_tags(modules).await
            }

            async fn featured_ids(&self) -> StoreResult<Vec<i64>> {
                ::sqlx::query_scalar("SELECT module_id FROM featured_modules ORDER BY position, module_id")
                    .fetch_all(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
            }

            async fn set_featured(&self, module_ids: &[i64], by: i64, now: Timestamp) -> StoreResult<()> {
                let mut unique = module_ids.to_vec();
                unique.sort_unstable();
                unique.dedup();
                if unique.len() != module_ids.len() {
                    return Err(StoreError::Conflict { field: "module_id".into() });
                }
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                if !unique.is_empty() {
                    let found: i64 = ::sqlx::query_scalar(&format!("SELECT COUNT(*) FROM modules WHERE id IN ({})", id_list(&unique)))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    if found != unique.len() as i64 {
                        return Err(StoreError::NotFound);
                    }
                }
                ::sqlx::query("DELETE FROM featured_modules").execute(&mut *tx).await.map_err(map_err)?;
                for (position, id) in module_ids.iter().enumerate() {
                    ::sqlx::query(
                        "INSERT INTO featured_modules (module_id, position, featured_by, featured_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(id)
                    .bind(position as i64)
                    .bind(by)
                    .bind(now.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }
        }
    };
}

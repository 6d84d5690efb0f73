//! The catalog's SQL, written once for both backends like [`crate::sql_store_impls!`], and
//! expanded after it: it uses that macro's helpers (`get`, `ts`, `map_err`, `DbRow`).
//!
//! Lists stored in one column (keywords, a version's file list) are JSON text: they are read
//! and written whole, never queried inside. Tags, which discovery filters on, have their own table.

/// Expands the catalog trait implementations for `$store` over the sqlx database `$db`.
#[macro_export]
macro_rules! sql_catalog_impls {
    ($store:ty, $db:ty) => {
        const PUBLISHER_COLS: &str = "p.id AS p_id, p.slug AS p_slug, p.display_name AS p_display_name, \
             p.bio AS p_bio, p.website AS p_website, p.support_email AS p_support_email, \
             p.logo_sha256 AS p_logo_sha256, p.logo_content_type AS p_logo_content_type, \
             p.verified_at AS p_verified_at, p.suspended_at AS p_suspended_at, \
             p.suspension_reason AS p_suspension_reason, p.verification_requested_at AS p_verification_requested_at, \
             p.verification_note AS p_verification_note, \
             p.created_at AS p_created_at, p.updated_at AS p_updated_at";
        const MODULE_COLS: &str = "m.id AS m_id, m.name AS m_name, m.publisher_id AS m_publisher_id, \
             p.slug AS m_publisher_slug, p.display_name AS m_publisher_name, m.display_name AS m_display_name, \
             p.verified_at AS m_publisher_verified_at, p.suspended_at AS m_publisher_suspended_at, \
             m.summary AS m_summary, m.description AS m_description, m.category_id AS m_category_id, \
             m.homepage AS m_homepage, m.repository AS m_repository, m.keywords AS m_keywords, \
             m.visibility AS m_visibility, m.icon_sha256 AS m_icon_sha256, \
             m.icon_content_type AS m_icon_content_type, m.latest_version AS m_latest_version, \
             m.downloads AS m_downloads, m.archived_at AS m_archived_at, m.created_at AS m_created_at, \
             m.updated_at AS m_updated_at";
        const VERSION_COLS: &str = "v.id AS v_id, v.module_id AS v_module_id, v.version AS v_version, \
             v.prerelease AS v_prerelease, v.status AS v_status, v.sha256 AS v_sha256, v.size AS v_size, \
             v.format AS v_format, v.unpacked_size AS v_unpacked_size, v.license AS v_license, \
             v.description AS v_description, v.platform AS v_platform, v.manifest AS v_manifest, \
             v.readme AS v_readme, v.changelog AS v_changelog, v.files AS v_files, v.downloads AS v_downloads, \
             v.yanked_at AS v_yanked_at, v.yank_reason AS v_yank_reason, v.published_by AS v_published_by, \
             v.registry_signature AS v_registry_signature, v.registry_key_id AS v_registry_key_id, \
             v.status_reason AS v_status_reason, v.status_changed_at AS v_status_changed_at, \
             v.status_changed_by AS v_status_changed_by, v.checked_at AS v_checked_at, \
             v.published_at AS v_published_at, v.appeal AS v_appeal, v.appealed_at AS v_appealed_at, \
             v.publisher_signature AS v_publisher_signature, v.publisher_key_id AS v_publisher_key_id, \
             v.created_at AS v_created_at";
        const SCREENSHOT_COLS: &str = "id, module_id, sha256, content_type, width, height, caption, created_at";

        fn image_ref(row: &DbRow, sha: &str, ct: &str) -> StoreResult<Option<$crate::ImageRef>> {
            let sha256: Option<String> = get(row, sha)?;
            let content_type: Option<String> = get(row, ct)?;
            Ok(sha256.zip(content_type).map(|(sha256, content_type)| $crate::ImageRef { sha256, content_type }))
        }

        fn json_col<T: $crate::__serde::de::DeserializeOwned>(row: &DbRow, col: &str) -> StoreResult<T> {
            let text: String = get(row, col)?;
            $crate::__serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
        }

        fn publisher_from_row(row: &DbRow) -> StoreResult<$crate::Publisher> {
            Ok($crate::Publisher {
                id: get(row, "p_id")?,
                slug: get(row, "p_slug")?,
                display_name: get(row, "p_display_name")?,
                bio: get(row, "p_bio")?,
                website: get(row, "p_website")?,
                support_email: get(row, "p_support_email")?,
                logo: image_ref(row, "p_logo_sha256", "p_logo_content_type")?,
                verified_at: opt_ts(row, "p_verified_at")?,
                suspended_at: opt_ts(row, "p_suspended_at")?,
                suspension_reason: get(row, "p_suspension_reason")?,
                verification_requested_at: opt_ts(row, "p_verification_requested_at")?,
                verification_note: get(row, "p_verification_note")?,
                created_at: ts(row, "p_created_at")?,
                updated_at: ts(row, "p_updated_at")?,
            })
        }

        fn module_from_row(row: &DbRow) -> StoreResult<$crate::Module> {
            let visibility: String = get(row, "m_visibility")?;
            Ok($crate::Module {
                id: get(row, "m_id")?,
                name: get(row, "m_name")?,
                publisher_id: get(row, "m_publisher_id")?,
                publisher_slug: get(row, "m_publisher_slug")?,
                publisher_name: get(row, "m_publisher_name")?,
                publisher_verified: opt_ts(row, "m_publisher_verified_at")?.is_some(),
                publisher_suspended: opt_ts(row, "m_publisher_suspended_at")?.is_some(),
                display_name: get(row, "m_display_name")?,
                summary: get(row, "m_summary")?,
                description: get(row, "m_description")?,
                category_id: get(row, "m_category_id")?,
                homepage: get(row, "m_homepage")?,
                repository: get(row, "m_repository")?,
                keywords: json_col(row, "m_keywords")?,
                tags: Vec::new(),
                visibility: $crate::Visibility::parse(&visibility)
                    .ok_or_else(|| StoreError::Corrupt(format!("visibility `{visibility}`")))?,
                icon: image_ref(row, "m_icon_sha256", "m_icon_content_type")?,
                latest_version: get(row, "m_latest_version")?,
                downloads: get(row, "m_downloads")?,
                archived_at: opt_ts(row, "m_archived_at")?,
                created_at: ts(row, "m_created_at")?,
                updated_at: ts(row, "m_updated_at")?,
            })
        }

        fn version_from_row(row: &DbRow) -> StoreResult<$crate::Version> {
            let status: String = get(row, "v_status")?;
            let files: Vec<(String, u64)> = json_col(row, "v_files")?;
            Ok($crate::Version {
                id: get(row, "v_id")?,
                module_id: get(row, "v_module_id")?,
                version: get(row, "v_version")?,
                prerelease: get::<i64>(row, "v_prerelease")? != 0,
                status: $crate::VersionStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("status `{status}`")))?,
                sha256: get(row, "v_sha256")?,
                size: get(row, "v_size")?,
                format: get(row, "v_format")?,
                unpacked_size: get(row, "v_unpacked_size")?,
                license: get(row, "v_license")?,
                description: get(row, "v_description")?,
                platform: get(row, "v_platform")?,
                manifest: get(row, "v_manifest")?,
                readme: get(row, "v_readme")?,
                changelog: get(row, "v_changelog")?,
                files: files.into_iter().map(|(path, size)| $crate::PackageFileRow { path, size }).collect(),
                dependencies: Vec::new(),
                downloads: get(row, "v_downloads")?,
                yanked_at: opt_ts(row, "v_yanked_at")?,
                yank_reason: get(row, "v_yank_reason")?,
                published_by: get(row, "v_published_by")?,
                registry_signature: get(row, "v_registry_signature")?,
                registry_key_id: get(row, "v_registry_key_id")?,
                status_reason: get(row, "v_status_reason")?,
                status_changed_at: opt_ts(row, "v_status_changed_at")?,
                status_changed_by: get(row, "v_status_changed_by")?,
                checked_at: opt_ts(row, "v_checked_at")?,
                published_at: opt_ts(row, "v_published_at")?,
                appeal: get(row, "v_appeal")?,
                appealed_at: opt_ts(row, "v_appealed_at")?,
                publisher_signature: get(row, "v_publisher_signature")?,
                publisher_key_id: get(row, "v_publisher_key_id")?,
                created_at: ts(row, "v_created_at")?,
            })
        }

        fn screenshot_from_row(row: &DbRow) -> StoreResult<$crate::Screenshot> {
            Ok($crate::Screenshot {
                id: get(row, "id")?,
                module_id: get(row, "module_id")?,
                image: $crate::ImageRef { sha256: get(row, "sha256")?, content_type: get(row, "content_type")? },
                width: get(row, "width")?,
                height: get(row, "height")?,
                caption: get(row, "caption")?,
                created_at: ts(row, "created_at")?,
            })
        }

        fn category_from_row(row: &DbRow) -> StoreResult<$crate::Category> {
            Ok($crate::Category {
                id: get(row, "id")?,
                slug: get(row, "slug")?,
                name: get(row, "name")?,
                parent_id: get(row, "parent_id")?,
                position: get(row, "position")?,
            })
        }

        fn not_found_if_none(done: <$db as ::sqlx::Database>::QueryResult) -> StoreResult<()> {
            if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        }

        impl $store {
            async fn module_with_tags(&self, clause: &str, arg: ModuleKey<'_>) -> StoreResult<$crate::Module> {
                let sql = format!("SELECT {MODULE_COLS} FROM modules m JOIN publishers p ON p.id = m.publisher_id WHERE {clause}");
                let q = ::sqlx::query(&sql);
                let q = match arg { ModuleKey::Id(id) => q.bind(id), ModuleKey::Name(n) => q.bind(n) };
                let row = q.fetch_one(&mut *self.conn().await?).await.map_err(map_err)?;
                let mut m = module_from_row(&row)?;
                m.tags = ::sqlx::query_scalar("SELECT tag FROM module_tags WHERE module_id = $1 ORDER BY tag")
                    .bind(m.id)
                    .fetch_all(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                Ok(m)
            }

            async fn dependencies_of(&self, version_ids: &[i64]) -> StoreResult<::std::collections::HashMap<i64, Vec<(String, String)>>> {
                let mut out: ::std::collections::HashMap<i64, Vec<(String, String)>> = ::std::collections::HashMap::new();
                if version_ids.is_empty() {
                    return Ok(out);
                }
                let list = version_ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",");
                let rows: Vec<(i64, String, String)> = ::sqlx::query_as(&format!(
                    "SELECT version_id, name, req FROM version_dependencies WHERE version_id IN ({list}) ORDER BY name"
                ))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                for (id, name, req) in rows {
                    out.entry(id).or_default().push((name, req));
                }
                Ok(out)
            }
        }

        enum ModuleKey<'a> {
            Id(i64),
            Name(&'a str),
        }

        async fn insert_module(tx: &mut ::sqlx::Transaction<'_, $db>, m: &$crate::NewModule, now: Timestamp) -> StoreResult<i64> {
            let keywords = $crate::__serde_json::to_string(&m.keywords).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            ::sqlx::query_scalar(
                "INSERT INTO modules (name, name_normalized, publisher_id, display_name, summary, homepage, \
                 repository, keywords, visibility, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            )
            .bind(&m.name)
            .bind(&m.name_normalized)
            .bind(m.publisher_id)
            .bind(&m.display_name)
            .bind(&m.summary)
            .bind(&m.homepage)
            .bind(&m.repository)
            .bind(keywords)
            .bind(m.visibility.as_str())
            .bind(now.millis())
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)
        }

        /// Queues the checks of a version inside the caller's transaction, so that a version is
        /// never in `pending_checks` without a job that will move it on (see
        /// [`crate::moderation::CHECK_JOB`]).
        async fn enqueue_checks_in(tx: &mut ::sqlx::Transaction<'_, $db>, version_id: i64, now: Timestamp) -> StoreResult<()> {
            ::sqlx::query(
                "INSERT INTO jobs (kind, dedupe_key, payload, run_at, created_at) VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (dedupe_key) DO UPDATE SET attempts = 0, run_at = excluded.run_at, \
                 dead_at = NULL, generation = jobs.generation + 1",
            )
            .bind($crate::moderation::CHECK_JOB)
            .bind($crate::moderation::check_job_key(version_id))
            .bind(format!("{{\"version_id\":{version_id}}}"))
            .bind(now.millis())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
            Ok(())
        }

        /// Recomputes `modules.latest_version` inside the caller's transaction.
        async fn refresh_latest(tx: &mut ::sqlx::Transaction<'_, $db>, module_id: i64) -> StoreResult<()> {
            let rows: Vec<(String, Option<i64>)> =
                ::sqlx::query_as("SELECT version, yanked_at FROM versions WHERE module_id = $1 AND status = 'published'")
                    .bind(module_id)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(map_err)?;
            let latest = $crate::catalog::latest_of(rows.iter().map(|(v, y)| (v.as_str(), y.is_some())));
            ::sqlx::query("UPDATE modules SET latest_version = $1 WHERE id = $2")
                .bind(latest)
                .bind(module_id)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            Ok(())
        }

        #[::async_trait::async_trait]
        impl $crate::PublisherStore for $store {
            async fn create_publisher(
                &self,
                slug: &str,
                profile: &$crate::PublisherProfile,
                owner_id: i64,
                now: Timestamp,
            ) -> StoreResult<$crate::Publisher> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                let id: i64 = ::sqlx::query_scalar(
                    "INSERT INTO publishers (slug, display_name, bio, website, support_email, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                )
                .bind(slug)
                .bind(&profile.display_name)
                .bind(&profile.bio)
                .bind(&profile.website)
                .bind(&profile.support_email)
                .bind(now.millis())
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
                ::sqlx::query("INSERT INTO publisher_members (publisher_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)")
                    .bind(id)
                    .bind(owner_id)
                    .bind(now.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                drop(conn);
                $crate::PublisherStore::publisher_by_id(self, id).await
            }

            async fn publisher_by_slug(&self, slug: &str) -> StoreResult<$crate::Publisher> {
                let row = ::sqlx::query(&format!("SELECT {PUBLISHER_COLS} FROM publishers p WHERE p.slug = $1"))
                    .bind(slug)
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                publisher_from_row(&row)
            }

            async fn publisher_by_id(&self, id: i64) -> StoreResult<$crate::Publisher> {
                let row = ::sqlx::query(&format!("SELECT {PUBLISHER_COLS} FROM publishers p WHERE p.id = $1"))
                    .bind(id)
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                publisher_from_row(&row)
            }

            async fn update_publisher(&self, id: i64, profile: &$crate::PublisherProfile, now: Timestamp) -> StoreResult<()> {
                let done = ::sqlx::query(
                    "UPDATE publishers SET display_name = $1, bio = $2, website = $3, support_email = $4, updated_at = $5 \
                     WHERE id = $6",
                )
                .bind(&profile.display_name)
                .bind(&profile.bio)
                .bind(&profile.website)
                .bind(&profile.support_email)
                .bind(now.millis())
                .bind(id)
                .execute(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                not_found_if_none(done)
            }

            async fn set_publisher_logo(&self, id: i64, logo: Option<&$crate::ImageRef>) -> StoreResult<()> {
                let done = ::sqlx::query("UPDATE publishers SET logo_sha256 = $1, logo_content_type = $2 WHERE id = $3")
                    .bind(logo.map(|l| l.sha256.as_str()))
                    .bind(logo.map(|l| l.content_type.as_str()))
                    .bind(id)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                not_found_if_none(done)
            }

            async fn publishers_of_user(&self, user_id: i64) -> StoreResult<Vec<($crate::Publisher, $crate::MemberRole)>> {
                let rows = ::sqlx::query(&format!(
                    "SELECT {PUBLISHER_COLS}, pm.role AS pm_role FROM publishers p \
                     JOIN publisher_members pm ON pm.publisher_id = p.id WHERE pm.user_id = $1 ORDER BY p.slug"
                ))
                .bind(user_id)
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.iter()
                    .map(|row| {
                        let role: String = get(row, "pm_role")?;
                        let role = $crate::MemberRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role `{role}`")))?;
                        Ok((publisher_from_row(row)?, role))
                    })
                    .collect()
            }

            async fn members(&self, publisher_id: i64) -> StoreResult<Vec<$crate::Member>> {
                let rows: Vec<(i64, String, String, String, i64)> = ::sqlx::query_as(
                    "SELECT u.id, u.email, u.display_name, pm.role, pm.created_at FROM publisher_members pm \
                     JOIN users u ON u.id = pm.user_id WHERE pm.publisher_id = $1 ORDER BY pm.created_at, u.id",
                )
                .bind(publisher_id)
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.into_iter()
                    .map(|(user_id, email, display_name, role, created_at)| {
                        Ok($crate::Member {
                            user_id,
                            email,
                            display_name,
                            role: $crate::MemberRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role `{role}`")))?,
                            created_at: Timestamp::from_millis(created_at),
                        })
                    })
                    .collect()
            }

            async fn member_role(&self, publisher_id: i64, user_id: i64) -> StoreResult<$crate::MemberRole> {
                let role: String = ::sqlx::query_scalar("SELECT role FROM publisher_members WHERE publisher_id = $1 AND user_id = $2")
                    .bind(publisher_id)
                    .bind(user_id)
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                $crate::MemberRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role `{role}`")))
            }

            async fn add_member(&self, publisher_id: i64, user_id: i64, role: $crate::MemberRole, now: Timestamp) -> StoreResult<()> {
                ::sqlx::query("INSERT INTO publisher_members (publisher_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(publisher_id)
                    .bind(user_id)
                    .bind(role.as_str())
                    .bind(now.millis())
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(|e| match map_err(e) {
                        StoreError::Conflict { .. } => StoreError::Conflict { field: "user_id".into() },
                        other => other,
                    })
                    .map(|_| ())
            }

            async fn set_member_role(&self, publisher_id: i64, user_id: i64, role: Option<$crate::MemberRole>) -> StoreResult<()> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                // Lock the publisher row so two owners leaving at once cannot both pass the check.
                ::sqlx::query("UPDATE publishers SET updated_at = updated_at WHERE id = $1")
                    .bind(publisher_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let done = match role {
                    Some(r) => ::sqlx::query("UPDATE publisher_members SET role = $1 WHERE publisher_id = $2 AND user_id = $3")
                        .bind(r.as_str())
                        .bind(publisher_id)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await,
                    None => ::sqlx::query("DELETE FROM publisher_members WHERE publisher_id = $1 AND user_id = $2")
                        .bind(publisher_id)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await,
                }
                .map_err(map_err)?;
                not_found_if_none(done)?;
                let owners: i64 = ::sqlx::query_scalar(
                    "SELECT COUNT(*) FROM publisher_members WHERE publisher_id = $1 AND role = 'owner'",
                )
                .bind(publisher_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
                if owners == 0 {
                    return Err(StoreError::Conflict { field: "owner".into() });
                }
                tx.commit().await.map_err(map_err)
            }
        }

        #[::async_trait::async_trait]
        impl $crate::CategoryStore for $store {
            async fn categories(&self) -> StoreResult<Vec<$crate::Category>> {
                let rows = ::sqlx::query("SELECT id, slug, name, parent_id, position FROM categories ORDER BY position, name")
                    .fetch_all(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                let all: Vec<$crate::Category> = rows.iter().map(category_from_row).collect::<StoreResult<_>>()?;
                // Depth-first: each parent followed by its children.
                fn walk(all: &[$crate::Category], parent: Option<i64>, out: &mut Vec<$crate::Category>) {
                    for c in all.iter().filter(|c| c.parent_id == parent) {
                        out.push(c.clone());
                        walk(all, Some(c.id), out);
                    }
                }
                let mut out = Vec::with_capacity(all.len());
                walk(&all, None, &mut out);
                Ok(out)
            }

            async fn create_category(&self, slug: &str, name: &str, parent_id: Option<i64>, position: i64) -> StoreResult<$crate::Category> {
                let row = ::sqlx::query(
                    "INSERT INTO categories (slug, name, parent_id, position) VALUES ($1, $2, $3, $4) \
                     RETURNING id, slug, name, parent_id, position",
                )
                .bind(slug)
                .bind(name)
                .bind(parent_id)
                .bind(position)
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                category_from_row(&row)
            }

            async fn update_category(&self, id: i64, name: &str, parent_id: Option<i64>, position: i64) -> StoreResult<()> {
                let done = ::sqlx::query("UPDATE categories SET name = $1, parent_id = $2, position = $3 WHERE id = $4")
                    .bind(name)
                    .bind(parent_id)
                    .bind(position)
                    .bind(id)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                not_found_if_none(done)
            }

            async fn delete_category(&self, id: i64) -> StoreResult<()> {
                let children: i64 = ::sqlx::query_scalar("SELECT COUNT(*) FROM categories WHERE parent_id = $1")
                    .bind(id)
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                if children > 0 {
                    return Err(StoreError::Conflict { field: "parent_id".into() });
                }
                let done = ::sqlx::query("DELETE FROM categories WHERE id = $1")
                    .bind(id)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                not_found_if_none(done)
            }
        }

        #[::async_trait::async_trait]
        impl $crate::ModuleStore for $store {
            async fn create_module(&self, new: &$crate::NewModule, now: Timestamp) -> StoreResult<$crate::Module> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                let id = insert_module(&mut tx, new, now).await?;
                tx.commit().await.map_err(map_err)?;
                drop(conn);
                $crate::ModuleStore::module_by_id(self, id).await
            }

            async fn module_by_name(&self, name_normalized: &str) -> StoreResult<$crate::Module> {
                self.module_with_tags("m.name_normalized = $1", ModuleKey::Name(name_normalized)).await
            }

            async fn module_by_id(&self, id: i64) -> StoreResult<$crate::Module> {
                self.module_with_tags("m.id = $1", ModuleKey::Id(id)).await
            }

            async fn list_modules(&self, query: &$crate::ModuleQuery) -> StoreResult<Vec<$crate::Module>> {
                let key = match query.sort {
                    $crate::ModuleSort::Newest => "m.created_at",
                    $crate::ModuleSort::Downloads => "m.downloads",
                };
                let listed = if query.listed_only {
                    "AND m.visibility = 'public' AND m.archived_at IS NULL"
                } else {
                    ""
                };
                let (after_key, after_id) = query.after.unwrap_or((i64::MAX, i64::MAX));
                let sql = format!(
                    "SELECT {MODULE_COLS} FROM modules m JOIN publishers p ON p.id = m.publisher_id \
                     WHERE ($1 IS NULL OR m.publisher_id = $1) {listed} \
                     AND ({key} < $2 OR ({key} = $2 AND m.id < $3)) \
                     ORDER BY {key} DESC, m.id DESC LIMIT $4"
                );
                let rows = ::sqlx::query(&sql)
                    .bind(query.publisher_id)
                    .bind(after_key)
                    .bind(after_id)
                    .bind(i64::from(query.limit))
                    .fetch_all(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                rows.iter().map(module_from_row).collect()
            }

            async fn update_module(&self, id: i64, u: &$crate::ModuleUpdate, now: Timestamp) -> StoreResult<()> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                let done = ::sqlx::query(
                    "UPDATE modules SET display_name = $1, summary = $2, description = $3, category_id = $4, \
                     homepage = $5, repository = $6, visibility = $7, updated_at = $8 WHERE id = $9",
                )
                .bind(&u.display_name)
                .bind(&u.summary)
                .bind(&u.description)
                .bind(u.category_id)
                .bind(&u.homepage)
                .bind(&u.repository)
                .bind(u.visibility.as_str())
                .bind(now.millis())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                not_found_if_none(done)?;
                ::sqlx::query("DELETE FROM module_tags WHERE module_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                for tag in &u.tags {
                    ::sqlx::query("INSERT INTO module_tags (module_id, tag) VALUES ($1, $2)")
                        .bind(id)
                        .bind(tag)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }

            async fn set_module_archived(&self, id: i64, archived_at: Option<Timestamp>) -> StoreResult<()> {
                let done = ::sqlx::query("UPDATE modules SET archived_at = $1 WHERE id = $2")
                    .bind(archived_at.map(Timestamp::millis))
                    .bind(id)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                not_found_if_none(done)
            }

            async fn set_module_icon(&self, id: i64, icon: Option<&$crate::ImageRef>) -> StoreResult<()> {
                let done = ::sqlx::query("UPDATE modules SET icon_sha256 = $1, icon_content_type = $2 WHERE id = $3")
                    .bind(icon.map(|l| l.sha256.as_str()))
                    .bind(icon.map(|l| l.content_type.as_str()))
                    .bind(id)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                not_found_if_none(done)
            }

            async fn add_screenshot(&self, module_id: i64, image: &$crate::ImageRef, width: i64, height: i64, caption: &str, now: Timestamp) -> StoreResult<$crate::Screenshot> {
                let row = ::sqlx::query(&format!(
                    "INSERT INTO module_screenshots (module_id, sha256, content_type, width, height, caption, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {SCREENSHOT_COLS}"
                ))
                .bind(module_id)
                .bind(&image.sha256)
                .bind(&image.content_type)
                .bind(width)
                .bind(height)
                .bind(caption)
                .bind(now.millis())
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                screenshot_from_row(&row)
            }

            async fn screenshots(&self, module_id: i64) -> StoreResult<Vec<$crate::Screenshot>> {
                let rows = ::sqlx::query(&format!("SELECT {SCREENSHOT_COLS} FROM module_screenshots WHERE module_id = $1 ORDER BY id"))
                    .bind(module_id)
                    .fetch_all(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                rows.iter().map(screenshot_from_row).collect()
            }

            async fn delete_screenshot(&self, module_id: i64, id: i64) -> StoreResult<$crate::Screenshot> {
                let row = ::sqlx::query(&format!(
                    "DELETE FROM module_screenshots WHERE module_id = $1 AND id = $2 RETURNING {SCREENSHOT_COLS}"
                ))
                .bind(module_id)
                .bind(id)
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                screenshot_from_row(&row)
            }

            async fn image_in_use(&self, sha256: &str) -> StoreResult<bool> {
                let n: i64 = ::sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM modules WHERE icon_sha256 = $1) \
                     + (SELECT COUNT(*) FROM publishers WHERE logo_sha256 = $1) \
                     + (SELECT COUNT(*) FROM module_screenshots WHERE sha256 = $1)",
                )
                .bind(sha256)
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                Ok(n > 0)
            }
        }
    };
}

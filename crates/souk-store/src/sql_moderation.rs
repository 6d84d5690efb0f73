//! Moderation's SQL, written once for both backends; expanded after
//! [`crate::sql_catalog_impls!`], whose row helpers it uses.

/// Expands [`crate::ModerationStore`] for `$store` over `$db`.
#[macro_export]
macro_rules! sql_moderation_impls {
    ($store:ty, $db:ty) => {
        const FINDING_COLS: &str = "rule, severity, path, line, col, message";

        fn finding_from_row(row: &DbRow) -> StoreResult<$crate::StoredFinding> {
            let severity: String = get(row, "severity")?;
            let line: i64 = get(row, "line")?;
            let column: i64 = get(row, "col")?;
            Ok($crate::StoredFinding {
                rule: get(row, "rule")?,
                severity: ::souk_core::findings::Severity::parse(&severity)
                    .ok_or_else(|| StoreError::Corrupt(format!("severity `{severity}`")))?,
                path: get(row, "path")?,
                line: u32::try_from(line).unwrap_or(0),
                column: u32::try_from(column).unwrap_or(0),
                message: get(row, "message")?,
            })
        }

        fn message_from_row(row: &DbRow) -> StoreResult<$crate::PublisherMessage> {
            Ok($crate::PublisherMessage {
                id: get(row, "id")?,
                publisher_id: get(row, "publisher_id")?,
                kind: get(row, "kind")?,
                subject: get(row, "subject")?,
                body: get(row, "body")?,
                module_name: get(row, "module_name")?,
                version: get(row, "version")?,
                created_at: ts(row, "created_at")?,
                read_at: opt_ts(row, "read_at")?,
            })
        }

        /// Applies a state change inside the caller's transaction; answers the module id.
        async fn apply_status_change(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            version_id: i64,
            change: &$crate::StatusChange<'_>,
        ) -> StoreResult<i64> {
            let current: Option<(String, i64)> =
                ::sqlx::query_as("SELECT status, module_id FROM versions WHERE id = $1")
                    .bind(version_id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(map_err)?;
            let Some((status, module_id)) = current else {
                return Err(StoreError::NotFound);
            };
            if !change.from.iter().any(|s| s.as_str() == status) {
                return Err(StoreError::Conflict { field: "status".into() });
            }
            let published = change.to == $crate::VersionStatus::Published;
            let done = ::sqlx::query(
                "UPDATE versions SET status = $1, status_reason = $2, status_changed_at = $3, \
                 status_changed_by = $4, \
                 published_at = CASE WHEN $5 AND published_at IS NULL THEN $3 ELSE published_at END, \
                 registry_signature = COALESCE($6, registry_signature), \
                 registry_key_id = COALESCE($7, registry_key_id), \
                 appeal = CASE WHEN $8 THEN NULL ELSE appeal END, \
                 appealed_at = CASE WHEN $8 THEN NULL ELSE appealed_at END \
                 WHERE id = $9 AND status = $10",
            )
            .bind(change.to.as_str())
            .bind(change.reason)
            .bind(change.at.millis())
            .bind(change.by)
            .bind(published)
            .bind(change.signature.map(|(s, _)| s))
            .bind(change.signature.map(|(_, k)| k))
            .bind(change.clear_appeal)
            .bind(version_id)
            .bind(&status)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict { field: "status".into() });
            }
            if change.to == $crate::VersionStatus::PendingChecks {
                enqueue_checks_in(tx, version_id, change.at).await?;
            }
            refresh_latest(tx, module_id).await?;
            Ok(module_id)
        }

        async fn version_by_id_in(
            conn: &mut DbConnection,
            version_id: i64,
        ) -> StoreResult<$crate::Version> {
            let row = ::sqlx::query(&format!("SELECT {VERSION_COLS} FROM versions v WHERE v.id = $1"))
                .bind(version_id)
                .fetch_one(&mut *conn)
                .await
                .map_err(map_err)?;
            version_from_row(&row)
        }

        #[::async_trait::async_trait]
        impl $crate::ModerationStore for $store {
            async fn version_by_id(&self, version_id: i64) -> StoreResult<$crate::Version> {
                // A read: no transaction (on SQLite one would take the write lock).
                let mut v = version_by_id_in(&mut *self.conn().await?, version_id).await?;
                v.dependencies = self.dependencies_of(&[v.id]).await?.remove(&v.id).unwrap_or_default();
                Ok(v)
            }

            async fn change_version_status(
                &self,
                version_id: i64,
                change: &$crate::StatusChange<'_>,
                audit: Option<&$crate::NewAuditEntry>,
            ) -> StoreResult<$crate::Version> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                apply_status_change(&mut tx, version_id, change).await?;
                if let Some(entry) = audit {
                    insert_audit_in(&mut tx, entry).await?;
                }
                let mut v = version_by_id_in(&mut *tx, version_id).await?;
                tx.commit().await.map_err(map_err)?;
                drop(conn);
                v.dependencies = self.dependencies_of(&[v.id]).await?.remove(&v.id).unwrap_or_default();
                Ok(v)
            }

            async fn record_checks(
                &self,
                version_id: i64,
                findings: &[$crate::StoredFinding],
                change: Option<&$crate::StatusChange<'_>>,
                at: Timestamp,
            ) -> StoreResult<Option<$crate::Version>> {
                let mut conn = self.conn().await?;
                let mut tx = conn.begin().await?;
                // Only a version still waiting for its checks takes their findings: once a
                // moderator decided, a late run must not replace what they saw.
                let pending = ::sqlx::query(
                    "UPDATE versions SET checked_at = $1 WHERE id = $2 AND status = $3",
                )
                .bind(at.millis())
                .bind(version_id)
                .bind($crate::VersionStatus::PendingChecks.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                if pending.rows_affected() == 0 {
                    let exists: Option<(i64,)> =
                        ::sqlx::query_as("SELECT id FROM versions WHERE id = $1")
                            .bind(version_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(map_err)?;
                    return Err(match exists {
                        Some(_) => StoreError::Conflict {
                            field: "status".into(),
                        },
                        None => StoreError::NotFound,
                    });
                }
                ::sqlx::query("DELETE FROM version_findings WHERE version_id = $1")
                    .bind(version_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                for f in findings {
                    ::sqlx::query(
                        "INSERT INTO version_findings (version_id, rule, severity, path, line, col, message, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(version_id)
                    .bind(&f.rule)
                    .bind(f.severity.as_str())
                    .bind(&f.path)
                    .bind(i64::from(f.line))
                    .bind(i64::from(f.column))
                    .bind(&f.message)
                    .bind(at.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                let changed = match change {
                    Some(change) => {
                        apply_status_change(&mut tx, version_id, change).await?;
                        Some(version_by_id_in(&mut *tx, version_id).await?)
                    }
                    None => None,
                };
                tx.commit().await.map_err(map_err)?;
                Ok(changed)
            }

            async fn findings(&self, version_id: i64) -> StoreResult<Vec<$crate::StoredFinding>> {
                let rows = ::sqlx::query(&format!(
                    "SELECT {FINDING_COLS} FROM version_findings WHERE version_id = $1 ORDER BY id"
                ))
                .bind(version_id)
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                let mut out: Vec<$crate::StoredFinding> = rows.iter().map(finding_from_row).collect::<StoreResult<_>>()?;
                out.sort_by(|a, b| {
                    b.severity.cmp(&a.severity).then_with(|| a.path.cmp(&b.path)).then(a.line.cmp(&b.line)).then(a.column.cmp(&b.column))
                });
                Ok(out)
            }

            async fn moderation_queue(
                &self,
                statuses: &[$crate::VersionStatus],
                after_id: Option<i64>,
                limit: u32,
            ) -> StoreResult<Vec<$crate::QueueEntry>> {
                if statuses.is_empty() {
                    return Ok(Vec::new());
                }
                // The states are our own constants, so they can be spelled into the SQL.
                let states = statuses.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ");
                let rows = ::sqlx::query(&format!(
                    "SELECT {MODULE_COLS}, {VERSION_COLS}, \
                     (SELECT COUNT(*) FROM version_findings f WHERE f.version_id = v.id AND f.severity = 'error') AS n_errors, \
                     (SELECT COUNT(*) FROM version_findings f WHERE f.version_id = v.id AND f.severity = 'warning') AS n_warnings \
                     FROM versions v JOIN modules m ON m.id = v.module_id JOIN publishers p ON p.id = m.publisher_id \
                     WHERE v.status IN ({states}) AND v.id > $1 ORDER BY v.id LIMIT $2"
                ))
                .bind(after_id.unwrap_or(0))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.iter()
                    .map(|row| {
                        Ok($crate::QueueEntry {
                            module: module_from_row(row)?,
                            version: version_from_row(row)?,
                            errors: get(row, "n_errors")?,
                            warnings: get(row, "n_warnings")?,
                        })
                    })
                    .collect()
            }

            async fn set_appeal(&self, version_id: i64, appeal: Option<(&str, Timestamp)>) -> StoreResult<()> {
                let done = ::sqlx::query("UPDATE versions SET appeal = $1, appealed_at = $2 WHERE id = $3")
                    .bind(appeal.map(|(m, _)| m))
                    .bind(appeal.map(|(_, at)| at.millis()))
                    .bind(version_id)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                not_found_if_none(done)
            }

            async fn popular_module_names(&self, limit: u32) -> StoreResult<Vec<(String, i64)>> {
                ::sqlx::query_as(
                    "SELECT name, publisher_id FROM modules WHERE latest_version IS NOT NULL ORDER BY downloads DESC, id LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)
            }

            async fn set_verification_request(&self, publisher_id: i64, request: Option<(&str, Timestamp)>) -> StoreResult<()> {
                let done = ::sqlx::query(
                    "UPDATE publishers SET verification_requested_at = $1, verification_note = $2 WHERE id = $3",
                )
                .bind(request.map(|(_, at)| at.millis()))
                .bind(request.map(|(note, _)| note))
                .bind(publisher_id)
                .execute(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                not_found_if_none(done)
            }

            async fn set_verified(&self, publisher_id: i64, at: Option<Timestamp>) -> StoreResult<()> {
                let done = ::sqlx::query(
                    "UPDATE publishers SET verified_at = $1, \
                     verification_requested_at = CASE WHEN $2 THEN NULL ELSE verification_requested_at END, \
                     verification_note = CASE WHEN $2 THEN NULL ELSE verification_note END WHERE id = $3",
                )
                .bind(at.map(Timestamp::millis))
                .bind(at.is_some())
                .bind(publisher_id)
                .execute(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                not_found_if_none(done)
            }

            async fn set_suspended(&self, publisher_id: i64, suspension: Option<(&str, Timestamp)>) -> StoreResult<()> {
                let done = ::sqlx::query("UPDATE publishers SET suspended_at = $1, suspension_reason = $2 WHERE id = $3")
                    .bind(suspension.map(|(_, at)| at.millis()))
                    .bind(suspension.map(|(reason, _)| reason))
                    .bind(publisher_id)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                not_found_if_none(done)
            }

            async fn list_publishers(
                &self,
                filter: $crate::PublisherFilter,
                after: Option<&str>,
                limit: u32,
            ) -> StoreResult<Vec<$crate::Publisher>> {
                let cond = match filter {
                    $crate::PublisherFilter::All => "TRUE",
                    $crate::PublisherFilter::VerificationRequested => "p.verification_requested_at IS NOT NULL",
                    $crate::PublisherFilter::Verified => "p.verified_at IS NOT NULL",
                    $crate::PublisherFilter::Suspended => "p.suspended_at IS NOT NULL",
                };
                let rows = ::sqlx::query(&format!(
                    "SELECT {PUBLISHER_COLS} FROM publishers p WHERE {cond} AND p.slug > $1 ORDER BY p.slug LIMIT $2"
                ))
                .bind(after.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.iter().map(publisher_from_row).collect()
            }

            async fn add_publisher_message(
                &self,
                m: &$crate::NewPublisherMessage,
                now: Timestamp,
            ) -> StoreResult<$crate::PublisherMessage> {
                let row = ::sqlx::query(
                    "INSERT INTO publisher_messages (publisher_id, kind, subject, body, module_name, version, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     RETURNING id, publisher_id, kind, subject, body, module_name, version, created_at, read_at",
                )
                .bind(m.publisher_id)
                .bind(&m.kind)
                .bind(&m.subject)
                .bind(&m.body)
                .bind(&m.module_name)
                .bind(&m.version)
                .bind(now.millis())
                .fetch_one(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                message_from_row(&row)
            }

            async fn publisher_messages(
                &self,
                publisher_id: i64,
                before_id: Option<i64>,
                limit: u32,
            ) -> StoreResult<Vec<$crate::PublisherMessage>> {
                let rows = ::sqlx::query(
                    "SELECT id, publisher_id, kind, subject, body, module_name, version, created_at, read_at \
                     FROM publisher_messages WHERE publisher_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                )
                .bind(publisher_id)
                .bind(before_id.unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.iter().map(message_from_row).collect()
            }

            async fn unread_publisher_messages(&self, publisher_id: i64) -> StoreResult<i64> {
                ::sqlx::query_scalar("SELECT COUNT(*) FROM publisher_messages WHERE publisher_id = $1 AND read_at IS NULL")
                    .bind(publisher_id)
                    .fetch_one(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)
            }

            async fn mark_publisher_messages_read(&self, publisher_id: i64, up_to_id: i64, at: Timestamp) -> StoreResult<()> {
                ::sqlx::query(
                    "UPDATE publisher_messages SET read_at = $1 WHERE publisher_id = $2 AND id <= $3 AND read_at IS NULL",
                )
                .bind(at.millis())
                .bind(publisher_id)
                .bind(up_to_id)
                .execute(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                Ok(())
            }
        }

    };
}

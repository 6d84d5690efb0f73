//! The job queue's SQL, written once for both backends; expanded after
//! [`crate::sql_store_impls!`], whose helpers (`get`, `ts`, `map_err`) it uses.
//!
//! The claim differs between the backends (PostgreSQL's locks the row it picks with
//! `FOR UPDATE SKIP LOCKED`); the difference is [`crate::dialect::Dialect::claim_lock`].

/// Expands [`crate::JobStore`] for `$store` over the sqlx database `$db`.
#[macro_export]
macro_rules! sql_job_impls {
    ($store:ty, $db:ty) => {
        const JOB_COLS: &str = "id, kind, dedupe_key, payload, attempts, last_error, dead_at, generation";
        const JOB_INFO_COLS: &str = "id, kind, dedupe_key, payload, attempts, last_error, run_at, \
             created_at, locked_by, locked_until, dead_at";

        fn job_from_row(row: &DbRow) -> StoreResult<$crate::Job> {
            Ok($crate::Job {
                id: get(row, "id")?,
                kind: get(row, "kind")?,
                dedupe_key: get(row, "dedupe_key")?,
                payload: get(row, "payload")?,
                attempts: get(row, "attempts")?,
                last_error: get(row, "last_error")?,
                dead: opt_ts(row, "dead_at")?.is_some(),
                generation: get(row, "generation")?,
            })
        }

        fn job_info_from_row(row: &DbRow, now: Timestamp) -> StoreResult<$crate::JobInfo> {
            let dead_at = opt_ts(row, "dead_at")?;
            let locked_until = opt_ts(row, "locked_until")?;
            Ok($crate::JobInfo {
                id: get(row, "id")?,
                kind: get(row, "kind")?,
                dedupe_key: get(row, "dedupe_key")?,
                payload: get(row, "payload")?,
                status: if dead_at.is_some() {
                    $crate::JobStatus::Dead
                } else if locked_until.is_some_and(|t| t >= now) {
                    $crate::JobStatus::Running
                } else {
                    $crate::JobStatus::Queued
                },
                attempts: get(row, "attempts")?,
                last_error: get(row, "last_error")?,
                run_at: ts(row, "run_at")?,
                created_at: ts(row, "created_at")?,
                locked_by: get(row, "locked_by")?,
                locked_until,
                dead_at,
            })
        }

        /// A job enqueued again while `worker` ran an older generation of it: let it go, so that
        /// the new ask runs (with its own time and attempts), not the outcome of the old one.
        async fn release_newer(conn: &mut DbConnection, job: &$crate::Job, worker: &str) -> StoreResult<()> {
            ::sqlx::query("UPDATE jobs SET locked_by = NULL, locked_until = NULL WHERE id = $1 AND locked_by = $2")
                .bind(job.id)
                .bind(worker)
                .execute(&mut *conn)
                .await
                .map_err(map_err)?;
            Ok(())
        }

        /// Releases the generation of `job` that `worker` claimed with `sql` (which sets
        /// `last_error = $1` and one time column to `$2`); a newer generation is only let go.
        async fn let_go(
            conn: &mut DbConnection,
            sql: &'static str,
            job: &$crate::Job,
            worker: &str,
            error: &str,
            at: Timestamp,
        ) -> StoreResult<bool> {
            let done = ::sqlx::query(sql)
                .bind(error)
                .bind(at.millis())
                .bind(job.id)
                .bind(worker)
                .bind(job.generation)
                .execute(&mut *conn)
                .await
                .map_err(map_err)?;
            if done.rows_affected() > 0 {
                return Ok(true);
            }
            release_newer(conn, job, worker).await?;
            Ok(false)
        }

        #[::async_trait::async_trait]
        impl $crate::JobStore for $store {
            async fn enqueue_job(
                &self,
                kind: &str,
                dedupe_key: &str,
                payload: &str,
                run_at: Timestamp,
                now: Timestamp,
            ) -> StoreResult<()> {
                ::sqlx::query(
                    "INSERT INTO jobs (kind, dedupe_key, payload, run_at, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (dedupe_key) DO UPDATE SET payload = excluded.payload, attempts = 0, dead_at = NULL, \
                     generation = jobs.generation + 1, \
                     run_at = CASE WHEN jobs.run_at < excluded.run_at THEN jobs.run_at ELSE excluded.run_at END",
                )
                .bind(kind)
                .bind(dedupe_key)
                .bind(payload)
                .bind(run_at.millis())
                .bind(now.millis())
                .execute(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn claim_job(
                &self,
                kind: &str,
                worker: &str,
                now: Timestamp,
                lease_until: Timestamp,
            ) -> StoreResult<Option<$crate::Job>> {
                let lock = DIALECT.claim_lock;
                let row = ::sqlx::query(&format!(
                    "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 \
                     WHERE id = (SELECT id FROM jobs WHERE kind = $3 AND run_at <= $4 AND dead_at IS NULL \
                     AND (locked_until IS NULL OR locked_until < $4) ORDER BY run_at, id LIMIT 1{lock}) \
                     AND (locked_until IS NULL OR locked_until < $4) \
                     RETURNING {JOB_COLS}"
                ))
                .bind(worker)
                .bind(lease_until.millis())
                .bind(kind)
                .bind(now.millis())
                .fetch_optional(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                row.as_ref().map(job_from_row).transpose()
            }

            async fn complete_job(&self, job: &$crate::Job, worker: &str) -> StoreResult<bool> {
                let done = ::sqlx::query("DELETE FROM jobs WHERE id = $1 AND locked_by = $2 AND generation = $3")
                    .bind(job.id)
                    .bind(worker)
                    .bind(job.generation)
                    .execute(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                if done.rows_affected() > 0 {
                    return Ok(true);
                }
                release_newer(&mut *self.conn().await?, job, worker).await?;
                Ok(false)
            }

            async fn retry_job(&self, job: &$crate::Job, worker: &str, error: &str, run_at: Timestamp) -> StoreResult<bool> {
                let sql = "UPDATE jobs SET locked_by = NULL, locked_until = NULL, last_error = $1, run_at = $2 \
                           WHERE id = $3 AND locked_by = $4 AND generation = $5";
                let_go(&mut *self.conn().await?, sql, job, worker, error, run_at).await
            }

            async fn bury_job(&self, job: &$crate::Job, worker: &str, error: &str, now: Timestamp) -> StoreResult<bool> {
                let sql = "UPDATE jobs SET locked_by = NULL, locked_until = NULL, last_error = $1, dead_at = $2 \
                           WHERE id = $3 AND locked_by = $4 AND generation = $5";
                let_go(&mut *self.conn().await?, sql, job, worker, error, now).await
            }

            async fn job_by_key(&self, dedupe_key: &str) -> StoreResult<Option<$crate::Job>> {
                let row = ::sqlx::query(&format!("SELECT {JOB_COLS} FROM jobs WHERE dedupe_key = $1"))
                    .bind(dedupe_key)
                    .fetch_optional(&mut *self.conn().await?)
                    .await
                    .map_err(map_err)?;
                row.as_ref().map(job_from_row).transpose()
            }

            async fn list_jobs(
                &self,
                status: $crate::JobStatus,
                now: Timestamp,
                after_id: Option<i64>,
                limit: u32,
            ) -> StoreResult<Vec<$crate::JobInfo>> {
                // Every condition reads `$1` (now), so that the query binds the same parameters.
                let condition = match status {
                    $crate::JobStatus::Dead => "dead_at IS NOT NULL AND $1 > 0",
                    $crate::JobStatus::Running => "dead_at IS NULL AND locked_until >= $1",
                    $crate::JobStatus::Queued => "dead_at IS NULL AND (locked_until IS NULL OR locked_until < $1)",
                };
                let rows = ::sqlx::query(&format!(
                    "SELECT {JOB_INFO_COLS} FROM jobs WHERE {condition} AND id > $2 ORDER BY id LIMIT $3"
                ))
                .bind(now.millis())
                .bind(after_id.unwrap_or(0))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                rows.iter().map(|r| job_info_from_row(r, now)).collect()
            }

            async fn revive_job(&self, id: i64, now: Timestamp) -> StoreResult<$crate::JobInfo> {
                let row = ::sqlx::query(&format!(
                    "UPDATE jobs SET dead_at = NULL, attempts = 0, run_at = $1, locked_by = NULL, locked_until = NULL \
                     WHERE id = $2 AND dead_at IS NOT NULL RETURNING {JOB_INFO_COLS}"
                ))
                .bind(now.millis())
                .bind(id)
                .fetch_optional(&mut *self.conn().await?)
                .await
                .map_err(map_err)?;
                match row {
                    Some(row) => job_info_from_row(&row, now),
                    None => {
                        let exists: Option<i64> = ::sqlx::query_scalar("SELECT id FROM jobs WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *self.conn().await?)
                            .await
                            .map_err(map_err)?;
                        Err(match exists {
                            Some(_) => StoreError::Conflict { field: "status".into() },
                            None => StoreError::NotFound,
                        })
                    }
                }
            }
        }
    };
}

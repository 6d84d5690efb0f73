//! Search: an embedded tantivy index in `DATA_DIR/search`, kept current from the database.
//!
//! Every node keeps its own index. The database's change log (`search_changes`, written by
//! triggers in the same transaction as each catalog write) is the source of truth: a node reads
//! it in id order from the position its last commit recorded, reindexes the modules it names and
//! commits the new position with the documents, so a restart resumes where it stopped. PostgreSQL
//! hands out ids before commit, so a later id can become visible before an earlier one; the
//! follower remembers the ids it has applied above its position and only moves past a missing id
//! once that id has been missing for [`GAP_WAIT`] (a rolled-back transaction leaves a hole
//! forever).
//!
//! The index is rebuilt from scratch when it is missing, unreadable, of an older
//! [`schema::SCHEMA_VERSION`], older than the oldest change the log still keeps, or when anyone
//! asks (a change-log row with no module, written by `souk admin reindex` and by category edits).
//! Trending scores (see [`trending`]) are recomputed hourly.

pub mod query;
pub mod schema;
pub mod trending;

use anyhow::Context;
use schema::{Fields, SCHEMA_VERSION};
use souk_core::Timestamp;
use souk_store::{DynStore, IndexDoc, SearchChange};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tantivy::schema::Term;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};

/// How long a hole in the change log is waited for before it is taken for a rollback.
pub const GAP_WAIT: Duration = Duration::from_secs(3);
/// Change-log rows read per round trip, and modules loaded per query.
const BATCH: u32 = 1000;
/// Indexing memory: tantivy flushes a segment when it is used up.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// What a commit records besides its documents.
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    schema: u32,
    cursor: i64,
}

/// The follower's position in the change log.
#[derive(Default)]
struct Follow {
    /// Every change up to this id is in the index (or was a hole given up on).
    cursor: i64,
    /// Changes above `cursor` already applied.
    applied: BTreeSet<i64>,
    /// Holes above `cursor`, with when they were first seen.
    holes: BTreeMap<i64, Instant>,
    /// The trending score each indexed module was indexed with.
    trending: HashMap<i64, f64>,
}

/// Opening failed because another process holds the index (a running `souk serve`).
#[derive(Debug, thiserror::Error)]
#[error("the search index in {} is in use by another souk process", .0.display())]
pub struct IndexInUse(pub PathBuf);

pub struct SearchIndex {
    /// Held while the index is open; see [`lock_beside`].
    _lock: std::fs::File,
    reader: IndexReader,
    fields: Fields,
    writer: Arc<Mutex<IndexWriter<TantivyDocument>>>,
    store: DynStore,
    follow: tokio::sync::Mutex<Follow>,
    /// The cursor of the last commit, for `/metrics` and tests.
    position: AtomicI64,
}

/// Why opening found the index unusable; logged when it is rebuilt.
enum Stale {
    Fresh,
    Missing,
    Unreadable(String),
    OtherSchema(u32),
    BehindLog,
}

impl SearchIndex {
    /// Opens (or creates) the index under `dir`, rebuilding it when it is stale. Fails when
    /// another process holds the index (two servers on one data directory).
    pub async fn open(dir: &Path, store: DynStore) -> anyhow::Result<Arc<Self>> {
        // Taken before anything in `dir` is read or cleared: a second process must not delete
        // an index that a running server is writing.
        let lock = lock_beside(dir)?;
        let (index, stale) = open_or_create(dir)?;
        let (_, fields) = schema::schema();
        schema::register_analyzers(&index);
        let writer = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => IndexInUse(dir.to_owned()).into(),
                other => anyhow::Error::new(other).context("cannot open the search index"),
            })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .context("cannot read the search index")?;
        let payload = read_payload(&index);
        let this = Arc::new(Self {
            _lock: lock,
            reader,
            fields,
            writer: Arc::new(Mutex::new(writer)),
            store,
            follow: tokio::sync::Mutex::default(),
            position: AtomicI64::new(0),
        });
        let mut stale = stale;
        if let (Stale::Fresh, Some(p)) = (&stale, &payload) {
            let first = this.store.first_search_change().await?;
            if first.is_some_and(|first| first > p.cursor + 1) {
                stale = Stale::BehindLog;
            }
        }
        match (&stale, payload) {
            (Stale::Fresh, Some(p)) => {
                this.follow.lock().await.cursor = p.cursor;
                this.position.store(p.cursor, Ordering::Relaxed);
                this.refresh_trending().await?;
                this.sync().await?;
            }
            _ => {
                let why = match stale {
                    Stale::Fresh | Stale::Missing => "it is new".to_owned(),
                    Stale::Unreadable(e) => format!("it could not be read ({e})"),
                    Stale::OtherSchema(v) => {
                        format!("it has schema {v}, this souk {SCHEMA_VERSION}")
                    }
                    Stale::BehindLog => "the change log has moved past it".to_owned(),
                };
                tracing::info!(reason = %why, "rebuilding the search index");
                this.rebuild().await?;
            }
        }
        Ok(this)
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// The change-log position the index has committed.
    pub fn position(&self) -> i64 {
        self.position.load(Ordering::Relaxed)
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Rebuilds the whole index from the database in one commit; searches see the old index
    /// until then.
    pub async fn rebuild(&self) -> anyhow::Result<u64> {
        let mut follow = self.follow.lock().await;
        self.rebuild_locked(&mut follow).await
    }

    async fn rebuild_locked(&self, follow: &mut Follow) -> anyhow::Result<u64> {
        let started = Instant::now();
        // Taken before reading: a change made while we read is applied again afterwards.
        let mark = self.store.last_search_change().await?;
        let paths = self.category_paths().await?;
        let scores = self.trending_scores(None).await?;
        let writer = self.writer.clone();
        writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .delete_all_documents()?;
        let mut after = 0;
        let mut count = 0u64;
        loop {
            let docs = self.store.index_docs(after, BATCH).await?;
            let Some(last) = docs.last() else { break };
            after = last.module.id;
            count += docs.len() as u64;
            let built = self.documents(&docs, &paths, &scores);
            let w = writer.clone();
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let w = w.lock().unwrap_or_else(|p| p.into_inner());
                for d in built {
                    w.add_document(d)?;
                }
                Ok(())
            })
            .await??;
        }
        self.commit(mark).await?;
        follow.cursor = mark;
        follow.applied.clear();
        follow.holes.clear();
        follow.trending = scores;
        tracing::info!(
            modules = count,
            took_ms = started.elapsed().as_millis() as u64,
            "search index built"
        );
        Ok(count)
    }

    /// Applies every change the log holds beyond this index's position. Serialized: a second
    /// caller waits for the first and then finds little or nothing to do.
    pub async fn sync(&self) -> anyhow::Result<()> {
        let mut follow = self.follow.lock().await;
        loop {
            let rows = self
                .store
                .search_changes_after(follow.cursor, BATCH)
                .await?;
            let fresh: Vec<SearchChange> = rows
                .iter()
                .filter(|r| !follow.applied.contains(&r.id))
                .copied()
                .collect();
            if fresh.iter().any(SearchChange::is_rebuild) {
                self.rebuild_locked(&mut follow).await?;
                continue;
            }
            let before = follow.cursor;
            if !fresh.is_empty() {
                let mut ids: BTreeSet<i64> = fresh.iter().filter_map(|c| c.module_id).collect();
                for publisher in fresh.iter().filter_map(|c| c.publisher_id) {
                    ids.extend(self.store.module_ids_of_publisher(publisher).await?);
                }
                let ids: Vec<i64> = ids.into_iter().collect();
                self.reindex(&mut follow, &ids).await?;
                follow.applied.extend(fresh.iter().map(|c| c.id));
            }
            advance(&mut follow, Instant::now());
            if !fresh.is_empty() || follow.cursor != before {
                self.commit(follow.cursor).await?;
            }
            // A short page is the end of the log; a full page with nothing new and no move past
            // a hole would only be read again: wait for the next round instead of spinning.
            if rows.len() < BATCH as usize || (fresh.is_empty() && follow.cursor == before) {
                return Ok(());
            }
        }
    }

    /// Re-reads these modules and replaces their documents (deleting the unlisted ones).
    async fn reindex(&self, follow: &mut Follow, ids: &[i64]) -> anyhow::Result<()> {
        let paths = self.category_paths().await?;
        for chunk in ids.chunks(BATCH as usize) {
            let docs = self.store.index_docs_of(chunk).await?;
            let scores = self.trending_scores(Some(chunk)).await?;
            for id in chunk {
                match scores.get(id) {
                    Some(s) => follow.trending.insert(*id, *s),
                    None => follow.trending.remove(id),
                };
            }
            let built = self.documents(&docs, &paths, &scores);
            let (w, id_field, chunk) = (self.writer.clone(), self.fields.id, chunk.to_vec());
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let w = w.lock().unwrap_or_else(|p| p.into_inner());
                for id in chunk {
                    w.delete_term(Term::from_field_u64(id_field, id as u64));
                }
                for d in built {
                    w.add_document(d)?;
                }
                Ok(())
            })
            .await??;
        }
        Ok(())
    }

    /// Recomputes trending scores and reindexes the modules whose score moved. Hourly, and
    /// after a restart.
    pub async fn refresh_trending(&self) -> anyhow::Result<()> {
        let mut follow = self.follow.lock().await;
        let scores = self.trending_scores(None).await?;
        let mut moved: Vec<i64> = scores
            .iter()
            .filter(|(id, s)| follow.trending.get(id) != Some(s))
            .map(|(id, _)| *id)
            .collect();
        moved.extend(follow.trending.keys().filter(|id| !scores.contains_key(id)));
        if moved.is_empty() {
            return Ok(());
        }
        moved.sort_unstable();
        self.reindex(&mut follow, &moved).await?;
        self.commit(follow.cursor).await
    }

    async fn commit(&self, cursor: i64) -> anyhow::Result<()> {
        let payload = serde_json::to_string(&Payload {
            schema: SCHEMA_VERSION,
            cursor,
        })?;
        let w = self.writer.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut w = w.lock().unwrap_or_else(|p| p.into_inner());
            let mut prepared = w.prepare_commit()?;
            prepared.set_payload(&payload);
            prepared.commit()?;
            Ok(())
        })
        .await??;
        self.reader.reload()?;
        self.position.store(cursor, Ordering::Relaxed);
        Ok(())
    }

    fn documents(
        &self,
        docs: &[IndexDoc],
        paths: &HashMap<i64, Vec<String>>,
        scores: &HashMap<i64, f64>,
    ) -> Vec<TantivyDocument> {
        docs.iter()
            .map(|d| {
                let score = scores.get(&d.module.id).copied().unwrap_or(0.0);
                schema::document(&self.fields, d, paths, score)
            })
            .collect()
    }

    /// Category id to the slugs from the root down to it.
    async fn category_paths(&self) -> anyhow::Result<HashMap<i64, Vec<String>>> {
        let cats = self.store.categories().await?;
        Ok(cats
            .iter()
            .map(|c| (c.id, query::slugs(&cats, c.id)))
            .collect())
    }

    async fn trending_scores(&self, ids: Option<&[i64]>) -> anyhow::Result<HashMap<i64, f64>> {
        let today = Timestamp::now().day();
        let activity = self
            .store
            .activity_since(today - trending::WINDOW_DAYS * 2 + 1, ids)
            .await?;
        Ok(trending::scores(&activity, today))
    }

    /// Follows the change log whenever the bus announces a catalog change and at least every
    /// `every`, and refreshes trending hourly, until dropped.
    pub async fn follow(
        self: Arc<Self>,
        every: Duration,
        mut events: tokio::sync::broadcast::Receiver<crate::bus::BusEvent>,
    ) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_trending = Instant::now();
        loop {
            // A catalog change announced on the bus (by any node) is taken in at once; the tick
            // is the safety net for a bus that is down or an event that was missed. Syncing is
            // idempotent: it reads the change log from where this index stands.
            tokio::select! {
                _ = tick.tick() => {}
                event = events.recv() => match event {
                    Ok(e) if e.topic != souk_store::CATALOG_CHANGED => continue,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    // The bus lives as long as the process; should it go, the tick alone follows.
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        tokio::time::sleep(every).await;
                    }
                },
            }
            if let Err(e) = self.sync().await {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "search index could not follow the change log"
                );
            }
            if last_trending.elapsed() >= Duration::from_secs(3600) {
                last_trending = Instant::now();
                if let Err(e) = self.refresh_trending().await {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "trending scores could not be refreshed"
                    );
                }
            }
        }
    }
}

/// Moves the cursor over applied ids and over holes that have waited long enough.
fn advance(follow: &mut Follow, now: Instant) {
    loop {
        let next = follow.cursor + 1;
        if follow.applied.remove(&next) {
            follow.cursor = next;
            follow.holes.remove(&next);
            continue;
        }
        if follow.applied.is_empty() {
            follow.holes.clear();
            return;
        }
        let since = *follow.holes.entry(next).or_insert(now);
        if now.duration_since(since) < GAP_WAIT {
            return;
        }
        follow.cursor = next;
        follow.holes.remove(&next);
    }
}

/// An exclusive lock on `<dir>.lock`, a file beside the index directory, for as long as the
/// answer lives. The operating system drops it when the process ends, however it ends.
fn lock_beside(dir: &Path) -> anyhow::Result<std::fs::File> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let path = dir.with_extension("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(IndexInUse(dir.to_owned()).into()),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(anyhow::Error::new(e).context(format!("cannot lock {}", path.display())))
        }
    }
}

fn read_payload(index: &Index) -> Option<Payload> {
    let metas = index.load_metas().ok()?;
    serde_json::from_str(metas.payload.as_deref()?).ok()
}

/// Opens the index in `dir`, or makes an empty one there when it is missing, unreadable or of
/// another schema.
fn open_or_create(dir: &Path) -> anyhow::Result<(Index, Stale)> {
    let stale = if dir.join("meta.json").exists() {
        match Index::open_in_dir(dir) {
            Ok(index) => match read_payload(&index) {
                Some(p) if p.schema == SCHEMA_VERSION => return Ok((index, Stale::Fresh)),
                Some(p) => Stale::OtherSchema(p.schema),
                None => Stale::Unreadable("no position recorded".into()),
            },
            Err(e) => Stale::Unreadable(e.to_string()),
        }
    } else {
        Stale::Missing
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot clear the old search index {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the search index directory {}", dir.display()))?;
    let index = Index::create_in_dir(dir, schema::schema().0)
        .with_context(|| format!("cannot create a search index in {}", dir.display()))?;
    Ok((index, stale))
}

/// Where the index lives in a data directory.
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("search")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_waits_for_holes_then_moves_on() {
        let mut f = Follow {
            cursor: 10,
            ..Follow::default()
        };
        let t0 = Instant::now();
        f.applied.extend([11, 12, 14, 15]);
        advance(&mut f, t0);
        assert_eq!(f.cursor, 12, "13 is missing: wait for it");
        assert_eq!(f.applied, BTreeSet::from([14, 15]));
        // 13 commits late: it is applied and the cursor catches up.
        f.applied.insert(13);
        advance(&mut f, t0 + Duration::from_millis(100));
        assert_eq!(f.cursor, 15);
        assert!(f.holes.is_empty());
        // A hole that never fills (a rollback) is passed after GAP_WAIT.
        f.applied.insert(17);
        advance(&mut f, t0);
        assert_eq!(f.cursor, 15);
        advance(&mut f, t0 + GAP_WAIT + Duration::from_millis(1));
        assert_eq!(f.cursor, 17);
        // Nothing above the cursor: no hole to wait for.
        advance(&mut f, t0);
        assert_eq!(f.cursor, 17);
        assert!(f.holes.is_empty());
    }
}

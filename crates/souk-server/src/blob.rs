//! Blob storage: package archives and images, content-addressed by SHA-256, through the
//! `object_store` crate. A local directory (`DATA_DIR/blobs`) by default; an S3-compatible bucket
//! when `s3.bucket` is set, so that any number of nodes share one store.
//!
//! Uploads are never held in memory: [`BlobStore::stage`] streams a request body into a file under
//! `DATA_DIR/tmp` while hashing and counting it (the size limit stops the read as soon as it is
//! passed), the caller inspects the staged file, and only a file that passed is stored under its
//! content address. A key is written once and never changed, which is what makes `ETag` and
//! caching trivially right.

use crate::config::Config;
use anyhow::Context;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// What a blob is, which decides its key prefix.
#[derive(Debug, Clone, Copy)]
pub enum BlobKind {
    Package,
    Image,
}

pub fn blob_key(kind: BlobKind, sha256: &str) -> ObjectPath {
    let prefix = match kind {
        BlobKind::Package => "packages",
        BlobKind::Image => "images",
    };
    let fan = sha256.get(..2).unwrap_or("00");
    ObjectPath::from(format!("{prefix}/{fan}/{sha256}"))
}

/// A request body written to a temporary file, with its digest. The file is removed on drop.
pub struct Staged {
    pub file: tempfile::TempPath,
    pub sha256: String,
    /// BLAKE2b-512 of the bytes: what a minisign signature signs, taken in the same pass.
    pub prehash: souk_core::signing::Prehash,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("the upload is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the upload was interrupted: {0}")]
    Body(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A byte stream of (part of) a blob.
pub type BlobStream = std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// A stored blob whose bytes no longer hash to its name: changed or damaged in storage. It is
/// never served; the error is logged where it is found.
#[derive(Debug, thiserror::Error)]
#[error("stored blob {0} no longer matches its SHA-256")]
pub struct BlobCorrupt(pub String);

/// Passes a whole blob through while hashing it, and holds back the last chunk until the hash is
/// known: a blob that does not match its name ends in an error instead of its last bytes, so the
/// client sees a broken download (shorter than `Content-Length`), never a complete wrong one.
struct Verified {
    inner: BlobStream,
    expected: String,
    hasher: Option<Sha256>,
    held: Option<Bytes>,
}

impl Stream for Verified {
    type Item = std::io::Result<Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = &mut *self;
        loop {
            let Some(hasher) = this.hasher.as_mut() else {
                return Poll::Ready(None);
            };
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(chunk))) => {
                    hasher.update(&chunk);
                    if let Some(previous) = this.held.replace(chunk) {
                        return Poll::Ready(Some(Ok(previous)));
                    }
                }
                Poll::Ready(None) => {
                    let hasher = this.hasher.take().expect("checked above");
                    if hex::encode(hasher.finalize()) == this.expected {
                        return Poll::Ready(this.held.take().map(Ok));
                    }
                    tracing::error!(sha256 = %this.expected, "a stored blob no longer matches its SHA-256: download refused");
                    return Poll::Ready(Some(Err(std::io::Error::other(BlobCorrupt(
                        this.expected.clone(),
                    )))));
                }
            }
        }
    }
}

enum Backend {
    Local {
        root: PathBuf,
    },
    S3 {
        signer: Arc<object_store::aws::AmazonS3>,
        presign: Option<Duration>,
    },
}

#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    backend: Arc<Backend>,
    staging: PathBuf,
    hot: Arc<HotCache>,
}

/// Recently served local blobs, kept in memory. Blobs are immutable, so the cache needs no
/// invalidation; a download from it is one copy from memory to the socket instead of a chain of
/// file reads through the blocking thread pool (which halves throughput under concurrency).
/// Bounded by total size; the oldest entry goes first.
#[derive(Default)]
struct HotCache {
    inner: std::sync::Mutex<(
        std::collections::HashMap<String, Bytes>,
        std::collections::VecDeque<String>,
        usize,
    )>,
}

/// Total bytes the hot cache holds, and the largest blob it takes.
const HOT_CACHE_BYTES: usize = 256 * 1024 * 1024;
const HOT_BLOB_MAX: u64 = 32 * 1024 * 1024;

impl HotCache {
    fn get(&self, key: &str) -> Option<Bytes> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.get(key).cloned()
    }

    fn put(&self, key: &str, bytes: Bytes) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order, total) = &mut *guard;
        if map.contains_key(key) {
            return;
        }
        while *total + bytes.len() > HOT_CACHE_BYTES {
            let Some(old) = order.pop_front() else { break };
            if let Some(b) = map.remove(&old) {
                *total -= b.len();
            }
        }
        *total += bytes.len();
        order.push_back(key.to_owned());
        map.insert(key.to_owned(), bytes);
    }

    fn remove(&self, key: &str) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order, total) = &mut *guard;
        if let Some(b) = map.remove(key) {
            *total -= b.len();
            order.retain(|k| k != key);
        }
    }
}

/// How old an unreferenced blob or a leftover file must be before the sweep removes it: far
/// longer than any request takes to record what it stored.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(3600);

/// Parts of this size go to S3 in a multipart upload; smaller blobs go in one request.
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Read size when serving local files: large enough that a 10 MiB download is a few dozen reads.
const READ_CHUNK: usize = 256 * 1024;

impl BlobStore {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let staging = config.data_dir.join("tmp");
        std::fs::create_dir_all(&staging)
            .with_context(|| format!("cannot create {}", staging.display()))?;
        let s3 = &config.s3;
        if s3.bucket.is_empty() {
            let root = config.data_dir.join("blobs");
            std::fs::create_dir_all(&root)
                .with_context(|| format!("cannot create {}", root.display()))?;
            let store = object_store::local::LocalFileSystem::new_with_prefix(&root)
                .context("cannot open the blob directory")?;
            return Ok(Self {
                store: Arc::new(store),
                backend: Arc::new(Backend::Local { root }),
                staging,
                hot: Arc::default(),
            });
        }
        crate::install_crypto_provider();
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region)
            .with_allow_http(s3.endpoint.starts_with("http://"));
        if !s3.endpoint.is_empty() {
            // S3-compatible servers (MinIO, R2, Ceph) are usually addressed by path, not by
            // virtual host.
            builder = builder
                .with_endpoint(&s3.endpoint)
                .with_virtual_hosted_style_request(false);
        }
        if !s3.access_key_id.is_empty() {
            builder = builder
                .with_access_key_id(&s3.access_key_id)
                .with_secret_access_key(s3.secret_access_key.expose_secret());
        }
        let s3_store = Arc::new(builder.build().context("invalid S3 settings")?);
        Ok(Self {
            store: s3_store.clone(),
            backend: Arc::new(Backend::S3 {
                signer: s3_store,
                presign: s3
                    .presign_downloads
                    .then(|| Duration::from_secs(s3.presign_ttl_secs)),
            }),
            staging,
            hot: Arc::default(),
        })
    }

    /// `local` or `s3`, for logs and `/readyz`.
    pub fn kind(&self) -> &'static str {
        match *self.backend {
            Backend::Local { .. } => "local",
            Backend::S3 { .. } => "s3",
        }
    }

    /// Streams `body` into a staged file, hashing as it goes; stops with `TooLarge` as soon as
    /// more than `limit` bytes have arrived.
    pub async fn stage<S, E>(&self, mut body: S, limit: u64) -> Result<Staged, StageError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let named = tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(&self.staging)?;
        let (file, path) = named.into_parts();
        let mut file =
            tokio::io::BufWriter::with_capacity(READ_CHUNK, tokio::fs::File::from_std(file));
        let mut hasher = Sha256::new();
        let mut prehasher = souk_core::signing::Prehasher::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StageError::Body(e.to_string()))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(StageError::TooLarge { limit });
            }
            hasher.update(&chunk);
            prehasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        file.into_inner().sync_all().await?;
        Ok(Staged {
            file: path,
            sha256: hex::encode(hasher.finalize()),
            prehash: prehasher.finish(),
            size,
        })
    }

    /// Stages bytes already in memory (images from forms, generated demo packages).
    pub async fn stage_bytes(&self, bytes: Bytes) -> Result<Staged, StageError> {
        let limit = bytes.len() as u64;
        self.stage(
            futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]),
            limit,
        )
        .await
    }

    /// Stores a staged file under its content address, unless that blob is already there.
    /// Answers whether it wrote the blob (false: the same bytes were stored before).
    ///
    /// A blob found there but older than half of [`ORPHAN_GRACE`] is written again, which renews
    /// its time: the orphan sweep only removes blobs older than the grace period, so it can never
    /// remove one that an upload in flight has just found and is about to record.
    pub async fn store(&self, kind: BlobKind, staged: &Staged) -> anyhow::Result<bool> {
        let key = blob_key(kind, &staged.sha256);
        match self.store.head(&key).await {
            Ok(meta)
                if souk_core::Timestamp::now().millis() - meta.last_modified.timestamp_millis()
                    < ORPHAN_GRACE.as_millis() as i64 / 2 =>
            {
                return Ok(false);
            }
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e).with_context(|| format!("cannot look up blob {key}")),
        }
        let mut file = tokio::fs::File::open(&staged.file).await?;
        if staged.size as usize <= PART_BYTES {
            let mut buf = Vec::with_capacity(staged.size as usize);
            file.read_to_end(&mut buf).await?;
            self.store
                .put(&key, PutPayload::from(buf))
                .await
                .with_context(|| format!("cannot store blob {key}"))?;
            return Ok(true);
        }
        let upload = self
            .store
            .put_multipart(&key)
            .await
            .with_context(|| format!("cannot start storing blob {key}"))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            writer.wait_for_capacity(4).await?;
            writer.write(&buf[..n]);
        }
        writer
            .finish()
            .await
            .with_context(|| format!("cannot finish storing blob {key}"))?;
        Ok(true)
    }

    pub async fn exists(&self, key: &ObjectPath) -> anyhow::Result<bool> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("cannot look up blob {key}")),
        }
    }

    /// Removes every staged upload file: at start-up, before the node takes requests, none of
    /// them belongs to an upload in flight (each node stages into its own data directory).
    pub fn clear_staging(&self) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.staging)?.flatten() {
            let staged = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("upload-"));
            if staged && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Removes what crashes and refused uploads leave behind. Safe on any number of nodes at
    /// once, and while uploads run:
    ///
    /// - staged upload files (`DATA_DIR/tmp/upload-*`) older than `grace`: each node stages into
    ///   its own data directory, and an upload in flight is younger than the request timeout;
    /// - on local storage, partly written blob files (`object_store` writes `KEY#N` and renames
    ///   it into place) older than `grace`;
    /// - blobs that no row refers to, older than `grace`. Nothing else deletes blobs: a refused
    ///   upload or a replaced image leaves its blob to this sweep, so that two requests with the
    ///   same bytes can never remove a blob the other is recording (see [`Self::store`]).
    ///
    /// Answers how many files and blobs it removed.
    pub async fn sweep(&self, db: &souk_store::DynStore, grace: Duration) -> anyhow::Result<u64> {
        let cutoff = souk_core::Timestamp::now().millis() - grace.as_millis() as i64;
        let old_file = |path: &std::path::Path| {
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .is_some_and(|t| (t.as_millis() as i64) < cutoff)
        };
        let mut removed = 0u64;
        let mut leftovers: Vec<PathBuf> = std::fs::read_dir(&self.staging)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("upload-"))
            })
            .collect();
        if let Backend::Local { root } = &*self.backend {
            let mut dirs = vec![root.clone()];
            while let Some(dir) = dirs.pop() {
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let path = entry.path();
                    if entry.file_type().is_ok_and(|t| t.is_dir()) {
                        dirs.push(path);
                    } else if path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.contains('#'))
                    {
                        leftovers.push(path);
                    }
                }
            }
        }
        for path in leftovers.into_iter().filter(|p| old_file(p)) {
            if tokio::fs::remove_file(&path).await.is_ok() {
                removed += 1;
            }
        }
        for (kind, prefix) in [(BlobKind::Package, "packages"), (BlobKind::Image, "images")] {
            let metas: Vec<object_store::ObjectMeta> = self
                .store
                .list(Some(&ObjectPath::from(prefix)))
                .try_collect()
                .await
                .with_context(|| format!("cannot list blobs under {prefix}"))?;
            for meta in metas {
                if meta.last_modified.timestamp_millis() >= cutoff {
                    continue;
                }
                let Some(sha256) = meta.location.filename() else {
                    continue;
                };
                let used = match kind {
                    BlobKind::Package => db.package_in_use(sha256).await?,
                    BlobKind::Image => db.image_in_use(sha256).await?,
                };
                // An upload may have just found this blob and written it again (which renews
                // it) while the list was walked: look once more right before deleting.
                let renewed = match self.store.head(&meta.location).await {
                    Ok(now) => now.last_modified.timestamp_millis() >= cutoff,
                    Err(_) => true,
                };
                if !used && !renewed {
                    self.delete(kind, sha256).await?;
                    tracing::info!(blob = %meta.location, "removed a blob nothing refers to");
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Removes a blob; a missing one is not an error. Only [`Self::sweep`] calls it.
    async fn delete(&self, kind: BlobKind, sha256: &str) -> anyhow::Result<()> {
        let key = blob_key(kind, sha256);
        self.hot.remove(key.as_ref());
        match self.store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot delete blob {key}")),
        }
    }

    /// Reads `range` of a blob (the whole blob when `None`) as a stream.
    pub async fn read(
        &self,
        kind: BlobKind,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> anyhow::Result<BlobStream> {
        let key = blob_key(kind, sha256);
        let whole_blob = range.is_none();
        if let Backend::Local { root } = &*self.backend {
            let whole = match self.hot.get(key.as_ref()) {
                Some(b) => Some(b),
                None => {
                    let path = root.join(key.as_ref());
                    let len = tokio::fs::metadata(&path)
                        .await
                        .with_context(|| format!("cannot open blob {key}"))?
                        .len();
                    if len <= HOT_BLOB_MAX {
                        let bytes = Bytes::from(
                            tokio::fs::read(&path)
                                .await
                                .with_context(|| format!("cannot read blob {key}"))?,
                        );
                        // Checked once, as it enters the cache; served from memory after.
                        if hex::encode(Sha256::digest(&bytes)) != sha256 {
                            tracing::error!(%sha256, "a stored blob no longer matches its SHA-256: download refused");
                            return Err(BlobCorrupt(sha256.to_owned()).into());
                        }
                        self.hot.put(key.as_ref(), bytes.clone());
                        Some(bytes)
                    } else {
                        None
                    }
                }
            };
            if let Some(bytes) = whole {
                let part = match range {
                    Some(r) => bytes.slice(r.start as usize..(r.end as usize).min(bytes.len())),
                    None => bytes,
                };
                return Ok(Box::pin(futures_util::stream::once(
                    async move { Ok(part) },
                )));
            }
            // Too large to keep in memory: streamed from the file with large reads.
            let mut file = tokio::fs::File::open(root.join(key.as_ref()))
                .await
                .with_context(|| format!("cannot open blob {key}"))?;
            let len = match range {
                Some(r) => {
                    file.seek(std::io::SeekFrom::Start(r.start)).await?;
                    r.end - r.start
                }
                None => file.metadata().await?.len(),
            };
            let reader = tokio_util::io::ReaderStream::with_capacity(file.take(len), READ_CHUNK);
            return Ok(self.verified(Box::pin(reader), sha256, whole_blob));
        }
        let opts = object_store::GetOptions {
            range: range.map(Into::into),
            ..Default::default()
        };
        let got = self
            .store
            .get_opts(&key, opts)
            .await
            .with_context(|| format!("cannot read blob {key}"))?;
        let stream = Box::pin(got.into_stream().map_err(std::io::Error::other));
        Ok(self.verified(stream, sha256, whole_blob))
    }

    /// Whole blobs are checked against their name as they stream; a range cannot be.
    fn verified(&self, stream: BlobStream, sha256: &str, whole: bool) -> BlobStream {
        if !whole {
            return stream;
        }
        Box::pin(Verified {
            inner: stream,
            expected: sha256.to_owned(),
            hasher: Some(Sha256::new()),
            held: None,
        })
    }

    /// Copies a stored blob, as storage holds it now (never from the cache), into a staged file
    /// with its digests: what the check pipeline inspects and the registry signs. `BlobCorrupt`
    /// when the bytes no longer match their name.
    pub async fn stage_stored(&self, kind: BlobKind, sha256: &str) -> anyhow::Result<Staged> {
        let key = blob_key(kind, sha256);
        let got = self
            .store
            .get(&key)
            .await
            .with_context(|| format!("cannot read blob {key}"))?;
        let staged = self
            .stage(got.into_stream(), u64::MAX)
            .await
            .with_context(|| format!("cannot copy blob {key}"))?;
        if staged.sha256 != sha256 {
            tracing::error!(%sha256, "a stored blob no longer matches its SHA-256");
            return Err(BlobCorrupt(sha256.to_owned()).into());
        }
        Ok(staged)
    }

    /// Reads a whole small blob (an image) into memory; `None` when there is no such blob.
    pub async fn read_all(&self, kind: BlobKind, sha256: &str) -> anyhow::Result<Option<Bytes>> {
        let key = blob_key(kind, sha256);
        match self.store.get(&key).await {
            Ok(got) => Ok(Some(got.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read blob {key}")),
        }
    }

    /// A short-lived URL the client can download from directly, when the store is S3 and
    /// `s3.presign_downloads` is on.
    pub async fn presigned_download(
        &self,
        kind: BlobKind,
        sha256: &str,
    ) -> anyhow::Result<Option<url::Url>> {
        let Backend::S3 {
            signer,
            presign: Some(ttl),
        } = &*self.backend
        else {
            return Ok(None);
        };
        let url = signer
            .signed_url(axum::http::Method::GET, &blob_key(kind, sha256), *ttl)
            .await
            .context("cannot sign a download URL")?;
        Ok(Some(url))
    }

    /// Readiness: a write and a read of a marker blob (left in place; the next check rewrites it).
    pub async fn check(&self) -> anyhow::Result<()> {
        let key = ObjectPath::from("readyz/marker");
        self.store
            .put(&key, PutPayload::from_static(b"ok"))
            .await
            .context("blob store refuses writes")?;
        self.store
            .get(&key)
            .await
            .context("blob store refuses reads")?;
        Ok(())
    }
}

#[cfg(test)]
mod verify_tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> BlobStream {
        Box::pin(futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        ))
    }

    async fn drain(s: BlobStream) -> (Vec<u8>, Option<std::io::Error>) {
        let mut s = s;
        let mut out = Vec::new();
        while let Some(item) = s.next().await {
            match item {
                Ok(b) => out.extend_from_slice(&b),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    fn verified(parts: &[&'static [u8]], expected: &str) -> BlobStream {
        Box::pin(Verified {
            inner: chunks(parts),
            expected: expected.to_owned(),
            hasher: Some(Sha256::new()),
            held: None,
        })
    }

    #[tokio::test]
    async fn a_matching_blob_passes_whole_and_a_changed_one_loses_its_end() {
        let good = hex::encode(Sha256::digest(b"hello world"));
        let (bytes, err) = drain(verified(&[b"hello ", b"wor", b"ld"], &good)).await;
        assert_eq!(bytes, b"hello world");
        assert!(err.is_none());
        let (bytes, err) = drain(verified(&[b"hello ", b"wor", b"lD"], &good)).await;
        assert_eq!(bytes, b"hello wor", "the last chunk is held back");
        assert!(err.unwrap().to_string().contains("no longer matches"));
        let empty = hex::encode(Sha256::digest(b""));
        assert_eq!(drain(verified(&[], &empty)).await.0, b"");
    }
}

//! Inspecting a package archive (.zip or .tar.gz) without unpacking it to disk.
//!
//! An uploaded archive is hostile until proven otherwise. [`inspect`] reads every entry through
//! its decompressor once, keeping only the manifest, README and CHANGELOG texts, and refuses the
//! archive at the first thing that would hurt whoever unpacks it later:
//!
//! - paths that escape the target folder or mean something else on another system: `..`,
//!   absolute paths, drive letters and other `:`, backslashes, NUL and control characters;
//! - anything but regular files and folders: symbolic and hard links, devices, fifos, sockets,
//!   sparse files;
//! - the same path twice, or a path that is both a file and a folder;
//! - more entries, more unpacked bytes, or a higher compression ratio than [`Limits`] allow.
//!
//! Sizes declared in headers are never trusted: bytes are counted as they come out of the
//! decompressor, and the compressed bytes it really consumed are counted by a wrapper around the
//! source, so reading stops as soon as a limit is crossed and a bomb is never held in memory.
//! A zip entry's ratio is judged per entry; a tar.gz is one compressed stream, so its ratio is
//! judged on the stream.
//!
//! The paths in [`Inspection::files`] are normalized: `./a//b` is `a/b`.

use crate::manifest::{FILE_NAME as MANIFEST, Manifest, ManifestError};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
use std::rc::Rc;

const MIB: u64 = 1024 * 1024;
/// Bytes of a tar stream between two entries' data (padding, headers, GNU long names, pax
/// records) that we accept. The tar crate holds long names and pax records in memory, so this
/// is what bounds that memory; real ones are a few hundred bytes.
const MAX_TAR_METADATA_BYTES: u64 = MIB;
/// README names at the root, best first, compared in lower case.
const README_NAMES: &[&str] = &["readme.md", "readme.markdown", "readme", "readme.txt"];
const CHANGELOG_NAMES: &[&str] = &[
    "changelog.md",
    "changelog.markdown",
    "changelog",
    "changelog.txt",
    "changes.md",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    Zip,
    TarGz,
}

impl ArchiveFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ArchiveFormat::Zip => "zip",
            ArchiveFormat::TarGz => "tar.gz",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ArchiveFormat::Zip => "application/zip",
            ArchiveFormat::TarGz => "application/gzip",
        }
    }
}

/// Recognizes an archive from its first bytes: a zip local file header (`PK\x03\x04`), the end
/// record of an empty zip (`PK\x05\x06`), or the gzip magic (`1f 8b`). A gzip stream is taken to
/// hold a tar; [`inspect`] finds out if it does not.
pub fn detect(head: &[u8]) -> Option<ArchiveFormat> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(ArchiveFormat::Zip)
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Some(ArchiveFormat::TarGz)
    } else {
        None
    }
}

/// How much an archive may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Entries of any kind, folders included.
    pub max_entries: usize,
    /// The real unpacked size of all files together.
    pub max_unpacked_bytes: u64,
    /// Unpacked bytes per compressed byte.
    pub max_ratio: u64,
    /// The ratio is judged only once an entry (zip) or the stream (tar.gz) has produced more
    /// than this: small files of zeros are legitimate and compress very well.
    pub ratio_floor_bytes: u64,
    /// Longest manifest, README or CHANGELOG kept (a longer manifest is refused, a longer README
    /// or CHANGELOG is cut).
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_unpacked_bytes: 500 * MIB,
            max_ratio: 100,
            ratio_floor_bytes: MIB,
            max_text_bytes: MIB as usize,
        }
    }
}

/// A regular file of the archive and its real unpacked size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
}

/// What an accepted archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub format: ArchiveFormat,
    pub manifest: Manifest,
    pub manifest_text: String,
    /// `README.md`, `README` or `README.txt` at the root (any case), in that preference.
    pub readme: Option<String>,
    /// `CHANGELOG.md`, `CHANGELOG`, `CHANGELOG.txt` or `CHANGES.md` at the root (any case).
    pub changelog: Option<String>,
    /// Regular files, sorted by path.
    pub files: Vec<FileEntry>,
    /// The sum of the files' real sizes.
    pub unpacked_bytes: u64,
}

/// Why an archive was refused. [`ArchiveError::code`] is stable; the message names the entry.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("not a .zip or .tar.gz archive")]
    NotAnArchive,
    #[error("`{path}` {reason}")]
    UnsafePath { path: String, reason: &'static str },
    #[error("`{path}` is a {kind}; packages hold only regular files and folders")]
    LinkEntry { path: String, kind: &'static str },
    #[error("`{path}` is a {kind}; packages hold only regular files and folders")]
    SpecialFile { path: String, kind: String },
    #[error("{}", duplicate_message(.path.as_deref()))]
    DuplicateEntry { path: Option<String> },
    #[error("the archive holds more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("the files unpack to more than {} (stopped at `{path}`)", Bytes(*.limit))]
    TooLargeUnpacked { path: String, limit: u64 },
    #[error("{} decompresses to more than {limit} times its compressed size: refused as a compression bomb",
        .path.as_ref().map_or("the archive".to_owned(), |p| format!("`{p}`")))]
    CompressionBomb { path: Option<String>, limit: u64 },
    #[error("{}", missing_manifest_message(.nested.as_deref()))]
    MissingManifest { nested: Option<String> },
    #[error("{}", .0.with_file_name())]
    InvalidManifest(ManifestError),
    #[error("corrupt archive: {detail}")]
    Corrupt { detail: String },
}

impl ArchiveError {
    /// A stable machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            ArchiveError::NotAnArchive => "not_an_archive",
            ArchiveError::UnsafePath { .. } => "unsafe_path",
            ArchiveError::LinkEntry { .. } => "link_entry",
            ArchiveError::SpecialFile { .. } => "special_file",
            ArchiveError::DuplicateEntry { .. } => "duplicate_entry",
            ArchiveError::TooManyEntries { .. } => "too_many_entries",
            ArchiveError::TooLargeUnpacked { .. } => "too_large_unpacked",
            ArchiveError::CompressionBomb { .. } => "compression_bomb",
            ArchiveError::MissingManifest { .. } => "missing_manifest",
            ArchiveError::InvalidManifest(_) => "invalid_manifest",
            ArchiveError::Corrupt { .. } => "corrupt_archive",
        }
    }

    /// For an invalid manifest, the dotted path of the value at fault (`module.version`).
    pub fn field(&self) -> Option<&str> {
        self.manifest_error().map(|e| e.field.as_str())
    }

    pub fn manifest_error(&self) -> Option<&ManifestError> {
        match self {
            ArchiveError::InvalidManifest(e) => Some(e),
            _ => None,
        }
    }

    fn corrupt(detail: impl fmt::Display) -> Self {
        ArchiveError::Corrupt {
            detail: detail.to_string(),
        }
    }
}

fn duplicate_message(path: Option<&str>) -> String {
    match path {
        Some(path) => format!("`{path}` appears more than once, or as both a file and a folder"),
        // The zip reader folds entries of the same name into one before we see them.
        None => "the zip directory lists the same name more than once".to_owned(),
    }
}

fn missing_manifest_message(nested: Option<&str>) -> String {
    match nested {
        Some(nested) => format!(
            "no `{MANIFEST}` at the root of the archive (found `{nested}`: archive the \
             folder's contents, not the folder)"
        ),
        None => format!("no `{MANIFEST}` at the root of the archive"),
    }
}

/// A byte count for messages: `500 MiB` when it is a whole number of MiB.
struct Bytes(u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= MIB && self.0.is_multiple_of(MIB) {
            write!(f, "{} MiB", self.0 / MIB)
        } else {
            write!(f, "{} bytes", self.0)
        }
    }
}

/// Reads and checks the whole archive; see the module documentation for what is refused.
pub fn inspect<R: Read + Seek>(reader: R, limits: &Limits) -> Result<Inspection, ArchiveError> {
    inspect_contents(reader, limits, 0, &mut |_| {})
}

/// One regular file of an archive as [`inspect_contents`] shows it to its visitor.
pub struct FileContent<'a> {
    /// The normalized path, as in [`Inspection::files`].
    pub path: &'a str,
    /// The file's first bytes: at most the `keep` given to [`inspect_contents`].
    pub head: &'a [u8],
    /// The file's real unpacked size (more than `head.len()` when the file was cut).
    pub size: u64,
}

/// [`inspect`], showing `visit` every regular file once it has been read whole, with its first
/// `keep` bytes (the content checks: secrets, file types). The visitor runs on the same single
/// pass through the decompressor; an archive that is refused stops the visits where it fails.
pub fn inspect_contents<R: Read + Seek>(
    mut reader: R,
    limits: &Limits,
    keep: usize,
    visit: &mut dyn FnMut(FileContent<'_>),
) -> Result<Inspection, ArchiveError> {
    let unreadable = |e: io::Error| ArchiveError::corrupt(format_args!("cannot read: {e}"));
    reader.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    let mut head = [0u8; 4];
    let mut filled = 0;
    while filled < head.len() {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(unreadable(e)),
        }
    }
    let format = detect(&head[..filled]).ok_or(ArchiveError::NotAnArchive)?;
    reader.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    let collected = match format {
        ArchiveFormat::Zip => inspect_zip(reader, Collector::new(limits, keep, visit))?,
        ArchiveFormat::TarGz => inspect_tar_gz(reader, Collector::new(limits, keep, visit))?,
    };
    collected.finish(format)
}

/// Checks one entry path as written in the archive and returns its normal form: the components
/// joined by `/`, without `.` and empty components. The empty string is the root itself, which
/// only a folder entry may name (`./` in a tar made with `tar -C dir .`).
pub(crate) fn normalize_path(raw: &str) -> Result<String, &'static str> {
    if raw.is_empty() {
        return Err("has an empty name");
    }
    if raw.contains('\0') {
        return Err("contains a NUL byte");
    }
    if raw.chars().any(char::is_control) {
        return Err("contains a control character");
    }
    if raw.contains('\\') {
        return Err("contains a backslash (a Windows separator; archives use `/`)");
    }
    if raw.starts_with('/') {
        return Err("is an absolute path");
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("has a `..` component, which could escape the target folder"),
            // `C:` is a drive on Windows and `name:stream` an alternate data stream.
            p if p.contains(':') => {
                return Err("contains `:` (a drive letter such as `C:` or a Windows stream)");
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// Counts the bytes read through it into a shared cell: the compressed bytes a decompressor
/// really consumed, whatever the headers say.
struct CountingReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for CountingReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

enum Kind {
    File,
    Folder,
}

/// Which captured text a root file is, with its rank among the accepted names (lower is better).
enum Capture {
    Manifest,
    Readme(usize),
    Changelog(usize),
}

/// What every entry, zip or tar, goes through: limits, duplicates, and the texts we keep.
struct Collector<'l> {
    limits: &'l Limits,
    /// How much of each file the visitor sees, and the visitor.
    keep: usize,
    visit: &'l mut dyn FnMut(FileContent<'_>),
    /// The current file's first `keep` bytes.
    head: Vec<u8>,
    entries: usize,
    unpacked: u64,
    files: BTreeMap<String, u64>,
    folders: BTreeSet<String>,
    manifest: Option<Vec<u8>>,
    nested_manifest: Option<String>,
    readme: Option<(usize, Vec<u8>)>,
    changelog: Option<(usize, Vec<u8>)>,
    buf: Vec<u8>,
}

impl<'l> Collector<'l> {
    fn new(limits: &'l Limits, keep: usize, visit: &'l mut dyn FnMut(FileContent<'_>)) -> Self {
        Self {
            limits,
            keep,
            visit,
            head: Vec::new(),
            entries: 0,
            unpacked: 0,
            files: BTreeMap::new(),
            folders: BTreeSet::new(),
            manifest: None,
            nested_manifest: None,
            readme: None,
            changelog: None,
            buf: vec![0; 64 * 1024],
        }
    }

    fn count_entry(&mut self) -> Result<(), ArchiveError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    /// Records one entry and reads its data to the end, counting every byte. `check` is called
    /// with the bytes the entry has produced so far (the zip ratio); `io_error` turns a read
    /// failure into the archive error it stands for.
    fn add(
        &mut self,
        path: String,
        kind: Kind,
        data: &mut dyn Read,
        check: &mut dyn FnMut(u64) -> Result<(), ArchiveError>,
        io_error: &mut dyn FnMut(io::Error) -> ArchiveError,
    ) -> Result<(), ArchiveError> {
        let mut capture = match kind {
            Kind::Folder => {
                if self.files.contains_key(&path) {
                    return Err(ArchiveError::DuplicateEntry { path: Some(path) });
                }
                // Tools write a folder once per file in it sometimes; that is harmless.
                self.folders.insert(path.clone());
                None
            }
            Kind::File => {
                if path.is_empty() {
                    return Err(ArchiveError::UnsafePath {
                        path,
                        reason: "has an empty name",
                    });
                }
                if self.files.contains_key(&path) || self.folders.contains(&path) {
                    return Err(ArchiveError::DuplicateEntry { path: Some(path) });
                }
                if path.ends_with(&format!("/{MANIFEST}")) && self.nested_manifest.is_none() {
                    self.nested_manifest = Some(path.clone());
                }
                capture_kind(&path).map(|c| (c, Vec::new()))
            }
        };

        let keep = self.limits.max_text_bytes.saturating_add(1);
        let mut produced = 0u64;
        self.head.clear();
        loop {
            let n = match data.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e)),
            };
            produced += n as u64;
            self.unpacked += n as u64;
            if self.unpacked > self.limits.max_unpacked_bytes {
                return Err(ArchiveError::TooLargeUnpacked {
                    path,
                    limit: self.limits.max_unpacked_bytes,
                });
            }
            check(produced)?;
            if let Some((_, text)) = &mut capture {
                let room = keep.saturating_sub(text.len()).min(n);
                text.extend_from_slice(&self.buf[..room]);
            }
            if let Kind::File = kind {
                let room = self.keep.saturating_sub(self.head.len()).min(n);
                self.head.extend_from_slice(&self.buf[..room]);
            }
        }

        if let Kind::File = kind {
            match capture {
                Some((Capture::Manifest, text)) => self.manifest = Some(text),
                Some((Capture::Readme(rank), text)) => keep_best(&mut self.readme, rank, text),
                Some((Capture::Changelog(rank), text)) => {
                    keep_best(&mut self.changelog, rank, text)
                }
                None => {}
            }
            (self.visit)(FileContent {
                path: &path,
                head: &self.head,
                size: produced,
            });
            self.files.insert(path, produced);
        }
        Ok(())
    }

    fn finish(self, format: ArchiveFormat) -> Result<Inspection, ArchiveError> {
        // A file `a` and a file `a/b` (or a folder `a/b`) cannot both be unpacked.
        for path in self.files.keys().chain(self.folders.iter()) {
            for (i, _) in path.match_indices('/') {
                let ancestor = &path[..i];
                if self.files.contains_key(ancestor) {
                    return Err(ArchiveError::DuplicateEntry {
                        path: Some(ancestor.to_owned()),
                    });
                }
            }
        }

        let Some(bytes) = self.manifest else {
            return Err(ArchiveError::MissingManifest {
                nested: self.nested_manifest,
            });
        };
        let invalid = |message: String| {
            ArchiveError::InvalidManifest(ManifestError::new(MANIFEST, "invalid_toml", message))
        };
        if bytes.len() > self.limits.max_text_bytes {
            return Err(invalid(format!(
                "is larger than {}",
                Bytes(self.limits.max_text_bytes as u64)
            )));
        }
        let manifest_text =
            String::from_utf8(bytes).map_err(|_| invalid("is not UTF-8 text".to_owned()))?;
        let manifest = Manifest::parse(&manifest_text).map_err(ArchiveError::InvalidManifest)?;

        let max = self.limits.max_text_bytes;
        Ok(Inspection {
            format,
            manifest,
            manifest_text,
            readme: self.readme.map(|(_, bytes)| text_prefix(&bytes, max)),
            changelog: self.changelog.map(|(_, bytes)| text_prefix(&bytes, max)),
            files: self
                .files
                .into_iter()
                .map(|(path, size)| FileEntry { path, size })
                .collect(),
            unpacked_bytes: self.unpacked,
        })
    }
}

fn capture_kind(path: &str) -> Option<Capture> {
    if path.contains('/') {
        return None;
    }
    if path == MANIFEST {
        return Some(Capture::Manifest);
    }
    let lower = path.to_ascii_lowercase();
    if let Some(rank) = README_NAMES.iter().position(|n| *n == lower) {
        return Some(Capture::Readme(rank));
    }
    CHANGELOG_NAMES
        .iter()
        .position(|n| *n == lower)
        .map(Capture::Changelog)
}

/// Keeps the text of the better-ranked name, so that the choice does not depend on the order of
/// the entries in the archive.
fn keep_best(slot: &mut Option<(usize, Vec<u8>)>, rank: usize, text: Vec<u8>) {
    if slot.as_ref().is_none_or(|(best, _)| rank < *best) {
        *slot = Some((rank, text));
    }
}

/// At most `max` bytes of `bytes` as text, cut at a character boundary; invalid UTF-8 becomes
/// U+FFFD (a README in Latin-1 still shows).
fn text_prefix(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut cut = &bytes[..max];
    // Drop a character that the cut split in two rather than show it as U+FFFD.
    if let Err(e) = std::str::from_utf8(cut)
        && e.error_len().is_none()
    {
        cut = &cut[..e.valid_up_to()];
    }
    String::from_utf8_lossy(cut).into_owned()
}

/// What the type bits of a Unix mode make of an entry.
enum Mode {
    Regular,
    Folder,
    Link,
    Special(&'static str),
}

fn unix_file_type(mode: u32) -> Mode {
    match mode & 0o170_000 {
        0 | 0o100_000 => Mode::Regular,
        0o040_000 => Mode::Folder,
        0o120_000 => Mode::Link,
        0o020_000 => Mode::Special("character device"),
        0o060_000 => Mode::Special("block device"),
        0o010_000 => Mode::Special("fifo"),
        0o140_000 => Mode::Special("socket"),
        _ => Mode::Special("file of unknown type"),
    }
}

fn inspect_zip<'l, R: Read + Seek>(
    reader: R,
    mut collector: Collector<'l>,
) -> Result<Collector<'l>, ArchiveError> {
    let limits = collector.limits;
    let consumed = Rc::new(Cell::new(0u64));
    let mut zip = zip::ZipArchive::new(CountingReader {
        inner: reader,
        count: consumed.clone(),
    })
    .map_err(ArchiveError::corrupt)?;
    if zip.len() > limits.max_entries {
        return Err(ArchiveError::TooManyEntries {
            limit: limits.max_entries,
        });
    }
    if zip.has_duplicate_names() {
        return Err(ArchiveError::DuplicateEntry { path: None });
    }
    // We read names from the central directory; a streaming unzip reads the local headers.
    // They must agree, or what we checked is not what gets unpacked. This also refuses
    // overlapping entries (one compressed stream shared by many files, the classic zip bomb)
    // and entries hidden from the central directory.
    zip.validate_header_consistency()
        .map_err(ArchiveError::corrupt)?;
    for index in 0..zip.len() {
        collector.count_entry()?;
        let (path, kind) = {
            let entry = zip.by_index_data(index).map_err(ArchiveError::corrupt)?;
            let raw = entry.name().map_err(|_| ArchiveError::UnsafePath {
                path: String::from_utf8_lossy(entry.name_raw()).into_owned(),
                reason: "is not valid text",
            })?;
            let path = normalize_path(&raw).map_err(|reason| ArchiveError::UnsafePath {
                path: raw.to_string(),
                reason,
            })?;
            // Symbolic links live in the Unix mode in the high half of the external
            // attributes. It is read whatever system the entry claims to come from: an
            // unpacker that honours it is what we guard against.
            let kind = match unix_file_type(entry.external_attributes() >> 16) {
                Mode::Regular if entry.is_dir() => Kind::Folder,
                Mode::Regular => Kind::File,
                Mode::Folder => Kind::Folder,
                Mode::Link => {
                    return Err(ArchiveError::LinkEntry {
                        path: raw.to_string(),
                        kind: "symbolic link",
                    });
                }
                Mode::Special(kind) => {
                    return Err(ArchiveError::SpecialFile {
                        path: raw.to_string(),
                        kind: kind.to_owned(),
                    });
                }
            };
            if entry.encrypted() {
                return Err(ArchiveError::corrupt(format_args!(
                    "`{raw}` is encrypted, which packages may not be"
                )));
            }
            (path, kind)
        };
        let mut file = zip
            .by_index(index)
            .map_err(|e| ArchiveError::corrupt(format_args!("`{path}`: {e}")))?;
        let start = consumed.get();
        let floor = limits.ratio_floor_bytes;
        let max_ratio = limits.max_ratio;
        let ratio_path = path.clone();
        let consumed = consumed.clone();
        let mut check = move |produced: u64| {
            let compressed = (consumed.get() - start).max(1);
            if produced > floor && produced > max_ratio.saturating_mul(compressed) {
                return Err(ArchiveError::CompressionBomb {
                    path: Some(ratio_path.clone()),
                    limit: max_ratio,
                });
            }
            Ok(())
        };
        let error_path = path.clone();
        let mut io_error =
            |e: io::Error| ArchiveError::corrupt(format_args!("`{error_path}`: {e}"));
        collector.add(path, kind, &mut file, &mut check, &mut io_error)?;
    }
    Ok(collector)
}

/// What tripped the tar.gz stream guard.
#[derive(Clone, Copy)]
enum Trip {
    Bomb,
    Metadata,
}

/// Shared between the stream guard inside the tar reader and the loop over entries.
struct GuardState {
    /// Bytes out of the gzip decoder so far.
    produced: Cell<u64>,
    /// Where the current gap between two entries' data began, or `None` while an entry's data is
    /// being read.
    gap_start: Cell<Option<u64>>,
    /// Why the guard failed a read. The tar crate may wrap our I/O error, so the reason is kept
    /// here rather than recovered from the error.
    tripped: Cell<Option<Trip>>,
}

/// Sits between the gzip decoder and the tar parser, so that it sees every byte tar reads:
/// entry data, and also headers, long names and pax records that tar reads on its own.
struct StreamGuard<R> {
    inner: R,
    consumed: Rc<Cell<u64>>,
    state: Rc<GuardState>,
    max_ratio: u64,
    ratio_floor: u64,
}

impl<R: Read> Read for StreamGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let produced = self.state.produced.get() + n as u64;
        self.state.produced.set(produced);
        let trip = if produced > self.ratio_floor
            && produced > self.max_ratio.saturating_mul(self.consumed.get().max(1))
        {
            Some(Trip::Bomb)
        } else if let Some(start) = self.state.gap_start.get()
            && produced - start > MAX_TAR_METADATA_BYTES
        {
            Some(Trip::Metadata)
        } else {
            None
        };
        match trip {
            Some(trip) => {
                self.state.tripped.set(Some(trip));
                Err(io::Error::other("archive limit reached"))
            }
            None => Ok(n),
        }
    }
}

fn inspect_tar_gz<'l, R: Read>(
    reader: R,
    mut collector: Collector<'l>,
) -> Result<Collector<'l>, ArchiveError> {
    let limits = collector.limits;
    let consumed = Rc::new(Cell::new(0u64));
    let state = Rc::new(GuardState {
        produced: Cell::new(0),
        gap_start: Cell::new(Some(0)),
        tripped: Cell::new(None),
    });
    // Multi-member: a .tar.gz may be several gzip streams one after the other (pigz, cat).
    let gz = flate2::read::MultiGzDecoder::new(CountingReader {
        inner: reader,
        count: consumed.clone(),
    });
    let mut archive = tar::Archive::new(StreamGuard {
        inner: gz,
        consumed,
        state: state.clone(),
        max_ratio: limits.max_ratio,
        ratio_floor: limits.ratio_floor_bytes,
    });
    let failure = |e: io::Error, path: Option<&str>| match state.tripped.take() {
        Some(Trip::Bomb) => ArchiveError::CompressionBomb {
            path: None,
            limit: limits.max_ratio,
        },
        Some(Trip::Metadata) => ArchiveError::corrupt(format_args!(
            "a tar header, long name or pax record is larger than {}",
            Bytes(MAX_TAR_METADATA_BYTES)
        )),
        None => match path {
            Some(path) => ArchiveError::corrupt(format_args!("`{path}`: {e}")),
            None => ArchiveError::corrupt(e),
        },
    };

    let entries = archive.entries().map_err(|e| failure(e, None))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| failure(e, None))?;
        collector.count_entry()?;
        let entry_type = entry.header().entry_type();
        let raw_path = entry.path_bytes().into_owned();
        let display = String::from_utf8_lossy(&raw_path).into_owned();

        let kind = if entry_type.is_pax_global_extensions() {
            // `git archive` writes one (the commit id); it describes no file.
            None
        } else {
            let raw = std::str::from_utf8(&raw_path).map_err(|_| ArchiveError::UnsafePath {
                path: display.clone(),
                reason: "is not UTF-8",
            })?;
            let path = normalize_path(raw).map_err(|reason| ArchiveError::UnsafePath {
                path: display.clone(),
                reason,
            })?;
            let kind = match entry_type {
                // Old tars mark folders with a trailing `/` on a regular entry.
                tar::EntryType::Regular if raw.ends_with('/') => Kind::Folder,
                tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File,
                tar::EntryType::Directory => Kind::Folder,
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    return Err(ArchiveError::LinkEntry {
                        path: display,
                        kind: if entry_type.is_symlink() {
                            "symbolic link"
                        } else {
                            "hard link"
                        },
                    });
                }
                other => {
                    let kind = match other {
                        tar::EntryType::Char => "character device".to_owned(),
                        tar::EntryType::Block => "block device".to_owned(),
                        tar::EntryType::Fifo => "fifo".to_owned(),
                        tar::EntryType::GNUSparse => "sparse file".to_owned(),
                        _ => format!(
                            "tar entry of type `{}`",
                            char::from(other.as_byte()).escape_default()
                        ),
                    };
                    return Err(ArchiveError::SpecialFile {
                        path: display,
                        kind,
                    });
                }
            };
            Some((path, kind))
        };

        let mut io_error = |e: io::Error| failure(e, Some(&display));
        match kind {
            Some((path, kind)) => {
                state.gap_start.set(None);
                collector.add(path, kind, &mut entry, &mut |_| Ok(()), &mut io_error)?
            }
            None => {
                // Metadata, not a file of the package: it stays within the gap's limit.
                io::copy(&mut entry, &mut io::sink()).map_err(&mut io_error)?;
            }
        }
        state.gap_start.set(Some(state.produced.get()));
    }
    Ok(collector)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use tar::{EntryType, Header};
    use zip::write::SimpleFileOptions;

    const MANIFEST_TEXT: &str = r#"[module]
name = "economy-plus"
version = "1.4.0"
publisher = "acme-games"
description = "Shops and coins."
license = "MIT"
platform = ">=1.0.0"
"#;

    fn check(bytes: &[u8]) -> Result<Inspection, ArchiveError> {
        inspect(Cursor::new(bytes), &Limits::default())
    }

    fn refused_with(bytes: &[u8], limits: &Limits, code: &str) -> ArchiveError {
        match inspect(Cursor::new(bytes), limits) {
            Ok(i) => panic!("accepted, expected {code}: {:?}", i.files),
            Err(e) => {
                assert_eq!(e.code(), code, "{e}");
                e
            }
        }
    }

    fn refused(bytes: &[u8], code: &str) -> ArchiveError {
        refused_with(bytes, &Limits::default(), code)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    fn tar_gz(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        build(&mut builder);
        gzip(&builder.into_inner().unwrap())
    }

    fn add_file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
        let mut h = Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(EntryType::Regular);
        b.append_data(&mut h, path, data).unwrap();
    }

    fn add_manifest(b: &mut tar::Builder<Vec<u8>>) {
        add_file(b, "souk.toml", MANIFEST_TEXT.as_bytes());
    }

    /// An entry whose name goes into the header as raw bytes: the tar crate refuses to write
    /// `..` or absolute paths through `set_path`, and we need exactly those.
    fn add_raw(b: &mut tar::Builder<Vec<u8>>, name: &[u8], kind: EntryType, data: &[u8]) {
        let mut h = Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(kind);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    fn zip_with(build: impl FnOnce(&mut zip::ZipWriter<Cursor<Vec<u8>>>)) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        build(&mut w);
        w.finish().unwrap().into_inner()
    }

    fn deflated() -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
    }

    fn zip_files(files: &[(&str, &[u8])]) -> Vec<u8> {
        zip_with(|w| {
            for (name, data) in files {
                w.start_file(*name, deflated()).unwrap();
                w.write_all(data).unwrap();
            }
        })
    }

    /// A zip whose entry `name` has the given Unix mode (type bits included).
    fn zip_with_mode(name: &str, mode: u32) -> Vec<u8> {
        zip_with(|w| {
            w.start_file("souk.toml", deflated()).unwrap();
            w.write_all(MANIFEST_TEXT.as_bytes()).unwrap();
            w.start_file(name, deflated().external_attributes(mode << 16))
                .unwrap();
            w.write_all(b"x").unwrap();
        })
    }

    fn paths(i: &Inspection) -> Vec<&str> {
        i.files.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn detects_formats_from_magic_bytes() {
        assert_eq!(detect(b"PK\x03\x04rest"), Some(ArchiveFormat::Zip));
        assert_eq!(detect(b"PK\x05\x06"), Some(ArchiveFormat::Zip));
        assert_eq!(detect(&[0x1f, 0x8b, 8, 0]), Some(ArchiveFormat::TarGz));
        for other in [&b""[..], b"PK", b"%PDF-1.4", b"[module]", b"ustar"] {
            assert_eq!(detect(other), None);
        }
    }

    #[test]
    fn the_content_visitor_sees_every_file_once_with_its_head() {
        let big = vec![b'x'; 100];
        let tar = tar_gz(|b| {
            add_raw(b, b"src/", EntryType::Directory, b"");
            add_manifest(b);
            add_file(b, "src/a.lua", b"print(1)");
            add_file(b, "big.bin", &big);
        });
        let zip = zip_files(&[
            ("souk.toml", MANIFEST_TEXT.as_bytes()),
            ("src/a.lua", b"print(1)"),
            ("big.bin", &big),
        ]);
        for bytes in [tar, zip] {
            let mut seen = Vec::new();
            let i = inspect_contents(Cursor::new(bytes), &Limits::default(), 10, &mut |f| {
                seen.push((f.path.to_owned(), f.head.to_vec(), f.size))
            })
            .unwrap();
            seen.sort();
            assert_eq!(
                seen,
                [
                    ("big.bin".to_owned(), vec![b'x'; 10], 100),
                    (
                        "souk.toml".to_owned(),
                        MANIFEST_TEXT.as_bytes()[..10].to_vec(),
                        MANIFEST_TEXT.len() as u64
                    ),
                    ("src/a.lua".to_owned(), b"print(1)".to_vec(), 8),
                ]
            );
            assert_eq!(i.files.len(), 3);
        }
    }

    #[test]
    fn accepts_a_tar_gz_and_reports_what_it_holds() {
        let bytes = tar_gz(|b| {
            // `tar -C dir .` writes `./` first and `./` before every name.
            add_raw(b, b"./", EntryType::Directory, b"");
            add_file(b, "./souk.toml", MANIFEST_TEXT.as_bytes());
            add_raw(b, b"src/", EntryType::Directory, b"");
            add_file(b, "src/main.lua", b"print('hi')\n");
            add_file(b, "README.txt", b"plain readme");
            add_file(b, "ReadMe.md", b"# Economy");
            add_file(b, "CHANGELOG.md", b"## 1.4.0");
            add_file(b, "docs/README.md", b"not the root readme");
            add_file(b, &format!("deep/{}/file", "d".repeat(120)), b"long path");
        });
        let i = check(&bytes).unwrap();
        assert_eq!(i.format, ArchiveFormat::TarGz);
        assert_eq!(i.manifest.name.as_str(), "economy-plus");
        assert_eq!(i.manifest_text, MANIFEST_TEXT);
        // README.md is preferred over README.txt whatever the order and case.
        assert_eq!(i.readme.as_deref(), Some("# Economy"));
        assert_eq!(i.changelog.as_deref(), Some("## 1.4.0"));
        let long = format!("deep/{}/file", "d".repeat(120));
        assert_eq!(
            paths(&i),
            [
                "CHANGELOG.md",
                "README.txt",
                "ReadMe.md",
                long.as_str(),
                "docs/README.md",
                "souk.toml",
                "src/main.lua"
            ]
        );
        let main = i.files.iter().find(|f| f.path == "src/main.lua").unwrap();
        assert_eq!(main.size, 12);
        assert_eq!(
            i.unpacked_bytes,
            i.files.iter().map(|f| f.size).sum::<u64>()
        );
    }

    #[test]
    fn accepts_a_zip() {
        let bytes = zip_with(|w| {
            w.add_directory("src/", SimpleFileOptions::default())
                .unwrap();
            w.start_file("src/main.lua", deflated()).unwrap();
            w.write_all(b"print('hi')\n").unwrap();
            w.start_file("souk.toml", SimpleFileOptions::default())
                .unwrap();
            w.write_all(MANIFEST_TEXT.as_bytes()).unwrap();
            w.start_file("readme", deflated()).unwrap();
            w.write_all(b"hello").unwrap();
            // Small files of zeros compress far beyond the ratio: below the floor, that's fine.
            w.start_file("zeros.bin", deflated()).unwrap();
            w.write_all(&vec![0; 512 * 1024]).unwrap();
        });
        let i = check(&bytes).unwrap();
        assert_eq!(i.format, ArchiveFormat::Zip);
        assert_eq!(
            paths(&i),
            ["readme", "souk.toml", "src/main.lua", "zeros.bin"]
        );
        assert_eq!(i.readme.as_deref(), Some("hello"));
        assert_eq!(i.changelog, None);
        assert_eq!(
            i.unpacked_bytes,
            12 + MANIFEST_TEXT.len() as u64 + 5 + 512 * 1024
        );
    }

    #[test]
    fn not_an_archive() {
        refused(b"", "not_an_archive");
        refused(MANIFEST_TEXT.as_bytes(), "not_an_archive");
        // A plain tar is not a package format.
        let mut plain = tar::Builder::new(Vec::new());
        add_manifest(&mut plain);
        refused(&plain.into_inner().unwrap(), "not_an_archive");
    }

    #[test]
    fn corrupt_archives() {
        let zip = zip_files(&[("souk.toml", MANIFEST_TEXT.as_bytes())]);
        refused(&zip[..zip.len() - 10], "corrupt_archive");
        refused(
            &[0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6, 7, 8],
            "corrupt_archive",
        );
        // Gzip, but not a tar inside.
        refused(&gzip(&[b'x'; 2048]), "corrupt_archive");
        let tgz = tar_gz(add_manifest);
        refused(&tgz[..tgz.len() / 2], "corrupt_archive");
        // A flipped byte in the deflated data: the zip CRC catches it.
        let mut zip = zip_files(&[("souk.toml", MANIFEST_TEXT.as_bytes())]);
        let extra_len = u16::from_le_bytes([zip[28], zip[29]]) as usize;
        let data_at = 30 + "souk.toml".len() + extra_len;
        zip[data_at + 5] ^= 0xff;
        refused(&zip, "corrupt_archive");
    }

    #[test]
    fn unsafe_tar_paths() {
        for (name, why) in [
            (&b"../evil"[..], "`..`"),
            (b"a/../../evil", "`..`"),
            (b"a/..", "`..`"),
            (b"/etc/passwd", "absolute"),
            (b"C:/Windows/evil", "drive letter"),
            (b"c:evil", "drive letter"),
            (b"a\\..\\evil", "backslash"),
            (b"bad\x1bname", "control character"),
            (b"\xff\xfe", "UTF-8"),
        ] {
            let bytes = tar_gz(|b| {
                add_manifest(b);
                add_raw(b, name, EntryType::Regular, b"x");
            });
            let e = refused(&bytes, "unsafe_path");
            assert!(e.to_string().contains(why), "{e}");
        }
        // A file named `.` or `./` is a file without a name.
        let bytes = tar_gz(|b| {
            add_manifest(b);
            add_raw(b, b"./", EntryType::Regular, b"x");
        });
        // (a regular entry ending in `/` is an old-style folder: the root, harmless)
        assert!(check(&bytes).is_ok());
        let bytes = tar_gz(|b| {
            add_manifest(b);
            add_raw(b, b".", EntryType::Regular, b"x");
        });
        refused(&bytes, "unsafe_path");
        // GNU long names are checked too, and may carry a NUL inside.
        let bytes = tar_gz(|b| {
            add_manifest(b);
            add_raw(
                b,
                b"././@LongLink",
                EntryType::GNULongName,
                b"ok/\0/../evil\0",
            );
            add_raw(b, b"short", EntryType::Regular, b"x");
        });
        let e = refused(&bytes, "unsafe_path");
        assert!(e.to_string().contains("NUL"), "{e}");
    }

    #[test]
    fn unsafe_zip_paths() {
        for (name, why) in [
            ("../evil", "`..`"),
            ("/abs", "absolute"),
            ("C:/evil", "drive letter"),
            ("dir\\evil", "backslash"),
            ("nul\0byte", "NUL"),
            ("", "empty"),
        ] {
            let bytes = zip_files(&[("souk.toml", MANIFEST_TEXT.as_bytes()), (name, b"x")]);
            let e = refused(&bytes, "unsafe_path");
            assert!(e.to_string().contains(why), "{name:?}: {e}");
        }
    }

    #[test]
    fn zip_local_headers_must_match_the_central_directory() {
        let mut zip = zip_files(&[("souk.toml", MANIFEST_TEXT.as_bytes()), ("good.txt", b"x")]);
        // The local header comes first: rename the file there only.
        let at = zip.windows(8).position(|w| w == b"good.txt").unwrap();
        zip[at..at + 8].copy_from_slice(b"../e.txt");
        let e = refused(&zip, "corrupt_archive");
        assert!(e.to_string().contains("inconsistency"), "{e}");
    }

    #[test]
    fn links_are_refused() {
        let symlink = tar_gz(|b| {
            add_manifest(b);
            let mut h = Header::new_gnu();
            h.set_entry_type(EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, "passwd", "/etc/passwd").unwrap();
        });
        let e = refused(&symlink, "link_entry");
        assert_eq!(
            e.to_string(),
            "`passwd` is a symbolic link; packages hold only regular files and folders"
        );
        let hardlink = tar_gz(|b| {
            add_manifest(b);
            let mut h = Header::new_gnu();
            h.set_entry_type(EntryType::Link);
            h.set_size(0);
            b.append_link(&mut h, "copy", "souk.toml").unwrap();
        });
        assert!(
            refused(&hardlink, "link_entry")
                .to_string()
                .contains("hard link")
        );
        let zip = zip_with(|w| {
            w.start_file("souk.toml", deflated()).unwrap();
            w.write_all(MANIFEST_TEXT.as_bytes()).unwrap();
            w.add_symlink("passwd", "/etc/passwd", SimpleFileOptions::default())
                .unwrap();
        });
        refused(&zip, "link_entry");
        refused(&zip_with_mode("link", 0o120_777), "link_entry");
    }

    #[test]
    fn special_files_are_refused() {
        for (kind, name) in [
            (EntryType::Fifo, "fifo"),
            (EntryType::Char, "character device"),
            (EntryType::Block, "block device"),
            (EntryType::new(b'V'), "type `V`"),
        ] {
            let bytes = tar_gz(|b| {
                add_manifest(b);
                add_raw(b, b"dev", kind, b"");
            });
            let e = refused(&bytes, "special_file");
            assert!(e.to_string().contains(name), "{e}");
        }
        for (mode, name) in [
            (0o010_644, "fifo"),
            (0o020_644, "character device"),
            (0o060_644, "block device"),
            (0o140_644, "socket"),
        ] {
            let e = refused(&zip_with_mode("dev", mode), "special_file");
            assert!(e.to_string().contains(name), "{e}");
        }
        // Ordinary modes, executable or not, are regular files.
        assert!(check(&zip_with_mode("run.sh", 0o100_755)).is_ok());
    }

    #[test]
    fn duplicates_are_refused() {
        let twice = tar_gz(|b| {
            add_manifest(b);
            add_file(b, "a.txt", b"one");
            add_file(b, "./a.txt", b"two");
        });
        let e = refused(&twice, "duplicate_entry");
        assert!(
            e.to_string().starts_with("`a.txt` appears more than once"),
            "{e}"
        );
        let manifest_twice = tar_gz(|b| {
            add_manifest(b);
            add_file(b, "souk.toml", b"[module]\nname = \"evil\"");
        });
        refused(&manifest_twice, "duplicate_entry");
        let file_and_folder = tar_gz(|b| {
            add_manifest(b);
            add_file(b, "a/b", b"x");
            add_file(b, "a", b"x");
        });
        let e = refused(&file_and_folder, "duplicate_entry");
        assert!(e.to_string().contains("`a`"), "{e}");
        let folder_then_file = tar_gz(|b| {
            add_manifest(b);
            add_raw(b, b"a/", EntryType::Directory, b"");
            add_file(b, "a", b"x");
        });
        refused(&folder_then_file, "duplicate_entry");
        // The zip writer refuses a second `a.txt`: write `b.txt` and rename it in the bytes
        // (local and central headers alike; the CRC covers the data, not the name).
        let mut zip = zip_files(&[
            ("souk.toml", MANIFEST_TEXT.as_bytes()),
            ("a.txt", b"one"),
            ("b.txt", b"two"),
        ]);
        let mut renamed = 0;
        for i in 0..zip.len() - 5 {
            if &zip[i..i + 5] == b"b.txt" {
                zip[i] = b'a';
                renamed += 1;
            }
        }
        assert_eq!(renamed, 2);
        refused(&zip, "duplicate_entry");
        // Folders listed twice are harmless.
        let folder_twice = tar_gz(|b| {
            add_manifest(b);
            add_raw(b, b"src/", EntryType::Directory, b"");
            add_raw(b, b"./src", EntryType::Directory, b"");
        });
        assert!(check(&folder_twice).is_ok());
    }

    #[test]
    fn too_many_entries() {
        let limits = Limits {
            max_entries: 3,
            ..Limits::default()
        };
        let files: Vec<(String, &[u8])> = (0..3).map(|i| (format!("f{i}"), &b"x"[..])).collect();
        let bytes = tar_gz(|b| {
            add_manifest(b);
            for (name, data) in &files {
                add_file(b, name, data);
            }
        });
        let e = refused_with(&bytes, &limits, "too_many_entries");
        assert_eq!(e.to_string(), "the archive holds more than 3 entries");
        let mut zip: Vec<(&str, &[u8])> = vec![("souk.toml", MANIFEST_TEXT.as_bytes())];
        zip.extend(files.iter().map(|(n, d)| (n.as_str(), *d)));
        refused_with(&zip_files(&zip), &limits, "too_many_entries");
        // Exactly at the limit is fine.
        assert!(inspect(Cursor::new(zip_files(&zip[..3])), &limits).is_ok());
    }

    #[test]
    fn too_large_unpacked() {
        let limits = Limits {
            max_unpacked_bytes: 4096,
            ..Limits::default()
        };
        let bytes = tar_gz(|b| {
            add_manifest(b);
            add_file(b, "big.bin", &[7; 4096]);
        });
        let e = refused_with(&bytes, &limits, "too_large_unpacked");
        assert_eq!(
            e.to_string(),
            "the files unpack to more than 4096 bytes (stopped at `big.bin`)"
        );
        let zip = zip_files(&[
            ("souk.toml", MANIFEST_TEXT.as_bytes()),
            ("big.bin", &[7; 4096]),
        ]);
        refused_with(&zip, &limits, "too_large_unpacked");
        let roomy = Limits {
            max_unpacked_bytes: 4096 + MANIFEST_TEXT.len() as u64,
            ..limits
        };
        assert!(inspect(Cursor::new(&zip), &roomy).is_ok());
    }

    /// 50 MiB of zeros: a few dozen KiB compressed.
    const BOMB: usize = 50 * MIB as usize;

    #[test]
    fn tar_gz_bomb_is_refused_early() {
        let mut tar = tar::Builder::new(Vec::new());
        add_manifest(&mut tar);
        let mut h = Header::new_gnu();
        h.set_size(BOMB as u64);
        h.set_mode(0o644);
        h.set_entry_type(EntryType::Regular);
        tar.append_data(&mut h, "zeros.bin", io::repeat(0).take(BOMB as u64))
            .unwrap();
        let tar = tar.into_inner().unwrap();
        let bytes = gzip(&tar);
        assert!(bytes.len() < BOMB / 100);
        let e = refused(&bytes, "compression_bomb");
        assert_eq!(
            e.to_string(),
            "the archive decompresses to more than 100 times its compressed size: \
             refused as a compression bomb"
        );
        // The ratio, not the size limit, stopped it: the size limit would let it through.
        let generous = Limits {
            max_ratio: 10_000,
            ..Limits::default()
        };
        assert!(inspect(Cursor::new(&bytes), &generous).is_ok());
    }

    #[test]
    fn zip_bomb_is_refused_early() {
        let bytes = zip_with(|w| {
            w.start_file("souk.toml", deflated()).unwrap();
            w.write_all(MANIFEST_TEXT.as_bytes()).unwrap();
            w.start_file("zeros.bin", deflated()).unwrap();
            io::copy(&mut io::repeat(0).take(BOMB as u64), w).unwrap();
        });
        assert!(bytes.len() < BOMB / 100);
        let e = refused(&bytes, "compression_bomb");
        assert!(e.to_string().starts_with("`zeros.bin` decompresses"), "{e}");
    }

    #[test]
    fn tar_metadata_is_bounded() {
        // A GNU long name of 2 MiB: tar would hold it in memory. The ratio is lifted so that the
        // metadata limit is what trips.
        let limits = Limits {
            max_ratio: u64::MAX,
            ..Limits::default()
        };
        let bytes = tar_gz(|b| {
            add_manifest(b);
            add_raw(
                b,
                b"././@LongLink",
                EntryType::GNULongName,
                &vec![b'a'; 2 * MIB as usize],
            );
            add_raw(b, b"short", EntryType::Regular, b"x");
        });
        let e = refused_with(&bytes, &limits, "corrupt_archive");
        assert!(e.to_string().contains("long name or pax record"), "{e}");
        // `git archive` writes a pax global header first: it is metadata, not a file.
        let git = tar_gz(|b| {
            add_raw(
                b,
                b"pax_global_header",
                EntryType::XGlobalHeader,
                b"52 comment=0123456789abcdef0123456789abcdef01234567\n",
            );
            add_manifest(b);
        });
        assert_eq!(paths(&check(&git).unwrap()), ["souk.toml"]);
    }

    #[test]
    fn manifest_must_be_at_the_root() {
        let none = tar_gz(|b| add_file(b, "README.md", b"hi"));
        let e = refused(&none, "missing_manifest");
        assert_eq!(e.to_string(), "no `souk.toml` at the root of the archive");
        let nested = tar_gz(|b| add_file(b, "economy-plus/souk.toml", MANIFEST_TEXT.as_bytes()));
        let e = refused(&nested, "missing_manifest");
        assert!(
            e.to_string().contains("found `economy-plus/souk.toml`"),
            "{e}"
        );
        let shouting = zip_files(&[("SOUK.TOML", MANIFEST_TEXT.as_bytes())]);
        refused(&shouting, "missing_manifest");
        let empty_zip = zip_with(|_| {});
        refused(&empty_zip, "missing_manifest");
        refused(&gzip(&[0; 1024]), "missing_manifest");
    }

    #[test]
    fn invalid_manifest_names_the_field() {
        let bad = MANIFEST_TEXT.replace("1.4.0", "1.4");
        let e = refused(
            &tar_gz(|b| add_file(b, "souk.toml", bad.as_bytes())),
            "invalid_manifest",
        );
        assert_eq!(e.field(), Some("module.version"));
        assert!(
            e.to_string()
                .starts_with("souk.toml: module.version: `1.4` is not a semantic version"),
            "{e}"
        );
        let e = refused(
            &zip_files(&[("souk.toml", b"\xff\xfe[module]")]),
            "invalid_manifest",
        );
        assert_eq!(e.field(), Some("souk.toml"));
        assert_eq!(e.to_string(), "souk.toml: is not UTF-8 text");
        let small = Limits {
            max_text_bytes: 64,
            ..Limits::default()
        };
        let e = refused_with(&tar_gz(add_manifest), &small, "invalid_manifest");
        assert_eq!(e.to_string(), "souk.toml: is larger than 64 bytes");
        assert_eq!(ArchiveError::NotAnArchive.field(), None);
    }

    #[test]
    fn long_readme_is_cut_at_a_character_boundary() {
        let limits = Limits {
            max_text_bytes: 1000,
            ..Limits::default()
        };
        // 999 bytes of ASCII, then a two-byte character across the limit.
        let readme = format!("{}é and more", "a".repeat(999));
        let bytes = tar_gz(|b| {
            add_manifest(b);
            add_file(b, "README.md", readme.as_bytes());
        });
        let i = inspect(Cursor::new(bytes), &limits).unwrap();
        assert_eq!(i.readme.unwrap(), "a".repeat(999));
        // The file's size is still its real size.
        assert_eq!(i.files[0].size, readme.len() as u64);
    }

    #[test]
    fn path_normalization() {
        assert_eq!(normalize_path("./a//b/").unwrap(), "a/b");
        assert_eq!(normalize_path("./").unwrap(), "");
        assert_eq!(normalize_path(".hidden/x").unwrap(), ".hidden/x");
        assert_eq!(normalize_path("a..b/c...").unwrap(), "a..b/c...");
        assert!(normalize_path("").is_err());
    }

    #[test]
    fn error_codes_are_distinct() {
        let errors = [
            ArchiveError::NotAnArchive,
            ArchiveError::UnsafePath {
                path: "p".into(),
                reason: "r",
            },
            ArchiveError::LinkEntry {
                path: "p".into(),
                kind: "k",
            },
            ArchiveError::SpecialFile {
                path: "p".into(),
                kind: "k".into(),
            },
            ArchiveError::DuplicateEntry { path: None },
            ArchiveError::TooManyEntries { limit: 1 },
            ArchiveError::TooLargeUnpacked {
                path: "p".into(),
                limit: 1,
            },
            ArchiveError::CompressionBomb {
                path: None,
                limit: 1,
            },
            ArchiveError::MissingManifest { nested: None },
            ArchiveError::InvalidManifest(ManifestError::new("f", "c", "m")),
            ArchiveError::Corrupt { detail: "d".into() },
        ];
        let codes: BTreeSet<&str> = errors.iter().map(ArchiveError::code).collect();
        assert_eq!(codes.len(), errors.len());
        assert_eq!(
            ArchiveError::TooLargeUnpacked {
                path: "p".into(),
                limit: 500 * MIB
            }
            .to_string(),
            "the files unpack to more than 500 MiB (stopped at `p`)"
        );
    }
}

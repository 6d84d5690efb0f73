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

mod formats;
use formats::*;

#[cfg(test)]
mod tests;

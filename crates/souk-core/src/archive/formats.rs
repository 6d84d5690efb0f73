//! Reading the two package formats: ZIP (through the central directory, entry by entry) and
//! gzip-compressed tar (streamed, with a guard that stops a decompression bomb as it happens).
//! Both feed the same [`Collector`], which applies the limits and keeps what the catalog needs.

use super::*;

/// What the type bits of a Unix mode make of an entry.
pub(super) enum Mode {
    Regular,
    Folder,
    Link,
    Special(&'static str),
}

pub(super) fn unix_file_type(mode: u32) -> Mode {
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

pub(super) fn inspect_zip<'l, R: Read + Seek>(
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
pub(super) enum Trip {
    Bomb,
    Metadata,
}

/// Shared between the stream guard inside the tar reader and the loop over entries.
pub(super) struct GuardState {
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
pub(super) struct StreamGuard<R> {
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

pub(super) fn inspect_tar_gz<'l, R: Read>(
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

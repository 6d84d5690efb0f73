//! Writing a package archive (.tar.gz), deterministically.
//!
//! The same files always give the same bytes, wherever and whenever they are packed, so that a
//! package can be rebuilt and compared by its SHA-256. Nothing about the machine or the moment
//! gets in: entries are sorted by path; only regular files are written (folders are implied by
//! the paths); modes are 0644, or 0755 for executables; owner and group are 0 with empty names;
//! every timestamp is 0; headers are GNU tar throughout (long paths go in GNU long-name entries);
//! the gzip header has mtime 0, no file name and "unknown" as its operating system; the
//! compression level is fixed. The bytes are stable for a given build of Souk (a different
//! deflate implementation could compress the same input differently).

use crate::archive::normalize_path;
use std::io::{self, Write};

/// Compression level, fixed because it changes the bytes. 9: packages are written once and
/// downloaded many times.
const COMPRESSION_LEVEL: u32 = 9;
/// "Unknown" in the gzip header, rather than the OS we happen to run on.
const GZIP_OS_UNKNOWN: u8 = 255;

/// One file of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// Relative, with `/` separators, in normal form: `src/main.lua`, not `./src//main.lua`.
    pub path: String,
    pub contents: Vec<u8>,
    pub executable: bool,
}

/// Writes `files` as a .tar.gz to `out` and gives `out` back. Fails with
/// [`io::ErrorKind::InvalidInput`] for a path that [`crate::archive::inspect`] would refuse or
/// that is not in normal form, or for the same path twice: a package we write must be one we
/// accept.
pub fn write_tar_gz<W: Write>(files: &[PackageFile], out: W) -> io::Result<W> {
    let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidInput, message);
    for file in files {
        match normalize_path(&file.path) {
            Ok(normal) if normal == file.path => {}
            Ok(_) => {
                return Err(invalid(format!(
                    "`{}` is not a plain relative path (write `a/b`, not `./a//b/`)",
                    file.path
                )));
            }
            Err(reason) => return Err(invalid(format!("`{}` {reason}", file.path))),
        }
    }
    let mut sorted: Vec<&PackageFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0].path == pair[1].path) {
        return Err(invalid(format!("`{}` is listed twice", pair[0].path)));
    }

    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(GZIP_OS_UNKNOWN)
        .write(out, flate2::Compression::new(COMPRESSION_LEVEL));
    let mut tar = tar::Builder::new(gz);
    for file in sorted {
        // A fresh GNU header is all zeros but for its magic: no names, no times.
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(file.contents.len() as u64);
        header.set_mode(if file.executable { 0o755 } else { 0o644 });
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        tar.append_data(&mut header, &file.path, file.contents.as_slice())?;
    }
    tar.into_inner()?.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{ArchiveFormat, Limits, inspect};
    use std::io::{Cursor, Read};

    const MANIFEST: &str = "[module]\nname = \"economy-plus\"\nversion = \"1.4.0\"\n\
        publisher = \"acme-games\"\ndescription = \"Shops.\"\nlicense = \"MIT\"\n\
        platform = \">=1.0.0\"\n";

    fn file(path: &str, contents: &[u8], executable: bool) -> PackageFile {
        PackageFile {
            path: path.to_owned(),
            contents: contents.to_vec(),
            executable,
        }
    }

    fn sample() -> Vec<PackageFile> {
        vec![
            file("src/main.lua", b"print('hi')\n", false),
            file("souk.toml", MANIFEST.as_bytes(), false),
            file("bin/run.sh", b"#!/bin/sh\n", true),
            file("README.md", b"# Economy\n", false),
            file(&format!("deep/{}/x.txt", "d".repeat(150)), b"long", false),
        ]
    }

    fn pack(files: &[PackageFile]) -> Vec<u8> {
        write_tar_gz(files, Vec::new()).unwrap()
    }

    #[test]
    fn same_input_same_bytes_whatever_the_order() {
        let files = sample();
        let mut reversed = files.clone();
        reversed.reverse();
        assert_eq!(pack(&files), pack(&reversed));
    }

    #[test]
    fn inspect_accepts_what_we_write() {
        let files = sample();
        let bytes = pack(&files);
        let inspection = inspect(Cursor::new(&bytes), &Limits::default()).unwrap();
        assert_eq!(inspection.format, ArchiveFormat::TarGz);
        assert_eq!(inspection.manifest.name.as_str(), "economy-plus");
        assert_eq!(inspection.readme.as_deref(), Some("# Economy\n"));
        let mut expected: Vec<(String, u64)> = files
            .iter()
            .map(|f| (f.path.clone(), f.contents.len() as u64))
            .collect();
        expected.sort();
        let got: Vec<(String, u64)> = inspection
            .files
            .into_iter()
            .map(|f| (f.path, f.size))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn headers_carry_nothing_of_the_machine() {
        let bytes = pack(&sample());
        // gzip: magic, deflate, no flags (so no file name), mtime 0, OS unknown.
        assert_eq!(&bytes[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0]);
        assert_eq!(bytes[9], GZIP_OS_UNKNOWN);

        let mut tar_bytes = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut tar_bytes)
            .unwrap();
        let mut archive = tar::Archive::new(&tar_bytes[..]);
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert!(h.as_gnu().is_some(), "GNU headers throughout");
            assert_eq!(h.entry_type(), tar::EntryType::Regular);
            assert_eq!(h.mtime().unwrap(), 0);
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
            assert_eq!(h.username_bytes(), Some(&b""[..]));
            assert_eq!(h.groupname_bytes(), Some(&b""[..]));
            let path = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
            let mode = h.mode().unwrap();
            assert_eq!(mode, if path == "bin/run.sh" { 0o755 } else { 0o644 });
            seen.push(path);
        }
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "entries are in path order");
        assert_eq!(seen.len(), 5, "no folder entries");
    }

    #[test]
    fn refuses_paths_inspect_would_refuse() {
        for bad in [
            "../x", "/abs", "a\\b", "./a", "a//b", "a/", "", "C:/x", "a/./b",
        ] {
            let e = write_tar_gz(&[file(bad, b"x", false)], Vec::new()).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        let twice = [file("a", b"1", false), file("a", b"2", false)];
        let e = write_tar_gz(&twice, Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "`a` is listed twice");
    }
}

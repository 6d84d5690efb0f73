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

//! Builders of package archives for the catalog tests: well-formed ones, and the hostile ones
//! the server must refuse (written header by header, since the tar crate will not write them).

use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;

pub fn manifest(name: &str, version: &str, publisher: &str, deps: &[(&str, &str)]) -> String {
    let mut m = format!(
        "[module]\nname = \"{name}\"\nversion = \"{version}\"\npublisher = \"{publisher}\"\n\
         description = \"A test module\"\nlicense = \"MIT\"\nplatform = \">=1.0.0\"\n\n[dependencies]\n"
    );
    for (d, r) in deps {
        m.push_str(&format!("{d} = \"{r}\"\n"));
    }
    m
}

/// How an entry is written.
pub enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

/// A .tar.gz of `entries`, names written raw into the header so that `../x` and `/x` survive.
pub fn tar_gz(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let (name, data, kind, link): (&str, &[u8], tar::EntryType, Option<&str>) = match e {
            Entry::File(n, d) => (n, d, tar::EntryType::Regular, None),
            Entry::Symlink(n, l) => (n, b"", tar::EntryType::Symlink, Some(l)),
            Entry::Hardlink(n, l) => (n, b"", tar::EntryType::Link, Some(l)),
        };
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(l) = link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        out.append(&h, data).unwrap();
    }
    out.into_inner().unwrap().finish().unwrap()
}

/// A well-formed package with a README.
pub fn package(name: &str, version: &str, publisher: &str, deps: &[(&str, &str)]) -> Vec<u8> {
    let m = manifest(name, version, publisher, deps);
    let readme = format!("# {name}\n\nVersion {version}.\n");
    tar_gz(&[
        Entry::File("souk.toml", m.as_bytes()),
        Entry::File("README.md", readme.as_bytes()),
        Entry::File("src/main.lua", b"print('hello')\n"),
    ])
}

pub fn zip_package(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (n, d) in files {
        w.start_file(*n, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(d).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A 1x1 transparent PNG.
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

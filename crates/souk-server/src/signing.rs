//! The registry's signing keys: Ed25519 keys in minisign's format (see `souk_core::signing`), one
//! file each (`<KEYID>.json`, mode 0600) in `signing.keys_dir` (default `DATA_DIR/keys`).
//!
//! At start every key file is loaded; when none may sign now, a new key is made. The key that
//! signs is the newest one whose validity window holds now. Rotation: add a key (or let a new
//! one be made) and give the old one a `valid_until`; retired keys stay published at
//! `GET /api/v1/keys` so that old signatures still verify. Several nodes must share the
//! directory's files (copy them, or point `signing.keys_dir` at shared storage), or each node
//! would sign with a key of its own.

use anyhow::Context;
use souk_core::Timestamp;
use souk_core::signing::{Prehash, PublicKey, StoredSigningKey, sign_prehashed};
use std::path::{Path, PathBuf};

pub struct RegistryKeys {
    keys: Vec<StoredSigningKey>,
}

impl RegistryKeys {
    /// Loads every key in `dir`, creating the directory and a first key when there is no key
    /// valid now. A key file that cannot be read stops the start: signing with a surprise key
    /// would be worse.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| {
            format!("cannot create the signing key directory {}", dir.display())
        })?;
        let mut keys = Vec::new();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        entries.sort();
        for path in entries {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let key = StoredSigningKey::from_json(&text)
                .with_context(|| format!("signing key {}", path.display()))?;
            keys.push(key);
        }
        let now = Timestamp::now();
        if !keys.iter().any(|k| k.is_valid_at(now)) {
            let key = StoredSigningKey::generate(now);
            let path = dir.join(format!("{}.json", key.key.id().to_hex()));
            crate::files::write_private(&path, &key.to_json())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(key_id = %key.key.id(), path = %path.display(), "created a registry signing key");
            keys.push(key);
        }
        keys.sort_by_key(|k| k.valid_from);
        Ok(Self { keys })
    }

    /// Rotates the keys in `dir`: makes a new key that signs from `now`, then ends the validity
    /// of every other key that was still valid, so that it signs no more (it stays in the
    /// directory and published, so that what it signed still verifies). The new key is in place
    /// before any old one is retired, and every file is written beside its place and renamed
    /// over it, so that a crash midway never leaves the registry without a valid key or with a
    /// half-written file. Running nodes keep the keys they loaded until they restart. Answers
    /// the new key and the ids of the keys it retired.
    pub fn rotate(dir: &Path, now: Timestamp) -> anyhow::Result<(StoredSigningKey, Vec<String>)> {
        let current = Self::load_or_create(dir)?;
        let key = StoredSigningKey::generate(now);
        replace_key_file(dir, &key)?;
        let mut retired = Vec::new();
        for mut old in current.keys {
            if old.valid_until.is_some_and(|until| until <= now) {
                continue;
            }
            old.valid_until = Some(now.max(old.valid_from));
            replace_key_file(dir, &old)?;
            retired.push(old.key.id().to_hex());
        }
        Ok((key, retired))
    }

    /// Every key, oldest first.
    pub fn all(&self) -> &[StoredSigningKey] {
        &self.keys
    }

    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.keys.iter().map(|k| k.key.public_key()).collect()
    }

    /// The key that signs at `now`: the newest valid one.
    pub fn active(&self, now: Timestamp) -> Option<&StoredSigningKey> {
        self.keys.iter().rev().find(|k| k.is_valid_at(now))
    }

    /// Signs a package's prehash; answers the signature file's text and the key id (hex).
    /// The trusted comment, which minisign prints after a good verification, names what was
    /// signed: `souk module=NAME version=V sha256=HEX signed=RFC3339`.
    pub fn sign_package(
        &self,
        prehash: &Prehash,
        module: &str,
        version: &str,
        sha256: &str,
    ) -> anyhow::Result<(String, String)> {
        let now = Timestamp::now();
        let key = self
            .active(now)
            .context("no registry signing key is valid now")?;
        let comment = format!(
            "souk module={module} version={version} sha256={sha256} signed={}",
            now.to_rfc3339()
        );
        let sig = sign_prehashed(&key.key, prehash, &comment)?;
        Ok((sig, key.key.id().to_hex()))
    }
}

/// Writes `key` to `DIR/KEYID.json` (mode 0600) through a temporary file beside it, synced
/// before it is renamed into place.
fn replace_key_file(dir: &Path, key: &StoredSigningKey) -> anyhow::Result<()> {
    let id = key.key.id().to_hex();
    let path = dir.join(format!("{id}.json"));
    let staged = dir.join(format!("{id}.json.tmp"));
    let _ = std::fs::remove_file(&staged);
    crate::files::write_private(&staged, &key.to_json())
        .and_then(|()| std::fs::File::open(&staged)?.sync_all())
        .and_then(|()| std::fs::rename(&staged, &path))
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_makes_a_new_signing_key_and_keeps_the_old_ones_published() {
        let dir = tempfile::tempdir().unwrap();
        let first = RegistryKeys::load_or_create(dir.path()).unwrap();
        let old = first.active(Timestamp::now()).unwrap().key.id().to_hex();

        let now = Timestamp::now();
        let (new, retired) = RegistryKeys::rotate(dir.path(), now).unwrap();
        assert_eq!(retired, std::slice::from_ref(&old));
        let reloaded = RegistryKeys::load_or_create(dir.path()).unwrap();
        assert_eq!(
            reloaded.all().len(),
            2,
            "no third key is made at the next start"
        );
        let later = Timestamp::from_millis(now.millis() + 1);
        assert_eq!(
            reloaded.active(later).unwrap().key.id(),
            new.key.id(),
            "the new key signs"
        );
        let kept = reloaded
            .all()
            .iter()
            .find(|k| k.key.id().to_hex() == old)
            .expect("the old key is still there, so its signatures verify");
        assert_eq!(kept.valid_until, Some(now));
        #[cfg(unix)]
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            use std::os::unix::fs::PermissionsExt;
            let entry = entry.unwrap();
            assert!(entry.path().extension().is_some_and(|e| e == "json"));
            assert_eq!(
                entry.metadata().unwrap().permissions().mode() & 0o777,
                0o600
            );
        }

        // A second rotation retires only the key that was still signing.
        let (_, retired) = RegistryKeys::rotate(dir.path(), later).unwrap();
        assert_eq!(retired, [new.key.id().to_hex()]);
        assert_eq!(
            RegistryKeys::load_or_create(dir.path())
                .unwrap()
                .all()
                .len(),
            3
        );
    }
}

-- souk:foreign-keys-off
-- Package trust, part two: moderation. Versions gain the states an upload passes through
-- (pending_checks -> pending_review -> published, or rejected; a published version can be
-- quarantined and released), what the automated checks found, a job queue any node can take work
-- from, publisher verification and suspension details, and the notices publishers read in their
-- portal. Numbered in lockstep with the other backend's migrations.
--
-- SQLite cannot change a CHECK constraint in place, so `versions` is rebuilt the documented way
-- (create, copy, drop, rename) with foreign keys off for this migration only (the first line asks
-- the migration runner for that); `PRAGMA foreign_key_check` runs before the commit.

CREATE TABLE versions_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    module_id INTEGER NOT NULL REFERENCES modules (id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    prerelease INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending_checks', 'pending_review', 'published', 'rejected', 'quarantined')),
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('zip', 'tar.gz')),
    unpacked_size INTEGER NOT NULL,
    license TEXT NOT NULL,
    description TEXT NOT NULL,
    platform TEXT NOT NULL,
    manifest TEXT NOT NULL,
    readme TEXT,
    changelog TEXT,
    files TEXT NOT NULL,
    downloads INTEGER NOT NULL DEFAULT 0,
    yanked_at INTEGER,
    yank_reason TEXT,
    published_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    registry_signature TEXT,
    registry_key_id TEXT,
    UNIQUE (module_id, version)
);
INSERT INTO versions_new (id, module_id, version, prerelease, status, sha256, size, format, unpacked_size,
    license, description, platform, manifest, readme, changelog, files, downloads, yanked_at, yank_reason,
    published_by, created_at, registry_signature, registry_key_id)
SELECT id, module_id, version, prerelease, status, sha256, size, format, unpacked_size,
    license, description, platform, manifest, readme, changelog, files, downloads, yanked_at, yank_reason,
    published_by, created_at, registry_signature, registry_key_id
FROM versions;
DROP TABLE versions;
ALTER TABLE versions_new RENAME TO versions;
CREATE INDEX versions_sha256_idx ON versions (sha256);
CREATE TRIGGER versions_search_insert AFTER INSERT ON versions BEGIN
    INSERT INTO search_changes (module_id, created_at) VALUES (NEW.module_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER versions_search_update AFTER UPDATE OF yanked_at, status ON versions BEGIN
    INSERT INTO search_changes (module_id, created_at) VALUES (NEW.module_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

-- Why the version is in its state: the review reason, the rejection or quarantine reason.
ALTER TABLE versions ADD COLUMN status_reason TEXT;
ALTER TABLE versions ADD COLUMN status_changed_at INTEGER;
ALTER TABLE versions ADD COLUMN status_changed_by INTEGER REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE versions ADD COLUMN checked_at INTEGER;
ALTER TABLE versions ADD COLUMN published_at INTEGER;
ALTER TABLE versions ADD COLUMN appeal TEXT;
ALTER TABLE versions ADD COLUMN appealed_at INTEGER;
UPDATE versions SET published_at = created_at, checked_at = created_at WHERE status = 'published';
CREATE INDEX versions_status_idx ON versions (status, created_at);

-- What the automated checks found, replaced as a whole by each run.
CREATE TABLE version_findings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error')),
    path TEXT NOT NULL,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX version_findings_version_idx ON version_findings (version_id);

-- Background work any node can take: a row is claimed by setting a lease (`locked_until`), so a
-- node that dies mid-job only delays it. `dedupe_key` keeps one live job per subject.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    locked_by TEXT,
    locked_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX jobs_run_idx ON jobs (run_at);

ALTER TABLE publishers ADD COLUMN verification_requested_at INTEGER;
ALTER TABLE publishers ADD COLUMN verification_note TEXT;
ALTER TABLE publishers ADD COLUMN suspension_reason TEXT;

-- Notices for a publisher's members, shown in the portal (email comes with notifications).
CREATE TABLE publisher_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    publisher_id INTEGER NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    module_name TEXT,
    version TEXT,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX publisher_messages_publisher_idx ON publisher_messages (publisher_id, id);

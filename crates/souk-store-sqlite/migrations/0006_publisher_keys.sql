-- Package trust, publishers' half: the Ed25519 public keys a publisher registers (minisign
-- format) and, on each version, the publisher's own signature over the package bytes with the id
-- of the key that made it (NULL when the upload carried none). Numbered in lockstep with the
-- other backend's migrations.

-- A key id names one key across the whole registry (minisign's 8 random bytes, as 16 upper-case
-- hex digits), so a signature's key id points at exactly one publisher. A revoked key stays,
-- with `revoked_at`, so that versions it signed before can still be explained; no new upload may
-- use it.
CREATE TABLE publisher_keys (
    id TEXT PRIMARY KEY,
    publisher_id INTEGER NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    name TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX publisher_keys_publisher_idx ON publisher_keys (publisher_id, created_at);

ALTER TABLE versions ADD COLUMN publisher_signature TEXT;
ALTER TABLE versions ADD COLUMN publisher_key_id TEXT;

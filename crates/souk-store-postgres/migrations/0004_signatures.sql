-- Package trust, part one: the registry's signature over each version's package bytes, in
-- minisign's format (so Debian's `minisign -V` checks it), and the id of the key that made it.
-- Versions published before signing existed keep NULL. Numbered in lockstep with the other
-- backend's migrations.

ALTER TABLE versions ADD COLUMN registry_signature TEXT;
ALTER TABLE versions ADD COLUMN registry_key_id TEXT;

-- Every registry signing key any node has used, public part only (secret keys stay in files
-- outside the database), so that every node publishes every key and a signature made on one node
-- verifies against the keys another node lists.
CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT
);

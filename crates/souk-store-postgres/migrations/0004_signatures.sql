-- Package trust, part one: the registry's signature over each version's package bytes, in
-- minisign's format (so Debian's `minisign -V` checks it), and the id of the key that made it.
-- Versions published before signing existed keep NULL. Numbered in lockstep with the other
-- backend's migrations.

ALTER TABLE versions ADD COLUMN registry_signature TEXT;
ALTER TABLE versions ADD COLUMN registry_key_id TEXT;

-- A personal token created with another personal token remembers its parent, so that revoking
-- the parent revokes everything made with it and no narrower-lived token leaves a wider-lived
-- child behind. Tokens made from a signed-in session have no parent. Numbered in lockstep with
-- the other backend's migrations.
ALTER TABLE api_tokens ADD COLUMN parent_id BIGINT REFERENCES api_tokens (id) ON DELETE CASCADE;
CREATE INDEX api_tokens_parent_idx ON api_tokens (parent_id);

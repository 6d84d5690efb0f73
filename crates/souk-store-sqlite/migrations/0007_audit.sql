-- Package trust, last part: the audit log. One row per moderation, admin or security-relevant
-- action: who (the user's id and email at the time, `system` for workers and the CLI,
-- `anonymous` for a caller that is not signed in), what (a stable action name such as
-- `version.approve`), the target (its kind and a label such as `economy@1.2.0`), when (UTC
-- milliseconds), from which client address, and JSON snapshots of the relevant fields before and
-- after. Numbered in lockstep with the other backend's migrations.
--
-- Append-only: the triggers below refuse every UPDATE and DELETE, whoever issues them, so not
-- even a bug (or a hand-typed statement) in the application can rewrite history. For the same
-- reason nothing here has a foreign key: `ON DELETE SET NULL` on a user would be an UPDATE.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target TEXT NOT NULL,
    client_addr TEXT,
    before_state TEXT,
    after_state TEXT
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_target_idx ON audit_log (target_kind, target, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted');
END;

-- The outbox: events that must reach every node (and, later, agents, mail and webhooks), written
-- in the same transaction as the change they announce and published by a relay on the bus
-- (embedded, or NATS JetStream with the row's time and id as `Nats-Msg-Id`, so redelivery is
-- dropped).
-- Numbered in lockstep with the other backend's migrations.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    published_at INTEGER
);
CREATE INDEX outbox_pending_idx ON outbox (published_at, id);

-- Every catalog change the search index follows is announced too: a row in the change log
-- (written by the catalog's own triggers, in the writing transaction) puts an event in the
-- outbox in that same transaction.
CREATE TRIGGER search_changes_outbox AFTER INSERT ON search_changes BEGIN
    INSERT INTO outbox (topic, payload, created_at)
    VALUES ('catalog.changed', json_object('change', NEW.id, 'module_id', NEW.module_id,
                                           'publisher_id', NEW.publisher_id), NEW.created_at);
END;

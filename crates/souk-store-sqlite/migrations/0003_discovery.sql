-- Discovery: the change log that keeps every node's search index current, page views, featured
-- modules, and the publisher flags search filters on (verified) and hides by (suspended).
-- Numbered in lockstep with the other backend's migrations.

ALTER TABLE publishers ADD COLUMN verified_at INTEGER;
ALTER TABLE publishers ADD COLUMN suspended_at INTEGER;

-- One row per write that can change what search shows. `module_id` names one module,
-- `publisher_id` all of a publisher's modules, and a row with neither asks every node to rebuild.
-- Written by triggers, so no code path that changes the catalog can forget it; nodes read it in id
-- order (see souk-server's search follower) and old rows are pruned.
CREATE TABLE search_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    module_id INTEGER,
    publisher_id INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX search_changes_created_idx ON search_changes (created_at);

CREATE TRIGGER modules_search_insert AFTER INSERT ON modules BEGIN
    INSERT INTO search_changes (module_id, created_at) VALUES (NEW.id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER modules_search_update AFTER UPDATE ON modules BEGIN
    INSERT INTO search_changes (module_id, created_at) VALUES (NEW.id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER modules_search_delete AFTER DELETE ON modules BEGIN
    INSERT INTO search_changes (module_id, created_at) VALUES (OLD.id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER versions_search_insert AFTER INSERT ON versions BEGIN
    INSERT INTO search_changes (module_id, created_at) VALUES (NEW.module_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER versions_search_update AFTER UPDATE OF yanked_at, status ON versions BEGIN
    INSERT INTO search_changes (module_id, created_at) VALUES (NEW.module_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER module_tags_search_insert AFTER INSERT ON module_tags BEGIN
    INSERT INTO search_changes (module_id, created_at) VALUES (NEW.module_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER module_tags_search_delete AFTER DELETE ON module_tags BEGIN
    INSERT INTO search_changes (module_id, created_at) VALUES (OLD.module_id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER publishers_search_update AFTER UPDATE OF slug, display_name, verified_at, suspended_at ON publishers BEGIN
    INSERT INTO search_changes (publisher_id, created_at) VALUES (NEW.id, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
-- The category tree shapes every module's facet path: a change to it rebuilds the index.
CREATE TRIGGER categories_search_insert AFTER INSERT ON categories BEGIN
    INSERT INTO search_changes (created_at) VALUES (CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER categories_search_update AFTER UPDATE ON categories BEGIN
    INSERT INTO search_changes (created_at) VALUES (CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
CREATE TRIGGER categories_search_delete AFTER DELETE ON categories BEGIN
    INSERT INTO search_changes (created_at) VALUES (CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;

-- Module page views per day, for trending and publishers' analytics. Visitors are told apart in
-- memory only, by a salted hash whose salt changes daily; no address reaches the database.
CREATE TABLE module_views (
    module_id INTEGER NOT NULL REFERENCES modules (id) ON DELETE CASCADE,
    day INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (module_id, day)
);

-- The home page's featured list, in the order admins set.
CREATE TABLE featured_modules (
    module_id INTEGER PRIMARY KEY REFERENCES modules (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    featured_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    featured_at INTEGER NOT NULL
);

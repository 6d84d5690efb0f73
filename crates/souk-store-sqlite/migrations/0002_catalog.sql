-- Catalog: publishers and their members, the category tree, modules with their media and tags,
-- versions with their dependencies, and daily download counts. Numbered in lockstep with the
-- other backend's migrations. Times are integer milliseconds since the Unix epoch, UTC.

CREATE TABLE publishers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT '',
    website TEXT,
    support_email TEXT,
    logo_sha256 TEXT,
    logo_content_type TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE publisher_members (
    publisher_id INTEGER NOT NULL REFERENCES publishers (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'maintainer')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (publisher_id, user_id)
);
CREATE INDEX publisher_members_user_idx ON publisher_members (user_id);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES categories (id) ON DELETE RESTRICT,
    position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE modules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_normalized TEXT NOT NULL UNIQUE,
    publisher_id INTEGER NOT NULL REFERENCES publishers (id) ON DELETE RESTRICT,
    display_name TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    description TEXT,
    category_id INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    homepage TEXT,
    repository TEXT,
    keywords TEXT NOT NULL DEFAULT '[]',
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'unlisted', 'private')),
    icon_sha256 TEXT,
    icon_content_type TEXT,
    latest_version TEXT,
    downloads INTEGER NOT NULL DEFAULT 0,
    archived_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX modules_publisher_idx ON modules (publisher_id);
CREATE INDEX modules_created_idx ON modules (created_at, id);
CREATE INDEX modules_downloads_idx ON modules (downloads, id);

CREATE TABLE module_tags (
    module_id INTEGER NOT NULL REFERENCES modules (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (module_id, tag)
);
CREATE INDEX module_tags_tag_idx ON module_tags (tag);

CREATE TABLE module_screenshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    module_id INTEGER NOT NULL REFERENCES modules (id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    caption TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX module_screenshots_module_idx ON module_screenshots (module_id);

CREATE TABLE versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    module_id INTEGER NOT NULL REFERENCES modules (id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    prerelease INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('published')),
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
    UNIQUE (module_id, version)
);
CREATE INDEX versions_sha256_idx ON versions (sha256);

CREATE TABLE version_dependencies (
    version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    req TEXT NOT NULL,
    PRIMARY KEY (version_id, name)
);

CREATE TABLE download_counts (
    version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    day INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (version_id, day)
);

-- A starting category tree; admins change it from the console.
INSERT INTO categories (slug, name, parent_id, position) VALUES
    ('gameplay', 'Gameplay', NULL, 1),
    ('economy', 'Economy', NULL, 2),
    ('administration', 'Administration', NULL, 3),
    ('chat', 'Chat & Social', NULL, 4),
    ('world', 'World & Building', NULL, 5),
    ('integrations', 'Integrations', NULL, 6),
    ('libraries', 'Libraries & APIs', NULL, 7),
    ('utilities', 'Utilities', NULL, 8);
INSERT INTO categories (slug, name, parent_id, position) VALUES
    ('minigames', 'Minigames', (SELECT id FROM categories WHERE slug = 'gameplay'), 1),
    ('pvp', 'PvP & Combat', (SELECT id FROM categories WHERE slug = 'gameplay'), 2),
    ('shops', 'Shops & Trading', (SELECT id FROM categories WHERE slug = 'economy'), 1),
    ('moderation', 'Moderation', (SELECT id FROM categories WHERE slug = 'administration'), 1),
    ('permissions', 'Permissions', (SELECT id FROM categories WHERE slug = 'administration'), 2),
    ('discord', 'Discord', (SELECT id FROM categories WHERE slug = 'integrations'), 1),
    ('web', 'Web & Dashboards', (SELECT id FROM categories WHERE slug = 'integrations'), 2),
    ('worldgen', 'World Generation', (SELECT id FROM categories WHERE slug = 'world'), 1);

-- groundrec store, SQLite. Keep in step with ../postgres/0001_schema.sql: same tables, columns
-- and indexes; only the identity column is spelled differently.

-- Every event is kept, in arrival order (`seq`): sequences are what SASRec learns from.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT UNIQUE,
    user_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ts BIGINT NOT NULL,
    list_id TEXT,
    received_ms BIGINT NOT NULL
);
CREATE INDEX events_by_user ON events (user_id, ts, seq);
CREATE INDEX events_by_list ON events (list_id);
CREATE INDEX events_by_received ON events (received_ms);

-- Catalogue changes, in order: the item as JSON, or NULL when it was deleted. The newest row
-- of an item is its state; replicas apply rows after the last `seq` they have seen.
CREATE TABLE item_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL,
    body TEXT,
    changed_ms BIGINT NOT NULL
);
CREATE INDEX item_changes_by_item ON item_changes (item_id, seq);

-- Lists served, for the online hit rate per model version and the dashboard.
CREATE TABLE served_lists (
    list_id TEXT PRIMARY KEY,
    user_id TEXT,
    model_id TEXT NOT NULL,
    items TEXT NOT NULL,
    fallback BIGINT NOT NULL,
    served_ms BIGINT NOT NULL,
    -- When an event first engaged with one of its items (NULL: not yet): a hit for model_id.
    hit_ms BIGINT
);
CREATE INDEX served_lists_by_user ON served_lists (user_id, served_ms);
CREATE INDEX served_lists_by_time ON served_lists (served_ms);

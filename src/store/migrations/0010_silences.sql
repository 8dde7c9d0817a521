-- Silences: a person pauses orchestrator on one check (or on all of them) for a while. The
-- check is still scanned and shown; no phase acts on it and nothing is notified. Rows are never
-- deleted: expiring one early sets `expired_at`, and one past `ends_at` has simply ended, so
-- the history of who silenced what, why and for how long stays.
CREATE TABLE silences (
    id          INTEGER PRIMARY KEY,
    check_name  TEXT,                    -- NULL: every check
    created_at  REAL NOT NULL,
    created_by  TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    starts_at   REAL NOT NULL,
    ends_at     REAL NOT NULL CHECK (ends_at > starts_at),
    expired_at  REAL                     -- set when a person ended it before ends_at
);
CREATE INDEX silences_ends ON silences (ends_at);

-- The silence an incident was detected under, if any: `metrics` counts those apart.
ALTER TABLE incidents ADD COLUMN silence INTEGER REFERENCES silences (id);
CREATE INDEX incidents_silenced ON incidents (detected_at) WHERE silence IS NOT NULL;

-- Counted as events happen, like the counters of migration 0008.
INSERT INTO counters (name, label, value)
SELECT 'flapped', '', COUNT(DISTINCT incident) FROM incident_events WHERE kind = 'flapping'
UNION ALL SELECT 'silenced', '', 0;

CREATE TRIGGER mark_incident_silenced AFTER INSERT ON incidents
WHEN EXISTS (SELECT 1 FROM silences s
              WHERE (s.check_name IS NULL OR s.check_name = NEW.check_name)
                AND s.starts_at <= NEW.detected_at AND s.ends_at > NEW.detected_at
                AND (s.expired_at IS NULL OR s.expired_at > NEW.detected_at))
BEGIN
    UPDATE incidents SET silence = (
        SELECT s.id FROM silences s
         WHERE (s.check_name IS NULL OR s.check_name = NEW.check_name)
           AND s.starts_at <= NEW.detected_at AND s.ends_at > NEW.detected_at
           AND (s.expired_at IS NULL OR s.expired_at > NEW.detected_at)
         ORDER BY s.ends_at DESC LIMIT 1)
     WHERE id = NEW.id;
    INSERT INTO counters (name, label, value) VALUES ('silenced', '', 1)
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
END;

-- A flapping incident is counted once per episode, apart from the fixes it undid.
CREATE TRIGGER count_incident_flapped AFTER UPDATE OF flapping ON incidents
WHEN NEW.flapping = 1 AND OLD.flapping = 0
BEGIN
    INSERT INTO counters (name, label, value) VALUES ('flapped', '', 1)
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
END;

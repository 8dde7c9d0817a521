-- A person's tools on what orchestrator learned and may do (issue 22: patterns, the circuit
-- breaker, maintenance windows).

-- A learned pattern a person disabled: phase 1 no longer replays it (and says so), agents no
-- longer see it as a past fix; it is kept with its record until enabled again or forgotten.
ALTER TABLE patterns ADD COLUMN disabled_at REAL;
ALTER TABLE patterns ADD COLUMN disabled_by TEXT;
ALTER TABLE patterns ADD COLUMN disabled_note TEXT;

-- Every change a person made to a pattern, with the pattern as it was then. Forgetting deletes
-- the pattern (the same fix learned again starts afresh, under a new id: pattern ids are never
-- given twice, see `Store::record_fix`), and this row keeps what it was, who forgot it and why.
-- No foreign key: the pattern it names may be gone.
CREATE TABLE pattern_changes (
    id          INTEGER PRIMARY KEY,
    pattern     INTEGER NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('disabled', 'enabled', 'forgotten')),
    by          TEXT NOT NULL,
    at          REAL NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    signature   TEXT NOT NULL,
    check_name  TEXT NOT NULL,
    plan        TEXT NOT NULL,
    successes   INTEGER NOT NULL,
    failures    INTEGER NOT NULL
);
CREATE INDEX pattern_changes_pattern ON pattern_changes (pattern);

-- The circuit breaker (`[policy] budget`) counts what the healer did in the last hour and the
-- restarts of each unit in the last day: each attempt keeps how many actions its plan has and
-- the units it (re)starts (a JSON list), written when it begins. Older rows have neither and
-- count as one action restarting no named unit.
ALTER TABLE attempts ADD COLUMN actions INTEGER;
ALTER TABLE attempts ADD COLUMN units TEXT;
CREATE INDEX attempts_started ON attempts (started_at);

-- Maintenance windows of the config (`[[maintenance]]`) become silences, one per check (NULL:
-- every check) and occurrence, written ahead by every locked command: so the phases, the
-- outbox, the scan, `silence list` and the dashboard treat them as silences, and a window is in
-- force from its first second even when no command runs then. `maintenance` names the window;
-- the notices that it started and ended are sent once, when these are set.
ALTER TABLE silences ADD COLUMN maintenance TEXT;
ALTER TABLE silences ADD COLUMN start_noticed_at REAL;
ALTER TABLE silences ADD COLUMN end_noticed_at REAL;
CREATE UNIQUE INDEX silences_maintenance
    ON silences (maintenance, COALESCE(check_name, ''), starts_at) WHERE maintenance IS NOT NULL;

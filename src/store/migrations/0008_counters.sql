-- Monotonic counters for the Prometheus exposition, kept as events happen so that `metrics
-- --prometheus` reads a few rows however long the history is. Triggers keep them: every
-- counted event is an INSERT or UPDATE of a row below, so the count changes in the same
-- statement (and so the same transaction) as the event, whichever code path made it, and
-- rows written by other tools (scripts/synthetic-history.py) count too. Retention deletes old
-- incidents; nothing here is decremented, so the counters never go down.
--
-- Numbered 0008: 0007 is taken by a migration written at the same time on another branch.

CREATE TABLE counters (
    name   TEXT NOT NULL,
    label  TEXT NOT NULL DEFAULT '',   -- the phase ("1".."4") or the agreement ("3/3", …)
    value  REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (name, label)
) WITHOUT ROWID;

-- Time to resolve, per resolving phase: the count of incidents whose time falls in (the
-- previous bound, le]. The reader makes them cumulative, as the exposition format wants.
CREATE TABLE ttr_histogram (
    phase  INTEGER NOT NULL,
    le     REAL NOT NULL,              -- 9e999 reads back as +Inf
    count  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (phase, le)
) WITHOUT ROWID;

WITH phases (phase) AS (VALUES (1), (2), (3), (4)),
     bounds (le) AS (VALUES (1.0), (5.0), (10.0), (30.0), (60.0), (120.0), (300.0), (600.0),
                            (1800.0), (3600.0), (7200.0), (21600.0), (86400.0), (9e999))
INSERT INTO ttr_histogram (phase, le) SELECT phase, le FROM phases, bounds;

-- A phase-3 round is counted once, by its first consultation with an agreement: the trigger
-- looks the round up here. (Its `+c.phase` keeps the planner off agent_consultations_rounds,
-- phase first, which would scan every phase-3 row on each insert.)
CREATE INDEX agent_consultations_round ON agent_consultations (round);

-- Backfill from the rows kept, with the definitions the triggers use below.
INSERT INTO counters (name, label, value)
SELECT 'detected', '', COUNT(*) FROM incidents
UNION ALL SELECT 'recovered', '', COUNT(*) FROM incidents WHERE status = 'recovered'
UNION ALL SELECT 'escalated', '', COUNT(*) FROM incidents WHERE max_phase >= 4
UNION ALL SELECT 'entered_phase', '1', COUNT(*) FROM incidents
UNION ALL SELECT 'entered_phase', '2', COUNT(*) FROM incidents WHERE max_phase >= 2
UNION ALL SELECT 'entered_phase', '3', COUNT(*) FROM incidents WHERE max_phase >= 3
UNION ALL SELECT 'pattern_fixed', '', COUNT(*) FROM incidents
    WHERE status = 'resolved' AND resolved_phase = 1 AND resolved_by LIKE 'pattern:%'
UNION ALL SELECT 'notifications_failed', '', COUNT(*) FROM notifications WHERE status = 'failed';

-- `wanted`, not `phase`: inside the subqueries `phase` would name the incident's column.
WITH phases (wanted) AS (VALUES ('1'), ('2'), ('3'))
INSERT INTO counters (name, label, value)
SELECT 'auto_fixed', wanted, (SELECT COUNT(*) FROM incidents WHERE status = 'resolved'
    AND resolved_phase = CAST(wanted AS INTEGER) AND COALESCE(resolved_by, '') NOT LIKE 'person%') FROM phases;

WITH phases (wanted) AS (VALUES ('1'), ('2'), ('3'), ('4'))
INSERT INTO counters (name, label, value)
SELECT 'ttr_sum', wanted, (SELECT COALESCE(SUM(resolved_at - detected_at), 0) FROM incidents
    WHERE status = 'resolved' AND resolved_phase = CAST(wanted AS INTEGER) AND resolved_at IS NOT NULL)
FROM phases;

WITH times AS (
    SELECT resolved_phase AS phase,
           (SELECT MIN(h.le) FROM ttr_histogram h
             WHERE h.phase = i.resolved_phase AND h.le >= i.resolved_at - i.detected_at) AS le
      FROM incidents i
     WHERE status = 'resolved' AND resolved_phase BETWEEN 1 AND 4 AND resolved_at IS NOT NULL),
by_bucket AS (SELECT phase, le, COUNT(*) AS n FROM times GROUP BY phase, le)
UPDATE ttr_histogram SET count = by_bucket.n
  FROM by_bucket WHERE by_bucket.phase = ttr_histogram.phase AND by_bucket.le = ttr_histogram.le;

INSERT INTO counters (name, label, value)
SELECT 'agent_rounds', agreement, COUNT(DISTINCT round) FROM agent_consultations
 WHERE phase = 3 AND round IS NOT NULL AND agreement IS NOT NULL GROUP BY agreement;

-- The triggers. Each counted event is a guarded upsert of one counter.

CREATE TRIGGER count_incident_opened AFTER INSERT ON incidents
BEGIN
    INSERT INTO counters (name, label, value) VALUES ('detected', '', 1), ('entered_phase', '1', 1)
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
END;

-- An incident inserted already past phase 1 or already closed (imports, synthetic history)
-- counts as if it had got there by updates.
CREATE TRIGGER count_incident_inserted_phase AFTER INSERT ON incidents WHEN NEW.max_phase > 1
BEGIN
    INSERT INTO counters (name, label, value)
        SELECT 'entered_phase', '2', 1 WHERE NEW.max_phase >= 2
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
    INSERT INTO counters (name, label, value)
        SELECT 'entered_phase', '3', 1 WHERE NEW.max_phase >= 3
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
    INSERT INTO counters (name, label, value)
        SELECT 'escalated', '', 1 WHERE NEW.max_phase >= 4
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
END;

CREATE TRIGGER count_incident_phase AFTER UPDATE OF max_phase ON incidents
WHEN NEW.max_phase > OLD.max_phase
BEGIN
    INSERT INTO counters (name, label, value)
        SELECT 'entered_phase', '2', 1 WHERE OLD.max_phase < 2 AND NEW.max_phase >= 2
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
    INSERT INTO counters (name, label, value)
        SELECT 'entered_phase', '3', 1 WHERE OLD.max_phase < 3 AND NEW.max_phase >= 3
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
    INSERT INTO counters (name, label, value)
        SELECT 'escalated', '', 1 WHERE OLD.max_phase < 4 AND NEW.max_phase >= 4
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
END;

CREATE TRIGGER count_incident_recovered AFTER UPDATE OF status ON incidents
WHEN NEW.status = 'recovered' AND OLD.status != 'recovered'
BEGIN
    INSERT INTO counters (name, label, value) VALUES ('recovered', '', 1)
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
END;

CREATE TRIGGER count_incident_inserted_recovered AFTER INSERT ON incidents
WHEN NEW.status = 'recovered'
BEGIN
    INSERT INTO counters (name, label, value) VALUES ('recovered', '', 1)
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
END;

CREATE TRIGGER count_incident_resolved AFTER UPDATE OF status ON incidents
WHEN NEW.status = 'resolved' AND OLD.status != 'resolved'
BEGIN
    INSERT INTO counters (name, label, value)
        SELECT 'auto_fixed', CAST(NEW.resolved_phase AS TEXT), 1
         WHERE NEW.resolved_phase BETWEEN 1 AND 3 AND COALESCE(NEW.resolved_by, '') NOT LIKE 'person%'
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
    INSERT INTO counters (name, label, value)
        SELECT 'pattern_fixed', '', 1 WHERE NEW.resolved_phase = 1 AND NEW.resolved_by LIKE 'pattern:%'
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
    INSERT INTO counters (name, label, value)
        SELECT 'ttr_sum', CAST(NEW.resolved_phase AS TEXT), NEW.resolved_at - NEW.detected_at
         WHERE NEW.resolved_phase BETWEEN 1 AND 4 AND NEW.resolved_at IS NOT NULL
        ON CONFLICT (name, label) DO UPDATE SET value = value + excluded.value;
    UPDATE ttr_histogram SET count = count + 1
     WHERE NEW.resolved_at IS NOT NULL AND phase = NEW.resolved_phase
       AND le = (SELECT MIN(le) FROM ttr_histogram
                  WHERE phase = NEW.resolved_phase AND le >= NEW.resolved_at - NEW.detected_at);
END;

CREATE TRIGGER count_incident_inserted_resolved AFTER INSERT ON incidents
WHEN NEW.status = 'resolved'
BEGIN
    INSERT INTO counters (name, label, value)
        SELECT 'auto_fixed', CAST(NEW.resolved_phase AS TEXT), 1
         WHERE NEW.resolved_phase BETWEEN 1 AND 3 AND COALESCE(NEW.resolved_by, '') NOT LIKE 'person%'
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
    INSERT INTO counters (name, label, value)
        SELECT 'pattern_fixed', '', 1 WHERE NEW.resolved_phase = 1 AND NEW.resolved_by LIKE 'pattern:%'
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
    INSERT INTO counters (name, label, value)
        SELECT 'ttr_sum', CAST(NEW.resolved_phase AS TEXT), NEW.resolved_at - NEW.detected_at
         WHERE NEW.resolved_phase BETWEEN 1 AND 4 AND NEW.resolved_at IS NOT NULL
        ON CONFLICT (name, label) DO UPDATE SET value = value + excluded.value;
    UPDATE ttr_histogram SET count = count + 1
     WHERE NEW.resolved_at IS NOT NULL AND phase = NEW.resolved_phase
       AND le = (SELECT MIN(le) FROM ttr_histogram
                  WHERE phase = NEW.resolved_phase AND le >= NEW.resolved_at - NEW.detected_at);
END;

CREATE TRIGGER count_notification_failed AFTER UPDATE OF status ON notifications
WHEN NEW.status = 'failed' AND OLD.status != 'failed'
BEGIN
    INSERT INTO counters (name, label, value) VALUES ('notifications_failed', '', 1)
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
END;

CREATE TRIGGER count_agent_round AFTER INSERT ON agent_consultations
WHEN NEW.phase = 3 AND NEW.round IS NOT NULL AND NEW.agreement IS NOT NULL
 AND NOT EXISTS (SELECT 1 FROM agent_consultations c
                  WHERE c.round = NEW.round AND c.id != NEW.id AND +c.phase = 3 AND c.agreement IS NOT NULL)
BEGIN
    INSERT INTO counters (name, label, value) VALUES ('agent_rounds', NEW.agreement, 1)
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
END;

-- `/health` and `/metrics` read the last finished cycle on every request; the table grows by a
-- row per phase run and is never pruned.
CREATE INDEX cycles_finished ON cycles (finished_at);

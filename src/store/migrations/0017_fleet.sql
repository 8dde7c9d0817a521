-- Version 22 (the fleet, README "Fleet"): what the central database should know, kept here
-- until it has it, and what the hosts learned, as last pulled from it. This file stays the
-- host's truth; the central database is a copy of what each host chose to tell.

-- One row: whether this host is in a fleet (the triggers below write only then), the random
-- origin that makes this database's events unique in the fleet (a host reinstalled under the
-- same name starts a new origin, so its new events never collide with its old ones), and the
-- last sync.
CREATE TABLE fleet_state (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    enabled          INTEGER NOT NULL DEFAULT 0,
    origin           TEXT NOT NULL,
    last_sync_at     REAL,
    last_sync_ok_at  REAL,
    last_sync_error  TEXT,
    -- The central patterns' revision pulled last: the next pull asks only for what changed.
    pull_revision    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO fleet_state (id, origin) VALUES (1, lower(hex(randomblob(16))));

-- The outbox. `seq` never repeats (AUTOINCREMENT): (host, origin, seq) is each event's
-- idempotency key in the central database, which applies an event only the first time it
-- sees the key. A row is deleted once the central transaction that applied it committed.
-- kind: incident_opened | incident_closed | incident_reopened | escalation_opened |
--       escalation_changed | pattern_learned | fix_verified | fix_failed | summary
CREATE TABLE fleet_outbox (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind  TEXT NOT NULL,
    at    REAL NOT NULL,
    body  TEXT NOT NULL              -- JSON
);

-- Patterns as the fleet knows them (pulled by `fleet sync`): their record across hosts.
-- Phase 1 reads this table, never the network.
CREATE TABLE fleet_patterns (
    signature     TEXT NOT NULL,
    plan_hash     TEXT NOT NULL,
    check_name    TEXT NOT NULL,
    plan          TEXT NOT NULL,
    fixes         INTEGER NOT NULL,  -- verified fixes on all hosts
    failures      INTEGER NOT NULL,
    hosts         INTEGER NOT NULL,  -- hosts where it fixed at least once
    failed_hosts  INTEGER NOT NULL,  -- hosts where it failed at least once
    verified_on   TEXT NOT NULL DEFAULT '[]',  -- JSON list of host names, for agents and people
    revision      INTEGER NOT NULL,
    pulled_at     REAL NOT NULL,
    PRIMARY KEY (signature, plan_hash)
) WITHOUT ROWID;

CREATE TRIGGER fleet_incident_opened AFTER INSERT ON incidents
WHEN (SELECT enabled FROM fleet_state) = 1
BEGIN
    INSERT INTO fleet_outbox (kind, at, body) VALUES ('incident_opened', NEW.detected_at, json_object(
        'incident', NEW.id, 'check', NEW.check_name, 'signature', NEW.signature,
        'severity', NEW.severity, 'summary', NEW.summary));
END;

CREATE TRIGGER fleet_incident_status AFTER UPDATE OF status ON incidents
WHEN (SELECT enabled FROM fleet_state) = 1 AND NEW.status != OLD.status
 AND (NEW.status IN ('resolved', 'recovered') OR OLD.status IN ('resolved', 'recovered'))
BEGIN
    INSERT INTO fleet_outbox (kind, at, body) VALUES (
        CASE WHEN NEW.status IN ('resolved', 'recovered') THEN 'incident_closed' ELSE 'incident_reopened' END,
        COALESCE(CASE WHEN NEW.status IN ('resolved', 'recovered') THEN NEW.resolved_at END, NEW.last_seen_at),
        json_object('incident', NEW.id, 'check', NEW.check_name, 'signature', NEW.signature,
                    'severity', NEW.severity, 'summary', NEW.summary, 'status', NEW.status,
                    'phase', NEW.resolved_phase, 'by', NEW.resolved_by));
END;

CREATE TRIGGER fleet_escalation_opened AFTER INSERT ON escalations
WHEN (SELECT enabled FROM fleet_state) = 1
BEGIN
    INSERT INTO fleet_outbox (kind, at, body)
    SELECT 'escalation_opened', NEW.created_at, json_object(
        'escalation', NEW.id, 'incident', NEW.incident, 'check', i.check_name,
        'severity', i.severity, 'summary', i.summary, 'reason', NEW.reason, 'status', NEW.status)
      FROM incidents i WHERE i.id = NEW.incident;
END;

CREATE TRIGGER fleet_escalation_changed AFTER UPDATE OF status ON escalations
WHEN (SELECT enabled FROM fleet_state) = 1 AND NEW.status != OLD.status
BEGIN
    INSERT INTO fleet_outbox (kind, at, body) VALUES ('escalation_changed',
        COALESCE(NEW.acknowledged_at, unixepoch('subsec')),
        json_object('escalation', NEW.id, 'incident', NEW.incident, 'status', NEW.status,
                    'by', NEW.acknowledged_by));
END;

CREATE TRIGGER fleet_pattern_learned AFTER INSERT ON patterns
WHEN (SELECT enabled FROM fleet_state) = 1
BEGIN
    INSERT INTO fleet_outbox (kind, at, body) VALUES ('pattern_learned', NEW.created_at, json_object(
        'signature', NEW.signature, 'check', NEW.check_name, 'plan', NEW.plan,
        'plan_hash', NEW.plan_hash, 'phase', NEW.source_phase));
END;

-- Each verified fix and each plan that ran and did not fix, with the signature it was tried
-- on: what the fleet's trust in a plan is counted from.
CREATE TRIGGER fleet_attempt_finished AFTER UPDATE OF outcome ON attempts
WHEN (SELECT enabled FROM fleet_state) = 1 AND OLD.outcome = 'running'
 AND NEW.outcome IN ('fixed', 'not_fixed', 'failed')
BEGIN
    INSERT INTO fleet_outbox (kind, at, body)
    SELECT CASE NEW.outcome WHEN 'fixed' THEN 'fix_verified' ELSE 'fix_failed' END,
           COALESCE(NEW.finished_at, NEW.started_at), json_object(
        'incident', NEW.incident, 'check', i.check_name, 'signature', i.signature,
        'plan', NEW.plan, 'plan_hash', NEW.plan_hash, 'phase', NEW.phase, 'source', NEW.source,
        'outcome', NEW.outcome)
      FROM incidents i WHERE i.id = NEW.incident;
END;

-- Phase-1 fixes by a plan learned on other hosts, for `orchestrator_fleet_pattern_fixed_total`.
CREATE TRIGGER count_fleet_pattern_fixed AFTER UPDATE OF status ON incidents
WHEN NEW.status = 'resolved' AND OLD.status != 'resolved' AND NEW.resolved_by LIKE 'fleet:%'
BEGIN
    INSERT INTO counters (name, label, value) VALUES ('fleet_pattern_fixed', '', 1)
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
END;

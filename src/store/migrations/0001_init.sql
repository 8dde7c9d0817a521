-- orchestrator schema, version 1. Times are Unix seconds (REAL).

CREATE TABLE checks (
    name         TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    summary      TEXT NOT NULL,
    perfdata     TEXT NOT NULL DEFAULT '[]',   -- JSON list of {label, value, uom, ...}
    output       TEXT NOT NULL DEFAULT '',
    duration_ms  INTEGER NOT NULL DEFAULT 0,
    checked_at   REAL NOT NULL,
    last_ok_at   REAL                          -- last time a scan saw it pass: resets restart_limit
);

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,
    check_name      TEXT NOT NULL,
    signature       TEXT NOT NULL,
    severity        TEXT NOT NULL,
    status          TEXT NOT NULL,             -- open | escalated | resolved | recovered
    phase           INTEGER NOT NULL,          -- 1..4: the phase it waits for or ended in
    summary         TEXT NOT NULL,
    evidence        TEXT NOT NULL DEFAULT '',
    occurrences     INTEGER NOT NULL DEFAULT 1,
    detected_at     REAL NOT NULL,
    last_seen_at    REAL NOT NULL,
    resolved_at     REAL,
    resolved_phase  INTEGER,
    resolved_by     TEXT,
    reopened        INTEGER NOT NULL DEFAULT 0,
    flapping        INTEGER NOT NULL DEFAULT 0,
    handoff         TEXT                       -- why it moved to its current phase
);
CREATE INDEX incidents_active ON incidents (status, phase) WHERE status IN ('open', 'escalated');
CREATE INDEX incidents_check ON incidents (check_name, id);
CREATE INDEX incidents_detected ON incidents (detected_at);

-- The timeline of an incident: opened, reopened, phase changes, recovered, resolved.
CREATE TABLE incident_events (
    id        INTEGER PRIMARY KEY,
    incident  INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at        REAL NOT NULL,
    kind      TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_events_incident ON incident_events (incident, at);

CREATE TABLE patterns (
    id            INTEGER PRIMARY KEY,
    signature     TEXT NOT NULL,
    check_name    TEXT NOT NULL,
    plan          TEXT NOT NULL,
    plan_hash     TEXT NOT NULL,
    source_phase  INTEGER NOT NULL,
    successes     INTEGER NOT NULL DEFAULT 0,
    failures      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL,
    last_used_at  REAL,
    UNIQUE (signature, plan_hash)
);

CREATE TABLE attempts (
    id           INTEGER PRIMARY KEY,
    incident     INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    phase        INTEGER NOT NULL,
    source       TEXT NOT NULL,                -- pattern:ID | remedy | agent:NAME | consensus | person
    plan         TEXT NOT NULL,                -- JSON list of actions
    plan_hash    TEXT NOT NULL,
    restarts     INTEGER NOT NULL DEFAULT 0,   -- 1 when the plan (re)starts something
    outcome      TEXT NOT NULL,                -- running | fixed | not_fixed | rejected | failed | interrupted | dry_run
    reason       TEXT NOT NULL DEFAULT '',
    output       TEXT NOT NULL DEFAULT '',
    started_at   REAL NOT NULL,
    finished_at  REAL
);
CREATE INDEX attempts_incident ON attempts (incident, phase);
CREATE INDEX attempts_running ON attempts (outcome) WHERE outcome = 'running';

CREATE TABLE agent_consultations (
    id           INTEGER PRIMARY KEY,
    attempt      INTEGER REFERENCES attempts (id) ON DELETE CASCADE,
    incident     INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    agent        TEXT NOT NULL,
    phase        INTEGER NOT NULL,
    response     TEXT NOT NULL DEFAULT '',
    diagnosis    TEXT NOT NULL DEFAULT '',
    plan         TEXT,
    plan_hash    TEXT,
    confidence   REAL,
    vote         TEXT NOT NULL DEFAULT '',     -- winner | loser | abstained | none
    latency_ms   INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    created_at   REAL NOT NULL
);

CREATE TABLE escalations (
    id               INTEGER PRIMARY KEY,
    incident         INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    status           TEXT NOT NULL,            -- open | acknowledged | resolved
    reason           TEXT NOT NULL,
    held_plan        TEXT,
    created_at       REAL NOT NULL,
    acknowledged_by  TEXT,
    acknowledged_at  REAL,
    note             TEXT,
    last_notified_at REAL
);

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    escalation  INTEGER NOT NULL REFERENCES escalations (id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    status      TEXT NOT NULL,                 -- pending | sent | failed
    tries       INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    next_try_at REAL,
    sent_at     REAL,
    created_at  REAL NOT NULL
);

CREATE TABLE cycles (
    id           INTEGER PRIMARY KEY,
    phase        TEXT NOT NULL,
    started_at   REAL NOT NULL,
    finished_at  REAL,
    counts       TEXT NOT NULL DEFAULT '{}'
);

-- The central fleet schema, version 1 (src/fleet/central.rs applies these files in order and
-- records the count in orchestrator_fleet_schema). Every host writes only through the
-- functions below, each one statement and so one transaction.

-- Every host, as its last heartbeat said.
CREATE TABLE hosts (
    name              TEXT PRIMARY KEY,
    version           TEXT NOT NULL,
    dashboard_url     TEXT,
    last_heartbeat_at TIMESTAMPTZ NOT NULL,
    last_cycle_at     TIMESTAMPTZ,
    backlog           BIGINT NOT NULL DEFAULT 0,      -- events still in its outbox
    first_seen_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every event a host told, once: (host, origin, seq) is the idempotency key. An event is
-- applied (to the tables below) only by the insert that created its row, in the same
-- transaction, so a batch sent twice changes nothing the second time.
CREATE TABLE events (
    host         TEXT NOT NULL,
    origin       TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    body         JSONB NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (host, origin, seq)
);
CREATE INDEX events_received ON events (host, received_at);

CREATE TABLE incidents (
    host        TEXT NOT NULL,
    origin      TEXT NOT NULL,
    incident    BIGINT NOT NULL,
    check_name  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    severity    TEXT NOT NULL,
    summary     TEXT NOT NULL,
    status      TEXT NOT NULL,
    opened_at   TIMESTAMPTZ NOT NULL,
    closed_at   TIMESTAMPTZ,
    resolved_by TEXT,
    PRIMARY KEY (host, origin, incident)
);

CREATE TABLE escalations (
    host        TEXT NOT NULL,
    origin      TEXT NOT NULL,
    escalation  BIGINT NOT NULL,
    incident    BIGINT NOT NULL,
    check_name  TEXT NOT NULL,
    severity    TEXT NOT NULL,
    summary     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    status      TEXT NOT NULL,               -- open | acknowledged | resolved
    opened_at   TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (host, origin, escalation)
);
CREATE INDEX escalations_open ON escalations (status) WHERE status != 'resolved';

-- A plan's record on one host.
CREATE TABLE pattern_hosts (
    signature       TEXT NOT NULL,
    plan_hash       TEXT NOT NULL,
    host            TEXT NOT NULL,
    check_name      TEXT NOT NULL,
    plan            TEXT NOT NULL,
    fixes           BIGINT NOT NULL DEFAULT 0,
    failures        BIGINT NOT NULL DEFAULT 0,
    last_fixed_at   TIMESTAMPTZ,
    last_failed_at  TIMESTAMPTZ,
    PRIMARY KEY (signature, plan_hash, host)
);

-- A plan's record across the fleet, what hosts pull: `revision` rises with every change, so
-- a host asks only for what changed since its last pull.
CREATE SEQUENCE pattern_revisions;
CREATE TABLE patterns (
    signature     TEXT NOT NULL,
    plan_hash     TEXT NOT NULL,
    check_name    TEXT NOT NULL,
    plan          TEXT NOT NULL,
    fixes         BIGINT NOT NULL,
    failures      BIGINT NOT NULL,
    hosts         BIGINT NOT NULL,
    failed_hosts  BIGINT NOT NULL,
    verified_on   TEXT[] NOT NULL,
    revision      BIGINT NOT NULL,
    PRIMARY KEY (signature, plan_hash)
);
CREATE INDEX patterns_revision ON patterns (revision);

-- Blast radius: one row per host acting on a signature, until it releases it or it expires.
CREATE TABLE leases (
    id           BIGSERIAL PRIMARY KEY,
    signature    TEXT NOT NULL,
    host         TEXT NOT NULL,
    acquired_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    expires_at   TIMESTAMPTZ NOT NULL,
    released_at  TIMESTAMPTZ
);
CREATE INDEX leases_signature ON leases (signature, acquired_at);

-- A plan's fleet record recomputed from its per-host rows.
CREATE FUNCTION orchestrator_pattern_changed(p_signature TEXT, p_plan_hash TEXT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO patterns (signature, plan_hash, check_name, plan, fixes, failures, hosts,
                          failed_hosts, verified_on, revision)
    SELECT p_signature, p_plan_hash, max(check_name), max(plan), sum(fixes), sum(failures),
           count(*) FILTER (WHERE fixes > 0), count(*) FILTER (WHERE failures > 0),
           coalesce(array_agg(host ORDER BY host) FILTER (WHERE fixes > 0), '{}'),
           nextval('pattern_revisions')
      FROM pattern_hosts WHERE signature = p_signature AND plan_hash = p_plan_hash
    ON CONFLICT (signature, plan_hash) DO UPDATE SET
        check_name = excluded.check_name, plan = excluded.plan, fixes = excluded.fixes,
        failures = excluded.failures, hosts = excluded.hosts, failed_hosts = excluded.failed_hosts,
        verified_on = excluded.verified_on, revision = excluded.revision;
$$;

CREATE FUNCTION orchestrator_count_plan(p_host TEXT, p_fix JSONB, p_fixes BIGINT,
                                        p_failures BIGINT, p_at TIMESTAMPTZ) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_fix->>'signature' IS NULL OR p_fix->>'plan_hash' IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO pattern_hosts (signature, plan_hash, host, check_name, plan, fixes, failures,
                               last_fixed_at, last_failed_at)
    VALUES (p_fix->>'signature', p_fix->>'plan_hash', p_host, coalesce(p_fix->>'check', ''),
            coalesce(p_fix->>'plan', '[]'), p_fixes, p_failures,
            CASE WHEN p_fixes > 0 THEN p_at END, CASE WHEN p_failures > 0 THEN p_at END)
    ON CONFLICT (signature, plan_hash, host) DO UPDATE SET
        fixes = pattern_hosts.fixes + excluded.fixes,
        failures = pattern_hosts.failures + excluded.failures,
        plan = CASE WHEN excluded.plan = '[]' THEN pattern_hosts.plan ELSE excluded.plan END,
        check_name = CASE WHEN excluded.check_name = '' THEN pattern_hosts.check_name ELSE excluded.check_name END,
        last_fixed_at = coalesce(excluded.last_fixed_at, pattern_hosts.last_fixed_at),
        last_failed_at = coalesce(excluded.last_failed_at, pattern_hosts.last_failed_at);
    PERFORM orchestrator_pattern_changed(p_fix->>'signature', p_fix->>'plan_hash');
END;
$$;

-- Applies one event to the tables above.
CREATE FUNCTION orchestrator_apply(p_host TEXT, p_origin TEXT, p_kind TEXT, p_at TIMESTAMPTZ,
                                   p_body JSONB) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    fix JSONB;
BEGIN
    CASE p_kind
    WHEN 'incident_opened', 'incident_reopened' THEN
        INSERT INTO incidents (host, origin, incident, check_name, signature, severity, summary,
                               status, opened_at)
        VALUES (p_host, p_origin, (p_body->>'incident')::BIGINT, p_body->>'check',
                p_body->>'signature', p_body->>'severity', p_body->>'summary', 'open', p_at)
        ON CONFLICT (host, origin, incident) DO UPDATE SET status = 'open', closed_at = NULL,
            severity = excluded.severity, summary = excluded.summary;
    WHEN 'incident_closed' THEN
        INSERT INTO incidents (host, origin, incident, check_name, signature, severity, summary,
                               status, opened_at, closed_at, resolved_by)
        VALUES (p_host, p_origin, (p_body->>'incident')::BIGINT, p_body->>'check',
                p_body->>'signature', p_body->>'severity', p_body->>'summary',
                p_body->>'status', p_at, p_at, p_body->>'by')
        ON CONFLICT (host, origin, incident) DO UPDATE SET status = excluded.status,
            closed_at = excluded.closed_at, resolved_by = excluded.resolved_by;
    WHEN 'escalation_opened' THEN
        INSERT INTO escalations (host, origin, escalation, incident, check_name, severity,
                                 summary, reason, status, opened_at, updated_at)
        VALUES (p_host, p_origin, (p_body->>'escalation')::BIGINT, (p_body->>'incident')::BIGINT,
                p_body->>'check', p_body->>'severity', p_body->>'summary', p_body->>'reason',
                coalesce(p_body->>'status', 'open'), p_at, p_at)
        ON CONFLICT (host, origin, escalation) DO NOTHING;
    WHEN 'escalation_changed' THEN
        UPDATE escalations SET status = p_body->>'status', updated_at = p_at
         WHERE host = p_host AND origin = p_origin AND escalation = (p_body->>'escalation')::BIGINT;
    WHEN 'pattern_learned' THEN
        PERFORM orchestrator_count_plan(p_host, p_body, 0, 0, p_at);
    WHEN 'pattern_known' THEN
        PERFORM orchestrator_count_plan(p_host, p_body, (p_body->>'successes')::BIGINT,
                                        (p_body->>'failures')::BIGINT, p_at);
    WHEN 'fix_verified' THEN
        PERFORM orchestrator_count_plan(p_host, p_body, 1, 0, p_at);
    WHEN 'fix_failed' THEN
        PERFORM orchestrator_count_plan(p_host, p_body, 0, 1, p_at);
    WHEN 'summary' THEN
        FOR fix IN SELECT * FROM jsonb_array_elements(coalesce(p_body->'fixes', '[]')) LOOP
            PERFORM orchestrator_count_plan(p_host, fix, coalesce((fix->>'fixes')::BIGINT, 0),
                                            coalesce((fix->>'failures')::BIGINT, 0), p_at);
        END LOOP;
    ELSE
        -- An event kind a newer host knows: kept in `events`, applied by nothing yet.
        NULL;
    END CASE;
END;
$$;

-- One batch of a host's outbox, in one statement: each event new to this database is kept
-- and applied; one seen before (a batch resent after a lost answer) is skipped. Returns the
-- seqs it applied now.
CREATE FUNCTION orchestrator_push(p_host TEXT, p_origin TEXT, p_events JSONB) RETURNS SETOF BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    event JSONB;
    fresh BIGINT;
BEGIN
    FOR event IN SELECT * FROM jsonb_array_elements(p_events) LOOP
        INSERT INTO events (host, origin, seq, kind, at, body)
        VALUES (p_host, p_origin, (event->>'seq')::BIGINT, event->>'kind',
                to_timestamp((event->>'at')::DOUBLE PRECISION), event->'body')
        ON CONFLICT (host, origin, seq) DO NOTHING
        RETURNING seq INTO fresh;
        IF fresh IS NOT NULL THEN
            PERFORM orchestrator_apply(p_host, p_origin, event->>'kind',
                                       to_timestamp((event->>'at')::DOUBLE PRECISION), event->'body');
            RETURN NEXT fresh;
        END IF;
        fresh := NULL;
    END LOOP;
END;
$$;

-- A host's heartbeat: its version, its last cycle and what it has not told yet.
CREATE FUNCTION orchestrator_heartbeat(p_host TEXT, p_version TEXT, p_dashboard TEXT,
                                       p_last_cycle DOUBLE PRECISION, p_backlog BIGINT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO hosts (name, version, dashboard_url, last_heartbeat_at, last_cycle_at, backlog)
    VALUES (p_host, p_version, p_dashboard, now(),
            CASE WHEN p_last_cycle IS NOT NULL THEN to_timestamp(p_last_cycle) END, p_backlog)
    ON CONFLICT (name) DO UPDATE SET version = excluded.version,
        dashboard_url = excluded.dashboard_url, last_heartbeat_at = excluded.last_heartbeat_at,
        last_cycle_at = coalesce(excluded.last_cycle_at, hosts.last_cycle_at),
        backlog = excluded.backlog;
$$;

-- Takes a lease on a signature for a host, or says why not. Hosts racing for the same
-- signature queue on an advisory lock held to the end of this statement's transaction, so
-- each one counts the leases of those before it.
CREATE FUNCTION orchestrator_lease(p_signature TEXT, p_host TEXT, p_hosts INT, p_per_hour INT,
                                   p_lease DOUBLE PRECISION)
RETURNS TABLE (lease BIGINT, active BIGINT, last_hour BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    mine BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_signature, 24));
    SELECT id INTO mine FROM leases
     WHERE signature = p_signature AND host = p_host AND released_at IS NULL
       AND expires_at > clock_timestamp()
     ORDER BY id DESC LIMIT 1;
    IF mine IS NOT NULL THEN
        -- The host acts on it already (its next plan on the same incident): the same lease, longer.
        UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => p_lease) WHERE id = mine;
        RETURN QUERY SELECT mine, 0::BIGINT, 0::BIGINT;
        RETURN;
    END IF;
    SELECT count(*) FILTER (WHERE released_at IS NULL AND expires_at > clock_timestamp()),
           count(*)
      INTO active, last_hour
      FROM leases WHERE signature = p_signature AND acquired_at > clock_timestamp() - interval '1 hour';
    IF active >= p_hosts OR last_hour >= p_per_hour THEN
        RETURN QUERY SELECT NULL::BIGINT, active, last_hour;
        RETURN;
    END IF;
    INSERT INTO leases (signature, host, expires_at)
    VALUES (p_signature, p_host, clock_timestamp() + make_interval(secs => p_lease))
    RETURNING id INTO mine;
    RETURN QUERY SELECT mine, active, last_hour;
END;
$$;

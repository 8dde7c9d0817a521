#!/usr/bin/env python3
"""Fills an orchestrator database with N synthetic incidents spread over the last 30 days:
most fixed in phase 1 by a pattern, some in phases 2 and 3, a few escalated, with their
attempts, phase events and phase-3 votes. For benchmarks only.
The Prometheus counters (migration 0008) follow: the database's triggers count each row as
it is inserted, so `metrics --prometheus` agrees with the rows written here.
usage: synthetic-history.py DB N   (the schema must exist: run any orchestrator command first)"""
import random, sqlite3, sys, time

db, count = sys.argv[1], int(sys.argv[2])
random.seed(42)
conn = sqlite3.connect(db)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=OFF")
now = time.time()
checks = [f"check-{i}" for i in range(40)]
conn.execute("INSERT OR IGNORE INTO patterns (id, signature, check_name, plan, plan_hash, source_phase, successes, failures, created_at) "
             "VALUES (1, 'check-0: down', 'check-0', '[{\"action\":\"remedy\"}]', 'h1', 1, 10, 0, ?)", (now - 86400 * 20,))
incidents, events, attempts, votes = [], [], [], []
next_id = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM incidents").fetchone()[0]) + 1
for n in range(count):
    iid = next_id + n
    detected = now - random.random() * 30 * 86400
    roll = random.random()
    phase, status, by = 1, "resolved", "pattern:1"
    if roll < 0.60: phase = 1
    elif roll < 0.85: phase, by = 2, "agent:runbook"
    elif roll < 0.95: phase, by = 3, "consensus"
    elif roll < 0.98: phase, status, by = 4, "escalated", None
    else: phase, status, by = 1, "recovered", "check"
    resolved = None if status == "escalated" else detected + random.expovariate(1 / (5 * 10 ** phase))
    check = random.choice(checks)
    incidents.append((iid, check, f"{check}: down", "critical", status, phase, "service down", detected, detected,
                      resolved, None if resolved is None else phase, by, phase))
    for p in range(2, phase + 1):
        events.append((iid, detected + p, f"phase {p}", "handed on"))
    if status == "resolved":
        attempts.append((iid, phase, by, "[]", "h", "fixed", detected + 1, resolved))
    if phase == 3:
        for agent in ("a", "b", "c"):
            votes.append((iid, agent, 3, iid, "3/3" if random.random() < 0.7 else "2/3", detected + 2))
conn.executemany("INSERT INTO incidents (id, check_name, signature, severity, status, phase, summary, detected_at, last_seen_at, "
                 "resolved_at, resolved_phase, resolved_by, max_phase) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", incidents)
conn.executemany("INSERT INTO incident_events (incident, at, kind, detail) VALUES (?,?,?,?)", events)
conn.executemany("INSERT INTO attempts (incident, phase, source, plan, plan_hash, outcome, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?)", attempts)
conn.executemany("INSERT INTO agent_consultations (incident, agent, phase, round, agreement, vote, created_at) VALUES (?,?,?,?,?, 'winner', ?)", votes)
conn.executemany("INSERT INTO escalations (incident, status, reason, created_at) VALUES (?, 'open', 'synthetic', ?)",
                 [(i[0], i[7]) for i in incidents if i[4] == "escalated"])
conn.commit()
print(f"{count} incidents, {len(attempts)} attempts, {len(events)} phase events, {len(votes)} votes in {db}")

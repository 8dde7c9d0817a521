-- The facts gathered about an incident's check before its agents were asked (src/facts.rs):
-- the latest gathering per incident, as JSON, shown by `incidents show` and the dashboard.
CREATE TABLE incident_facts (
    incident     INTEGER PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    gathered_at  REAL NOT NULL,
    facts        TEXT NOT NULL
);

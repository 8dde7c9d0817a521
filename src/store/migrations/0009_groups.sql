-- One fault, one incident: an incident that is a symptom of another (a check it depends on
-- fails, or another check of its service already has the incident) names that incident here.
-- While the cause is active no phase works on the symptom; when the cause closes, phase 1
-- re-checks it. Kept after the episode, so the chain stays visible in history; cleared when
-- the symptom turned out to be a fault of its own and is worked on.
ALTER TABLE incidents ADD COLUMN caused_by INTEGER REFERENCES incidents (id) ON DELETE SET NULL;
CREATE INDEX incidents_caused_by ON incidents (caused_by) WHERE caused_by IS NOT NULL;

-- `metrics` leaves symptoms out (they are one fault counted once, under their cause): the
-- window index gains the column so its counts stay one covering range scan.
DROP INDEX incidents_window;
CREATE INDEX incidents_window ON incidents (detected_at, status, phase, max_phase, resolved_phase, resolved_by, resolved_at, caused_by);

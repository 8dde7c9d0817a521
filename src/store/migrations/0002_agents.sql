-- Version 2: what phases 2 and 3 record.

-- A plan held for a person's approval, where it came from, and the decision on it.
ALTER TABLE escalations ADD COLUMN held_source TEXT;
ALTER TABLE escalations ADD COLUMN held_phase INTEGER;
ALTER TABLE escalations ADD COLUMN decision TEXT;          -- NULL | approved | dismissed
ALTER TABLE escalations ADD COLUMN decided_by TEXT;
ALTER TABLE escalations ADD COLUMN decided_at REAL;
ALTER TABLE escalations ADD COLUMN executed_at REAL;       -- when an approved plan ran
CREATE INDEX escalations_incident ON escalations (incident, status);

-- The votes of one consult round share a round id; agreement is the round's result
-- ("3/3", "2/3", "none"): the numerator is the winning plan's votes, the denominator the agents asked.
ALTER TABLE agent_consultations ADD COLUMN round INTEGER;
ALTER TABLE agent_consultations ADD COLUMN agreement TEXT;
CREATE INDEX agent_consultations_incident ON agent_consultations (incident, phase);

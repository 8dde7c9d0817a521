-- Each agent's track record (docs/agents.md, "Track record"): what a CLI reported it spent on
-- an answer, a person's verdict on a diagnosis, and counters per agent kept as the consultations
-- happen, like those of migration 0008 (label = the agent's name), so they never go down when
-- retention deletes old incidents.

ALTER TABLE agent_consultations ADD COLUMN input_tokens INTEGER;
ALTER TABLE agent_consultations ADD COLUMN output_tokens INTEGER;
ALTER TABLE agent_consultations ADD COLUMN cost_usd REAL;

CREATE INDEX agent_consultations_agent ON agent_consultations (agent, created_at);

-- A person's verdict on an agent's diagnosis of an incident; a later one replaces it. No
-- foreign key: the verdict stays in the record after retention deletes the incident.
CREATE TABLE agent_feedback (
    incident  INTEGER NOT NULL,
    agent     TEXT NOT NULL,
    verdict   TEXT NOT NULL CHECK (verdict IN ('good', 'bad')),
    note      TEXT,
    by        TEXT NOT NULL,
    at        REAL NOT NULL,
    PRIMARY KEY (incident, agent)
) WITHOUT ROWID;

-- Backfill from the consultations kept, by the definitions the triggers use below.
INSERT INTO counters (name, label, value)
SELECT 'agent_consultations', agent, COUNT(*) FROM agent_consultations GROUP BY agent
UNION ALL SELECT 'agent_incidents', agent, COUNT(DISTINCT incident) FROM agent_consultations GROUP BY agent
UNION ALL SELECT 'agent_proposed', agent, SUM(plan_hash IS NOT NULL) FROM agent_consultations GROUP BY agent
UNION ALL SELECT 'agent_abstained', agent, SUM(vote = 'abstained') FROM agent_consultations GROUP BY agent
UNION ALL SELECT 'agent_refused', agent, SUM(vote = 'rejected'
        OR (attempt IS NOT NULL AND (SELECT outcome FROM attempts a WHERE a.id = attempt) = 'rejected'))
    FROM agent_consultations GROUP BY agent
UNION ALL SELECT 'agent_fixed', agent, SUM(EXISTS (SELECT 1 FROM attempts a
        WHERE a.incident = c.incident AND a.phase = c.phase AND a.plan_hash = c.plan_hash AND a.outcome = 'fixed'))
    FROM agent_consultations c GROUP BY agent
UNION ALL SELECT 'agent_seconds', agent, SUM(latency_ms) / 1000.0 FROM agent_consultations GROUP BY agent;

-- An answer: counted by what it held (a plan in the vocabulary is a proposal, whatever the policy
-- said of it; phase 3 votes `rejected` at once on a plan the policy refuses or one outside the
-- vocabulary), its time, its tokens and cost; the first answer of an agent on an incident counts
-- the incident.
CREATE TRIGGER count_agent_answer AFTER INSERT ON agent_consultations
BEGIN
    INSERT INTO counters (name, label, value)
        VALUES ('agent_consultations', NEW.agent, 1), ('agent_seconds', NEW.agent, NEW.latency_ms / 1000.0)
        ON CONFLICT (name, label) DO UPDATE SET value = value + excluded.value;
    INSERT INTO counters (name, label, value)
        SELECT 'agent_incidents', NEW.agent, 1
         WHERE NOT EXISTS (SELECT 1 FROM agent_consultations c
                            WHERE c.incident = NEW.incident AND c.agent = NEW.agent AND c.id != NEW.id)
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
    INSERT INTO counters (name, label, value)
        SELECT 'agent_proposed', NEW.agent, 1 WHERE NEW.plan_hash IS NOT NULL
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
    INSERT INTO counters (name, label, value)
        SELECT CASE NEW.vote WHEN 'abstained' THEN 'agent_abstained' ELSE 'agent_refused' END, NEW.agent, 1
         WHERE NEW.vote IN ('abstained', 'rejected')
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
    INSERT INTO counters (name, label, value)
        SELECT 'agent_input_tokens', NEW.agent, NEW.input_tokens WHERE NEW.input_tokens IS NOT NULL
        ON CONFLICT (name, label) DO UPDATE SET value = value + excluded.value;
    INSERT INTO counters (name, label, value)
        SELECT 'agent_output_tokens', NEW.agent, NEW.output_tokens WHERE NEW.output_tokens IS NOT NULL
        ON CONFLICT (name, label) DO UPDATE SET value = value + excluded.value;
    INSERT INTO counters (name, label, value)
        SELECT 'agent_cost_usd', NEW.agent, NEW.cost_usd WHERE NEW.cost_usd IS NOT NULL
        ON CONFLICT (name, label) DO UPDATE SET value = value + excluded.value;
END;

-- A proposed plan the policy refused when it was acted on (phase 2 records the vote before the
-- policy judges it; phase 3 votes `rejected` at once).
CREATE TRIGGER count_agent_refused AFTER UPDATE OF attempt ON agent_consultations
WHEN NEW.attempt IS NOT NULL AND OLD.attempt IS NULL AND NEW.vote != 'rejected'
 AND (SELECT outcome FROM attempts WHERE id = NEW.attempt) = 'rejected'
BEGIN
    INSERT INTO counters (name, label, value) VALUES ('agent_refused', NEW.agent, 1)
        ON CONFLICT (name, label) DO UPDATE SET value = value + 1;
END;

-- A verified fix credits every agent that proposed that plan for the incident in that phase
-- (phase 3's winners, phase 2's agent, a held plan a person approved later).
CREATE TRIGGER count_agent_fixed AFTER UPDATE OF outcome ON attempts
WHEN NEW.outcome = 'fixed' AND OLD.outcome != 'fixed'
BEGIN
    INSERT INTO counters (name, label, value)
        SELECT 'agent_fixed', c.agent, COUNT(*) FROM agent_consultations c
         WHERE c.incident = NEW.incident AND c.phase = NEW.phase AND c.plan_hash = NEW.plan_hash
         GROUP BY c.agent
        ON CONFLICT (name, label) DO UPDATE SET value = value + excluded.value;
END;

-- Version 3: notifications keep the message they carry (a retry sends the same words), and
-- escalations remember whether their all-clear went out.
ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'escalation';   -- escalation | repeat | all_clear
ALTER TABLE notifications ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN body TEXT NOT NULL DEFAULT '';
ALTER TABLE escalations ADD COLUMN all_clear_queued INTEGER NOT NULL DEFAULT 0;
CREATE INDEX notifications_pending ON notifications (status, next_try_at) WHERE status = 'pending';
CREATE INDEX notifications_escalation ON notifications (escalation);
CREATE INDEX escalations_status ON escalations (status);

-- The furthest phase an incident entered (4: a person was needed), kept up to date by the
-- phase hand-overs, so metrics need not search the timeline.
ALTER TABLE incidents ADD COLUMN max_phase INTEGER NOT NULL DEFAULT 1;
UPDATE incidents SET max_phase = MAX(phase, COALESCE(resolved_phase, 1),
    COALESCE((SELECT MAX(CAST(substr(kind, 7) AS INTEGER)) FROM incident_events e WHERE e.incident = incidents.id AND kind LIKE 'phase %'), 1),
    CASE WHEN EXISTS (SELECT 1 FROM incident_events e WHERE e.incident = incidents.id AND kind IN ('held', 'flapping')) THEN 4 ELSE 1 END);

-- For metrics over long histories: one range scan of this covering index answers
-- every count by detection time.
CREATE INDEX incidents_window ON incidents (detected_at, status, phase, max_phase, resolved_phase, resolved_by, resolved_at);
-- Lists by status, newest first (the dashboard's tables).
CREATE INDEX incidents_status_id ON incidents (status, id);
CREATE INDEX incident_events_kind ON incident_events (kind, incident);
CREATE INDEX patterns_created ON patterns (created_at);
CREATE INDEX agent_consultations_rounds ON agent_consultations (phase, created_at, agreement, round);

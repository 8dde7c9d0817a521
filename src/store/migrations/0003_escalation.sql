-- Version 3: notifications keep the message they carry (a retry sends the same words), and
-- escalations remember whether their all-clear went out.
ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'escalation';   -- escalation | repeat | all_clear
ALTER TABLE notifications ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN body TEXT NOT NULL DEFAULT '';
ALTER TABLE escalations ADD COLUMN all_clear_queued INTEGER NOT NULL DEFAULT 0;
CREATE INDEX notifications_pending ON notifications (status, next_try_at) WHERE status = 'pending';
CREATE INDEX notifications_escalation ON notifications (escalation);
CREATE INDEX escalations_status ON escalations (status);

-- For metrics over long histories (DESIGN §8): by detection time, and phase-entry events.
-- Covering: every metrics query over incidents reads only these columns.
CREATE INDEX incidents_detected_status ON incidents (detected_at, status, resolved_phase, resolved_at, resolved_by, phase);
-- Lists by status, newest first (the dashboard's tables).
CREATE INDEX incidents_status_id ON incidents (status, id);
CREATE INDEX incident_events_kind ON incident_events (kind, incident);
CREATE INDEX attempts_phase_outcome ON attempts (phase, outcome, incident);
CREATE INDEX patterns_created ON patterns (created_at);
